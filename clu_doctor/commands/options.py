"""The options every bus-using command shares, and turning them into a probing plan.

Every command module imports this one, so the bus, the simulator and the probes are imported
inside the functions that need them: a diagnosis from flags loads none of them
(``tests/test_startup.py``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import inspect
from collections.abc import Callable, Iterator
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from clu_doctor.errors import CluDoctorError, UsageError
from clu_doctor.i18n import _
from clu_doctor.records import record

if TYPE_CHECKING:
    from clu_doctor.bus.chain import AdapterAt
    from clu_doctor.bus.profile import DeviceProfile
    from clu_doctor.probing import BusPlan
    from clu_doctor.sim.protocol_sim import SimUrl
    from clu_doctor.sim.scenario import Scenario
    from clu_doctor.site.model import Site


class AdapterEnd(str, Enum):
    """``--at``'s choices: the values of :data:`clu_doctor.bus.chain.AdapterAt`, for typer,
    which offers choices only from an Enum. Written out rather than built from that type:
    building it would import the bus layer whenever a command is built, and
    ``tests/test_startup.py`` keeps ``diagnose`` from flags free of the bus.
    ``tests/commands/test_options.py`` checks that the two agree."""

    CLU = "clu"
    END = "end"

    @property
    def position(self) -> AdapterAt:
        """The value as the one adapter-position type."""
        return self.value


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
        help=_("Serial port or pyserial URL of the USB-RS485 adapter (see 'clu-doctor ports')."),
    ),
]
SimOption = Annotated[
    str | None,
    typer.Option(
        "--sim",
        metavar="SCENARIO",
        help=_(
            "Use the built-in simulated site instead of a port (see 'clu-doctor sim --list'); "
            "options as in SCENARIO?clu=0&at=end."
        ),
        autocompletion=complete_scenario,
    ),
]
SiteOption = Annotated[
    Path | None,
    typer.Option("--site", "-s", metavar="FILE", help=_("Site description (site.yaml).")),
]
ProfileOption = Annotated[
    str | None,
    typer.Option(
        "--profile",
        metavar="NAME|FILE",
        help=_("Device profile (default: the site's, else defa-erange)."),
        autocompletion=complete_profile,
    ),
]
AtOption = Annotated[
    AdapterEnd | None,
    typer.Option(
        "--at", help=_("Where the adapter is attached: at the CLU or at the end of the bus.")
    ),
]
TransmitOption = Annotated[
    bool,
    typer.Option(
        "--transmit",
        help=_(
            "Allow read requests even while the CLU polls (it may disturb charging). "
            "Without it the tool only transmits when it finds the bus quiet."
        ),
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
        help=_("Baud rate, overriding the profile's and the site file's (e.g. 9600)."),
        rich_help_panel="Line settings",
    ),
]
ParityOption = Annotated[
    Parity | None,
    typer.Option(
        "--parity",
        case_sensitive=False,
        help=_("Parity: N, E or O, overriding the profile's."),
        rich_help_panel="Line settings",
    ),
]
StopbitsOption = Annotated[
    float | None,
    typer.Option(
        "--stopbits",
        help=_("Stop bits: 1, 1.5 or 2, overriding the profile's."),
        rich_help_panel="Line settings",
    ),
]
Rs485Option = Annotated[
    bool,
    typer.Option(
        "--rs485",
        help=_(
            "Let the kernel switch the transceiver's direction from RTS (only for adapters "
            "that do not switch by themselves; most USB-RS485 adapters do)."
        ),
        rich_help_panel="Line settings",
    ),
]


@record
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


#: The bus options, in the order --help lists them, with their declarations and defaults.
_BUS_OPTIONS: dict[str, tuple[Any, Any]] = {
    "port": (PortOption, None),
    "sim": (SimOption, None),
    "site": (SiteOption, None),
    "profile": (ProfileOption, None),
    "at": (AtOption, None),
    "baud": (BaudOption, None),
    "parity": (ParityOption, None),
    "stopbits": (StopbitsOption, None),
    "rs485": (Rs485Option, False),
}


@record
class BusFlags:
    """The bus options one command was given (``None``: not given)."""

    port: str | None = None
    sim: str | None = None
    site: Path | None = None
    profile: str | None = None
    at: AdapterEnd | None = None
    line: LineOverride = LineOverride()


def bus_flags(*names: str) -> Callable[[Callable[..., int]], Callable[..., int]]:
    """Give a command the shared bus options, declared once here.

    The command takes one parameter ``bus: BusFlags``; in its place, typer sees the options
    ``names`` (default: all of them, in their usual order) and the command receives them as one
    :class:`BusFlags`. Its own options keep their places around it.
    """
    chosen = names or tuple(_BUS_OPTIONS)
    unknown = set(chosen) - set(_BUS_OPTIONS)
    if unknown:
        raise ValueError(f"no bus option named {', '.join(sorted(unknown))}")

    def decorate(command: Callable[..., int]) -> Callable[..., int]:
        own = inspect.signature(command, eval_str=True)
        shared = [
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                annotation=_BUS_OPTIONS[name][0],
                default=_BUS_OPTIONS[name][1],
            )
            for name in chosen
        ]
        parameters: list[inspect.Parameter] = []
        for parameter in own.parameters.values():
            if parameter.name == "bus":
                parameters += shared
            else:
                parameters.append(parameter.replace(kind=inspect.Parameter.KEYWORD_ONLY))

        @functools.wraps(command)
        def with_flags(**given: Any) -> int:
            flags = {name: given.pop(name) for name in chosen}
            line = LineOverride(
                flags.pop("baud", None),
                flags.pop("parity", None),
                flags.pop("stopbits", None),
                flags.pop("rs485", False),
            )
            return command(bus=BusFlags(**flags, line=line), **given)

        with_flags.__signature__ = own.replace(parameters=parameters)  # type: ignore[attr-defined]
        with_flags.__annotations__ = {p.name: p.annotation for p in parameters}
        return with_flags

    return decorate


SaveOption = Annotated[
    Path | None,
    typer.Option("--save", metavar="FILE", help=_("Record the raw bytes heard while listening.")),
]
RulesOption = Annotated[
    Path | None,
    typer.Option(
        "--rules", metavar="PATH", help=_("Use another rules directory (for rule authors).")
    ),
]


@record
class Simulation:
    """``--sim SCENARIO?OPTIONS``, read once: the scenario with its options applied, from which
    every opening of the in-process port starts (no file is read again)."""

    #: As the user named it (a bundled name or a file), without the options.
    name: str
    options: SimUrl
    scenario: Scenario

    @property
    def url(self) -> str:
        """The equivalent ``sim://`` URL: how the port is named in evidence and recordings."""
        return self.options.url

    def moved(self, at: AdapterAt) -> Simulation:
        """The same simulation with the adapter at ``at`` (``--at``)."""
        options = dataclasses.replace(self.options, at=at)
        return dataclasses.replace(self, options=options, scenario=self._changed(options))

    def later(self, seconds: float) -> Simulation:
        """The same site ``seconds`` later on the clock: its CLU powered that much longer
        (scaled by ``time_scale``), as a real CLU keeps running while the technician waits."""
        uptime = round(self.scenario.clu.uptime_s + seconds * self.options.time_scale, 1)
        options = dataclasses.replace(self.options, uptime=uptime)
        return dataclasses.replace(self, options=options, scenario=self._changed(options))

    def site(self) -> Site | None:
        """The site description a technician would carry for it (``None``: a meter bus)."""
        from clu_doctor.sim.site_plan import site_for  # start-up: see the module docstring

        return site_for(self.scenario)

    def open_port(self) -> Any:
        """A new unopened in-process port on the scenario (for ``BusPlan.opener``)."""
        from clu_doctor.sim.protocol_sim import simulated_port  # start-up, as above

        return simulated_port(self.scenario, self.options)

    def _changed(self, options: SimUrl) -> Scenario:
        return self.scenario.with_changes(
            adapter_at=options.at, clu_present=options.clu, clu_uptime_s=options.uptime
        )


