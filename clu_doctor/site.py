"""The site description (``site.yaml``): what a CLU site should look like, and what follows from it.

A site file says what the technician expects to find: the site's name, the device profile of
its charge controllers (with optional line-setting and framing overrides), the daisy chain of
stations in BUS IN -> BUS OUT order starting at the CLU, where the technician's adapter joins
the bus, whether the CLU stays on the bus during the visit, the cable length, the site current
per phase and the energy meters. ``examples/site.yaml`` is a commented example.

Two kinds of trouble are kept apart:

* **Schema errors** make the file unusable: a missing or unknown key, a wrong type, an address
  outside 1..16, a label that is not one of the CLU box's labels, the same label twice. They are
  collected and raised together as one :class:`~clu_doctor.errors.FileProblemError`, each as
  ``file:line: message``.
* **Configuration facts** are what a valid file says about a real, possibly misconfigured site:
  an address planned twice, a label on the wrong address, a DUO that runs past 16, more than 16
  outlets, a cable over 150 m, too little site current for the outlets, meters without a second
  bus. :func:`configuration_facts` computes them (a pure function); the decision trees turn
  them into findings.

**DUO stations** are written with their *first* address and both outlet labels::

    - {address: 3, labels: [XAXXY03, XAXXY04], model: DUO}

The second outlet is always the next address (manual §12: station 1 = addresses 1 and 2, ...,
station 8 = 15 and 16), so the file cannot describe a split pair, and a DUO whose second
address would be 17, or lands on another station, is a configuration fact. UNO and IQ stations
have one address and one ``label``.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Literal, Protocol, TypeVar, cast

from clu_doctor.bus.codec import FRAMINGS
from clu_doctor.bus.settings import LineSettings
from clu_doctor.engine.model import Severity
from clu_doctor.errors import FileProblemError, Location, Problem
from clu_doctor.yamlio import YamlList, YamlMap, describe_type, load_yaml_file

if TYPE_CHECKING:
    from clu_doctor.bus.profiles import DeviceProfile
    from clu_doctor.engine.diagnosis import Diagnosis, ReportedFinding
    from clu_doctor.health import IgnoredFinding

Model = Literal["UNO", "IQ", "DUO"]
AdapterAt = Literal["clu", "end"]
CluState = Literal["connected", "disconnected"]
FactVerdict = Literal["ok", "problem", "unknown"]

MODELS: tuple[Model, ...] = ("UNO", "IQ", "DUO")
ADAPTER_POSITIONS: tuple[AdapterAt, ...] = ("clu", "end")
CLU_STATES: tuple[CluState, ...] = ("connected", "disconnected")
FACT_VERDICTS: tuple[FactVerdict, ...] = ("ok", "problem", "unknown")

#: Addresses the CLU serves (manual §3/§12: up to 16 charge points, labels XAXXY01..16).
FIRST_ADDRESS = 1
LAST_ADDRESS = 16
MAX_OUTLETS = 16
#: Manual §9: the total communication cable may be at most 150 m.
MAX_CABLE_M = 150.0
#: Manual §7: a 5 % safety margin on the site current, 6 A the least a vehicle charges with.
SAFETY_MARGIN = Fraction(95, 100)
MIN_CHARGE_A = 6
PHASES = 3
#: The letters the manual prints before the two digits of every label (manual §12).
DEFAULT_LABEL_PREFIX = "XAXXY"
DEFAULT_PROFILE = "defa-erange"

_HINT = "compare with the commented example in examples/site.yaml"

_TOP: dict[str, bool] = {
    "name": True,
    "chain": True,
    "port": False,
    "profile": False,
    "line": False,
    "framing": False,
    "adapter": False,
    "clu": False,
    "cable_m": False,
    "site_current_a": False,
    "meters": False,
    "label_prefix": False,
    "notes": False,
    "thresholds": False,
    "ignore": False,
}
_STATION: dict[str, bool] = {
    "address": True,
    "model": True,
    "label": False,
    "labels": False,
    "name": False,
}
_METERS: dict[str, bool] = {"present": True, "second_bus": False}
_PREFIX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


# --- the model -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Station:
    """One box in the chain: one controller (UNO, IQ) or two on consecutive addresses (DUO)."""

    #: The station's (first) address, 1..16.
    address: int
    model: Model
    #: One label per outlet, in address order (``XAXXY03``, ``XAXXY04`` for a DUO at 3).
    labels: tuple[str, ...]
    name: str
    #: Line of the station in the site file (0 if not from a file).
    line: int = 0

    @property
    def outlets(self) -> int:
        return 2 if self.model == "DUO" else 1

    @property
    def addresses(self) -> tuple[int, ...]:
        """The addresses the plan gives this station's outlets (a DUO's second may be 17)."""
        return tuple(self.address + i for i in range(self.outlets))

    @property
    def label(self) -> str:
        """The first outlet's label."""
        return self.labels[0]

    def to_dict(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "addresses": list(self.addresses),
            "model": self.model,
            "labels": list(self.labels),
            "name": self.name,
            "line": self.line,
        }


@dataclass(frozen=True)
class Meters:
    """Energy meters on the site (manual §9: meter data needs a second bus)."""

    present: bool = False
    #: Is there a second bus for the meters? ``None``: not said.
    second_bus: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"present": self.present, "second_bus": self.second_bus}


# --- monitoring: thresholds and ignores --------------------------------------------------------
#
# ``clu-doctor check`` reads two more sections: ``thresholds:`` (when a figure becomes a warning
# or critical) and ``ignore:`` (known findings left out of the status, each with a reason and an
# expiry date). Both are optional; the defaults are documented in docs/monitoring.md.

#: A finding id as the rules spell it (``BUS-NOISE-01``).
_FINDING_ID = re.compile(r"^[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+$")
#: Bounds on ``thresholds.flapping.of``: enough checks to see a pattern, few enough to stay cheap.
FLAPPING_MAX_OF = 1000


@dataclass(frozen=True)
class SilentThreshold:
    """How many expected stations may be silent in one check.

    ``warning`` from this many silent stations on, ``critical`` from that many on. The default
    (1 and 1) makes any silent station critical.
    """

    warning: int = 1
    critical: int = 1

    def severity(self, silent: int) -> Severity:
        if silent >= self.critical:
            return Severity.CRITICAL
        if silent >= self.warning:
            return Severity.WARNING
        return Severity.OK

    def to_dict(self) -> dict[str, Any]:
        return {"warning": self.warning, "critical": self.critical}


