"""The options every bus-using command shares, and turning them into a probing plan."""

from __future__ import annotations

import dataclasses
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from urllib.parse import parse_qsl, urlencode

import typer

from clu_doctor.errors import UsageError

if TYPE_CHECKING:
    from clu_doctor.bus.profile import DeviceProfile
    from clu_doctor.probing import BusPlan
    from clu_doctor.site.model import Site


class AdapterEnd(str, Enum):
    CLU = "clu"
    END = "end"


def complete_scenario(incomplete: str) -> list[str]:
    from clu_doctor.sim import list_scenarios

    try:
        return [name for name, _ in list_scenarios() if name.startswith(incomplete)]
    except Exception:  # completion must never print a traceback into the shell
        return []


def complete_profile(incomplete: str) -> list[str]:
    from clu_doctor.bus.profile import bundled_profile_names

    try:
        return [name for name in bundled_profile_names() if name.startswith(incomplete)]
    except Exception:
        return []


PortOption = Annotated[
    str | None,
    typer.Option(
        "--port",
        "-p",
        metavar="PORT",
        help="Serial port or pyserial URL of the USB-RS485 adapter (see 'clu-doctor ports').",
    ),
]
SimOption = Annotated[
    str | None,
    typer.Option(
        "--sim",
        metavar="SCENARIO",
        help="Use the built-in simulated site instead of a port (see 'clu-doctor sim --list'); "
        "options as in SCENARIO?clu=0&at=end.",
        autocompletion=complete_scenario,
    ),
]
SiteOption = Annotated[
    Path | None,
    typer.Option("--site", "-s", metavar="FILE", help="Site description (site.yaml)."),
]
ProfileOption = Annotated[
    str | None,
    typer.Option(
        "--profile",
        metavar="NAME|FILE",
        help="Device profile (default: the site's, else defa-erange).",
        autocompletion=complete_profile,
    ),
]
AtOption = Annotated[
    AdapterEnd | None,
    typer.Option(
        "--at", help="Where the adapter is attached: at the CLU or at the end of the bus."
    ),
]
TransmitOption = Annotated[
    bool,
    typer.Option(
        "--transmit",
        help="Allow read requests even while the CLU polls (it may disturb charging). "
        "Without it the tool only transmits when it finds the bus quiet.",
    ),
]


class Parity(str, Enum):
    NONE = "N"
    EVEN = "E"
    ODD = "O"


BaudOption = Annotated[
    int | None,
    typer.Option(
        "--baud",
        min=300,
        max=4_000_000,
        help="Baud rate, overriding the profile's and the site file's (e.g. 9600).",
        rich_help_panel="Line settings",
    ),
]
ParityOption = Annotated[
    Parity | None,
    typer.Option(
        "--parity",
        case_sensitive=False,
        help="Parity: N, E or O, overriding the profile's.",
        rich_help_panel="Line settings",
    ),
]
StopbitsOption = Annotated[
    float | None,
    typer.Option(
        "--stopbits",
        help="Stop bits: 1, 1.5 or 2, overriding the profile's.",
        rich_help_panel="Line settings",
    ),
]
Rs485Option = Annotated[
    bool,
    typer.Option(
        "--rs485",
        help="Let the kernel switch the transceiver's direction from RTS (only for adapters "
        "that do not switch by themselves; most USB-RS485 adapters do).",
        rich_help_panel="Line settings",
    ),
]


@dataclasses.dataclass(frozen=True)
class LineOverride:
    """Line-setting flags the user gave (``None``: keep the profile's)."""

    baud: int | None = None
    parity: Parity | None = None
    stopbits: float | None = None
    rs485: bool = False

    def apply(self, profile: DeviceProfile) -> DeviceProfile:
        changes: dict[str, object] = {}
        if self.baud is not None:
            changes["baudrate"] = self.baud
        if self.parity is not None:
            changes["parity"] = self.parity.value
        if self.stopbits is not None:
            changes["stopbits"] = self.stopbits
        if not changes:
            return profile
        try:
            line = dataclasses.replace(profile.line, **changes)  # type: ignore[arg-type]
        except ValueError as error:
            raise UsageError(str(error), hint="e.g. --baud 9600 --parity N --stopbits 1") from None
        return dataclasses.replace(profile, line=line)


