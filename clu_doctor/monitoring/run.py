"""One unattended health check of a site: what ``clu-doctor check`` does, without a terminal.

:func:`run_check` listens to the bus (and, only where the site file says the CLU is off the bus
or the operator passed ``--transmit``, probes it after a listen-before-talk), walks the same
decision trees as ``clu-doctor diagnose`` with what it heard, the site's history and the site's
thresholds, applies the site's ``ignore:`` entries, and returns a
:class:`~clu_doctor.monitoring.result.CheckResult`. All of it runs under one deadline, port opening
included; when the time is up, the port is closed and :class:`CouldNotCheck` says how long it
waited and at which stage.

"Could not check" (exit 3, UNKNOWN) is kept apart from a fault on the site: a port that is
missing or busy, a deadline that expired, or a bus on which not one frame could be decoded
(the adapter is off the bus, or the CLU is not polling and the site file forbids probing) say
nothing about the stations, and must not page anyone as CRITICAL. When bytes arrive but do not
decode, the check searches the other line settings (within what is left of the deadline) and
says what ``diagnose`` says, in the same rule's words: the adapter listens at the wrong
settings (``BUS-SETTINGS-01``), or nothing decodes at any (``BUS-GARBLE-01``).

Writing the history and the metrics file afterwards is :mod:`clu_doctor.monitoring.publish`'s
business; reading the history for the rules happens here.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clu_doctor.bus.listen.detect import DETECT_WINDOW_S
from clu_doctor.clock import current as current_clock
from clu_doctor.engine import UNKNOWN, AnswerSource, Layer, Observation, ObservationSpec, Rulebook
from clu_doctor.errors import CluDoctorError, FileProblemError
from clu_doctor.exitcodes import ExitCode
from clu_doctor.monitoring.deadline import DeadlineExpired, deadline
from clu_doctor.monitoring.ignores import apply_ignores, unknown_ignores
from clu_doctor.monitoring.interrupt import Interrupted, as_interrupted, unwrapped
from clu_doctor.monitoring.result import (
    INTERRUPTED,
    OTHER,
    SILENT_BUS,
    CheckResult,
    IgnoredFinding,
    StationHealth,
)
from clu_doctor.probing import BusPlan, BusProber, ProbeEvents, resolve_observations
from clu_doctor.probing.prober import grade_observations
from clu_doctor.records import record

if TYPE_CHECKING:
    from clu_doctor.bus.listen.report import ListenReport
    from clu_doctor.bus.probes.scan import ScanResult
    from clu_doctor.bus.profile import DeviceProfile
    from clu_doctor.engine import Diagnosis
    from clu_doctor.monitoring.history import History, HistoryFacts
    from clu_doctor.site.model import Site

#: Default ``--timeout``: the whole check, port opening to the last probe.
DEFAULT_TIMEOUT_S = 45.0
#: Default listening time while the CLU polls (about 15 polls of each of 16 addresses).
DEFAULT_LISTEN_S = 20.0
#: Default listening time before active probes, where the site file allows them.
DEFAULT_LISTEN_ACTIVE_S = 5.0
#: Time kept free inside the deadline for opening the port and walking the rules.
RESERVE_S = 5.0


class CouldNotCheck(CluDoctorError):
    """The check ran into something that says nothing about the site (exit 3, UNKNOWN).

    ``reason`` is what the history records (:data:`~clu_doctor.monitoring.result.SILENT_BUS`
    for not one byte heard, which a site file can turn into CRITICAL once it lasts).
    """

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        *,
        reason: str = OTHER,
        exit_code: ExitCode = ExitCode.UNKNOWN,
    ) -> None:
        super().__init__(message, hint)
        self.reason = reason
        self.exit_code = exit_code


def interrupted(stop: Interrupted, waited_s: float, stage: str) -> CouldNotCheck:
    """A check stopped by SIGTERM or Ctrl-C, as a "could not check" that says when and where."""
    hint = None
    if stop.signum != signal.SIGINT:  # Ctrl-C is a person who knows why
        hint = (
            "if a monitoring system or service manager stopped it, give it more time than "
            "the check's --timeout"
        )
    return CouldNotCheck(
        f"stopped by {stop.name} after {waited_s:.1f} s while {stage}; the port is released",
        hint,
        reason=INTERRUPTED,
        exit_code=stop.exit_code,
    )


@record
class CheckRequest:
    """What to check, where, and for how long."""

    site: Site
    #: Serial port or pyserial URL (``sim://...`` for the simulator).
    port: str
    profile: DeviceProfile
    #: How the port is named to people (a device path, or "simulated site cable-break").
    description: str
    listen_s: float
    #: What is left of ``--timeout`` when the check starts (it bounds the whole check).
    timeout_s: float = DEFAULT_TIMEOUT_S
    #: ``--timeout`` as the operator gave it (for messages); ``timeout_s`` if not given.
    limit_s: float | None = None
    #: The operator allowed read requests even while a master polls (``--transmit``).
    transmit: bool = False
    #: Record the raw bytes heard while listening.
    save: Path | None = None
    #: Kernel RS-485 direction control (``--rs485``).
    rs485: bool = False
    #: Makes the unopened port object for ``port`` (the in-process simulator, on a scenario
    #: already read); ``None``: pyserial opens ``port`` by name.
    opener: Callable[[], Any] | None = None

    @property
    def active(self) -> bool:
        """Are active probes allowed at all (after the listen-before-talk)?"""
        return probes_allowed(self.site, self.transmit)


def probes_allowed(site: Site, transmit: bool) -> bool:
    """Active reads may follow the listen: the operator said so, or the CLU is off the bus."""
    return transmit or site.active_probes_allowed


def default_listen_s(site: Site, transmit: bool) -> float:
    """How long to listen when ``--listen-seconds`` is not given."""
    return DEFAULT_LISTEN_ACTIVE_S if probes_allowed(site, transmit) else DEFAULT_LISTEN_S


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def iso_utc(moment: datetime) -> str:
    """``2026-11-25T03:15:00Z`` (seconds; the history and the renderers use this form)."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Stages:
    """Remembers the stage a check is in (for "timed out while ..."), passing events on."""

    def __init__(self, port: str, events: ProbeEvents | None) -> None:
        self.current = f"opening {port}"
        self._events = events

    def stage(self, message: str, seconds: float | None) -> None:
        self.current = message[0].lower() + message[1:] if message else message
        if self._events is not None:
            self._events.stage(message, seconds)

    def progress(self, done: float, total: float) -> None:
        if self._events is not None:
            self._events.progress(done, total)

    def stage_done(self, summary: str) -> None:
        if self._events is not None:
            self._events.stage_done(summary)

    def watch(self, snapshot: Callable[[], ListenReport]) -> None:
        if self._events is not None:
            self._events.watch(snapshot)