@dataclass(frozen=True)
class RateThreshold:
    """Corrupt answers over polls in one check (0..1): a warning *above* ``warning``, critical
    *above* ``critical`` (the monitoring-plugin range convention: a value equal to a threshold
    is still fine)."""

    warning: float = 0.02
    critical: float = 0.10

    def severity(self, rate: float | None) -> Severity:
        """``unknown`` when the rate is not known (nothing was polled)."""
        if rate is None:
            return Severity.UNKNOWN
        if rate > self.critical:
            return Severity.CRITICAL
        if rate > self.warning:
            return Severity.WARNING
        return Severity.OK

    def to_dict(self) -> dict[str, Any]:
        return {"warning": self.warning, "critical": self.critical}


@dataclass(frozen=True)
class FlappingThreshold:
    """A station that missed ``missed`` or more of the last ``of`` checks, but is not simply
    silent since some point, is flapping (a warning)."""

    missed: int = 2
    of: int = 8

    def to_dict(self) -> dict[str, Any]:
        return {"missed": self.missed, "of": self.of}


@dataclass(frozen=True)
class Thresholds:
    """The ``thresholds:`` section of ``site.yaml`` (every key optional)."""

    stations_silent: SilentThreshold = field(default_factory=SilentThreshold)
    corrupt_rate: RateThreshold = field(default_factory=RateThreshold)
    flapping: FlappingThreshold = field(default_factory=FlappingThreshold)

    def to_dict(self) -> dict[str, Any]:
        return {
            "stations_silent": self.stations_silent.to_dict(),
            "corrupt_rate": self.corrupt_rate.to_dict(),
            "flapping": self.flapping.to_dict(),
        }


@dataclass(frozen=True)
class Ignore:
    """One entry of ``ignore:``: leave ``finding`` (at ``address``, if given) out of the status
    until the end of the day ``until``, for ``reason``."""

    finding: str
    reason: str
    #: The last day the ignore holds (inclusive); from the next day on the finding counts again.
    until: date
    address: int | None = None
    #: The site file and the entry's line in it ("" and 0 if not from a file).
    path: str = ""
    line: int = 0

    @property
    def where(self) -> str:
        """``site.yaml:LINE`` of the entry."""
        return str(Location(self.path, self.line)) if self.path else ""

    def active(self, today: date) -> bool:
        return today <= self.until

    def matches(self, finding_id: str) -> bool:
        return self.finding == finding_id

    def describe(self) -> str:
        """``BUS-NOISE-01 at address 7`` / ``BUS-NOISE-01``."""
        at = f" at address {self.address}" if self.address is not None else ""
        return f"{self.finding}{at}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "finding": self.finding,
            "address": self.address,
            "reason": self.reason,
            "until": self.until.isoformat(),
            "where": self.where,
        }


@dataclass(frozen=True)
class Site:
    """A site as its ``site.yaml`` describes it. Build with :func:`load_site` or :func:`parse_site`."""

    name: str
    #: Chain in BUS IN -> BUS OUT order: ``chain[0]`` is the station nearest the CLU.
    chain: tuple[Station, ...]
    #: A bundled profile name, or a profile file's path (resolved against the site file).
    profile: str = DEFAULT_PROFILE
    #: Overrides of the profile's line settings and framing, if given.
    line_settings: LineSettings | None = None
    framing: str | None = None
    #: Where the technician's adapter joins the bus: at the CLU or at the far end.
    adapter_at: AdapterAt = "clu"
    #: Is the CLU on the bus during this visit? Only ``disconnected`` lets probes transmit
    #: without an explicit flag (and even then only after a listen-before-talk).
    clu: CluState = "connected"
    cable_m: float | None = None
    site_current_a: float | None = None
    meters: Meters = field(default_factory=Meters)
    label_prefix: str = DEFAULT_LABEL_PREFIX
    notes: str = ""
    #: The file it came from ("" if built in code).
    path: str = ""
    #: When ``clu-doctor check`` turns figures into warnings and criticals.
    thresholds: Thresholds = field(default_factory=Thresholds)
    #: Known findings left out of the status until an expiry date.
    ignores: tuple[Ignore, ...] = ()
    #: The serial port (or pyserial URL) of the site's own adapter, for unattended checks.
    port: str | None = None

    # -- the chain ----------------------------------------------------------------------------

    @property
    def outlet_count(self) -> int:
        return sum(station.outlets for station in self.chain)

    @property
    def chain_addresses(self) -> tuple[int, ...]:
        """Every planned address in chain order (a DUO's two together; repeats kept)."""
        return tuple(a for station in self.chain for a in station.addresses)

    @property
    def chain_positions(self) -> tuple[tuple[int, ...], ...]:
        """The addresses at each chain position, BUS IN -> BUS OUT: what
        :func:`clu_doctor.bus.probes.analyse_chain` takes."""
        return tuple(station.addresses for station in self.chain)

    @property
    def expected_addresses(self) -> tuple[int, ...]:
        """Addresses that should answer: chain order, each once, only those in 1..16."""
        seen: dict[int, None] = {}
        for address in self.chain_addresses:
            if FIRST_ADDRESS <= address <= LAST_ADDRESS:
                seen.setdefault(address, None)
        return tuple(seen)

    def chain_from_adapter(self) -> tuple[Station, ...]:
        """The chain in the order the adapter meets it (reversed when it is at the far end)."""
        return self.chain if self.adapter_at == "clu" else tuple(reversed(self.chain))

    def position_of(self, address: int) -> int | None:
        """1-based chain position (from the CLU) of the first station planned at ``address``."""
        for position, station in enumerate(self.chain, start=1):
            if address in station.addresses:
                return position
        return None

    def stations_at(self, address: int) -> tuple[Station, ...]:
        """Every station the plan puts on ``address`` (more than one: a planning mistake)."""
        return tuple(station for station in self.chain if address in station.addresses)

    def label_of(self, address: int) -> str | None:
        """The label of the outlet planned at ``address`` (the first one, if planned twice)."""
        for station in self.chain:
            if address in station.addresses:
                return station.labels[station.addresses.index(address)]
        return None

    @property
    def active_probes_allowed(self) -> bool:
        """True when the plan says the CLU is off the bus (probes still listen first)."""
        return self.clu == "disconnected"

    # -- the profile --------------------------------------------------------------------------

    def profile_reference(self) -> str | Path:
        """What :func:`clu_doctor.bus.profiles.load_profile` takes: a name, or a resolved path."""
        if _looks_like_path(self.profile):
            path = Path(self.profile).expanduser()
            if not path.is_absolute() and self.path:
                path = Path(self.path).parent / path
            return path
        return self.profile

    def load_profile(self) -> DeviceProfile:
        """The device profile with this site's line-setting and framing overrides applied."""
        from clu_doctor.bus.profiles import load_profile

        profile = load_profile(self.profile_reference())
        changes: dict[str, Any] = {}
        if self.line_settings is not None:
            changes["line"] = self.line_settings
        if self.framing is not None:
            changes["framing"] = self.framing
        return dataclasses.replace(profile, **changes) if changes else profile

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": self.path,
            "port": self.port,
            "profile": self.profile,
            "line": self.line_settings.to_dict() if self.line_settings else None,
            "framing": self.framing,
            "adapter": self.adapter_at,
            "clu": self.clu,
            "cable_m": self.cable_m,
            "site_current_a": self.site_current_a,
            "meters": self.meters.to_dict(),
            "label_prefix": self.label_prefix,
            "notes": self.notes,
            "thresholds": self.thresholds.to_dict(),
            "ignore": [entry.to_dict() for entry in self.ignores],
            "outlets": self.outlet_count,
            "expected_addresses": list(self.expected_addresses),
            "chain": [
                {"position": position, **station.to_dict()}
                for position, station in enumerate(self.chain, start=1)
            ],
        }


