"""What the bus says, as observations for the decision trees.

:class:`BusProber` is handed every probe-sourced observation at the moment a tree needs it
(``Rulebook.next_question(..., include_probes=True)``) and answers from the probes of the bus
layer, each run at most once per session:

* ``bus.listen`` - passive listening (never transmits). Runs first, because the CLU and USB
  trees ask ``bus.traffic`` before anything else. Nothing decoding at the profile's setting
  triggers a line-setting search; a setting found there is listened to again.
* ``bus.scan``, ``bus.duplicates``, ``bus.end_of_bus`` - from the listen report while the CLU
  polls; active reads only when listening found the bus quiet (the CLU is disconnected) or the
  user passed ``--transmit``. Even then the bus layer listens before it talks, and stops if a
  master appears.
* ``site.plan`` - the configuration facts of the site description.

Each observation carries evidence lines (what was seen), and :meth:`BusProber.evidence` holds
the raw results for JSON. No terminal code here: progress goes through :class:`ProbeEvents`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from clu_doctor.engine import UNKNOWN, AnswerSource, Observation, ObservationSpec, Rulebook
from clu_doctor.engine import SpecSource as _SpecSource
from clu_doctor.severity import Severity

if TYPE_CHECKING:
    from clu_doctor.bus.chain import Chain
    from clu_doctor.bus.link import Link
    from clu_doctor.bus.listen.detect import Detection
    from clu_doctor.bus.listen.report import ListenReport
    from clu_doctor.bus.listen.verdicts import Thresholds as VerdictThresholds
    from clu_doctor.bus.listen.verdicts import Verdict
    from clu_doctor.bus.probes.duplicates import DuplicateResult
    from clu_doctor.bus.probes.scan import ScanResult
    from clu_doctor.bus.profile import DeviceProfile
    from clu_doctor.bus.settings import LineSettings
    from clu_doctor.site.model import Site

#: Identity reads per address when the duplicate check runs actively (enough for the
#: statistics of the bus layer, short enough for a technician waiting on site).
DUPLICATE_READS = 12

#: Worst first: how a controller's state code maps onto the ``station.state`` values.
STATE_VALUES = {
    "E0": "disabled",
    "E2": "setup",
    "E3": "bus-idle",
    "F4": "upstream-timeout",
}
#: ``bus.traffic`` values that mean nobody polls: active probes may follow (see may_transmit).
QUIET = ("silent", "unheard", "off-bus")
_STATE_RANK = ("fault", "upstream-timeout", "setup", "disabled", "bus-idle", "unusual", "normal")


class ProbeEvents(Protocol):
    """What a user interface may show while probes run (all calls are optional to act on)."""

    def stage(self, message: str, seconds: float | None) -> None:
        """A probe starts; ``seconds`` is how long it will take, when known."""

    def progress(self, done: float, total: float) -> None:
        """Progress of the current stage (seconds listened, addresses done...)."""

    def stage_done(self, summary: str) -> None:
        """The current stage ended; one line saying what it found."""

    def watch(self, snapshot: Callable[[], ListenReport]) -> None:
        """Listening starts; ``snapshot()`` gives the report so far (cheap; for a live view)."""


class _QuietEvents:
    def stage(self, message: str, seconds: float | None) -> None:
        pass

    def progress(self, done: float, total: float) -> None:
        pass

    def stage_done(self, summary: str) -> None:
        pass

    def watch(self, snapshot: Callable[[], ListenReport]) -> None:
        pass


@dataclass(frozen=True)
class BusPlan:
    """Where and how to probe."""

    port: str
    profile: DeviceProfile
    site: Site | None = None
    listen_s: float = 10.0
    #: The user explicitly allowed transmitting while the CLU polls (``--transmit``).
    transmit: bool = False
    #: Record the raw bytes heard while listening (``--save``).
    save: Path | None = None
    #: Adapter echo handling, passed to the link.
    echo: str = "auto"
    #: Kernel RS-485 direction control, passed to the link (``--rs485``).
    rs485: bool = False
    #: Search other line settings when nothing decodes at the profile's (a technician's
    #: diagnosis does; an unattended check, with the site's settings known, does not).
    detect: bool = True
    #: May a bus found quiet be probed actively? (The technician's diagnosis: yes. The
    #: unattended check: only when the site file says the CLU is off the bus.)
    probe_when_quiet: bool = True


def verdict_thresholds(site: Site | None) -> VerdictThresholds:
    """The listen verdicts' numbers, with the site's warning rate for errors across the bus."""
    from clu_doctor.bus.listen.verdicts import DEFAULT_THRESHOLDS

    if site is None:
        return DEFAULT_THRESHOLDS
    import dataclasses

    return dataclasses.replace(
        DEFAULT_THRESHOLDS, spread_min_rate=site.thresholds.corrupt_rate.warning
    )


def site_chain(site: Site | None) -> Chain | None:
    """The listen analyser's view of a site's chain (``None`` without a site)."""
    if site is None or not site.chain:
        return None
    from clu_doctor.bus.chain import Chain

    return Chain(
        tuple(station.addresses for station in site.chain),
        0 if site.adapter_at == "clu" else len(site.chain),
        tuple(station.name for station in site.chain),
    )


@dataclass
class _Listened:
    report: ListenReport
    verdicts: list[Verdict]
    settings: LineSettings
    framing: str
    detection: Detection | None = None
    notes: list[str] = field(default_factory=list)

    def verdict(self, key: str) -> Verdict | None:
        return next((v for v in self.verdicts if v.key == key), None)


class BusProber:
    """Answers probe observations for one session on one port; see the module docstring."""

    def __init__(self, plan: BusPlan, events: ProbeEvents | None = None) -> None:
        self.plan = plan
        self.events: ProbeEvents = events or _QuietEvents()
        self._link: Link | None = None
        self._settings = plan.profile.line
        self._framing = plan.profile.framing
        self._listened: _Listened | None = None
        self._scan: ScanResult | None = None
        self._scan_refused: str | None = None
        self._duplicates: DuplicateResult | None = None
        self._results: dict[str, Mapping[str, Observation]] = {}

    # --- the session ------------------------------------------------------------------------

    def __enter__(self) -> BusProber:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._link is not None:
            self._link.close()
            self._link = None

    def link(self) -> Link:
        """The open link at the settings in use (opened on first need)."""
        if self._link is None:
            from clu_doctor.bus.link import Link

            self._link = Link.open(
                self.plan.port,
                self._settings,
                self._framing,
                echo=self.plan.echo,
                rs485=self.plan.rs485,
            )
        return self._link

    def _reopen(self, settings: LineSettings, framing: str) -> None:
        self.close()
        self._settings, self._framing = settings, framing

    # --- resolving observations -------------------------------------------------------------

    def resolve(self, spec: ObservationSpec) -> dict[str, Observation]:
        """Observations for ``spec``'s probe (always including ``spec.key`` itself)."""
        probe = spec.probe or ""
        if probe not in self._results:
            handler = {
                "bus.listen": self._observe_listen,
                "bus.scan": self._observe_states,
                "bus.end_of_bus": self._observe_reach,
                "bus.duplicates": self._observe_duplicates,
                "site.plan": self._observe_site,
            }.get(probe)
            self._results[probe] = handler() if handler else {}
        found = dict(self._results[probe])
        if spec.key not in found:
            found[spec.key] = _unknown(spec.key, f"probe {probe or '?'} has no answer for it")
        return found

    def evidence(self) -> dict[str, Any]:
        """Raw results of every probe that ran, for JSON output."""
        out: dict[str, Any] = {
            "port": self.plan.port,
            "profile": self.plan.profile.name,
            "settings": str(self._settings),
            "framing": self._framing,
        }
        if self.plan.site is not None:
            out["site"] = self.plan.site.to_dict()
        if self._listened is not None:
            out["listen"] = self._listened.report.to_dict()
            out["verdicts"] = [v.to_dict() for v in self._listened.verdicts]
            if self._listened.detection is not None:
                out["detection"] = self._listened.detection.to_dict()
        if self._scan is not None:
            out["scan"] = self._scan.to_dict()
        if self._scan_refused:
            out["active_probes"] = self._scan_refused
        if self._duplicates is not None:
            out["duplicates"] = self._duplicates.to_dict()
        return out

    @property
    def listened(self) -> _Listened | None:
        return self._listened

    @property
    def scan_result(self) -> ScanResult | None:
        return self._scan

    @property
    def duplicate_result(self) -> DuplicateResult | None:
        return self._duplicates

    # --- listening --------------------------------------------------------------------------

    def listen(self) -> _Listened:
        """Listen once (with a line-setting search if nothing decodes); cached."""
        if self._listened is None:
            self._listened = self._do_listen()
        return self._listened

    def _listen_at(self, settings: LineSettings, framing: str) -> ListenReport:
        from clu_doctor.bus.listen.analyser import TrafficAnalyser
        from clu_doctor.bus.listen.session import listen

        self._reopen(settings, framing)
        chain = site_chain(self.plan.site)
        analyser = TrafficAnalyser(framing, settings, self.plan.profile, chain)
        seconds = self.plan.listen_s
        self.events.stage(f"Listening on {self.plan.port} at {settings} ({framing})", seconds)
        self.events.watch(analyser.snapshot)
        recorder = None
        if self.plan.save is not None:
            from clu_doctor.bus.listen.recording import Recorder

            recorder = Recorder.create(
                self.plan.save,
                port=self.plan.port,
                settings=settings,
                framing=framing,
                profile=self.plan.profile.name,
                chain=chain,
            )
        try:
            report = listen(
                self.link(),
                seconds,
                analyser,
                recorder=recorder,
                on_tick=lambda t: self.events.progress(min(t, seconds), seconds),
            )
        finally:
            if recorder is not None:
                recorder.close()
        self.events.stage_done(traffic_summary(report))
        return report

    def _do_listen(self) -> _Listened:
        from clu_doctor.bus.listen.verdicts import derive_verdicts

        chain = site_chain(self.plan.site)
        settings, framing = self._settings, self._framing
        report = self._listen_at(settings, framing)
        limits = verdict_thresholds(self.plan.site)
        verdicts = derive_verdicts(report, chain=chain, thresholds=limits)
        listened = _Listened(report, verdicts, settings, framing)
        if listened.verdict("bus.undecodable") is None or not self.plan.detect:
            return listened
        from clu_doctor.bus.link import Link
        from clu_doctor.bus.listen.detect import detect_line_settings

        self.close()
        self.events.stage("Nothing decodes: trying other line settings", None)
        detection = detect_line_settings(
            lambda s, f: Link.open(
                self.plan.port, s, f, echo=self.plan.echo, rs485=self.plan.rs485
            ),
            profile=self.plan.profile,
            on_candidate=lambda score: self.events.progress(0, 0),
        )
        self.events.stage_done(detection.message)
        if detection.found and detection.settings is not None and detection.framing:
            report = self._listen_at(detection.settings, detection.framing)
            verdicts = derive_verdicts(report, detection=detection, chain=chain, thresholds=limits)
            listened = _Listened(report, verdicts, detection.settings, detection.framing, detection)
            listened.notes.append(
                f"the bus runs at {detection.settings} ({detection.framing}), not at the "
                f"profile's {self.plan.profile.line} ({self.plan.profile.framing})"
            )
            return listened
        self._reopen(self.plan.profile.line, self.plan.profile.framing)
        verdicts = derive_verdicts(report, detection=detection, chain=chain, thresholds=limits)
        return _Listened(report, verdicts, settings, framing, detection)

    def traffic(self) -> str:
        """``polling``, ``unanswered``, ``undecodable``, ``silent``, ``unheard`` or ``off-bus``.

        ``unheard`` is silence heard from the far end of the bus: it says nothing about the
        CLU's USB interface, because a break between it and the adapter sounds the same.
        ``off-bus`` is silence on a site whose file says the CLU is off the bus: expected.
        """
        listened = self.listen()
        report = listened.report
        if report.bytes == 0 or (
            report.requests == 0
            and sum(a.answers for a in report.addresses) == 0
            and report.bytes < 64
        ):
            site = self.plan.site
            if site is not None and site.active_probes_allowed:
                return "off-bus"
            return "unheard" if site is not None and site.adapter_at == "end" else "silent"
        if listened.verdict("bus.undecodable") is not None:
            return "undecodable"
        answers = sum(a.answers for a in report.addresses)
        if report.requests == 0 and answers == 0:
            return "undecodable"
        if answers:
            return "polling"
        return "unanswered"

    def _observe_listen(self) -> dict[str, Observation]:
        listened = self.listen()
        traffic = self.traffic()
        lines = [traffic_summary(listened.report), *listened.notes]
        if traffic == "off-bus":
            lines.append("the site file says the CLU is off the bus (clu: disconnected)")
        for key in ("bus.traffic", "bus.undecodable", "bus.no_answers"):
            verdict = listened.verdict(key)
            if verdict is not None and not (traffic == "off-bus" and key == "bus.traffic"):
                lines += [verdict.title, *verdict.evidence]
        if listened.detection is not None and not listened.detection.found:
            lines.append(listened.detection.message)
        found = {"bus.traffic": _probe("bus.traffic", traffic, "bus.listen", lines)}
        heard = traffic in ("polling", "unanswered")
        spread = listened.verdict("bus.errors_spread")
        if heard:
            found["bus.errors"] = _probe(
                "bus.errors",
                "spread" if spread else "low",
                "bus.listen",
                [spread.title, *spread.evidence] if spread else [],
            )
        unpolled = listened.verdict("bus.unpolled_addresses")
        if heard and self.plan.site is not None:
            found["bus.unpolled"] = _probe(
                "bus.unpolled",
                "some" if unpolled else "none",
                "bus.listen",
                [unpolled.title, *unpolled.evidence] if unpolled else [],
            )
        return found

    def heard_frames(self) -> bool:
        """Did any device say anything decodable: a poll heard, or an answer to a read?"""
        listened = self.listen()
        if listened.report.frames > 0 and listened.verdict("bus.undecodable") is None:
            return True
        return bool(self._scan is not None and self._scan.answered)

    def silent_planned(self) -> tuple[int, ...] | None:
        """The site's planned addresses that did not answer (``None``: not known)."""
        site = self.plan.site
        if site is None:
            return None
        expected = site.expected_addresses
        traffic = self.traffic()
        if traffic in ("polling", "unanswered"):
            listened = self.listen()
            if listened.verdict("bus.no_answers") is not None:
                polled = set(listened.report.polled)
                return tuple(a for a in expected if a in polled)
            silent = listened.verdict("bus.silent_addresses")
            found = set(silent.addresses) if silent is not None else set()
            return tuple(a for a in expected if a in found)
        if self._scan is not None:
            return self._scan.missing
        return None

    def spread_rate(self) -> float | None:
        """The failure rate across the bus when errors are spread over it (``None``: they
        are not, or nothing was heard)."""
        if self._listened is None:
            return None
        spread = self._listened.verdict("bus.errors_spread")
        if spread is None:
            return None
        rate = spread.data.get("rate")
        return float(rate) if isinstance(rate, (int, float)) else None

    # --- active probes ----------------------------------------------------------------------

    def may_transmit(self) -> tuple[bool, str]:
        """Whether active reads are allowed now, and why (or why not)."""
        if self.plan.transmit:
            return True, "--transmit was given"
        traffic = self.traffic()
        if traffic in QUIET and self.plan.probe_when_quiet:
            return True, "the bus was quiet while listening (no master polls)"
        if traffic in QUIET:
            return False, (
                "not run: the bus was quiet, but the site file says the CLU is on the bus "
                "(clu: connected); set clu: disconnected or pass --transmit to probe actively"
            )
        return False, (
            "not run: the CLU is using the bus (listen-before-talk), so the tool stays "
            "passive; disconnect the CLU or pass --transmit to probe actively"
        )

    def scan(self) -> ScanResult | None:
        """The active scan, if allowed; cached (a refusal is remembered with its reason)."""
        if self._scan is not None or self._scan_refused is not None:
            return self._scan
        allowed, why = self.may_transmit()
        if not allowed:
            self._scan_refused = why
            return None
        from clu_doctor.bus.probes.base import BusBusy
        from clu_doctor.bus.probes.scan import scan

        profile = self.plan.profile
        expected = self.plan.site.expected_addresses if self.plan.site else ()
        addresses = tuple(profile.addresses)
        self.events.stage(f"Reading addresses {_span(addresses)} on {self.plan.port}", None)
        try:
            self._scan = scan(
                self.link(),
                profile,
                addresses,
                expected=expected,
                force=self.plan.transmit,
                progress=lambda done, total, address: self.events.progress(done, total),
            )
        except BusBusy as busy:
            self._scan_refused = f"not run: {busy.message}"
            self.events.stage_done(self._scan_refused)
            return None
        self.events.stage_done(
            f"{len(self._scan.answered)} address(es) answered: {_span(self._scan.answered)}"
        )
        return self._scan

    def duplicates(self) -> DuplicateResult | None:
        if self._duplicates is not None:
            return self._duplicates
        result = self.scan()
        if result is None:
            return None
        from clu_doctor.bus.probes.base import BusBusy
        from clu_doctor.bus.probes.duplicates import find_duplicates

        addresses = result.answered
        if not addresses:
            return None
        self.events.stage(f"Checking {_span(addresses)} for duplicate addresses", None)
        try:
            self._duplicates = find_duplicates(
                self.link(),
                self.plan.profile,
                addresses,
                reads=DUPLICATE_READS,
                force=self.plan.transmit,
                lbt=result.lbt,
                progress=lambda done, total, address: self.events.progress(done, total),
            )
        except BusBusy as busy:
            self._scan_refused = f"not run: {busy.message}"
            self.events.stage_done(self._scan_refused)
            return None
        self.events.stage_done(f"duplicate check: {self._duplicates.verdict}")
        return self._duplicates

    # --- observations from listening or probing ---------------------------------------------

    def _observe_reach(self) -> dict[str, Observation]:
        traffic = self.traffic()
        site = self.plan.site
        if traffic in ("polling", "unanswered"):
            listened = self.listen()
            silent = listened.verdict("bus.silent_addresses")
            if silent is None:
                value = "all" if site is not None else "found"
                lines = [] if site is None else ["every polled station of the site answers"]
                return {"bus.reach": _probe("bus.reach", value, "bus.listen", lines)}
            value = {
                "beyond_point": "break",
                "beyond_point_bus_intact": "station",
                "isolated": "station",
                "no_chain": "missing",
            }.get(silent.value, "station")
            return {
                "bus.reach": _probe(
                    "bus.reach", value, "bus.listen", [silent.title, *silent.evidence]
                )
            }
        if traffic == "undecodable":
            return {"bus.reach": _unknown("bus.reach", "nothing decodes on the bus")}
        result = self.scan()
        if result is None:
            return {"bus.reach": _unknown("bus.reach", self._scan_refused or "no scan")}
        answered = set(result.answered)
        if site is None:
            value = "found" if answered else "none"
            lines = [f"addresses answering: {_span(tuple(sorted(answered))) or 'none'}"]
            return {"bus.reach": _probe("bus.reach", value, "bus.scan", lines)}
        from clu_doctor.bus.chain import analyse_chain

        chain = analyse_chain(site.chain_positions, site.adapter_at, answered)
        value = {"ok": "all", "farthest": "station"}.get(chain.verdict, chain.verdict)
        return {"bus.reach": _probe("bus.reach", value, "bus.end_of_bus", chain.evidence)}

    def _observe_duplicates(self) -> dict[str, Observation]:
        traffic = self.traffic()
        if traffic in ("polling", "unanswered") and not self.plan.transmit:
            verdict = self.listen().verdict("bus.duplicate_address")
            if verdict is None:
                return {"bus.duplicates": _probe("bus.duplicates", "none", "bus.listen", [])}
            value = "suspected" if verdict.value == "corruption_excess" else "confirmed"
            lines = [verdict.title, *verdict.evidence]
            return {"bus.duplicates": _probe("bus.duplicates", value, "bus.listen", lines)}
        if traffic == "undecodable":
            return {"bus.duplicates": _unknown("bus.duplicates", "nothing decodes on the bus")}
        result = self.duplicates()
        if result is None:
            reason = self._scan_refused or "no station answered a read"
            return {"bus.duplicates": _unknown("bus.duplicates", reason)}
        from clu_doctor.bus.probes.duplicates import describe

        value = result.verdict if result.verdict in ("confirmed", "suspected") else "none"
        return {
            "bus.duplicates": _probe("bus.duplicates", value, "bus.duplicates", describe(result))
        }

    def _observe_states(self) -> dict[str, Observation]:
        traffic = self.traffic()
        states: dict[int, str] = {}
        source = "bus.listen"
        if traffic == "polling" and not self.plan.transmit:
            for entry in self.listen().report.addresses:
                if entry.state is not None:
                    states[entry.address] = entry.state.code
        elif traffic != "undecodable":
            result = self.scan()
            if result is not None:
                source = "bus.scan"
                for address in result.answered:
                    found = result.get(address)
                    if found is not None and found.state is not None:
                        states[address] = found.state
        if not states:
            reason = self._scan_refused or "no controller state was seen"
            return {"station.state": _unknown("station.state", reason)}
        value, lines = classify_states(states, self.plan.profile, self.plan.site)
        return {"station.state": _probe("station.state", value, source, lines)}

    def _observe_site(self) -> dict[str, Observation]:
        site = self.plan.site
        if site is None:
            return {}
        return site_observations(site)