def run_check(
    request: CheckRequest,
    rulebook: Rulebook,
    *,
    history: History | None = None,
    history_missing: str | None = None,
    events: ProbeEvents | None = None,
    clock: Callable[[], datetime] = utc_now,
    today: date | None = None,
) -> CheckResult:
    """Check the site once; see the module docstring.

    ``history_missing`` says why there is no ``history`` when one was wanted (it could not be
    opened): the observations it would give are unknown, for that reason.

    Raises :class:`CouldNotCheck` (deadline expired, nothing decodable heard, stopped by
    SIGTERM or Ctrl-C), the bus layer's port errors (missing, busy, permission denied,
    unplugged), and :class:`~clu_doctor.errors.FileProblemError` for an ``ignore:`` entry
    naming no finding. All of them are exit code 3 (130 for Ctrl-C).
    """
    site = request.site
    problems = unknown_ignores(site.ignores, rulebook.findings)
    if problems:
        raise FileProblemError(problems, "run 'clu-doctor rules list' for the finding ids")
    started = iso_utc(clock())
    t0 = time.monotonic()  # the deadline's own time: a SIGALRM on the wall clock
    bus_clock = current_clock()  # what the bus took: the link's clock (virtual in tests)
    bus_t0 = bus_clock.now()
    # Time left for a line-setting search after the listen: the adapter's settings are then
    # the verdict, so the bus is not listened to again at the settings found.
    detect_s = request.timeout_s - request.listen_s - RESERVE_S
    plan = BusPlan(
        port=request.port,
        profile=request.profile,
        site=site,
        listen_s=request.listen_s,
        transmit=request.transmit,
        save=request.save,
        detect=detect_s >= DETECT_WINDOW_S,
        detect_s=detect_s,
        relisten=False,
        probe_when_quiet=request.active,
        rs485=request.rs485,
        opener=request.opener,
    )
    stages = _Stages(request.description, events)
    try:
        try:
            with deadline(request.timeout_s), BusProber(plan, stages) as prober:
                prober.listen()
                if request.active:
                    prober.duplicates()  # scans first; both refuse while a master polls
                if not prober.heard_frames():
                    unheard = _adapter_verdict(rulebook, prober)
                    raise unheard or _nothing_heard(prober, request, bus_clock.now() - bus_t0)
                stations = station_health(prober, site)
                facts = None
                if history is not None:
                    flapping = site.thresholds.flapping
                    facts = history.facts(
                        missed=flapping.missed, of=flapping.of, current=(started, stations)
                    )
                observations = _observe(rulebook, prober, site, facts, history_missing)
                diagnosis = rulebook.diagnose(observations)
                duplicates = _duplicates(prober)
                evidence = prober.evidence()
                mode = "scan" if prober.scan_result is not None else "listen"
                rate = _corrupt_rate(stations)
        except RuntimeError as error:
            signalled = unwrapped(error)
            if signalled is error:
                raise
            raise signalled from None
    except (KeyboardInterrupt, Interrupted) as error:
        stop = as_interrupted(error)
        assert stop is not None
        raise interrupted(stop, time.monotonic() - t0, stages.current) from None
    except DeadlineExpired:
        waited = time.monotonic() - t0
        limit = request.limit_s if request.limit_s is not None else request.timeout_s
        raise CouldNotCheck(
            f"timed out after {waited:.1f} s (--timeout {limit:g}) while "
            f"{stages.current}; the port is released",
            "a port that does not open or a check that does not finish points at the adapter "
            "or its USB connection; unplug and replug it, or raise --timeout",
        ) from None
    addresses = {item.id: item.addresses for item in diagnosis.all_findings()}
    diagnosis, ignored = _apply_ignores(diagnosis, site, addresses, today)
    if facts is not None:
        evidence["history"] = facts.to_dict()
    return CheckResult(
        site=site.name,
        started=started,
        duration_s=bus_clock.now() - bus_t0,
        mode=mode,
        diagnosis=diagnosis,
        stations=stations,
        duplicates=duplicates,
        corrupt_rate=rate,
        evidence=evidence,
        ignored=ignored,
    )


