"""One probing session on one port: what runs on the bus, when, and at most once.

:class:`BusProber` is handed every probe-sourced observation at the moment a tree needs it
(``Rulebook.next_question(..., include_probes=True)``) and answers from the probes of the bus
layer, each run at most once per session:

* ``bus.listen`` - passive listening (never transmits). Runs first, because the CLU and USB
  trees ask ``bus.traffic`` before anything else. Nothing decoding at the profile's setting
  triggers a line-setting search; a setting found there is listened to again.
* ``bus.scan``, ``bus.duplicates``, ``bus.end_of_bus`` - from the listen report while the CLU
  polls; active reads only when listening found the bus quiet (the CLU is disconnected) or the
  user passed ``--transmit`` (:meth:`BusProber.may_transmit`). Even then the bus layer listens
  before it talks, and stops if a master appears.
* ``site.plan`` - the configuration facts of the site description.

This module decides which result answers a question; :mod:`clu_doctor.probing.translate`
turns that result into the observation. The site's chain is built once per session and
serves both the listen verdicts and the scan's chain analysis. Each observation carries
evidence lines (what was seen), and :meth:`BusProber.evidence` holds the raw results for JSON.
No terminal code here: progress goes through :class:`ProbeEvents`.

``clu-doctor scan`` reads the bus through the same session (:meth:`BusProber.read_addresses`,
:meth:`BusProber.check_duplicates`): the user asked for the reads, so no listen comes first,
but the bus layer still refuses to talk over a master unless ``--transmit`` was given.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from clu_doctor.bus.link import Link
from clu_doctor.bus.listen.analyser import TrafficAnalyser
from clu_doctor.bus.listen.detect import DETECT_WINDOW_S, detect_line_settings
from clu_doctor.bus.listen.recording import Recorder
from clu_doctor.bus.listen.report import merge_generations
from clu_doctor.bus.listen.session import listen
from clu_doctor.bus.listen.verdicts import derive_verdicts
from clu_doctor.bus.probes.base import BusBusy, lbt_from_listen, lbt_window, ranges
from clu_doctor.bus.probes.duplicates import find_duplicates
from clu_doctor.bus.probes.pilot import read_pilots
from clu_doctor.bus.probes.scan import scan, with_other_generation
from clu_doctor.clock import current as current_clock
from clu_doctor.engine import Observation, ObservationSpec
from clu_doctor.probing.site import site_chain, site_observations, verdict_thresholds
from clu_doctor.probing.translate import (
    GRADE_OF,
    HEARD,
    QUIET,
    classify_traffic,
    devices_observation,
    duplicates_from_check,
    duplicates_from_listen,
    listen_observations,
    observation,
    pilot_observation,
    reach_from_listen,
    reach_from_scan,
    states_observation,
    traffic_summary,
    unknown,
)
from clu_doctor.records import record
from clu_doctor.site.model import Thresholds

if TYPE_CHECKING:
    from clu_doctor.bus.chain import Chain, ChainResult
    from clu_doctor.bus.listen.detect import Detection
    from clu_doctor.bus.listen.report import ListenReport
    from clu_doctor.bus.listen.verdicts import Verdict
    from clu_doctor.bus.probes.base import LbtResult
    from clu_doctor.bus.probes.duplicates import DuplicateResult
    from clu_doctor.bus.probes.scan import ScanResult
    from clu_doctor.bus.profile import DeviceProfile, PilotReading
    from clu_doctor.bus.settings import LineSettings
    from clu_doctor.site.model import Site

#: Identity reads per address when the duplicate check runs actively (enough for the
#: statistics of the bus layer, short enough for a technician waiting on site).
DUPLICATE_READS = 12
#: Seconds listened at the other ABL generation's settings on a bus that may be shared
#: (three of the CLU's poll cycles).
OTHER_GENERATION_S = 3.0


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


@record
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
    #: Kernel RS-485 direction control, passed to the link (``--rs485``).
    rs485: bool = False
    #: Search other line settings when nothing decodes at the profile's.
    detect: bool = True
    #: Seconds (on the bus clock) the search may take at most; ``None``: every candidate.
    detect_s: float | None = None
    #: Listen again at the settings the search found (a technician's diagnosis judges the bus
    #: there; an unattended check reports the adapter's settings and stops).
    relisten: bool = True
    #: May a bus found quiet be probed actively? (The technician's diagnosis: yes. The
    #: unattended check: only when the site file says the CLU is off the bus.)
    probe_when_quiet: bool = True
    #: Makes an unopened pyserial port object for ``port`` each time the link opens (the
    #: in-process simulator, on a scenario already read); ``None``: pyserial opens ``port``.
    opener: Callable[[], Any] | None = None


def judge_listen(
    report: ListenReport,
    site: Site | None,
    chain: Chain | None,
    detection: Detection | None = None,
) -> list[Verdict]:
    """The listen verdicts, with the site's numbers (a live listen and a replayed one)."""
    return derive_verdicts(
        report, detection=detection, chain=chain, thresholds=verdict_thresholds(site)
    )