SaveOption = Annotated[
    Path | None,
    typer.Option("--save", metavar="FILE", help="Record the raw bytes heard while listening."),
]
RulesOption = Annotated[
    Path | None,
    typer.Option("--rules", metavar="PATH", help="Use another rules directory (for rule authors)."),
]


@dataclasses.dataclass(frozen=True)
class Target:
    """Where the bus is and what we know about the site."""

    port: str
    profile: DeviceProfile
    site: Site | None
    description: str
    #: Kernel RS-485 direction control (``--rs485``).
    rs485: bool = False


def load_site_option(path: Path | None) -> Site | None:
    if path is None:
        return None
    from clu_doctor.site.reader import load_site

    return load_site(path.expanduser())


def resolve_target(
    port: str | None,
    sim: str | None,
    site: Site | None,
    profile: str | None,
    at: AdapterEnd | None,
    line: LineOverride | None = None,
) -> Target | None:
    """The port (or simulator URL), the profile and the site; ``None`` without a bus (then
    a --profile or a line-setting flag is a usage error: there is nothing to apply it to)."""
    line = line or LineOverride()
    if port and sim:
        raise UsageError("give --port or --sim, not both")
    if sim:
        port, site = _simulated(sim, site, at)
        description = f"simulated site {sim.split('?')[0]}"
    elif port:
        description = port
        if port.startswith("sim://"):
            from clu_doctor.sim import register_url_handler

            register_url_handler()
        if site is not None and at is not None:
            site = dataclasses.replace(site, adapter_at=at.value)
    else:
        if profile is not None or line != LineOverride():
            raise UsageError(
                "--profile and the line-setting flags need a bus: give --port PORT or --sim "
                "SCENARIO",
                hint="'clu-doctor ports' lists this machine's serial ports",
            )
        return None
    return Target(
        port, line.apply(_profile(profile, site, sim)), site, description, rs485=line.rs485
    )


def plan_for(
    target: Target, *, listen_s: float, transmit: bool, save: Path | None = None
) -> BusPlan:
    from clu_doctor.probing import BusPlan

    return BusPlan(
        port=target.port,
        profile=target.profile,
        site=target.site,
        listen_s=listen_s,
        transmit=transmit,
        save=save.expanduser() if save else None,
        rs485=target.rs485,
    )


def _simulated(sim: str, site: Site | None, at: AdapterEnd | None) -> tuple[str, Site | None]:
    from clu_doctor.sim import load_scenario, register_url_handler
    from clu_doctor.sim.site_plan import site_for

    name, _, query = sim.partition("?")
    options = dict(parse_qsl(query, keep_blank_values=True))
    if at is not None:
        options["at"] = at.value
    scenario = load_scenario(name)
    adapter = options.get("at")
    if adapter not in (None, "clu", "end"):
        raise UsageError(f"--sim option at={adapter} (expected at=clu or at=end)")
    clu = options.get("clu")
    scenario = scenario.with_changes(
        adapter_at=adapter,  # type: ignore[arg-type]
        clu_present=None if clu is None else clu not in ("0", "false", "no"),
    )
    register_url_handler()
    url = f"sim://{name}" + (f"?{urlencode(options)}" if options else "")
    return url, site if site is not None else site_for(scenario)


def resolve_profile(name: str) -> DeviceProfile:
    """A bundled profile by name, or a profile file by path (``--profile``)."""
    from clu_doctor.bus.profile import load_profile

    if "/" in name or name.endswith((".yaml", ".yml")):
        return load_profile(Path(name).expanduser())
    return load_profile(name)


def _profile(name: str | None, site: Site | None, sim: str | None) -> DeviceProfile:
    from clu_doctor.bus.profile import load_profile

    if name is not None:
        return resolve_profile(name)
    if site is not None:
        return site.load_profile()
    if sim is not None:
        from clu_doctor.sim import load_scenario

        scenario = load_scenario(sim.split("?")[0])
        if any(station.kind == "meter" for station in scenario.stations):
            return dataclasses.replace(
                load_profile("modbus-meter"),
                line=scenario.bus.settings,
                framing=scenario.bus.framing,
            )
    return load_profile("defa-erange")