def _adapter_verdict(rulebook: Rulebook, prober: BusProber) -> CouldNotCheck | None:
    """What the rules say of a listen that decoded nothing: the adapter's finding (its line
    settings, or nothing decoding at any), as "could not check" in the finding's own words
    and first step; ``None`` when the rules find nothing to say of the adapter."""
    spec = rulebook.vocabulary.specs.get("bus.settings")
    if spec is None or prober.listened is None or not prober.listened.report.bytes:
        return None
    diagnosis = rulebook.diagnose(dict(prober.resolve(spec)))
    adapter = [item for item in diagnosis.findings if item.finding.layer is Layer.ADAPTER]
    if not adapter:
        return None
    finding = adapter[0].finding
    return CouldNotCheck(f"{finding.title} ({finding.id})", finding.remedy[0])


def _nothing_heard(prober: BusProber, request: CheckRequest, waited: float) -> CouldNotCheck:
    listened = prober.listened
    assert listened is not None
    report = listened.report
    where = request.description
    if report.bytes:
        what = (
            f"{report.bytes} bytes heard on {where} in {report.seconds:.1f} s, but not one "
            f"frame decodes at {listened.settings} ({listened.framing})"
        )
        hint = (
            "check the adapter's A and B wires and the line settings (site.yaml line:, "
            "framing:); 'clu-doctor listen' searches the settings in use"
        )
    elif prober.scan_result is not None:
        what = (
            f"the bus was quiet and no station answered the tool's reads on {where} "
            f"(listened {report.seconds:.1f} s, waited {waited:.1f} s in all)"
        )
        hint = (
            "is the adapter connected to the bus, with A, B and M the right way round? "
            "'clu-doctor scan --port ...' shows every read"
        )
    else:
        what = (
            f"no frame heard on {where} in {report.seconds:.1f} s of listening "
            f"(waited {waited:.1f} s in all)"
        )
        hint = (
            "is the adapter on the bus, and is the CLU running? A CLU starts polling within "
            "150 s of power-up; 'clu-doctor diagnose --port ...' on site tells a dead CLU "
            "from a loose adapter"
        )
        if not request.active:
            hint += "; with the CLU off the bus on purpose, set clu: disconnected in site.yaml"
    return CouldNotCheck(what, hint, reason=OTHER if report.bytes else SILENT_BUS)