def _looks_like_path(text: str) -> bool:
    return any(sep in text for sep in ("/", "\\")) or text.endswith((".yaml", ".yml"))


# --- reading ---------------------------------------------------------------------------------


class _Reader:
    """Collects every problem in one site file, each with its line."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[Problem] = []

    def problem(self, line: int, message: str, expected: str | None = None) -> None:
        self.problems.append(Problem(Location(self.path, line), message, expected))

    def mapping(self, value: Any, line: int, what: str, keys: Mapping[str, bool]) -> YamlMap | None:
        if not isinstance(value, YamlMap):
            self.problem(line, f"{what} is {describe_type(value)}", "a mapping")
            return None
        for key in value:
            if key not in keys:
                self.problem(
                    value.line_of(key), f"unknown key {key!r} in {what}", ", ".join(sorted(keys))
                )
        for key, required in keys.items():
            if required and key not in value:
                self.problem(value.line, f"{what} has no {key!r}")
        return value

    def text(self, where: YamlMap, key: str, what: str) -> str | None:
        if key not in where:
            return None
        value = where[key]
        if not isinstance(value, str) or not value.strip():
            self.problem(where.value_line_of(key), f"{what} is {describe_type(value)}", "text")
            return None
        return value.strip()

    def choice(self, where: YamlMap, key: str, what: str, allowed: Sequence[str]) -> str | None:
        value = where.get(key)
        if key not in where:
            return None
        if not isinstance(value, str) or value not in allowed:
            shown = repr(value) if isinstance(value, str) else describe_type(value)
            self.problem(where.value_line_of(key), f"{what} is {shown}", " | ".join(allowed))
            return None
        return value

    def number(self, where: YamlMap, key: str, what: str, *, positive: bool) -> float | None:
        if key not in where:
            return None
        value = where[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
            self.problem(where.value_line_of(key), f"{what} is {describe_type(value)}", "a number")
            return None
        if math.isinf(value) or (value <= 0 if positive else value < 0):
            self.problem(
                where.value_line_of(key),
                f"{what} is {value}",
                "a number above 0" if positive else "a number, 0 or more",
            )
            return None
        return float(value)

    def boolean(self, where: YamlMap, key: str, what: str) -> bool | None:
        if key not in where:
            return None
        value = where[key]
        if not isinstance(value, bool):
            self.problem(
                where.value_line_of(key), f"{what} is {describe_type(value)}", "true or false"
            )
            return None
        return value


def _read_label(reader: _Reader, value: Any, line: int, prefix: str, what: str) -> str | None:
    if not isinstance(value, str) or not value.strip():
        reader.problem(line, f"{what} is {describe_type(value)}", f"a label such as {prefix}01")
        return None
    label = value.strip().upper()
    digits = label[len(prefix) :]
    if (
        not label.startswith(prefix.upper())
        or len(digits) != 2
        or not digits.isdigit()
        or not FIRST_ADDRESS <= int(digits) <= LAST_ADDRESS
    ):
        reader.problem(
            line,
            f"{what} {value.strip()!r} is not one of the CLU box's labels",
            f"{prefix}01..{prefix}16 (set label_prefix if your labels start differently)",
        )
        return None
    return label


def _read_address(reader: _Reader, station: YamlMap, what: str) -> int | None:
    if "address" not in station:
        return None
    value = station["address"]
    where = station.value_line_of("address")
    if isinstance(value, bool) or not isinstance(value, int):
        reader.problem(where, f"{what}: address is {describe_type(value)}", "a whole number")
        return None
    if not FIRST_ADDRESS <= value <= LAST_ADDRESS:
        reader.problem(
            where,
            f"{what}: address {value} is outside {FIRST_ADDRESS}..{LAST_ADDRESS}",
            f"{FIRST_ADDRESS}..{LAST_ADDRESS}: the CLU serves at most 16 outlets",
        )
        return None
    return value


def _read_model(reader: _Reader, station: YamlMap, what: str) -> Model | None:
    if "model" not in station:
        return None
    raw = station["model"]
    text = raw.strip().upper() if isinstance(raw, str) else ""
    for model in MODELS:
        if text == model:
            return model
    shown = repr(raw) if isinstance(raw, str) else describe_type(raw)
    reader.problem(station.value_line_of("model"), f"{what}: model is {shown}", " | ".join(MODELS))
    return None


def _article(model: Model) -> str:
    return "an" if model == "IQ" else "a"


def _read_labels(
    reader: _Reader, station: YamlMap, model: Model, what: str, prefix: str
) -> tuple[str, ...] | None:
    """One ``label`` for UNO/IQ, two ``labels`` for a DUO; ``None`` after a problem."""
    duo = model == "DUO"
    wanted, other = ("labels", "label") if duo else ("label", "labels")
    if other in station:
        outlets = "a DUO has two outlets" if duo else f"{_article(model)} {model} has one outlet"
        reader.problem(
            station.line_of(other), f"{what}: {outlets}, so it takes {wanted!r}, not {other!r}"
        )
        return None
    if wanted not in station:
        example = f"labels: [{prefix}03, {prefix}04]" if duo else f"label: {prefix}01"
        reader.problem(station.line, f"{what} has no {wanted!r}", f"e.g. {example}")
        return None
    value = station[wanted]
    where = station.value_line_of(wanted)
    if not duo:
        label = _read_label(reader, value, where, prefix, f"{what}: label")
        return None if label is None else (label,)
    if not isinstance(value, YamlList) or len(value) != 2:
        found = f"a list of {len(value)}" if isinstance(value, YamlList) else describe_type(value)
        reader.problem(where, f"{what}: labels is {found}", "a list of the DUO's two outlet labels")
        return None
    labels = [
        _read_label(reader, entry, value.line_of(n), prefix, f"{what}: label")
        for n, entry in enumerate(value)
    ]
    if labels[0] is None or labels[1] is None:
        return None
    return (labels[0], labels[1])


def _read_station(reader: _Reader, item: Any, line: int, index: int, prefix: str) -> Station | None:
    what = f"chain station {index}"
    station = reader.mapping(item, line, what, _STATION)
    if station is None:
        return None
    address = _read_address(reader, station, what)
    model = _read_model(reader, station, what)
    labels = _read_labels(reader, station, model, what, prefix) if model else None
    name = reader.text(station, "name", f"{what}: name")
    if address is None or model is None or labels is None:
        return None
    return Station(address, model, labels, name or " + ".join(labels), station.line)


_THRESHOLDS: dict[str, bool] = {"stations_silent": False, "corrupt_rate": False, "flapping": False}
_BAND: dict[str, bool] = {"warning": False, "critical": False}
_FLAPPING: dict[str, bool] = {"missed": False, "of": False}
# reason and until are required too, with their own messages (see _read_ignores).
_IGNORE: dict[str, bool] = {"finding": True, "address": False, "reason": False, "until": False}
_PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")


def _read_whole(
    reader: _Reader, where: YamlMap, key: str, what: str, low: int, high: int
) -> int | None:
    if key not in where:
        return None
    value = where[key]
    line = where.value_line_of(key)
    if isinstance(value, bool) or not isinstance(value, int):
        reader.problem(line, f"{what} is {describe_type(value)}", f"a whole number, {low}..{high}")
        return None
    if not low <= value <= high:
        reader.problem(line, f"{what} is {value}", f"a whole number, {low}..{high}")
        return None
    return value


def _read_rate(reader: _Reader, where: YamlMap, key: str, what: str) -> float | None:
    """A fraction in (0, 1], written as a number (``0.02``) or a percentage (``2%``)."""
    if key not in where:
        return None
    value = where[key]
    line = where.value_line_of(key)
    expected = "a fraction above 0 and at most 1 (0.02) or a percentage (2%)"
    rate: float | None = None
    if isinstance(value, str) and (match := _PERCENT.match(value)):
        rate = float(match.group(1)) / 100
    elif not isinstance(value, bool) and isinstance(value, (int, float)):
        rate = float(value)
    if rate is None or math.isnan(rate):
        shown = repr(value) if isinstance(value, str) else describe_type(value)
        reader.problem(line, f"{what} is {shown}", expected)
        return None
    if not 0 < rate <= 1:
        reader.problem(line, f"{what} is {value}", expected)
        return None
    return rate


def _read_thresholds(reader: _Reader, top: YamlMap) -> Thresholds:
    block = reader.mapping(
        top["thresholds"], top.value_line_of("thresholds"), "thresholds", _THRESHOLDS
    )
    if block is None:
        return Thresholds()
    defaults = Thresholds()

    silent = defaults.stations_silent
    if "stations_silent" in block:
        what = "thresholds: stations_silent"
        band = reader.mapping(
            block["stations_silent"], block.value_line_of("stations_silent"), what, _BAND
        )
        if band is not None:
            warning = _read_whole(reader, band, "warning", f"{what}: warning", 1, MAX_OUTLETS)
            critical = _read_whole(reader, band, "critical", f"{what}: critical", 1, MAX_OUTLETS)
            silent = SilentThreshold(
                silent.warning if warning is None else warning,
                silent.critical if critical is None else critical,
            )
            if silent.warning > silent.critical and (warning is not None or critical is not None):
                reader.problem(
                    band.line,
                    f"{what}: warning ({_given(silent.warning, warning)}) is above critical "
                    f"({_given(silent.critical, critical)})",
                    "warning at most critical: the number of silent stations that makes a "
                    "warning, then the (larger or equal) number that makes it critical",
                )

    rate = defaults.corrupt_rate
    if "corrupt_rate" in block:
        what = "thresholds: corrupt_rate"
        band = reader.mapping(
            block["corrupt_rate"], block.value_line_of("corrupt_rate"), what, _BAND
        )
        if band is not None:
            warning_rate = _read_rate(reader, band, "warning", f"{what}: warning")
            critical_rate = _read_rate(reader, band, "critical", f"{what}: critical")
            rate = RateThreshold(
                rate.warning if warning_rate is None else warning_rate,
                rate.critical if critical_rate is None else critical_rate,
            )
            if rate.warning > rate.critical:
                reader.problem(
                    band.line,
                    f"{what}: warning ({_fmt_number(rate.warning)}) is above critical "
                    f"({_fmt_number(rate.critical)})",
                    "warning at most critical",
                )

    flapping = defaults.flapping
    if "flapping" in block:
        what = "thresholds: flapping"
        pair = reader.mapping(block["flapping"], block.value_line_of("flapping"), what, _FLAPPING)
        if pair is not None:
            missed = _read_whole(reader, pair, "missed", f"{what}: missed", 2, FLAPPING_MAX_OF)
            of = _read_whole(reader, pair, "of", f"{what}: of", 2, FLAPPING_MAX_OF)
            flapping = FlappingThreshold(
                flapping.missed if missed is None else missed, flapping.of if of is None else of
            )
            if flapping.missed > flapping.of:
                reader.problem(
                    pair.line,
                    f"{what}: missed ({flapping.missed}) is more than of ({flapping.of})",
                    "missed K of the last N checks, K at most N",
                )
    return Thresholds(silent, rate, flapping)


def _given(value: int, written: int | None) -> str:
    return str(value) if written is not None else f"{value}, the default"


def _read_until(reader: _Reader, entry: YamlMap, what: str) -> date | None:
    if "until" not in entry:
        return None
    value = entry["until"]
    line = entry.value_line_of("until")
    expected = "a date, YYYY-MM-DD (the last day the ignore holds)"
    if isinstance(value, datetime):
        reader.problem(line, f"{what}: until is a date and time", expected)
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    shown = repr(value) if isinstance(value, str) else describe_type(value)
    reader.problem(line, f"{what}: until is {shown}", expected)
    return None


def _read_ignores(reader: _Reader, top: YamlMap, source: str) -> tuple[Ignore, ...]:
    value = top["ignore"]
    if not isinstance(value, YamlList):
        reader.problem(
            top.value_line_of("ignore"),
            f"ignore is {describe_type(value)}",
            "a list of {finding, address (optional), reason, until}",
        )
        return ()
    ignores: list[Ignore] = []
    seen: dict[tuple[str, int | None], int] = {}
    for index, item in enumerate(value, start=1):
        what = f"ignore {index}"
        entry = reader.mapping(item, value.line_of(index - 1), what, _IGNORE)
        if entry is None:
            continue
        finding: str | None = None
        if "finding" in entry:
            raw = entry["finding"]
            text = raw.strip().upper() if isinstance(raw, str) else ""
            if _FINDING_ID.match(text):
                finding = text
            else:
                shown = repr(raw) if isinstance(raw, str) else describe_type(raw)
                reader.problem(
                    entry.value_line_of("finding"),
                    f"{what}: finding is {shown}",
                    "a finding id such as BUS-NOISE-01 (clu-doctor rules list shows them)",
                )
        address = _read_whole(
            reader, entry, "address", f"{what}: address", FIRST_ADDRESS, LAST_ADDRESS
        )
        reason = reader.text(entry, "reason", f"{what}: reason")
        until = _read_until(reader, entry, what)
        if "until" not in entry:
            reader.problem(
                entry.line,
                f"{what}: an ignore needs an expiry date, so that it cannot hide a fault forever",
                "until: YYYY-MM-DD",
            )
        if "reason" not in entry:
            reader.problem(
                entry.line,
                f"{what}: an ignore needs a reason, for whoever reads the report next",
                'reason: "why this finding is expected, and who decided"',
            )
        if finding is None or reason is None or until is None:
            continue
        key = (finding, address)
        if key in seen:
            reader.problem(
                entry.line,
                f"{what}: {finding}"
                + (f" at address {address}" if address is not None else "")
                + f" is already ignored on line {seen[key]}",
                "each finding (and address) once",
            )
            continue
        seen[key] = entry.line
        ignores.append(Ignore(finding, reason, until, address, source, entry.line))
    return tuple(ignores)


def parse_site(data: Any, source: str = "site.yaml") -> Site:
    """Check parsed YAML (from :mod:`clu_doctor.yamlio`) and build the :class:`Site`.

    Raises one :class:`~clu_doctor.errors.FileProblemError` with every problem found.
    """
    reader = _Reader(source)
    if data is None:
        reader.problem(1, "the file is empty", "a site description")
        raise FileProblemError(reader.problems, _HINT)
    top = reader.mapping(data, 1, "the site", _TOP)
    if top is None:
        raise FileProblemError(reader.problems, _HINT)

    name = reader.text(top, "name", "name")
    profile = reader.text(top, "profile", "profile") or DEFAULT_PROFILE
    if "profile" in top and profile != DEFAULT_PROFILE and not _looks_like_path(profile):
        from clu_doctor.bus.profiles import bundled_profile_names

        names = bundled_profile_names()
        if profile not in names:
            reader.problem(
                top.value_line_of("profile"),
                f"unknown device profile {profile!r}",
                f"a bundled profile ({', '.join(names)}) or a path to a profile file",
            )
    elif "profile" in top and _looks_like_path(profile):
        resolved = Path(profile).expanduser()
        if not resolved.is_absolute():
            resolved = Path(source).parent / resolved
        if not resolved.is_file():
            reader.problem(top.value_line_of("profile"), f"profile file {profile!r} not found")
    line_settings: LineSettings | None = None
    if "line" in top:
        value = top["line"]
        try:
            line_settings = LineSettings.parse(str(value)) if isinstance(value, str) else None
        except ValueError as error:
            reader.problem(top.value_line_of("line"), str(error))
        else:
            if line_settings is None:
                reader.problem(
                    top.value_line_of("line"), f"line is {describe_type(value)}", "e.g. 38400 8E1"
                )
    framing = reader.choice(top, "framing", "framing", FRAMINGS)
    adapter = reader.choice(top, "adapter", "adapter", ADAPTER_POSITIONS)
    clu = reader.choice(top, "clu", "clu", CLU_STATES)
    cable_m = reader.number(top, "cable_m", "cable_m", positive=False)
    current = reader.number(top, "site_current_a", "site_current_a", positive=True)
    notes = reader.text(top, "notes", "notes") or ""
    port = reader.text(top, "port", "port")

    meters = Meters()
    if "meters" in top:
        block = reader.mapping(top["meters"], top.value_line_of("meters"), "meters", _METERS)
        if block is not None:
            present = reader.boolean(block, "present", "meters: present")
            second = reader.boolean(block, "second_bus", "meters: second_bus")
            meters = Meters(bool(present), second)

    thresholds = _read_thresholds(reader, top) if "thresholds" in top else Thresholds()
    ignores = _read_ignores(reader, top, source) if "ignore" in top else ()

    prefix = DEFAULT_LABEL_PREFIX
    if "label_prefix" in top:
        value = top["label_prefix"]
        if isinstance(value, str) and _PREFIX.match(value.strip()):
            prefix = value.strip().upper()
        else:
            reader.problem(
                top.value_line_of("label_prefix"),
                f"label_prefix is {value!r}"
                if isinstance(value, str)
                else f"label_prefix is {describe_type(value)}",
                "letters and digits, e.g. XAXXY",
            )

    stations: list[Station] = []
    if "chain" in top:
        chain = top["chain"]
        where = top.value_line_of("chain")
        if not isinstance(chain, YamlList):
            reader.problem(where, f"chain is {describe_type(chain)}", "a list of stations")
        elif not chain:
            reader.problem(where, "chain is empty", "at least one station")
        else:
            label_lines: dict[str, int] = {}
            for index, item in enumerate(chain, start=1):
                line = chain.line_of(index - 1)
                station = _read_station(reader, item, line, index, prefix)
                if station is None:
                    continue
                for label in station.labels:
                    if label in label_lines:
                        reader.problem(
                            station.line,
                            f"chain station {index}: label {label} is used twice "
                            f"(first on line {label_lines[label]})",
                            "every outlet has its own label",
                        )
                    else:
                        label_lines[label] = station.line
                stations.append(station)

    if reader.problems:
        raise FileProblemError(reader.problems, _HINT)
    assert name is not None  # a missing name is a problem reported above
    return Site(
        name=name,
        chain=tuple(stations),
        profile=profile,
        line_settings=line_settings,
        framing=framing,
        adapter_at=cast(AdapterAt, adapter or "clu"),
        clu=cast(CluState, clu or "connected"),
        cable_m=cable_m,
        site_current_a=current,
        meters=meters,
        label_prefix=prefix,
        notes=notes,
        path=source,
        thresholds=thresholds,
        ignores=ignores,
        port=port,
    )


def load_site(path: str | Path) -> Site:
    """Read and check a ``site.yaml``; every problem is reported as ``file:line: message``."""
    return parse_site(load_yaml_file(path), str(path))


# --- configuration facts ----------------------------------------------------------------------


@dataclass(frozen=True)
class ConfigFact:
    """One fact about the site's configuration, for the decision trees.

    ``key`` is stable (``config.cable_length``), ``verdict`` one of ``ok``, ``problem`` or
    ``unknown`` (the file does not say), ``evidence`` lines for people (with ``file:line`` of
    the stations involved), ``data`` the raw figures for JSON.
    """

    key: str
    verdict: FactVerdict
    summary: str
    manual: str
    evidence: tuple[str, ...] = ()
    data: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "verdict": self.verdict,
            "summary": self.summary,
            "manual": self.manual,
            "evidence": list(self.evidence),
            "data": dict(self.data),
        }


@dataclass(frozen=True)
class Capacity:
    """Manual §7: how many vehicles a site current can serve at 6 A each."""

    site_current_a: float
    #: floor(0.95 x site current): the current left after the 5 % safety margin.
    margin_a: int
    #: floor(margin / 6 A): vehicles charging at once on one phase.
    per_phase: int
    #: 3 x per phase: vehicles charging at once with single-phase charging spread over L1-L3.
    total: int


def capacity(site_current_a: float) -> Capacity:
    """The manual §7 table row for ``site_current_a`` (exact arithmetic, no float rounding).

    ``margin = floor(0.95 x I)``, ``per_phase = floor(margin / 6 A)``, ``total = 3 x per_phase``:
    32 A -> 30 A, 5, 15; 63 A -> 59 A, 9, 27; 100 A -> 95 A, 15, 45; 200 A -> 190 A, 31, 93;
    400 A -> 380 A, 63, 189.
    """
    if not site_current_a > 0 or math.isinf(site_current_a):
        raise ValueError(f"site current must be a positive number, not {site_current_a}")
    exact = Fraction(Decimal(str(site_current_a)))
    margin = math.floor(exact * SAFETY_MARGIN)
    per_phase = margin // MIN_CHARGE_A
    return Capacity(site_current_a, margin, per_phase, PHASES * per_phase)


def _where(site: Site, station: Station) -> str:
    place = f"{site.path}:{station.line}" if site.path and station.line else ""
    return f"{station.name} ({place})" if place else station.name


def _fmt_number(value: float) -> str:
    return f"{value:g}"


def _addresses_unique(site: Site) -> ConfigFact:
    by_address: dict[int, list[Station]] = defaultdict(list)
    for station in site.chain:
        by_address[station.address].append(station)
    twice = {a: s for a, s in sorted(by_address.items()) if len(s) > 1}
    if not twice:
        return ConfigFact(
            "config.addresses_unique",
            "ok",
            "every station has its own address",
            "§12",
            data={"duplicates": {}},
        )
    evidence = tuple(
        f"address {address} is planned for {len(stations)} stations: "
        + ", ".join(_where(site, s) for s in stations)
        for address, stations in twice.items()
    )
    return ConfigFact(
        "config.addresses_unique",
        "problem",
        "the plan gives one address to more than one station: " + ", ".join(str(a) for a in twice),
        "§12",
        evidence,
        {"duplicates": {str(a): [s.label for s in st] for a, st in twice.items()}},
    )


def _labels_match(site: Site) -> ConfigFact:
    prefix = len(site.label_prefix)
    mismatches = []
    evidence = []
    for station in site.chain:
        for address, label in zip(station.addresses, station.labels, strict=True):
            label_address = int(label[prefix:])
            if label_address != address:
                mismatches.append(
                    {"label": label, "address": address, "label_address": label_address}
                )
                evidence.append(
                    f"{label} is on address {address} ({_where(site, station)}): the backend "
                    f"books this outlet's sessions as outlet {label_address:02d}"
                )
    if not mismatches:
        return ConfigFact(
            "config.labels_match",
            "ok",
            "every label matches its outlet's address",
            "§12",
            data={"mismatches": []},
        )
    return ConfigFact(
        "config.labels_match",
        "problem",
        f"{len(mismatches)} label(s) do not match the outlet's address",
        "§12",
        tuple(evidence),
        {"mismatches": mismatches},
    )


def _duo_pairs(site: Site) -> ConfigFact:
    duos = [s for s in site.chain if s.model == "DUO"]
    if not duos:
        return ConfigFact(
            "config.duo_pairs", "ok", "no DUO stations", "§12", data={"pairs": [], "problems": []}
        )
    owners: dict[int, list[Station]] = defaultdict(list)
    for station in site.chain:
        owners[station.address].append(station)
    problems: list[dict[str, Any]] = []
    evidence: list[str] = []
    for duo in duos:
        second = duo.address + 1
        if second > LAST_ADDRESS:
            problems.append({"station": duo.label, "second_address": second, "kind": "past_16"})
            evidence.append(
                f"DUO {_where(site, duo)} starts at {duo.address}: its second outlet would need "
                f"address {second}, and the CLU serves only {FIRST_ADDRESS}..{LAST_ADDRESS}"
            )
        others = [s for s in site.chain if s is not duo and second in s.addresses]
        if others:
            problems.append(
                {
                    "station": duo.label,
                    "second_address": second,
                    "kind": "overlap",
                    "with": [s.label for s in others],
                }
            )
            evidence.append(
                f"DUO {_where(site, duo)} needs addresses {duo.address} and {second}; "
                f"{second} is also planned for " + ", ".join(_where(site, s) for s in others)
            )
    pairs = [{"station": d.label, "addresses": list(d.addresses)} for d in duos]
    if not problems:
        return ConfigFact(
            "config.duo_pairs",
            "ok",
            f"{len(duos)} DUO station(s), each on two free consecutive addresses",
            "§12",
            data={"pairs": pairs, "problems": []},
        )
    return ConfigFact(
        "config.duo_pairs",
        "problem",
        "a DUO station's second address is out of range or taken",
        "§12",
        tuple(evidence),
        {"pairs": pairs, "problems": problems},
    )


def _address_count(site: Site) -> ConfigFact:
    outlets = site.outlet_count
    data = {"outlets": outlets, "limit": MAX_OUTLETS, "stations": len(site.chain)}
    if outlets <= MAX_OUTLETS:
        return ConfigFact(
            "config.address_count",
            "ok",
            f"{outlets} outlet(s) on {len(site.chain)} station(s), within the CLU's 16",
            "§3",
            data=data,
        )
    return ConfigFact(
        "config.address_count",
        "problem",
        f"{outlets} outlets: one CLU serves at most {MAX_OUTLETS}",
        "§3",
        (
            f"the chain has {len(site.chain)} stations with {outlets} outlets (a DUO counts "
            f"twice); one CLU serves addresses {FIRST_ADDRESS}..{LAST_ADDRESS} only",
        ),
        data,
    )


def _cable_length(site: Site) -> ConfigFact:
    length = site.cable_m
    data = {"cable_m": length, "limit_m": MAX_CABLE_M}
    if length is None:
        return ConfigFact(
            "config.cable_length",
            "unknown",
            "cable length not given (cable_m)",
            "§9",
            ("measure or estimate the total communication cable, CLU to the last station",),
            data,
        )
    if length <= MAX_CABLE_M:
        return ConfigFact(
            "config.cable_length",
            "ok",
            f"{_fmt_number(length)} m of bus cable, within the manual's 150 m",
            "§9",
            data=data,
        )
    return ConfigFact(
        "config.cable_length",
        "problem",
        f"{_fmt_number(length)} m of bus cable, over the manual's 150 m",
        "§9",
        (
            f"cable_m is {_fmt_number(length)} m; the manual allows at most 150 m of "
            "communication cable and says to rethink the cabling or move the CLU closer",
        ),
        data,
    )


def _capacity(site: Site) -> ConfigFact:
    outlets = site.outlet_count
    if site.site_current_a is None:
        return ConfigFact(
            "config.capacity",
            "unknown",
            "site current not given (site_current_a)",
            "§7",
            ("the site current per phase (the main fuse, or what the CLU is configured with)",),
            {"outlets": outlets},
        )
    cap = capacity(site.site_current_a)
    data = {
        "site_current_a": site.site_current_a,
        "margin_a": cap.margin_a,
        "per_phase": cap.per_phase,
        "total": cap.total,
        "outlets": outlets,
        "clu_limit": MAX_OUTLETS,
        "min_charge_a": MIN_CHARGE_A,
    }
    evidence = [
        f"{_fmt_number(cap.site_current_a)} A per phase less the 5 % margin = {cap.margin_a} A; "
        f"at {MIN_CHARGE_A} A per vehicle: {cap.per_phase} per phase, {cap.total} in total "
        "(manual §7 table)",
    ]
    if outlets > cap.per_phase:
        evidence.append(
            f"vehicles charging on all three phases take a place on each phase: at most "
            f"{cap.per_phase} of them charge at once"
        )
    if outlets <= cap.total:
        return ConfigFact(
            "config.capacity",
            "ok",
            f"{cap.total} vehicles can charge at once at {MIN_CHARGE_A} A; {outlets} outlet(s)",
            "§7",
            tuple(evidence),
            data,
        )
    evidence.append(
        f"{outlets} outlets but only {cap.total} vehicles can charge at once: with every "
        "outlet in use some vehicles wait or get less than the minimum"
    )
    return ConfigFact(
        "config.capacity",
        "problem",
        f"{_fmt_number(cap.site_current_a)} A per phase serves {cap.total} vehicles at "
        f"{MIN_CHARGE_A} A, fewer than the {outlets} outlets",
        "§7",
        tuple(evidence),
        data,
    )


def _meter_bus(site: Site) -> ConfigFact:
    meters = site.meters
    data = meters.to_dict()
    if not meters.present:
        return ConfigFact(
            "config.meter_bus",
            "ok",
            "no energy meters (billing per minute or per session only)",
            "§9",
            data=data,
        )
    if meters.second_bus is None:
        return ConfigFact(
            "config.meter_bus",
            "unknown",
            "energy meters fitted; whether they have their own bus is not given (second_bus)",
            "§9",
            ("meter data needs a second bus from the CLU (manual §9.2-9.6)",),
            data,
        )
    if meters.second_bus:
        return ConfigFact(
            "config.meter_bus", "ok", "energy meters on their own (second) bus", "§9", data=data
        )
    return ConfigFact(
        "config.meter_bus",
        "problem",
        "energy meters fitted but no second bus",
        "§9",
        (
            "the manual's layouts with energy meters all need two buses from the CLU; on one "
            "bus the meter data does not reach the CLU",
        ),
        data,
    )


#: Every fact key :func:`configuration_facts` returns, in order.
FACT_KEYS = (
    "config.addresses_unique",
    "config.labels_match",
    "config.duo_pairs",
    "config.address_count",
    "config.cable_length",
    "config.capacity",
    "config.meter_bus",
)


def configuration_facts(site: Site) -> list[ConfigFact]:
    """Every configuration fact about ``site``, one per key of :data:`FACT_KEYS`, in that order.

    Pure: reads only the :class:`Site`.
    """
    return [
        _addresses_unique(site),
        _labels_match(site),
        _duo_pairs(site),
        _address_count(site),
        _cable_length(site),
        _capacity(site),
        _meter_bus(site),
    ]


def facts_by_key(facts: Sequence[ConfigFact]) -> dict[str, ConfigFact]:
    return {fact.key: fact for fact in facts}


def label_for(prefix: str, address: int) -> str:
    """The label the CLU box has for ``address``: ``XAXXY05`` for 5."""
    return f"{prefix}{address:02d}"


# --- applying ignores ---------------------------------------------------------------------------


class FindingLike(Protocol):
    """What :func:`apply_ignores` needs of a finding (a ``ReportedFinding`` has both)."""

    @property
    def id(self) -> str: ...

    @property
    def severity(self) -> Severity: ...


F = TypeVar("F", bound=FindingLike)


@dataclass(frozen=True)
class IgnoredMatch(Generic[F]):
    """A finding left out of the status, and the active ignore entries that cover it."""

    finding: F
    ignores: tuple[Ignore, ...]


@dataclass(frozen=True)
class ExpiredIgnore(Generic[F]):
    """An ignore entry past its date, and the findings it would have hidden (now counted again)."""

    ignore: Ignore
    resurfaced: tuple[F, ...]


@dataclass(frozen=True)
class IgnoreOutcome(Generic[F]):
    """What :func:`apply_ignores` decided: every finding is either kept or ignored."""

    kept: tuple[F, ...]
    ignored: tuple[IgnoredMatch[F], ...] = ()
    #: Every expired entry, with the findings it let back in (possibly none).
    expired: tuple[ExpiredIgnore[F], ...] = ()
    #: Active entries that matched no finding in this check.
    unused: tuple[Ignore, ...] = ()

    @property
    def ignored_ids(self) -> frozenset[str]:
        return frozenset(match.finding.id for match in self.ignored)

    @property
    def status(self) -> Severity:
        """The overall status of the kept findings (as :class:`~clu_doctor.engine.Diagnosis`
        computes it); ``ok`` when every finding was ignored, ``unknown`` when there were none."""
        from clu_doctor.engine.diagnosis import overall_status

        if not self.kept and self.ignored:
            return Severity.OK
        return overall_status([finding.severity for finding in self.kept])

    def notes(self) -> tuple[IgnoredFinding, ...]:
        """For :attr:`clu_doctor.health.CheckResult.ignored`: one per (finding, entry) pair,
        the ignored ones first, then the findings expired entries let back in."""
        from clu_doctor.health import IgnoredFinding

        notes = [
            IgnoredFinding(
                match.finding.id,
                match.finding.severity,
                entry.reason,
                entry.until.isoformat(),
                entry.address,
                expired=False,
                where=entry.where,
            )
            for match in self.ignored
            for entry in match.ignores
        ]
        notes += [
            IgnoredFinding(
                finding.id,
                finding.severity,
                item.ignore.reason,
                item.ignore.until.isoformat(),
                item.ignore.address,
                expired=True,
                where=item.ignore.where,
            )
            for item in self.expired
            for finding in item.resurfaced
        ]
        return tuple(notes)

    def filter(self, diagnosis: Diagnosis) -> Diagnosis:
        """``diagnosis`` without the ignored findings and with :attr:`status` as its status.

        A kept consequence of an ignored root takes the root's place (it is no longer shown
        as explained by a finding that is not shown).
        """
        drop = self.ignored_ids

        def prune(items: Sequence[ReportedFinding], parent: str | None) -> list[ReportedFinding]:
            out: list[ReportedFinding] = []
            for item in items:
                if item.id in drop:
                    out += prune(item.consequences, parent)
                else:
                    children = tuple(prune(item.consequences, item.id))
                    out.append(item._replace(consequences=children, consequence_of=parent))
            return out

        return diagnosis._replace(
            status=self.status, findings=tuple(prune(diagnosis.findings, None))
        )


def apply_ignores(
    findings: Sequence[F],
    ignores: Sequence[Ignore],
    today: date,
    *,
    addresses: Mapping[str, Collection[int]] | None = None,
) -> IgnoreOutcome[F]:
    """Split ``findings`` into the kept and the ignored, by the site's ``ignore:`` entries.

    Pure: works on finding ids and severities only (pass ``Diagnosis.all_findings()``, or any
    objects with ``id`` and ``severity``). ``addresses`` maps a finding id to the bus addresses
    it is about (a silent station's address, the addresses a noise finding saw); a finding
    without addresses is matched only by entries without an ``address``.

    * An entry without ``address`` covers its finding wherever it occurs; entries with
      addresses cover a finding when together they cover every address it is about.
    * An entry holds through its ``until`` day; from the next day on it is *expired*: the
      finding is kept (resurfaces) and the entry is reported in ``expired``.
    * The check's status is then :attr:`IgnoreOutcome.status` (and
      :meth:`IgnoreOutcome.filter` gives the diagnosis to report).
    """
    about = addresses or {}
    active = [entry for entry in ignores if entry.active(today)]
    expired = [entry for entry in ignores if not entry.active(today)]
    kept: list[F] = []
    ignored: list[IgnoredMatch[F]] = []
    used: set[int] = set()
    resurfaced: dict[int, list[F]] = {index: [] for index in range(len(expired))}

    def covers(entry: Ignore, at: frozenset[int]) -> bool:
        return entry.address is None or entry.address in at

    for finding in findings:
        at = frozenset(about.get(finding.id, ()))
        mine = [(n, e) for n, e in enumerate(active) if e.matches(finding.id) and covers(e, at)]
        whole = [e for _, e in mine if e.address is None]
        scoped = {e.address for _, e in mine if e.address is not None}
        if whole or (at and at <= scoped):
            ignored.append(IgnoredMatch(finding, tuple(e for _, e in mine)))
            used.update(n for n, _ in mine)
            continue
        kept.append(finding)
        for n, entry in enumerate(expired):
            if entry.matches(finding.id) and covers(entry, at):
                resurfaced[n].append(finding)
    return IgnoreOutcome(
        kept=tuple(kept),
        ignored=tuple(ignored),
        expired=tuple(ExpiredIgnore(e, tuple(resurfaced[n])) for n, e in enumerate(expired)),
        unused=tuple(e for n, e in enumerate(active) if n not in used),
    )


def unknown_ignores(ignores: Sequence[Ignore], known_ids: Collection[str]) -> list[Problem]:
    """Ignore entries naming a finding the rules do not have (a typo would hide nothing).

    The site file does not know the rules; the check command calls this with the rulebook's
    finding ids and raises the problems like any other schema error.
    """
    return [
        Problem(
            Location(entry.path, entry.line),
            f"ignore: no finding {entry.finding} in the rules",
            "an id that clu-doctor rules list shows",
        )
        for entry in ignores
        if entry.finding not in known_ids
    ]