# --- pure helpers, shared with the scan and listen commands ----------------------------------


def classify_states(
    states: Mapping[int, str], profile: DeviceProfile, site: Site | None
) -> tuple[str, list[str]]:
    """The worst ``station.state`` value among ``states`` (address -> code), with evidence."""
    worst = "normal"
    lines = []
    for address, code in sorted(states.items()):
        info = profile.states.get(int(code, 16)) if _is_hex(code) else None
        severity = info.severity if info else Severity.OK
        value = STATE_VALUES.get(code, "fault" if code.startswith("F") else "normal")
        if severity is Severity.OK and value not in STATE_VALUES.values():
            value = "normal"
        elif value == "normal" and severity in (Severity.WARNING, Severity.CRITICAL):
            value = "unusual"  # e.g. E1: the profile says it needs attention
        if value != "normal":
            label = site.label_of(address) if site else None
            meaning = info.meaning if info else "unknown state"
            where = f"address {address}" + (f" ({label})" if label else "")
            lines.append(f"{where}: state {code}, {meaning}")
        if _STATE_RANK.index(value) < _STATE_RANK.index(worst):
            worst = value
    if worst == "normal":
        lines.append(f"{len(states)} controller(s) report A, B or C states")
    return worst, lines


def site_observations(site: Site) -> dict[str, Observation]:
    """The ``site.*`` observations from the site's configuration facts."""
    from clu_doctor.site.facts import configuration_facts, facts_by_key

    facts = facts_by_key(configuration_facts(site))

    def fact(key: str, good: str, bad: str) -> tuple[str, tuple[str, ...]]:
        item = facts[key]
        if item.verdict == "unknown":
            return UNKNOWN, (item.summary,)
        return (good if item.verdict == "ok" else bad), (item.summary, *item.evidence)

    found: dict[str, Observation] = {}
    count, unique = facts["config.address_count"], facts["config.addresses_unique"]
    if count.verdict == "problem":
        found["site.addresses"] = _probe(
            "site.addresses", "too-many", "site.plan", [count.summary, *count.evidence]
        )
    else:
        value, lines = fact("config.addresses_unique", "ok", "duplicate")
        found["site.addresses"] = _probe("site.addresses", value, "site.plan", lines)
    del unique
    for key, fact_key, bad in (
        ("site.labels", "config.labels_match", "mismatch"),
        ("site.duo", "config.duo_pairs", "inconsistent"),
        ("site.cable", "config.cable_length", "too-long"),
        ("site.capacity", "config.capacity", "insufficient"),
    ):
        value, lines = fact(fact_key, "ok", bad)
        found[key] = _probe(key, value, "site.plan", lines)
    meters = facts["config.meter_bus"]
    if meters.verdict == "problem":
        value = "single-bus"
    elif not site.meters.present:
        value = "none"
    else:
        value = "ok" if meters.verdict == "ok" else UNKNOWN
    found["site.meters"] = _probe(
        "site.meters", value, "site.plan", [meters.summary, *meters.evidence]
    )
    return found