# --- what was heard, per station ---------------------------------------------------------------


def station_health(prober: BusProber, site: Site) -> tuple[StationHealth, ...]:
    """One entry per planned address, plus addresses that answered without being planned."""
    scan = prober.scan_result
    if scan is not None:
        return _from_scan(scan, site)
    listened = prober.listened
    assert listened is not None
    short = listened.verdict("bus.unpolled_addresses")
    unjudged = set(short.addresses) if short and short.value == "listen_too_short" else set()
    return _from_listen(listened.report, site, unjudged)


def _per_address(
    site: Site,
    heard: Iterable[int],
    build: Callable[[int, str | None, bool], StationHealth | None],
) -> tuple[StationHealth, ...]:
    """Every planned address and every address ``heard``, in order; ``build`` makes the entry
    of an address the probe has something on (``None``: nothing, so not answering)."""
    planned = site.expected_addresses
    out = []
    for address in sorted({*planned, *heard}):
        label, expected = site.label_of(address), address in planned
        entry = build(address, label, expected)
        out.append(entry or StationHealth(address, label, answering=False, expected=expected))
    return tuple(out)


def _from_listen(
    report: ListenReport, site: Site, unjudged: Collection[int] = ()
) -> tuple[StationHealth, ...]:
    """``unjudged``: addresses the listen was too short to judge either way."""

    def build(address: int, label: str | None, expected: bool) -> StationHealth | None:
        entry = report.address(address)
        if address in unjudged and not (entry is not None and entry.answers):
            return StationHealth(
                address,
                label,
                answering=False,
                expected=expected,
                polls=entry.polls if entry is not None else 0,
                judged=False,
            )
        if entry is None:
            return None
        return StationHealth(
            address,
            label,
            answering=entry.answers > 0,
            expected=expected,
            polls=entry.polls,
            answers=entry.answers,
            corrupt=entry.corrupt,
            timeouts=entry.timeouts,
            state=entry.state.code if entry.state is not None else None,
            response_s=entry.response.median if entry.response is not None else None,
        )

    return _per_address(site, (e.address for e in report.addresses if e.answers), build)


