"""``clu-doctor site init``: a commented site.yaml to start from, optionally filled from the bus."""

from __future__ import annotations

import contextlib
import dataclasses
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from clu_doctor.commands import flow
from clu_doctor.commands import options as bus_options
from clu_doctor.errors import CluDoctorError, UsageError
from clu_doctor.i18n import N_, _

if TYPE_CHECKING:
    from clu_doctor.probing import BusProber
    from clu_doctor.site.template import FoundStation, TemplateFacts

INIT_HELP = N_("""Print a commented site.yaml to fill in, or write it to a file.

Every key is explained where it stands. With --port (or --sim) the chain is filled from the
bus: it listens first (it never transmits while the CLU polls) and takes the addresses the CLU
polls; on a quiet bus (the CLU disconnected) it reads every address, with identities. The
stations come in address order, each with what was heard: put them in cable order and mark
the DUO stations before you use the file.

Exit code: 0 written, 3 nothing found on the bus, a port problem, or the file exists.
""")

INIT_EPILOG = N_("""Examples:

  clu-doctor site init > site.yaml

  clu-doctor site init --port /dev/ttyUSB0 --name "Solsiden garage B" -o site.yaml

  clu-doctor site init --sim cable-break              # what a simulated site gives
""")


@bus_options.bus_flags("port", "sim", "profile", "baud", "parity", "stopbits", "rs485")
def init(
    bus: bus_options.BusFlags,
    name: Annotated[
        str | None,
        typer.Option("--name", metavar="NAME", help=_("The site's name, for reports and history.")),
    ] = None,
    seconds: Annotated[
        float,
        typer.Option("--seconds", min=1.0, help=_("How long to listen to the bus (with --port).")),
    ] = 20.0,
    transmit: bus_options.TransmitOption = False,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", metavar="FILE", help=_("Write the file here, not to stdout.")
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help=_("Overwrite FILE if it exists."))] = False,
) -> int:
    from clu_doctor.site.template import TemplateFacts, site_template

    if output is not None and output.expanduser().exists() and not force:
        raise UsageError(
            f"{output} exists: it may hold a site you wrote down",
            hint="give another -o FILE, or --force to replace it",
        )
    facts = TemplateFacts(name=name or "New site")
    found: list[FoundStation] = []
    if bus.port is not None or bus.sim is not None:
        found, facts = _from_bus(bus, facts, seconds, transmit)
    text = site_template(found, facts)
    if output is None:
        sys.stdout.write(text)
        return 0
    try:
        output.expanduser().write_text(text, encoding="utf-8")
    except OSError as error:
        raise CluDoctorError(
            f"cannot write {output}: {error.strerror or error}",
            hint="pick a directory you can write, or leave out -o to print it",
        ) from None
    print(
        f"clu-doctor: wrote {output} ({len(found) or 'no'} stations from the bus)", file=sys.stderr
    )
    return 0


def _from_bus(
    bus: bus_options.BusFlags, facts: TemplateFacts, seconds: float, transmit: bool
) -> tuple[list[FoundStation], TemplateFacts]:
    from clu_doctor.probing import BusProber
    from clu_doctor.ui.progress import terminal_events

    target = bus_options.resolve_target(bus.port, bus.sim, None, bus.profile, None, bus.line)
    assert target is not None
    # A simulated site comes with its own plan: leave it out, the bus alone fills the chain.
    target = dataclasses.replace(target, site=None)
    plan = bus_options.plan_for(target, listen_s=seconds, transmit=transmit)
    with contextlib.ExitStack() as stack:
        stack.enter_context(bus_options.flag_hints())
        prober = stack.enter_context(BusProber(plan, terminal_events(stack)))
        listened = prober.listen()
        scan = None if listened.report.frames else prober.scan()
        found = _stations(prober)
    if not found:
        report = listened.report
        if report.bytes:
            raise CluDoctorError(
                f"no station found on {target.description}: {report.bytes} bytes heard in "
                f"{seconds:g} s, but not one frame decodes, at {listened.settings} or at the "
                "other usual line settings",
                hint="check that A goes to A and B to B, and that the adapter takes the bus's "
                f"line settings ({target.profile.line} for this profile)",
            )
        why = prober.evidence().get("active_probes") or (
            f"nothing heard in {seconds:g} s, and no address answered a read"
        )
        raise CluDoctorError(
            f"no station found on {target.description}: {why}",
            hint="is the adapter on the bus (A to A, B to B)? The CLU polls within 150 s of "
            "power-up; without the bus, 'clu-doctor site init' prints a template to fill in",
        )
    # a bus of the profile's other ABL generation is written with that generation's profile
    profile = target.profile.for_framing(listened.framing)
    settings, framing = listened.settings, listened.framing
    changes: dict[str, str | None] = {
        "profile": None if profile is target.profile and bus.profile is None else profile.name,
        "heard_on": None if bus.sim else target.description,
        "how": "scan" if scan is not None else "listen",
        "port": None if bus.sim or target.port.startswith("sim://") else target.port,
        "line": None if settings == profile.line else str(settings),
        "framing": None if framing == profile.framing else framing,
    }
    if bus.sim:
        changes["heard_on"] = target.description
    return found, dataclasses.replace(facts, **changes)  # type: ignore[arg-type]


def _stations(prober: BusProber) -> list[FoundStation]:
    """Every address the CLU polled or that answered (the listen), or answered a read (the
    scan), with what was heard of it."""
    from clu_doctor.site.template import FoundStation

    found: dict[int, FoundStation] = {}
    listened = prober.listened
    if listened is not None:
        for entry in listened.report.addresses:
            if entry.polls or entry.answers:
                found[entry.address] = FoundStation(
                    entry.address,
                    polled=entry.polls > 0,
                    answered=entry.answers > 0,
                    state=entry.state.code if entry.state is not None else None,
                )
    scan = prober.scan_result
    if scan is not None:
        for address in scan.answered:
            result = scan.get(address)
            assert result is not None
            serial = result.identity.serial if result.identity is not None else None
            found[address] = FoundStation(address, answered=True, serial=serial, state=result.state)
    return [found[address] for address in sorted(found)]


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        name="site",
        help=_("Write down a site: the site.yaml that diagnose, check and history compare with."),
        epilog=_(
            "Examples:\n\n  clu-doctor site init > site.yaml\n\n"
            "  clu-doctor site init --port /dev/ttyUSB0 -o site.yaml"
        ),
        no_args_is_help=True,
    )
    group.command("init", help=flow(_(INIT_HELP)), epilog=_(INIT_EPILOG))(init)
    app.add_typer(group)