def grade_observations(prober: BusProber, site: Site) -> dict[str, Observation]:
    """The site's thresholds applied to what the probes found (``grade.*``; see
    ``rules/observations.yaml``). Evidence names the thresholds only where the site sets its
    own, so a diagnosis with the defaults says nothing it need not."""
    from clu_doctor.site.model import Thresholds

    defaults = Thresholds()
    found: dict[str, Observation] = {}
    silent = prober.silent_planned()
    if silent is not None:
        limits = site.thresholds.stations_silent
        value = _grade(limits.severity(len(silent)).value)
        lines = []
        if limits != defaults.stations_silent:
            lines.append(
                f"{len(silent)} planned station(s) silent; the site's thresholds: a warning "
                f"from {limits.warning}, critical from {limits.critical}"
            )
        found["grade.stations_silent"] = _probe(
            "grade.stations_silent", value, "site.thresholds", lines
        )
    rate = prober.spread_rate()
    if rate is not None:
        limits_rate = site.thresholds.corrupt_rate
        value = _grade(limits_rate.severity(rate).value)
        lines = []
        if limits_rate != defaults.corrupt_rate:
            lines.append(
                f"{100 * rate:.1f} % of exchanges failed; the site's thresholds: a warning "
                f"above {100 * limits_rate.warning:g} %, critical above "
                f"{100 * limits_rate.critical:g} %"
            )
        found["grade.corrupt_rate"] = _probe("grade.corrupt_rate", value, "site.thresholds", lines)
    return found