def _from_scan(scan: ScanResult, site: Site) -> tuple[StationHealth, ...]:
    def build(address: int, label: str | None, expected: bool) -> StationHealth | None:
        result = scan.get(address)
        if result is None:
            return None
        errors, times = result.errors, result.response_times
        return StationHealth(
            address,
            label,
            answering=result.answered,
            expected=expected,
            polls=len(result.attempts),
            answers=sum(1 for a in result.attempts if a.outcome == "ok"),
            corrupt=errors.get("corrupt", 0),
            timeouts=errors.get("no_answer", 0),
            state=result.state,
            response_s=median(times) if times else None,
        )

    return _per_address(site, scan.answered, build)


def median(values: Sequence[float]) -> float:
    """``statistics.median``, imported only when a scan timed answers: the module brings
    ``fractions``, ``decimal`` and ``random``, which a check on a live bus never uses."""
    from statistics import median as of  # start-up: see the docstring

    return of(values)


def _corrupt_rate(stations: Sequence[StationHealth]) -> float | None:
    """Corrupt answers over settled polls, the whole bus; ``None`` if nothing was polled."""
    settled = sum(s.answers + s.corrupt + s.timeouts for s in stations)
    if not settled:
        return None
    return sum(s.corrupt for s in stations) / settled


def _duplicates(prober: BusProber) -> tuple[int, ...]:
    if prober.duplicate_result is not None:
        result = prober.duplicate_result
        return tuple(sorted({*result.confirmed, *result.suspected}))
    listened = prober.listened
    verdict = listened.verdict("bus.duplicate_address") if listened is not None else None
    return tuple(sorted(verdict.addresses)) if verdict is not None else ()


# --- observations: the bus, the history, the thresholds ----------------------------------------


def _observe(
    rulebook: Rulebook,
    prober: BusProber,
    site: Site,
    facts: HistoryFacts | None,
    history_missing: str | None = None,
) -> dict[str, Observation]:
    history = _history_observations(facts)

    def resolve(spec: ObservationSpec) -> Mapping[str, Observation]:
        if spec.probe == "site.history":
            return {spec.key: history.get(spec.key) or _no_history(spec.key, history_missing)}
        return prober.resolve(spec)

    observations: dict[str, Observation] = {}
    resolve_observations(rulebook, observations, resolve)
    observations.update(grade_observations(prober, site))
    if facts is not None and facts.silences:
        # "Silent since" goes with the finding about that silence: a station that is polled
        # and silent, or one the CLU does not poll at all.
        silent = set(prober.silent_planned() or ())
        for key, wanted in (("bus.reach", True), ("bus.unpolled", False)):
            lines = tuple(
                line
                for fact in facts.silences
                if (fact.address in silent) is wanted
                for line in fact.evidence
            )
            found = observations.get(key)
            if found is not None and lines:
                observations[key] = found._replace(evidence=(*found.evidence, *lines))
    return observations


def _history_observations(facts: HistoryFacts | None) -> dict[str, Observation]:
    if facts is None:
        return {}
    flapping = facts.flapping
    value = "some" if flapping else "none"
    lines = tuple(line for fact in flapping for line in fact.evidence)
    detail = f"site.history ({facts.checks} checks)"
    about = facts.flapping_addresses() if flapping else ()
    return {
        "history.flapping": Observation(
            "history.flapping", value, AnswerSource.PROBE, detail, lines, tuple(about)
        )
    }


def _no_history(key: str, why: str | None = None) -> Observation:
    detail = f"no history: {why}" if why else "no history kept for this check"
    return Observation(key, UNKNOWN, AnswerSource.PROBE, detail)


# --- ignores -----------------------------------------------------------------------------------


def _apply_ignores(
    diagnosis: Diagnosis,
    site: Site,
    addresses: Mapping[str, tuple[int, ...]],
    today: date | None,
) -> tuple[Diagnosis, tuple[IgnoredFinding, ...]]:
    if not site.ignores:
        return diagnosis, ()
    outcome = apply_ignores(
        diagnosis.all_findings(), site.ignores, today or date.today(), addresses=addresses
    )
    return outcome.filter(diagnosis), outcome.notes()