def read_simulation(text: str) -> Simulation:
    """``--sim``'s value: a scenario name or file, optionally with ``?`` and the options of a
    ``sim://`` URL (one parser for both, :func:`clu_doctor.sim.protocol_sim.parse_options`)."""
    # the simulator only when --sim is given (start-up: see the module docstring)
    from clu_doctor.resources import scenarios_dir
    from clu_doctor.sim.protocol_sim import parse_options
    from clu_doctor.sim.scenario_reader import load_scenario

    name, _, query = text.partition("?")
    scenario = load_scenario(name)
    # A file is named by its absolute path, so the URL opens the same file from anywhere.
    path = Path(scenario.source)
    where = name if path == scenarios_dir() / f"{name}.yaml" else str(path.resolve())
    try:
        options = parse_options(where, query)
    except ValueError as error:
        raise UsageError(f"--sim {error}", hint="options as in SCENARIO?clu=0&at=end") from None
    read = Simulation(name, options, scenario)
    return dataclasses.replace(read, scenario=read._changed(options))


@record
class Target:
    """Where the bus is and what we know about the site."""

    port: str
    profile: DeviceProfile
    site: Site | None
    description: str
    #: Kernel RS-485 direction control (``--rs485``).
    rs485: bool = False
    #: The ``--sim`` behind ``port``, read once (``None``: a real port or a URL).
    simulation: Simulation | None = None

    @property
    def opener(self) -> Callable[[], Any] | None:
        """What makes the port object to open (``None``: pyserial opens ``port`` by name)."""
        return self.simulation.open_port if self.simulation is not None else None