def _grade(severity: str) -> str:
    """A threshold's verdict as a grading value: below every threshold is still worth a note."""
    return "info" if severity == "ok" else severity


def traffic_summary(report: ListenReport) -> str:
    """One line: how long, at what setting, how many polls, answers and problems."""
    polls = sum(a.polls for a in report.addresses)
    answers = sum(a.answers for a in report.addresses)
    corrupt = sum(a.corrupt for a in report.addresses)
    addresses = sorted(a.address for a in report.addresses if a.polls)
    text = (
        f"listened {report.seconds:.1f} s at {report.settings} ({report.framing}): "
        f"{report.bytes} bytes, {polls} polls to {len(addresses)} address(es)"
    )
    if addresses:
        text += f" ({_span(tuple(addresses))})"
    return text + f", {answers} answers, {corrupt} corrupt"


def make_resolver(
    site: Site | None, prober: BusProber | None
) -> Callable[[ObservationSpec], Mapping[str, Observation]] | None:
    """What answers probe observations: the bus prober, or the site file alone, or nothing."""
    if prober is not None:
        return prober.resolve
    if site is None:
        return None
    facts = site_observations(site)

    def resolve(spec: ObservationSpec) -> Mapping[str, Observation]:
        if spec.probe == "site.plan":
            return facts
        return {spec.key: _unknown(spec.key, "no bus to probe (give --port or --sim)")}

    return resolve


