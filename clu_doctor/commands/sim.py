"""``clu-doctor sim`` and ``clu-doctor ports``: the simulated site and the machine's serial ports."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Annotated

import typer

from clu_doctor.commands import flow
from clu_doctor.commands.options import AdapterEnd, complete_scenario
from clu_doctor.i18n import N_, _

SIM_HELP = N_("""Run a simulated CLU site behind a pty and a local TCP port, until Ctrl-C.

Prints the ports to use (stdout), e.g. for 'clu-doctor listen --port /dev/pts/5'. The simulated
site speaks the same frames as a real one, with wire time, collisions, noise and faults.
""")

SIM_EPILOG = N_("""Examples:

  clu-doctor sim --list

  clu-doctor sim show cable-break > my-site.yaml     # a scenario file to start your own from

  clu-doctor sim healthy-16

  clu-doctor sim cable-break --at end --seconds 600

  clu-doctor sim my-site.yaml --tcp-port 5020 --no-pty
""")


def sim(
    scenario: Annotated[
        str | None,
        typer.Argument(
            help=_(
                "Bundled scenario name or a scenario YAML file; 'show NAME' prints a "
                "scenario's file."
            ),
            autocompletion=complete_scenario,
        ),
    ] = None,
    shown: Annotated[
        str | None,
        typer.Argument(
            metavar="[NAME]",
            help=_("With 'show': the scenario to print."),
            autocompletion=complete_scenario,
            show_default=False,
        ),
    ] = None,
    list_only: Annotated[
        bool, typer.Option("--list", help=_("List the bundled scenarios and exit."))
    ] = False,
    json_output: Annotated[bool, typer.Option("--json", help=_("Print JSON."))] = False,
    pty: Annotated[bool, typer.Option("--pty/--no-pty", help=_("Serve a pty."))] = True,
    tcp: Annotated[bool, typer.Option("--tcp/--no-tcp", help=_("Serve a TCP port."))] = True,
    tcp_port: Annotated[
        int, typer.Option("--tcp-port", min=0, max=65535, help=_("TCP port (0: any free one)."))
    ] = 0,
    at: Annotated[
        AdapterEnd | None,
        typer.Option(
            "--at", help=_("Where the adapter sits: at the CLU or at the end of the bus.")
        ),
    ] = None,
    clu: Annotated[
        bool | None,
        typer.Option(
            "--clu/--no-clu", help=_("CLU connected to the bus (default: as the scenario).")
        ),
    ] = None,
    time_scale: Annotated[
        float,
        typer.Option("--time-scale", min=0.001, help=_("Run simulated time faster (e.g. 10).")),
    ] = 1.0,
    wire_time: Annotated[
        bool, typer.Option("--wire-time/--no-wire-time", help=_("Emulate bytes' time on the wire."))
    ] = True,
    seed: Annotated[
        int, typer.Option("--seed", help=_("Random seed (same seed, same bytes)."))
    ] = 0,
    seconds: Annotated[
        float | None, typer.Option("--seconds", min=0.0, help=_("Stop after this many seconds."))
    ] = None,
) -> int:
    from clu_doctor.errors import UsageError
    from clu_doctor.report import listings as render

    if list_only:
        from clu_doctor.resources import scenarios_dir
        from clu_doctor.sim import list_scenarios

        scenarios = list_scenarios()
        if json_output:
            sys.stdout.write(render.render_scenarios_json(scenarios, scenarios_dir()))
            return 0
        sys.stdout.write(render.render_scenarios_text(scenarios))
        print(
            f"clu-doctor: the scenario files are in {scenarios_dir()}; 'clu-doctor sim show "
            "NAME' prints one, a copy you edit runs as 'clu-doctor sim FILE.yaml'",
            file=sys.stderr,
        )
        return 0
    if scenario == "show":
        return _show(shown)
    if shown is not None:
        raise UsageError(f"unexpected argument {shown!r}", hint="see 'clu-doctor sim --help'")
    if scenario is None:
        raise UsageError("give a scenario name or --list", hint="see 'clu-doctor sim --list'")
    if not pty and not tcp:
        raise UsageError("--no-pty and --no-tcp leave nothing to serve")
    from clu_doctor.sim import serve

    try:
        server = serve(
            scenario,
            pty=pty,
            tcp=tcp,
            port=tcp_port,
            wire_time=wire_time,
            time_scale=time_scale,
            seed=seed,
            adapter_at=at.position if at else None,
            clu=clu,
        )
    except OSError as error:
        from clu_doctor.errors import CluDoctorError

        raise CluDoctorError(
            f"cannot start the simulator: {error.strerror or error}",
            hint="choose another --tcp-port, or --tcp-port 0 for any free one",
        ) from error
    code = 0
    with server, _stop_on_sigterm():
        try:
            if json_output:
                sys.stdout.write(render.render_sim_addresses_json(scenario, server.addresses))
            else:
                sys.stdout.write(render.render_sim_addresses_text(server.addresses))
            sys.stdout.flush()
            until = f"for {seconds:g} s" if seconds is not None else "until Ctrl-C"
            print(f"clu-doctor: simulating {scenario} {until}", file=sys.stderr, flush=True)
            server.wait(seconds)
        except _Stopped:
            pass  # SIGTERM: asked to stop (systemd, kill), a clean end
        except KeyboardInterrupt:
            code = 130  # Ctrl-C: interrupted, as for every command
    print("clu-doctor: simulator stopped", file=sys.stderr)
    return code


def _show(name: str | None) -> int:
    """``sim show NAME``: the scenario's file as it is, its path on stderr."""
    from clu_doctor.errors import UsageError
    from clu_doctor.sim.scenario import scenario_path

    if name is None:
        raise UsageError("give the scenario to show", hint="e.g. clu-doctor sim show cable-break")
    path = scenario_path(name)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror or error}") from None
    print(f"clu-doctor: {path}", file=sys.stderr)
    sys.stdout.write(text)
    return 0


class _Stopped(Exception):
    """SIGTERM while serving."""


@contextlib.contextmanager
def _stop_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM into :class:`_Stopped` while serving, so systemd/kill stop it cleanly."""
    import signal  # only while serving

    def handler(signum: int, frame: object) -> None:
        raise _Stopped

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


PORTS_HELP = N_(
    """List this machine's serial ports; known USB-RS485 adapter chips come first, marked."""
)


def ports(
    all_ports: Annotated[
        bool, typer.Option("--all", help=_("Also list symlinks (e.g. /dev/serial/by-id/...)."))
    ] = False,
    json_output: Annotated[bool, typer.Option("--json", help=_("Print JSON."))] = False,
) -> None:
    from clu_doctor.bus.ports import list_ports
    from clu_doctor.report import listings as render

    found = list_ports(include_links=all_ports)
    if json_output:
        sys.stdout.write(render.render_ports_json(found))
    else:
        from clu_doctor.report.console import OutputMode

        sys.stdout.write(render.render_ports_text(found, OutputMode.for_stream()))


def register(app: typer.Typer) -> None:
    app.command(help=flow(_(SIM_HELP)), epilog=_(SIM_EPILOG))(sim)
    app.command(
        help=_(PORTS_HELP), epilog=_("Examples:\n\n  clu-doctor ports\n\n  clu-doctor ports --json")
    )(ports)