def load_site_option(path: Path | None) -> Site | None:
    if path is None:
        return None
    from clu_doctor.site.reader import load_site

    return load_site(path.expanduser())


def resolve_target(
    port: str | None,
    sim: str | Simulation | None,
    site: Site | None,
    profile: str | None,
    at: AdapterEnd | None,
    line: LineOverride | None = None,
) -> Target | None:
    """The port (or simulated site), the profile and the site; ``None`` without a bus (then
    a --profile or a line-setting flag is a usage error: there is nothing to apply it to).
    ``sim`` is ``--sim``'s text, or a :class:`Simulation` already read from it."""
    line = line or LineOverride()
    if port and sim:
        raise UsageError("give --port or --sim, not both")
    simulation = None
    if sim:
        simulation = sim if isinstance(sim, Simulation) else read_simulation(sim)
        if at is not None:
            simulation = simulation.moved(at.position)
        port = simulation.url
        if site is None:
            site = simulation.site()
        description = f"simulated site {simulation.name}"
    elif port:
        description = port
        if port.startswith("sim://"):
            from clu_doctor.sim import register_url_handler

            register_url_handler()
        if site is not None and at is not None:
            site = dataclasses.replace(site, adapter_at=at.position)
    else:
        if profile is not None or line != LineOverride():
            raise UsageError(
                "--profile and the line-setting flags need a bus: give --port PORT or --sim "
                "SCENARIO",
                hint="'clu-doctor ports' lists this machine's serial ports",
            )
        return None
    return Target(
        port,
        line.apply(_profile(profile, site, simulation)),
        site,
        description,
        rs485=line.rs485,
        simulation=simulation,
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
        opener=target.opener,
    )


def resolve_profile(name: str) -> DeviceProfile:
    """A bundled profile by name, or a profile file by path (``--profile``)."""
    from clu_doctor.bus.profile import load_profile

    if "/" in name or name.endswith((".yaml", ".yml")):
        return load_profile(Path(name).expanduser())
    return load_profile(name)


def _profile(name: str | None, site: Site | None, simulation: Simulation | None) -> DeviceProfile:
    from clu_doctor.bus.profile import load_profile

    if name is not None:
        return resolve_profile(name)
    if site is not None:
        return site.load_profile()
    if simulation is not None:
        scenario = simulation.scenario
        if any(station.kind == "meter" for station in scenario.stations):
            return dataclasses.replace(
                load_profile("modbus-meter"),
                line=scenario.bus.settings,
                framing=scenario.bus.framing,
            )
        if scenario.bus.framing == "evcc1":  # a first-generation site
            return load_profile("defa-evcc1")
    return load_profile("defa-erange")


#: What the command line says where the bus layer says "without kernel RS-485 mode".
RS485_HINT = (
    "this adapter's driver cannot switch to kernel RS-485 mode; most USB-RS485 adapters switch "
    "direction by themselves, so try again without --rs485"
)
#: What the command line says where the bus layer asks to check the port's name.
PORTS_HINT = (
    "run 'clu-doctor ports' to list this machine's serial ports, and check the adapter is "
    "plugged in"
)
#: What the command line says where the bus layer describes a recording.
RECORDING_HINT = (
    "a recording is the file 'clu-doctor listen --save FILE' writes: one JSON header line, then "
    "one JSON record per line; record a new one with 'clu-doctor listen --port PORT --save FILE'"
)


#: What the command line says where the engine says the rules are invalid.
RULES_HINT = "the rules are invalid; 'clu-doctor docs rules-format' describes the format"
#: What the command line says where the site reader finds problems in a site file.
SITE_HINT = "'clu-doctor site init' prints a commented site.yaml to compare with"


def people_hint(hint: str | None) -> str | None:
    """``hint`` as this command line tells it: where the bus, the engine or the site reader
    describe a way out, the command or flag that takes it (they name none themselves: they are
    used by more than this command line). Called on the error path only."""
    if not hint:
        return hint
    # The hints' owners are imported here, on an error, not at start-up.
    from clu_doctor.bus.link import HINT_PORTS, HINT_RS485
    from clu_doctor.bus.listen.recording import HINT_RECORDING
    from clu_doctor.engine.rulebook import RULES_HINT as ENGINE_RULES_HINT
    from clu_doctor.site.reader import HINT as SITE_READER_HINT

    return {
        HINT_PORTS: PORTS_HINT,
        HINT_RS485: RS485_HINT,
        HINT_RECORDING: RECORDING_HINT,
        ENGINE_RULES_HINT: RULES_HINT,
        SITE_READER_HINT: SITE_HINT,
    }.get(hint, hint)


@contextlib.contextmanager
def flag_hints() -> Iterator[None]:
    """Bus errors whose way out is a command or a flag, told with its name (inside the block,
    so a command that reports the error itself, as ``check`` does, tells it that way too)."""
    try:
        yield
    except CluDoctorError as error:
        error.hint = people_hint(error.hint)
        raise
