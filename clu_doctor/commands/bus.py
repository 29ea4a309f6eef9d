"""``clu-doctor scan`` and ``clu-doctor listen``: the bus probes on their own."""

from __future__ import annotations

import contextlib
import dataclasses
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from clu_doctor.commands import flow
from clu_doctor.commands import options as bus_options
from clu_doctor.errors import CluDoctorError, UsageError
from clu_doctor.i18n import N_, _

T = TypeVar("T")

if TYPE_CHECKING:
    from clu_doctor.bus.probes.base import BusBusy
    from clu_doctor.commands.options import Target

SCAN_HELP = N_("""Read every address on the bus, and say what is wrong.

Shows who answers, with which identity and state, then what that means in the same findings
and steps as diagnose. Transmits read requests, so it first listens: if the CLU is polling, it stays passive and
says so (disconnect the CLU, or pass --transmit to probe anyway). With --site it checks the
chain (where a break is); the duplicate check reads identities repeatedly. What the bus
alone cannot judge (a quiet CLU that should be polling) is named, never called fine.

Exit code: 0 nothing wrong found, 1 warning, 2 critical, 3 could not scan (port problem,
the CLU is polling).
""")

LISTEN_HELP = N_("""Listen to a live bus without sending a single byte, and say what is wrong.

Decodes the CLU's polls and the stations' answers, finds the line settings in use when
nothing decodes at the profile's, and shows a table per address. --save records the raw
bytes; --replay analyses a recording again (for support).

Exit code: 0 nothing wrong heard, 1 warning, 2 critical, 3 could not listen.
""")


def parse_addresses(text: str) -> tuple[int, ...]:
    """``1-16``, ``1,3,5-8`` -> addresses (1..247)."""
    found: list[int] = []
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        first, _, last = part.partition("-")
        try:
            low, high = int(first), int(last or first)
        except ValueError:
            raise UsageError(
                f"--addresses: {part!r} is not an address or range", hint="e.g. 1-16 or 1,3,5-8"
            ) from None
        if low > high:
            raise UsageError(
                f"--addresses: {part!r} runs backwards", hint=f"write it as {high}-{low}"
            )
        if not 1 <= low <= high <= 247:
            raise UsageError(f"--addresses: {part!r} is outside 1..247")
        found.extend(a for a in range(low, high + 1) if a not in found)
    if not found:
        raise UsageError("--addresses is empty", hint="e.g. 1-16")
    return tuple(found)


def _require_target(bus: bus_options.BusFlags) -> Target:
    if bus.port is None and bus.sim is None:
        raise UsageError(
            "give --port PORT (or --sim SCENARIO)",
            hint="'clu-doctor ports' lists this machine's serial ports",
        )
    target = bus_options.resolve_target(
        bus.port, bus.sim, bus_options.load_site_option(bus.site), bus.profile, bus.at, bus.line
    )
    assert target is not None
    return target


@bus_options.bus_flags()
def scan(
    bus: bus_options.BusFlags,
    addresses: Annotated[
        str | None,
        typer.Option(
            "--addresses", metavar="RANGES", help=_("Addresses to read, e.g. 1-16 or 1,3,5-8.")
        ),
    ] = None,
    duplicates: Annotated[
        bool,
        typer.Option(
            "--duplicates/--no-duplicates", help=_("Read identities repeatedly to find duplicates.")
        ),
    ] = True,
    reads: Annotated[
        int,
        typer.Option("--reads", min=1, max=200, help=_("Identity reads per address (duplicates).")),
    ] = 12,
    stop_early: Annotated[
        bool,
        typer.Option("--stop-early", help=_("Stop once every station of the site has answered.")),
    ] = False,
    transmit: bus_options.TransmitOption = False,
    json_output: Annotated[bool, typer.Option("--json", help=_("Print a JSON document."))] = False,
) -> int:
    from clu_doctor.bus.probes.base import lbt_window
    from clu_doctor.engine import load_rulebook
    from clu_doctor.probing import BusProber, observe
    from clu_doctor.report import probes as render
    from clu_doctor.report.console import OutputMode
    from clu_doctor.ui.progress import terminal_events

    rulebook = load_rulebook()
    target = _require_target(bus)
    wanted = parse_addresses(addresses) if addresses else tuple(target.profile.addresses)
    # Listen first, as long as it takes to know no master polls (a few of its polling
    # periods): that listen is the scan's listen-before-talk, and what it heard is evidence.
    window = lbt_window(target.profile.timing.master_period)
    plan = bus_options.plan_for(target, listen_s=window, transmit=transmit)
    with contextlib.ExitStack() as stack:
        stack.enter_context(bus_options.flag_hints())
        prober = stack.enter_context(BusProber(plan, terminal_events(stack)))
        prober.listen()
        result = _guarded(prober.read_addresses, wanted, stop_when_expected=stop_early)
        if duplicates and result.present:
            _guarded(prober.check_duplicates, result.present, reads=reads)
        elif not duplicates:
            prober.decline_duplicates("not run: the duplicate check was turned off")
        observations = observe(rulebook, prober, target.site)
    diagnosis = rulebook.diagnose(observations, asked=False)
    chain = prober.chain_result(result)
    dup = prober.duplicate_result
    if json_output:
        sys.stdout.write(
            render.render_scan_json(
                result,
                diagnosis,
                site=target.site,
                chain=chain,
                duplicates=dup,
                trees=rulebook.trees,
            )
        )
    else:
        sys.stdout.write(
            render.render_scan_text(
                result,
                diagnosis,
                OutputMode.for_stream(),
                site=target.site,
                trees=rulebook.trees,
                questions={spec.key: spec.question for spec in rulebook.vocabulary},
            )
        )
    return int(diagnosis.exit_code)


