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
from dataclasses import field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from clu_doctor.bus.settings import LineSettings
from clu_doctor.errors import Location
from clu_doctor.records import record
from clu_doctor.severity import Severity

if TYPE_CHECKING:
    from clu_doctor.bus.chain import AdapterAt
    from clu_doctor.bus.profile import DeviceProfile

Model = Literal["UNO", "IQ", "DUO"]


def looks_like_path(text: str) -> bool:
    """True when a profile reference names a file rather than a bundled profile."""
    return any(sep in text for sep in ("/", "\\")) or text.endswith((".yaml", ".yml"))


def fmt_number(value: float) -> str:
    """A number as a person writes it: 150, 0.5, 1e-06."""
    return f"{value:g}"


CluState = Literal["connected", "disconnected"]


FactVerdict = Literal["ok", "problem", "unknown"]


FACT_VERDICTS: tuple[FactVerdict, ...] = ("ok", "problem", "unknown")


#: Addresses the CLU serves (manual §3/§12: up to 16 charge points, labels XAXXY01..16).
FIRST_ADDRESS = 1


LAST_ADDRESS = 16


MAX_OUTLETS = 16


#: The letters the manual prints before the two digits of every label (manual §12).
DEFAULT_LABEL_PREFIX = "XAXXY"


DEFAULT_PROFILE = "defa-erange"


@record
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


@record
class Meters:
    """Energy meters on the site (manual §9: meter data needs a second bus)."""

    present: bool = False
    #: Is there a second bus for the meters? ``None``: not said.
    second_bus: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"present": self.present, "second_bus": self.second_bus}


@record
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


@record
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


@record
class FlappingThreshold:
    """A station that missed ``missed`` or more of the last ``of`` checks, but is not simply
    silent since some point, is flapping (a warning)."""

    missed: int = 2
    of: int = 8

    def to_dict(self) -> dict[str, Any]:
        return {"missed": self.missed, "of": self.of}


@record
class SilentBusThreshold:
    """A check that hears not a single byte could not check (UNKNOWN): one such check says
    nothing about the site. ``critical`` checks of that kind in a row (the newest included)
    make it CRITICAL: a CLU that lost power stops polling, and a monitoring system that does
    not notify on UNKNOWN would never page about it. ``None`` (the default): never."""

    critical: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"critical": self.critical}


@record
class Thresholds:
    """The ``thresholds:`` section of ``site.yaml`` (every key optional)."""

    stations_silent: SilentThreshold = field(default_factory=SilentThreshold)
    corrupt_rate: RateThreshold = field(default_factory=RateThreshold)
    flapping: FlappingThreshold = field(default_factory=FlappingThreshold)
    silent_bus: SilentBusThreshold = field(default_factory=SilentBusThreshold)

    def to_dict(self) -> dict[str, Any]:
        return {
            "stations_silent": self.stations_silent.to_dict(),
            "corrupt_rate": self.corrupt_rate.to_dict(),
            "flapping": self.flapping.to_dict(),
            "silent_bus": self.silent_bus.to_dict(),
        }


@record
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


@record
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
        """What :func:`clu_doctor.bus.profile.load_profile` takes: a name, or a resolved path."""
        if looks_like_path(self.profile):
            path = Path(self.profile).expanduser()
            if not path.is_absolute() and self.path:
                path = Path(self.path).parent / path
            return path
        return self.profile

    def load_profile(self) -> DeviceProfile:
        """The device profile with this site's line-setting and framing overrides applied."""
        from clu_doctor.bus.profile import load_profile  # a diagnosis without a bus needs none

        profile = load_profile(self.profile_reference())
        if self.framing is not None:
            # a framing of the profile's other ABL generation means that generation's devices
            profile = profile.for_framing(self.framing)
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


def label_for(prefix: str, address: int) -> str:
    """The label the CLU box has for ``address``: ``XAXXY05`` for 5."""
    return f"{prefix}{address:02d}"