def resolve_observations(
    rulebook: Rulebook,
    observations: MutableMapping[str, Observation],
    probe: Callable[[ObservationSpec], Mapping[str, Observation]] | None,
) -> None:
    """Fill every observation the walk needs without asking anyone.

    Probe observations go to ``probe`` (when there is a bus); what a person would have to
    answer is recorded as "not answered" (unknown), so the walk can go on past it.
    """
    while (
        spec := rulebook.next_question(observations, include_probes=probe is not None)
    ) is not None:
        if spec.source is _SpecSource.PROBE and probe is not None:
            observations.update(probe(spec))
        else:
            observations[spec.key] = Observation(
                spec.key, UNKNOWN, AnswerSource.DEFAULT, "not answered"
            )


def _probe(key: str, value: str, probe: str, evidence: Iterable[str]) -> Observation:
    return Observation(key, value, AnswerSource.PROBE, probe, tuple(evidence))


def _unknown(key: str, why: str) -> Observation:
    return Observation(key, UNKNOWN, AnswerSource.PROBE, why)


def _is_hex(code: str) -> bool:
    try:
        int(code, 16)
    except ValueError:
        return False
    return True


def _span(addresses: tuple[int, ...] | list[int]) -> str:
    """``1-6, 9, 11-12``."""
    from clu_doctor.bus.probes.base import ranges

    return ranges(tuple(addresses))