@record(frozen=False)
class Listened:
    """What the session's listen found, at the settings it found it."""

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
        #: The site's chain, built once for every analysis of this session.
        self.chain = site_chain(plan.site)
        self._link: Link | None = None
        self._settings = plan.profile.line
        self._framing = plan.profile.framing
        self._listened: Listened | None = None
        self._scan: ScanResult | None = None
        self._scan_refused: str | None = None
        self._duplicates: DuplicateResult | None = None
        self._duplicates_declined: str | None = None
        self._pilots: Mapping[int, PilotReading | None] | None = None
        self._results: dict[str, Mapping[str, Observation]] = {}

    @classmethod
    def replaying(cls, plan: BusPlan, report: ListenReport) -> BusProber:
        """A session on a recording: its listen is what was recorded, judged with the plan's
        site; nothing can be read actively, and no port is opened."""
        prober = cls(dataclasses.replace(plan, transmit=False, probe_when_quiet=False))
        prober._listened = Listened(
            report,
            judge_listen(report, plan.site, prober.chain),
            report.settings,
            report.framing,
        )
        prober._scan_refused = "not run: a recording cannot be read actively"
        return prober

    # --- the session ------------------------------------------------------------------------

    def __enter__(self) -> BusProber:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._link is not None:
            self._link.close()
            self._link = None

    def _open(self, settings: LineSettings, framing: str) -> Link:
        handle = self.plan.opener() if self.plan.opener is not None else None
        return Link.open(self.plan.port, settings, framing, rs485=self.plan.rs485, handle=handle)

    def link(self) -> Link:
        """The open link at the settings in use (opened on first need)."""
        if self._link is None:
            self._link = self._open(self._settings, self._framing)
        return self._link

    def _reopen(self, settings: LineSettings, framing: str) -> None:
        self.close()
        self._settings, self._framing = settings, framing

    # --- resolving observations -------------------------------------------------------------

    def resolve(self, spec: ObservationSpec) -> dict[str, Observation]:
        """Observations for ``spec``'s probe (always including ``spec.key`` itself)."""
        probe = spec.probe or ""
        if probe not in self._results:
            observe = PROBES.get(probe)
            self._results[probe] = observe(self) if observe else {}
        found = dict(self._results[probe])
        if spec.key not in found:
            found[spec.key] = unknown(spec.key, f"probe {probe or '?'} has no answer for it")
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
    def listened(self) -> Listened | None:
        return self._listened

    @property
    def scan_result(self) -> ScanResult | None:
        return self._scan

    @property
    def duplicate_result(self) -> DuplicateResult | None:
        return self._duplicates

    # --- listening --------------------------------------------------------------------------

    def listen(self) -> Listened:
        """Listen once (with a line-setting search if nothing decodes); cached."""
        if self._listened is None:
            self._listened = self._do_listen()
        return self._listened

    def _listen_at(self, settings: LineSettings, framing: str) -> ListenReport:
        self._reopen(settings, framing)
        # frames in the other ABL generation's framing are read with that generation's profile
        profile = self.plan.profile.for_framing(framing)
        analyser = TrafficAnalyser(framing, settings, profile, self.chain)
        seconds = self.plan.listen_s
        self.events.stage(f"Listening on {self.plan.port} at {settings} ({framing})", seconds)
        self.events.watch(analyser.snapshot)
        recorder = None
        if self.plan.save is not None:
            recorder = Recorder.create(
                self.plan.save,
                port=self.plan.port,
                settings=settings,
                framing=framing,
                profile=self.plan.profile.name,
                chain=self.chain,
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

    def _do_listen(self) -> Listened:
        site, chain = self.plan.site, self.chain
        settings, framing = self._settings, self._framing
        report = self._listen_at(settings, framing)
        listened = Listened(report, judge_listen(report, site, chain), settings, framing)
        if listened.verdict("bus.undecodable") is None:
            return self._with_other_generation(listened)
        if not self.plan.detect:
            return listened
        self.close()
        self.events.stage("Nothing decodes: trying other line settings", None)
        detection = detect_line_settings(
            self._open,
            profile=self.plan.profile,
            on_candidate=lambda score: self.events.progress(0, 0),
            stop=self._detect_deadline(),
        )
        self.events.stage_done(detection.message)
        found = detection.found and detection.settings is not None and detection.framing
        if found and self.plan.relisten:
            assert detection.settings is not None and detection.framing is not None
            report = self._listen_at(detection.settings, detection.framing)
            verdicts = judge_listen(report, site, chain, detection)
            listened = Listened(report, verdicts, detection.settings, detection.framing, detection)
            listened.notes.append(
                f"the bus runs at {detection.settings} ({detection.framing}), not at the "
                f"profile's {self.plan.profile.line} ({self.plan.profile.framing})"
            )
            return listened
        self._reopen(self.plan.profile.line, self.plan.profile.framing)
        verdicts = judge_listen(report, site, chain, detection)
        return Listened(report, verdicts, settings, framing, detection)

    def _with_other_generation(self, listened: Listened) -> Listened:
        """A bus both ABL generations may share (manual §9.7): when garbage no exchange claims
        was heard, or stations of the site were never heard polled, listen a short window at
        the profile's other generation's settings too and add the addresses only that window
        reads (bus/listen/report.py, merge_generations)."""
        other = self.plan.profile.other_generation_profile()
        report, site = listened.report, self.plan.site
        missing = site is not None and not set(site.expected_addresses) <= set(report.polled)
        if other is None or not (report.unattributed or missing):
            if report.mixed:  # the adapter passed both generations' frames through whole
                listened.notes.append(_both_generations(report))
            return listened
        seconds = min(self.plan.listen_s, OTHER_GENERATION_S)
        self._reopen(other.line, other.framing)
        self.events.stage(
            f"Listening at {other.line} ({other.framing}) for generation-{other.generation} "
            "stations",
            seconds,
        )
        analyser = TrafficAnalyser(other.framing, other.line, other, self.chain)
        try:
            heard = listen(self.link(), seconds, analyser)
        finally:
            self._reopen(listened.settings, listened.framing)
        merged = merge_generations(report, heard)
        self.events.stage_done(traffic_summary(heard))
        if merged is report:
            if report.mixed:
                listened.notes.append(_both_generations(report))
            return listened
        verdicts = judge_listen(merged, site, self.chain)
        result = Listened(merged, verdicts, listened.settings, listened.framing)
        result.notes.append(_both_generations(merged))
        return result

    def _detect_deadline(self) -> Callable[[], bool] | None:
        """Stops the line-setting search before its budget (``detect_s``) runs out."""
        budget = self.plan.detect_s
        if budget is None:
            return None
        clock = current_clock()
        started = clock.now()
        return lambda: clock.now() - started + DETECT_WINDOW_S > budget

    def traffic(self) -> str:
        """The ``bus.traffic`` value of the session's listen (see
        :func:`~clu_doctor.probing.translate.classify_traffic`)."""
        listened = self.listen()
        undecodable = listened.verdict("bus.undecodable") is not None
        return classify_traffic(listened.report, undecodable, self.plan.site)

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
        if self.traffic() in HEARD:
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

    def read_addresses(
        self, addresses: Sequence[int] | None = None, *, stop_when_expected: bool = False
    ) -> ScanResult:
        """Read ``addresses`` (the profile's by default) now; the session's scan from then on.

        The bus layer listens before it talks and raises :class:`BusBusy` if a master polls,
        unless the plan allows transmitting anyway.
        """
        wanted = tuple(addresses if addresses is not None else self.plan.profile.addresses)
        expected = self.plan.site.expected_addresses if self.plan.site else ()
        self.events.stage(f"Reading addresses {ranges(wanted)} on {self.plan.port}", None)
        idle, quiet = self._listen_before_talk()
        self._scan = scan(
            self.link(),
            self.plan.profile,
            wanted,
            expected=expected,
            stop_when_expected=stop_when_expected,
            force=self.plan.transmit,
            lbt=quiet,
            listen_s=idle,
            progress=lambda done, total, address: self.events.progress(done, total),
        )
        other = self.plan.profile.other_generation_profile()
        if other is not None:
            # a mixed site (manual §9.7): silent planned addresses, or with no plan silent ones
            # the other generation can have, may be controllers of the other generation
            candidates = [
                a
                for a in self._scan.silent
                if a in other.addresses and (a in expected or not expected)
            ]
            if candidates:
                self._scan = self._read_other_generation(other, candidates, expected)
        self.events.stage_done(
            f"{len(self._scan.answered)} address(es) answered: {ranges(self._scan.answered)}"
        )
        return self._scan

    def _read_other_generation(
        self, other: DeviceProfile, addresses: Sequence[int], expected: Sequence[int]
    ) -> ScanResult:
        """Read ``addresses`` again at ``other``'s line settings and framing (the bus was found
        quiet before the first read) and merge what answers into the session's scan."""
        assert self._scan is not None
        first = self._scan
        settings, framing = self._settings, self._framing
        self.events.stage(
            f"Reading {ranges(tuple(addresses))} at {other.line} ({other.framing}) for "
            f"generation-{other.generation} controllers",
            None,
        )
        self._reopen(other.line, other.framing)
        try:
            second = scan(
                self.link(),
                other,
                addresses,
                expected=[a for a in addresses if a in expected],
                force=self.plan.transmit,
                lbt=first.lbt,
                progress=lambda done, total, address: self.events.progress(done, total),
            )
        finally:
            self._reopen(settings, framing)
        mine = self.plan.profile.generation or 0
        return with_other_generation(first, second, (mine, other.generation or 0))

    def _listen_before_talk(self) -> tuple[float, LbtResult | None]:
        """The silence that proves no master polls (two of its polling periods: as this
        session's listen measured them, else the profile's assumption), and this session's
        listen as the listen-before-talk if it was quiet that long."""
        period = self.plan.profile.timing.master_period
        listened = self._listened
        if listened is not None and listened.report.poll_cycle is not None:
            period = listened.report.poll_cycle
        idle = lbt_window(period)
        if listened is None:
            return idle, None
        found = lbt_from_listen(listened.report, idle)
        return idle, found if found.quiet else None

    def check_duplicates(
        self, addresses: Sequence[int], *, reads: int = DUPLICATE_READS
    ) -> DuplicateResult:
        """Read the identities at ``addresses`` ``reads`` times each, now; the session's
        duplicate check from then on. Addresses the session's scan found garbled are read too:
        garbled in every read is the collision signature itself. :class:`BusBusy` as for
        :meth:`read_addresses`."""
        garbled = self._scan.garbled if self._scan is not None else ()
        addresses = tuple(dict.fromkeys((*addresses, *garbled)))
        if self._scan is not None and self._scan.other_generation is not None:
            # read at the profile's settings only: the other generation's controllers cannot
            # answer there (and the first generation's identity, its firmware, is shared)
            others = set(self._scan.other_generation["answered"])
            addresses = tuple(a for a in addresses if a not in others)
        self.events.stage(f"Checking {ranges(tuple(addresses))} for duplicate addresses", None)
        self._duplicates = find_duplicates(
            self.link(),
            self.plan.profile,
            addresses,
            reads=reads,
            force=self.plan.transmit,
            lbt=self._scan.lbt if self._scan is not None else None,
            progress=lambda done, total, address: self.events.progress(done, total),
        )
        self.events.stage_done(f"duplicate check: {self._duplicates.verdict}")
        return self._duplicates

    def scan(self) -> ScanResult | None:
        """The active scan, if allowed; cached (a refusal is remembered with its reason)."""
        if self._scan is not None or self._scan_refused is not None:
            return self._scan
        allowed, why = self.may_transmit()
        if not allowed:
            self._scan_refused = why
            return None
        try:
            return self.read_addresses()
        except BusBusy as busy:
            self._refused(busy)
            return None

    def decline_duplicates(self, why: str) -> None:
        """This session does not check for duplicate addresses (``why`` says so in the
        evidence): the check is judged unknown, never "no duplicates"."""
        self._duplicates_declined = why

    def duplicates(self) -> DuplicateResult | None:
        """The active duplicate check of the addresses the scan found, if allowed; cached."""
        if self._duplicates is not None or self._duplicates_declined is not None:
            return self._duplicates
        result = self.scan()
        if result is None or not result.present:
            return None
        try:
            return self.check_duplicates(result.present)
        except BusBusy as busy:
            self._refused(busy)
            return None

    def _refused(self, busy: BusBusy) -> None:
        self._scan_refused = f"not run: {busy.message}"
        self.events.stage_done(self._scan_refused)

    def chain_result(self, scanned: ScanResult) -> ChainResult | None:
        """The session's chain read with the addresses that answered ``scanned``."""
        # a garbled address has a device on it (two, most likely): it is reached, not silent
        return self.chain.analyse(set(scanned.present)) if self.chain is not None else None

    # --- which result answers which question ------------------------------------------------

    def _observe_listen(self) -> dict[str, Observation]:
        listened = self.listen()
        return listen_observations(
            listened.report,
            listened.verdicts,
            self.traffic(),
            notes=listened.notes,
            detection=listened.detection,
            site_known=self.plan.site is not None,
            adapter_line=f"{self.plan.profile.line} ({self.plan.profile.framing})",
        )

    def _observe_reach(self) -> dict[str, Observation]:
        traffic = self.traffic()
        if traffic in HEARD:
            listened = self.listen()
            return reach_from_listen(listened.report, listened.verdicts, self.plan.site)
        if traffic == "undecodable":
            why = "nothing decodes on the bus"
            return {
                "bus.reach": unknown("bus.reach", why),
                "bus.isolated": unknown("bus.isolated", why),
            }
        result = self.scan()
        if result is None:
            why = self._scan_refused or "no scan"
            return {
                "bus.reach": unknown("bus.reach", why),
                "bus.isolated": unknown("bus.isolated", why),
            }
        return reach_from_scan(
            result.present, self.chain_result(result), self.plan.site, scan_notes(result)
        )

    def _observe_duplicates(self) -> dict[str, Observation]:
        traffic = self.traffic()
        if traffic in HEARD and not self.plan.transmit:
            return duplicates_from_listen(self.listen().verdict("bus.duplicate_address"))
        if traffic == "undecodable":
            return {"bus.duplicates": unknown("bus.duplicates", "nothing decodes on the bus")}
        result = self.duplicates()
        if result is None:
            reason = self._duplicates_declined or self._scan_refused or "no station answered a read"
            return {"bus.duplicates": unknown("bus.duplicates", reason)}
        return duplicates_from_check(result)

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
            return {"station.state": unknown("station.state", reason)}
        return states_observation(states, self.plan.profile, self.plan.site, source)

    def _observe_pilot(self) -> dict[str, Observation]:
        readings = self.pilots()
        if readings is None:
            reason = self._scan_refused or "the CLU is using the bus, so the tool does not read"
            return {"station.pilot": unknown("station.pilot", reason)}
        return pilot_observation(readings, self.plan.site)

    def pilots(self) -> Mapping[int, PilotReading | None] | None:
        """The control-pilot voltages of the controllers the scan found, read once when the
        scan was allowed (``None``: no scan, or the profile has no pilot block); cached."""
        if self._pilots is not None:
            return self._pilots
        if self.plan.profile.pilot is None:
            return None
        if self.traffic() == "polling" and not self.plan.transmit:
            return None  # the CLU's states come from its own polls: no reads while it polls
        result = self.scan()
        if result is None:
            return None
        others = set(result.other_generation["answered"]) if result.other_generation else set()
        addresses = [a for a in result.answered if a not in others]
        self.events.stage(f"Reading the control-pilot voltages of {ranges(tuple(addresses))}", None)
        try:
            self._pilots = read_pilots(
                self.link(),
                self.plan.profile,
                addresses,
                timeout=float(result.timeout["final_s"]),
                first_byte=float(result.timeout["first_byte_s"]),
                force=self.plan.transmit,
                lbt=result.lbt,
            )
        except BusBusy as busy:
            self._refused(busy)
            return None
        self.events.stage_done(f"{sum(r is not None for r in self._pilots.values())} read")
        return self._pilots

    def _observe_profile(self) -> dict[str, Observation]:
        return devices_observation(self.plan.profile)

    def _observe_site(self) -> dict[str, Observation]:
        site = self.plan.site
        return {} if site is None else site_observations(site)


def scan_notes(result: ScanResult) -> list[str]:
    """What the reads showed about single addresses beyond answered or not: replies that came
    back from another address, replies garbled every time, and which ABL generation answers
    where on a mixed site."""
    lines = []
    other = result.other_generation
    if other is not None and other["answered"]:
        first = [r.address for r in result.results if r.answered and r.generation == 1]
        second = [r.address for r in result.results if r.answered and r.generation == 2]
        lines.append(
            "both ABL controller generations answer on this bus: first generation (EVCC text "
            f"protocol) at {ranges(tuple(first)) or '-'}, second generation (EVCC2/3, Modbus "
            f"ASCII) at {ranges(tuple(second)) or '-'}"
        )
    for entry in result.results:
        if entry.replied_from and not entry.answered:
            others = ", ".join(map(str, entry.replied_from))
            lines.append(
                f"address {entry.address}: its requests were answered by address {others}, never "
                f"by {entry.address} itself: a controller answers with the wrong address (on a "
                "DUO, the outlet's address set to its twin's?)"
            )
        elif entry.garbled:
            lines.append(
                f"address {entry.address}: every scan read came back garbled: two controllers "
                "answering at once (the duplicate check reads them again)"
            )
    return lines


#: Which method answers the observations of each probe that ``rules/observations.yaml`` names.
PROBES: Mapping[str, Callable[[BusProber], dict[str, Observation]]] = {
    "bus.listen": BusProber._observe_listen,
    "bus.scan": BusProber._observe_states,
    "bus.end_of_bus": BusProber._observe_reach,
    "bus.duplicates": BusProber._observe_duplicates,
    "bus.pilot": BusProber._observe_pilot,
    "site.plan": BusProber._observe_site,
    "bus.profile": BusProber._observe_profile,
}


def grade_observations(prober: BusProber, site: Site) -> dict[str, Observation]:
    """The site's thresholds applied to what the probes found (``grade.*``; see
    ``rules/observations.yaml``). Evidence names the thresholds only where the site sets its
    own, so a diagnosis with the defaults says nothing it need not."""
    defaults = Thresholds()
    found: dict[str, Observation] = {}
    silent = prober.silent_planned()
    if silent is not None:
        limits = site.thresholds.stations_silent
        value = GRADE_OF[limits.severity(len(silent))]
        lines = []
        if limits != defaults.stations_silent:
            lines.append(
                f"{len(silent)} planned station(s) silent; the site's thresholds: a warning "
                f"from {limits.warning}, critical from {limits.critical}"
            )
        found["grade.stations_silent"] = observation(
            "grade.stations_silent", value, "site.thresholds", lines
        )
    rate = prober.spread_rate()
    if rate is not None:
        limits_rate = site.thresholds.corrupt_rate
        value = GRADE_OF[limits_rate.severity(rate)]
        lines = []
        if limits_rate != defaults.corrupt_rate:
            lines.append(
                f"{100 * rate:.1f} % of exchanges failed; the site's thresholds: a warning "
                f"above {100 * limits_rate.warning:g} %, critical above "
                f"{100 * limits_rate.critical:g} %"
            )
        found["grade.corrupt_rate"] = observation(
            "grade.corrupt_rate", value, "site.thresholds", lines
        )
    return found


def _both_generations(report: ListenReport) -> str:
    """The note that names which ABL generation answers at which address."""
    first = sorted(a for a, g in report.generations.items() if g == 1)
    second = sorted(a for a, g in report.generations.items() if g == 2)
    return (
        "both ABL controller generations answer on this bus: first generation (EVCC text "
        f"protocol) at {ranges(first) or 'none'}, second (EVCC2/3) at {ranges(second) or 'none'}"
    )