def busy_error(busy: BusBusy) -> CluDoctorError:
    """The bus layer's refusal, with the command line's own way out."""
    return CluDoctorError(
        busy.message,
        hint="disconnect the CLU (or its USB interface) from the bus and run again; pass "
        "--transmit only if you are sure no master is active; 'clu-doctor listen' shows what "
        "the bus carries without sending anything",
    )


def _guarded(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    from clu_doctor.bus.probes.base import BusBusy

    try:
        return function(*args, **kwargs)
    except BusBusy as busy:
        raise busy_error(busy) from busy


@bus_options.bus_flags()
def listen(
    bus: bus_options.BusFlags,
    seconds: Annotated[
        float, typer.Option("--seconds", min=0.5, help=_("How long to listen."))
    ] = 60.0,
    save: Annotated[
        Path | None, typer.Option("--save", metavar="FILE", help=_("Record the raw bytes heard."))
    ] = None,
    replay: Annotated[
        Path | None,
        typer.Option("--replay", metavar="FILE", help=_("Analyse a recording instead of a port.")),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help=_("Print a JSON document."))] = False,
) -> int:
    from clu_doctor.engine import load_rulebook
    from clu_doctor.probing import BusPlan, BusProber, observe
    from clu_doctor.report import probes as render
    from clu_doctor.report.console import OutputMode
    from clu_doctor.ui.progress import terminal_events

    rulebook = load_rulebook()
    warnings: tuple[str, ...] = ()
    if replay is not None:
        if bus.port or bus.sim or save:
            raise UsageError("--replay analyses a file: leave out --port, --sim and --save")
        from clu_doctor.bus.listen.recording import replay as run_replay
        from clu_doctor.bus.profile import load_profile
        from clu_doctor.probing.site import site_chain

        site_plan = bus_options.load_site_option(bus.site)
        loaded = None if bus.profile is None else bus_options.resolve_profile(bus.profile)
        with bus_options.flag_hints():
            replayed = run_replay(replay.expanduser(), profile=loaded, chain=site_chain(site_plan))
        warnings = replayed.warnings
        for warning in warnings:
            print(f"clu-doctor: warning: {warning}", file=sys.stderr)
        profile = loaded or (site_plan.load_profile() if site_plan else load_profile("defa-erange"))
        plan = BusPlan(port=str(replay), profile=profile, site=site_plan)
        prober = BusProber.replaying(plan, replayed.report)
        observations = observe(rulebook, prober, site_plan)
    else:
        target = _require_target(bus)
        site_plan = target.site
        plan = dataclasses.replace(
            bus_options.plan_for(target, listen_s=seconds, transmit=False, save=save),
            probe_when_quiet=False,  # listening never transmits, however quiet the bus
        )
        with contextlib.ExitStack() as stack:
            stack.enter_context(bus_options.flag_hints())
            events = terminal_events(stack, table=True, site=site_plan)
            prober = stack.enter_context(BusProber(plan, events))
            prober.listen()
            observations = observe(rulebook, prober, site_plan)
    listened = prober.listen()
    diagnosis = rulebook.diagnose(observations, asked=False)
    if json_output:
        sys.stdout.write(
            render.render_listen_json(
                listened.report,
                diagnosis,
                listened.verdicts,
                detection=listened.detection,
                notes=listened.notes,
                warnings=warnings,
                trees=rulebook.trees,
            )
        )
    else:
        sys.stdout.write(
            render.render_listen_text(
                listened.report,
                diagnosis,
                OutputMode.for_stream(),
                site=site_plan,
                detection=listened.detection,
                notes=listened.notes,
                trees=rulebook.trees,
                questions={spec.key: spec.question for spec in rulebook.vocabulary},
            )
        )
    return int(diagnosis.exit_code)


def register(app: typer.Typer) -> None:
    app.command(
        help=flow(_(SCAN_HELP)),
        epilog=(
            _(
                "Examples:\n\n"
                "  clu-doctor scan --port /dev/ttyUSB0 --site site.yaml\n\n"
                "  clu-doctor scan --sim 'cable-break?clu=0' --json\n\n"
                "  clu-doctor scan --port /dev/ttyUSB0 --addresses 1-247 --no-duplicates"
            )
        ),
    )(scan)
    app.command(
        help=flow(_(LISTEN_HELP)),
        epilog=(
            _(
                "Examples:\n\n"
                "  clu-doctor listen --port /dev/ttyUSB0 --seconds 60 --site site.yaml\n\n"
                "  clu-doctor listen --port /dev/ttyUSB0 --save capture.cdr\n\n"
                "  clu-doctor listen --replay capture.cdr --json"
            )
        ),
    )(listen)
