"""Verdicts from a listen: what the traffic says is wrong, each with a stable key and evidence.

:func:`derive_verdicts` is a pure function of a :class:`~clu_doctor.bus.listen.ListenReport`
(and, optionally, of a :class:`~clu_doctor.bus.listen.detect.Detection` that tried every line setting).
Every threshold is a field of :class:`Thresholds`, documented there. Each :class:`Verdict` has a
stable ``key`` and a small enum-like ``value`` (the decision trees map ``key = value`` to their
observations), a severity, one title line, human evidence lines, the addresses concerned, and
the numbers behind it in ``data``.

Keys, their values, and the failure modes of domain.md §5 they point to:

* ``bus.polling``: ``none`` | ``started_late`` | ``stopped`` | ``gaps`` (F1-F4: CLU power,
  boot, USB interface)
* ``bus.undecodable``: ``at_this_setting`` | ``at_every_setting`` (F5 A/B swapped, settings)
* ``bus.no_answers``: ``silent`` | ``only_corrupt`` (F5, the "only red LED" case)
* ``bus.silent_addresses``: ``beyond_point`` | ``beyond_point_bus_intact`` | ``isolated`` |
  ``no_chain`` (F6)
* ``bus.duplicate_address``: ``identity_alternates`` | ``double_answers`` |
  ``corruption_excess`` (F7)
* ``bus.errors_spread``: ``spread`` | ``growing_along_chain`` (F10, F11)
* ``bus.unpolled_addresses``: ``not_polled`` (F8, the CLU's configuration) |
  ``listen_too_short`` (not judged: the listen held less than a whole polling cycle)
* ``station.state``: the state code itself, e.g. ``F4``, ``E2``, ``E0`` (F19, F6)

A deeper cause hides what it explains: no traffic at all -> nothing else; nothing decodes ->
only the traffic verdicts; polls but no answers at all -> no per-address verdicts.

**Silent.** An address is silent when no valid answer of its own came back (a reply from
another address is not its answer: each address, each outlet of a DUO, is judged on its own).
Garbage charged to it (the analyser charges only what plausibly came from it) may be a stray
frame or two; more than :attr:`Thresholds.silent_garbled_share` of its polls means a station
that is there but garbled, and an address garbled far more than the rest is the duplicate
test's.

**The duplicate-address test.** Two controllers answering one address garble each other's
answers or answer twice, so that address's exchanges go wrong far more often than the rest of
the bus's. For each address with ``n`` exchanges that got something back and ``k`` anomalous
ones (corrupt, or a second answer after the valid one), it asks two questions:

1. *Is this more than line noise could do?* Under "each exchange fails with probability
   ``p0 = 1 - (1 - ber_floor)^L``" (what a character error rate of ``ber_floor`` = 1e-3 does to
   an exchange of this address's mean length ``L``, request + answer: about 5 % for an ABL
   status exchange), the chance of ``k`` or more is the binomial tail
   ``P = sum_{i>=k} C(n,i) p0^i (1-p0)^(n-i)``. Required: ``P <= alpha / m`` (``alpha`` = 1e-6,
   Bonferroni over the ``m`` addresses tested). Every character error rate up to 1e-3, spread
   evenly or all on this one address, fails at most at rate p0, so this alone bounds the
   chance of a false duplicate at such rates below 1e-6 per listen (re-testing a growing live
   report adds a little).
2. *Is it this address, not the whole bus?* Fisher's exact test, one-sided, of this address's
   ``k/n`` against the rest of the bus's ``K/N`` (the other addresses that answered):
   ``P_fisher <= compare_alpha`` (1e-3), and the rate at least 3x the rest's. A uniformly
   noisy bus (an unterminated cable) fails here and is reported as errors spread instead.

``k >= 3`` in any case, and a bus with one address gives no comparison, so no verdict of this
kind. Independent of the statistics, two *different* valid answers to one request
(``double_answers``, twice) or two different identities read from one address
(``identity_alternates``) are direct evidence.

**One idea, one file.** Each verdict is a short function of one report; they stay together
because which cause hides which (the paragraph above) is only visible with all of them in one
place, and the duplicate test's statistics are written in :mod:`clu_doctor.bus.stats`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import field
from types import MappingProxyType
from typing import TYPE_CHECKING

from clu_doctor.bus.chain import Chain
from clu_doctor.bus.listen.report import AddressReport, ListenReport
from clu_doctor.bus.stats import binomial_tail, fisher_greater, trend_z
from clu_doctor.records import record
from clu_doctor.severity import Severity

if TYPE_CHECKING:
    from clu_doctor.bus.listen.detect import Detection


@record
class Thresholds:
    """Every number the verdicts use. Times are seconds of the listen's own clock."""

    #: A silence this long is a verdict: the whole listen (``none``, needs a listen at least
    #: this long), at the start, at the end, or in between. The CLU polls about once a second.
    silence_s: float = 5.0
    #: Bytes needed before "nothing decodes" means anything (a few stray bytes do not).
    undecodable_min_bytes: int = 64
    #: Fewer valid frames than this, with that many bytes, is "nothing decodes".
    undecodable_max_frames: int = 2
    #: Settled polls without any answer (valid or garbled) before an address counts as silent
    #: (a poll and its retry).
    silent_min_polls: int = 2
    #: A silent address may have this share of its settled polls (and at least one) followed
    #: by garbage in its answer window: stray noise charged to it, not a sign of life. More
    #: than that, and the station is there but garbled (errors spread, or a duplicate).
    silent_garbled_share: float = 0.1
    #: Settled polls before "polls but no answers at all" is said.
    no_answers_min_polls: int = 3
    #: Family-wise false-alarm probability of the duplicate test against line noise.
    duplicate_alpha: float = 1e-6
    #: Significance of the comparison with the rest of the bus (Fisher's exact test).
    duplicate_compare_alpha: float = 1e-3
    #: Character error rate the duplicate test must tolerate at any address without firing.
    duplicate_ber_floor: float = 1e-3
    #: Fewest anomalous exchanges at one address for the duplicate test.
    duplicate_min_anomalies: int = 3
    #: The address's anomaly rate must be at least this multiple of the rest of the bus's.
    duplicate_min_ratio: float = 3.0
    #: Exchanges with two differing valid answers that make a duplicate certain.
    duplicate_min_differing: int = 2
    #: Bus-wide rate of failed exchanges (corrupt, doubled, lost) at answering addresses...
    spread_min_rate: float = 0.02
    #: ... with at least this many failures ...
    spread_min_errors: int = 5
    #: ... at this many addresses at least (or every answering address, if fewer) ...
    spread_min_addresses: int = 3
    #: ... none holding more than this share of them (else it is one address's problem).
    spread_max_share: float = 0.5
    #: Cochran-Armitage z above which the error rate grows along the chain.
    trend_min_z: float = 3.0
    #: Visits of the master (a run of polls to one address) every polled address needs before a
    #: chain address that was never polled is reported: two visits each is at least one whole
    #: turn of its polling cycle. Fewer: the listen was too short to judge (``listen_too_short``).
    unpolled_min_cycles: int = 2
    #: State severities (from the profile) that make a ``station.state`` verdict.
    state_severities: frozenset[Severity] = frozenset({Severity.WARNING, Severity.CRITICAL})
    #: State codes never reported (none by default; E0 is a master's "disabled" and reported).
    ignore_states: frozenset[str] = frozenset()


DEFAULT_THRESHOLDS = Thresholds()

#: A state code the report's table does not list (not from the profile): worth a look, as the
#: profile's own unknown codes are (``DeviceProfile.state_info``).
_UNLISTED_STATE = ("", Severity.WARNING)

#: Every verdict key with the values it takes, as the module docstring lists them (``None``:
#: the value is free, e.g. ``station.state``'s state code). :class:`Verdict` refuses any other
#: key or value, so a new one is declared here, where the tests of the verdicts' consumers
#: (their translation into observations) can see it.
VERDICT_VALUES: Mapping[str, tuple[str, ...] | None] = MappingProxyType(
    {
        "bus.polling": ("none", "started_late", "stopped", "gaps"),
        "bus.undecodable": ("at_this_setting", "at_every_setting"),
        "bus.no_answers": ("silent", "only_corrupt"),
        "bus.silent_addresses": ("beyond_point", "beyond_point_bus_intact", "isolated", "no_chain"),
        "bus.duplicate_address": ("identity_alternates", "double_answers", "corruption_excess"),
        "bus.errors_spread": ("spread", "growing_along_chain"),
        "bus.unpolled_addresses": ("not_polled", "listen_too_short"),
        "station.state": None,
    }
)


@record
class Verdict:
    """One finding from the traffic. ``key``/``value`` are stable; the rest is for people.

    ``severity`` is the bus's own reading, used where the bus speaks for itself (``listen``'s
    table, its result line and exit code). In ``diagnose`` and ``check`` it is advisory: the
    rules decide a finding's severity (the YAML finding, or the site's thresholds through
    ``graded_by``), and a verdict reaches them only as an observation's value.
    """

    key: str
    value: str
    severity: Severity
    title: str
    evidence: tuple[str, ...] = ()
    addresses: tuple[int, ...] = ()
    data: Mapping[str, object] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "key": self.key,
            "value": self.value,
            "severity": self.severity.value,
            "title": self.title,
            "evidence": list(self.evidence),
            "addresses": list(self.addresses),
            "data": dict(self.data),
        }

    def __post_init__(self) -> None:
        if self.key not in VERDICT_VALUES:
            raise ValueError(f"undeclared verdict key {self.key!r} (see VERDICT_VALUES)")
        values = VERDICT_VALUES[self.key]
        if values is not None and self.value not in values:
            raise ValueError(f"undeclared value {self.value!r} of verdict {self.key}")


def _verdict(
    key: str,
    value: str,
    severity: Severity,
    title: str,
    evidence: Sequence[str] = (),
    addresses: Sequence[int] = (),
    **data: object,
) -> Verdict:
    return Verdict(
        key, value, severity, title, tuple(evidence), tuple(addresses), MappingProxyType(data)
    )


def _list(addresses: Sequence[int]) -> str:
    return ", ".join(str(a) for a in addresses)


def _answering(entry: AddressReport) -> bool:
    return entry.answers > 0


def _replied(entry: AddressReport) -> int:
    """Exchanges that got something back (valid or not): the duplicate test's trials."""
    return entry.answers + entry.corrupt


# --- the verdicts -----------------------------------------------------------------------------


def derive_verdicts(
    report: ListenReport,
    *,
    detection: Detection | None = None,
    chain: Chain | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> list[Verdict]:
    """Every verdict the report supports, deepest cause first (see the module docstring).

    ``chain`` overrides the report's own. ``detection`` (a sweep of line settings) turns "nothing
    decodes at this setting" into "at any setting" and supplies the silent case.
    """
    chain = chain or report.chain
    found: list[Verdict] = []
    traffic = _traffic(report, chain, thresholds)
    if traffic is not None and traffic.value == "none":
        return [traffic]
    undecodable = _undecodable(report, detection, chain, thresholds)
    if undecodable is not None:
        return [v for v in (traffic, undecodable) if v is not None]
    if traffic is not None:
        found.append(traffic)
    no_answers = _no_answers(report, thresholds)
    if no_answers is not None:
        found.append(no_answers)
        found.extend(_unpolled(report, chain, thresholds))
        return found
    duplicate = _duplicate(report, thresholds)
    duplicates = set(duplicate.addresses) if duplicate is not None else set()
    silent = _silent(report, chain, duplicates, thresholds)
    if silent is not None:
        found.append(silent)
    if duplicate is not None:
        found.append(duplicate)
    silent_set = set(silent.addresses) if silent is not None else set()
    spread = _spread(report, chain, duplicates, silent_set, thresholds)
    if spread is not None:
        found.append(spread)
    found.extend(_unpolled(report, chain, thresholds, judged=silent_set | duplicates))
    found.extend(_states(report, thresholds))
    return found


def _traffic(report: ListenReport, chain: Chain | None, t: Thresholds) -> Verdict | None:
    listened = report.seconds
    if report.bytes == 0:
        if listened < t.silence_s:
            return None
        return _verdict(
            "bus.polling",
            "none",
            Severity.CRITICAL,
            f"no traffic at all in {listened:.0f} s: the CLU is not polling",
            [
                f"not one byte in {listened:.1f} s of listening",
                "the CLU is not running, still starting (up to 150 s after power-up), or its "
                "USB-RS485 interface is dead or unplugged; or the adapter is not on the bus",
                *_adapter_evidence(chain, "a cut"),
            ],
            listened_s=round(listened, 3),
            silent_s=round(listened, 3),
        )
    first = report.first_byte or 0.0
    last = report.last_byte if report.last_byte is not None else listened
    if first >= t.silence_s:
        return _verdict(
            "bus.polling",
            "started_late",
            Severity.INFO,
            f"the bus was silent for {first:.0f} s, then traffic started",
            [
                f"first byte {first:.1f} s into a {listened:.1f} s listen",
                "consistent with a CLU that was still starting up (up to 150 s after power-up)",
            ],
            listened_s=round(listened, 3),
            silent_s=round(first, 3),
        )
    if listened - last >= t.silence_s:
        return _verdict(
            "bus.polling",
            "stopped",
            Severity.CRITICAL,
            f"traffic stopped: silent for the last {listened - last:.0f} s",
            [
                f"last byte {last:.1f} s into a {listened:.1f} s listen",
                "the CLU stopped polling (restarted, lost power or its USB interface), or the "
                "adapter lost the bus",
            ],
            listened_s=round(listened, 3),
            silent_s=round(listened - last, 3),
        )
    gaps = [s for s in report.silences if s.seconds >= t.silence_s]
    if gaps:
        longest = max(gaps, key=lambda s: s.seconds)
        return _verdict(
            "bus.polling",
            "gaps",
            Severity.WARNING,
            f"the bus went silent {len(gaps)} time(s), up to {longest.seconds:.0f} s",
            [f"silent from {s.start:.1f} s to {s.end:.1f} s ({s.seconds:.1f} s)" for s in gaps[:5]],
            listened_s=round(listened, 3),
            silent_s=round(longest.seconds, 3),
            gaps=len(gaps),
        )
    return None


def _undecodable(
    report: ListenReport, detection: Detection | None, chain: Chain | None, t: Thresholds
) -> Verdict | None:
    if detection is not None and detection.outcome == "nothing_decodes":
        heard = sum(c.bytes for c in detection.candidates)
        return _verdict(
            "bus.undecodable",
            "at_every_setting",
            Severity.CRITICAL,
            "bytes on the line but nothing decodes at any setting",
            [
                f"{len(detection.candidates)} settings and framings tried, {heard} bytes heard, "
                "no valid frame at any of them",
                "A/B swapped (at the adapter or somewhere between it and the CLU), or an "
                "adapter fixed to other settings than the program asks for",
                *_adapter_evidence(chain, "A/B crossed anywhere"),
            ],
            candidates=len(detection.candidates),
            bytes=heard,
        )
    if report.bytes < t.undecodable_min_bytes or report.frames >= t.undecodable_max_frames:
        return None
    return _verdict(
        "bus.undecodable",
        "at_this_setting",
        Severity.CRITICAL,
        f"bytes on the line but nothing decodes at {report.settings} {report.framing}",
        [
            f"{report.bytes} bytes, {report.frames} valid frames, "
            f"{report.garbage_events} garbage runs",
            "wrong line settings or framing, A/B swapped, or the adapter's settings are fixed",
            *_adapter_evidence(chain, "A/B crossed anywhere"),
        ],
        bytes=report.bytes,
        frames=report.frames,
        settings=str(report.settings),
        framing=report.framing,
    )


def _no_answers(report: ListenReport, t: Thresholds) -> Verdict | None:
    polled = [e for e in report.addresses if e.polls]
    settled = sum(e.settled for e in polled)
    if settled < t.no_answers_min_polls or any(_answering(e) for e in polled):
        return None
    garbled = sum(e.corrupt for e in polled)
    addresses = [e.address for e in polled]
    if garbled:
        return _verdict(
            "bus.no_answers",
            "only_corrupt",
            Severity.CRITICAL,
            "the CLU polls, but every answer is garbled",
            [
                f"CLU polls {_list(addresses)}; {settled} polls, {garbled} garbled answers, "
                "no valid one",
                "noise, termination, or several controllers answering at once",
            ],
            addresses,
            polls=settled,
            corrupt=garbled,
        )
    return _verdict(
        "bus.no_answers",
        "silent",
        Severity.CRITICAL,
        "the CLU polls but no station answers at all",
        [
            f"CLU polls {_list(addresses)}; {settled} polls, not one answer",
            "the manual's 'only the red LED flashes' case: bus cable broken or disconnected at "
            "the CLU, A/B swapped, M missing, or every station unpowered",
        ],
        addresses,
        polls=settled,
    )


def _silent(
    report: ListenReport, chain: Chain | None, duplicates: set[int], t: Thresholds
) -> Verdict | None:
    polled = [e for e in report.addresses if e.polls]
    # No valid answer is silence, unless garbled replies came back for more than a stray one
    # (the station is there, the line or a second controller garbles it).
    silent = [
        e.address
        for e in polled
        if e.settled >= t.silent_min_polls
        and e.answers == 0
        and e.mismatched == 0
        and e.corrupt <= max(1, int(t.silent_garbled_share * e.settled))
        and e.address not in duplicates
    ]
    if not silent:
        return None
    answering = [e.address for e in polled if _answering(e)]
    evidence = [
        f"CLU polls {_list([e.address for e in polled])}; "
        f"{_list(silent)} never answer{'s' if len(silent) == 1 else ''}"
    ]
    for address in silent[:16]:
        entry = report.address(address)
        assert entry is not None
        line = f"address {address}: {entry.polls} polls ({entry.retries} retries), no answer"
        if entry.corrupt:
            line += f" ({entry.corrupt} garbled in its answer window)"
        evidence.append(line)
        if entry.foreign:
            others = _list(entry.foreign_from) if entry.foreign_from else "another address"
            evidence.append(
                f"address {address}: {entry.foreign} replies from address {others} came in its "
                "answer window: a controller answers this address's polls with the wrong "
                "address (on a DUO, the outlet's address set to its twin's?)"
            )
    if duplicates:
        evidence.append(
            f"address {_list(sorted(duplicates))} has two devices answering: a silent "
            "station may be set to that address instead of its own"
        )
    data: dict[str, object] = {"silent": list(silent), "answering": answering}
    if chain is None:
        value = "no_chain"
        title = (
            f"address {silent[0]} never answers"
            if len(silent) == 1
            else f"addresses {_list(silent)} never answer"
        )
    else:
        positions = {a: chain.position(a) for a in silent}
        answering_positions = [p for a in answering if (p := chain.position(a)) is not None]
        last_answering = max(answering_positions, default=0)
        # Silent beyond the last station that answers (a cut there), and silent with a station
        # answering beyond (the bus passes them): both at once are two faults, the cut and
        # the single stations before it.
        in_chain = [p for p in positions.values() if p is not None and p > last_answering]
        passed = [a for a, p in positions.items() if p is not None and p <= last_answering]
        polled_set = {e.address for e in polled}
        tail = {a for point in chain.stations[last_answering:] for a in point if a in polled_set}
        if in_chain and tail <= set(silent):
            cut_after = last_answering
            after = chain.label(cut_after) if cut_after else "the CLU"
            first_silent = min(in_chain)
            if chain.adapter_at >= first_silent:
                # The adapter sits past the silent point and still hears the CLU's polls
                # cleanly: the cable is whole and not crossed up to it.
                value = "beyond_point_bus_intact"
                title = (
                    f"no station beyond {after} answers, yet the CLU's polls reach the adapter "
                    f"at {_adapter_place(chain)}: the bus is whole, the stations are silent"
                )
                evidence.append(
                    f"the adapter at {_adapter_place(chain)} hears the CLU clearly, so the cable "
                    "is neither cut nor crossed up to there: check those stations' power (a "
                    "shared breaker?), their address settings and their own BUS IN/OUT terminals"
                )
            else:
                value = "beyond_point"
                title = (
                    f"no station beyond {after} answers: the bus is cut or crossed between "
                    f"{after} and {chain.label(first_silent)}"
                )
            evidence.append(
                f"every polled station up to {after} answers, none after it does"
                + (
                    " (the last station alone: its power, address or the cable to it)"
                    if first_silent == len(chain.stations) and len(in_chain) == 1
                    else ""
                )
            )
            data["cut_after_position"] = cut_after
            data["first_silent_position"] = first_silent
            if passed:
                title += (
                    f"; address {_list(passed)} {'is' if len(passed) == 1 else 'are'} silent "
                    "too, with stations beyond answering"
                )
                evidence.append(
                    f"address {_list(passed)} never answer{'s' if len(passed) == 1 else ''}, "
                    "while stations beyond answer: the bus passes "
                    f"{'it' if len(passed) == 1 else 'them'}, so each has a fault of its own "
                    "(power, address setting or controller), apart from the cut"
                )
            data["isolated"] = passed
        else:
            value = "isolated"
            data["isolated"] = [a for a, p in positions.items() if p is not None]
            title = (
                f"address {silent[0]} never answers, while stations beyond it do"
                if len(silent) == 1
                else f"addresses {_list(silent)} never answer, while stations beyond them do"
            )
            evidence.append(
                "the bus passes those stations (later ones answer): check each one's power, "
                "its address setting and its own BUS IN/OUT terminals"
            )
        answering_set = set(answering)
        for address in silent:
            position = positions.get(address)
            if position is None:
                continue
            twins = [a for a in chain.stations[position - 1] if a != address]
            heard = [a for a in twins if a in answering_set]
            if heard:
                # one outlet of a DUO silent, the other answering: the cable reaches the box
                evidence.append(
                    f"address {address} shares {chain.label(position)} with {_list(heard)}, "
                    "which answers: the bus reaches the box, so it is that outlet's controller "
                    "(its address setting, its power, or the controller itself)"
                )
        outside = [a for a, p in positions.items() if p is None]
        if outside:
            evidence.append(f"not in the site's chain: {_list(outside)}")
            data["not_in_chain"] = outside
    # A polled station that never answers is critical whatever the chain says of where:
    # the rules' BUS-BREAK-01, BUS-STATION-01 and BUS-MISSING-01 and the scan all say so.
    # That is the site's default; a site.yaml that tolerates silent stations
    # (thresholds.stations_silent) grades those findings lower in diagnose and check, while
    # listen, which has only this verdict, still says critical.
    return _verdict(
        "bus.silent_addresses",
        value,
        Severity.CRITICAL,
        title,
        evidence,
        silent,
        **data,
    )


def _adapter_place(chain: Chain) -> str:
    if chain.adapter_at == 0:
        return "the CLU"
    if chain.adapter_at == len(chain.stations):
        return "the far end"
    return chain.label(chain.adapter_at)


def _adapter_evidence(chain: Chain | None, what: str) -> list[str]:
    """A line for an adapter away from the CLU: anything between the two looks the same."""
    if chain is None or chain.adapter_at == 0:
        return []
    return [
        f"the adapter is at {_adapter_place(chain)}: {what} between the CLU and the adapter "
        "looks the same from here; listen at the CLU end to tell"
    ]


def _duplicate(report: ListenReport, t: Thresholds) -> Verdict | None:
    candidates = [e for e in report.addresses if _replied(e) > 0]
    if not candidates:
        return None
    tested = len(candidates)
    kinds: dict[int, str] = {}
    evidence: list[str] = []
    details: dict[str, object] = {}
    total_anomalies = sum(e.anomalies for e in candidates)
    total_trials = sum(_replied(e) for e in candidates)
    for entry in candidates:
        n, k = _replied(entry), entry.anomalies
        others_n, others_k = total_trials - n, total_anomalies - k
        floor = 1 - (1 - t.duplicate_ber_floor) ** max(entry.exchange_chars, 1.0)
        p_value = binomial_tail(k, n, floor)
        others_rate = others_k / others_n if others_n else 0.0
        p_compare = fisher_greater(k, n, others_k, others_n) if others_n else 1.0
        excess = (
            k >= t.duplicate_min_anomalies
            and p_value <= t.duplicate_alpha / tested
            and p_compare <= t.duplicate_compare_alpha
            and k / n >= t.duplicate_min_ratio * others_rate
        )
        alternates = len(entry.identities) >= 2
        doubled = entry.differing >= t.duplicate_min_differing
        if not (excess or alternates or doubled):
            continue
        kind = (
            "identity_alternates"
            if alternates
            else "double_answers"
            if doubled
            else "corruption_excess"
        )
        kinds[entry.address] = kind
        line = (
            f"address {entry.address}: {k} of {n} exchanges garbled or answered twice "
            f"({100 * k / n:.0f} %), rest of the bus {100 * others_rate:.1f} %"
        )
        if excess:
            line += (
                f"; chance of that from line noise < {p_value:.1e}, from the bus's own error "
                f"rate {p_compare:.1e}"
            )
        evidence.append(line)
        if entry.differing:
            evidence.append(
                f"address {entry.address}: {entry.differing} requests got two different valid answers"
            )
        if alternates:
            evidence.append(
                f"address {entry.address} identifies as: {' / '.join(entry.identities)}"
            )
        details[str(entry.address)] = {
            "exchanges": n,
            "anomalies": k,
            "rate": round(k / n, 4),
            "rest_rate": round(others_rate, 4),
            "p_value": p_value,
            "p_compare": p_compare,
            "differing": entry.differing,
            "identities": list(entry.identities),
            "kind": kind,
        }
    if not kinds:
        return None
    order = ("identity_alternates", "double_answers", "corruption_excess")
    value = min(kinds.values(), key=order.index)
    addresses = sorted(kinds)
    evidence.append(
        "two devices answering one address garble each other's answers; read the identity of "
        "each device at that address, or check the address plan"
    )
    # Two identities or two differing answers prove it (BUS-DUP-01, critical); garbling alone
    # makes it a suspicion (BUS-DUP-02, a warning), as in diagnose and scan.
    confirmed = [a for a in addresses if kinds[a] != "corruption_excess"]
    suspected = [a for a in addresses if kinds[a] == "corruption_excess"]
    titles = []
    if confirmed:
        plural = "es" if len(confirmed) > 1 else ""
        titles.append(f"two devices answer on address{plural} {_list(confirmed)}")
    if suspected:
        titles.append(f"duplicate address suspected: {_list(suspected)}")
    return _verdict(
        "bus.duplicate_address",
        value,
        Severity.CRITICAL if confirmed else Severity.WARNING,
        "; ".join(titles),
        evidence,
        addresses,
        addresses_detail=details,
        tested=tested,
        alpha=t.duplicate_alpha,
        ber_floor=t.duplicate_ber_floor,
    )


def _spread(
    report: ListenReport,
    chain: Chain | None,
    exclude: set[int],
    silent: set[int],
    t: Thresholds,
) -> Verdict | None:
    # every address that is there (a valid or a garbled answer), but not the silent ones
    entries = [
        e
        for e in report.addresses
        if _replied(e) and e.address not in exclude and (e.answers or e.address not in silent)
    ]
    if not entries:
        return None
    failures = {e.address: e.corrupt + e.doubled + e.lost for e in entries}
    trials = {e.address: e.settled for e in entries}
    total_failures = sum(failures.values())
    total_trials = sum(trials.values())
    if total_trials == 0 or total_failures < t.spread_min_errors:
        return None
    rate = total_failures / total_trials
    affected = [a for a, f in failures.items() if f]
    needed = min(t.spread_min_addresses, len(entries))
    largest = max(failures.values())
    if (
        rate < t.spread_min_rate
        or len(affected) < needed
        or (len(entries) > 1 and largest / total_failures > t.spread_max_share)
    ):
        return None
    evidence = [
        f"{total_failures} of {total_trials} exchanges failed ({100 * rate:.1f} %) at "
        f"{len(affected)} of {len(entries)} answering addresses",
        "per address: " + ", ".join(f"{a}: {failures[a]}/{trials[a]}" for a in sorted(failures)),
    ]
    if report.corrupt_requests:
        evidence.append(f"{report.corrupt_requests} of the CLU's requests arrived garbled")
    value = "spread"
    z = None
    if chain is not None:
        points = [
            (float(p), trials[a], failures[a])
            for a in failures
            if (p := chain.position(a)) is not None and trials[a]
        ]
        if len({x for x, _, _ in points}) >= 3:
            z = trend_z(points)
            if z >= t.trend_min_z:
                value = "growing_along_chain"
                evidence.append(
                    f"the failure rate grows along the chain from the CLU (trend z = {z:.1f})"
                )
    evidence.append(
        "errors everywhere point to the cable, not a station: termination (one 120 ohm "
        "resistor at each end only), total length (150 m at most), stubs, or the screen"
    )
    return _verdict(
        "bus.errors_spread",
        value,
        Severity.WARNING,
        f"errors on every part of the bus: {100 * rate:.0f} % of exchanges failed",
        evidence,
        sorted(affected),
        rate=round(rate, 4),
        failures=total_failures,
        exchanges=total_trials,
        trend_z=None if z is None else round(z, 2),
    )


def _unpolled(
    report: ListenReport,
    chain: Chain | None,
    t: Thresholds,
    judged: Collection[int] = (),
) -> list[Verdict]:
    """Planned addresses the CLU never polls; or, on a listen shorter than its polling cycles,
    the planned addresses not judged at all: never polled yet, or polled without an answer
    too few times to be called silent (``judged``: the addresses another verdict settled)."""
    if chain is None:
        return []
    polled = [e for e in report.addresses if e.polls]
    if not polled:
        return []
    polled_set = {e.address for e in polled}
    missing = [a for a in chain.addresses if a not in polled_set]
    cycles = min(e.visits for e in polled)
    if cycles < t.unpolled_min_cycles:
        # ... polled, but not one answer (valid or garbled) heard, and not judged silent: the
        # listen may have ended before its answer came
        unheard = [
            e.address
            for e in polled
            if e.address in chain.addresses
            and not e.answers
            and not e.corrupt
            and e.address not in judged
        ]
        missing = sorted({*missing, *unheard})
    if not missing:
        return []
    plural = "es" if len(missing) > 1 else ""
    if cycles < t.unpolled_min_cycles:
        # The master has not been round its list yet: an address it has not come to may
        # still be on it. Say so, and judge nothing.
        cycle = report.poll_cycle
        how_long = (
            f"its polling cycle takes about {cycle:.1f} s"
            if cycle is not None
            else f"it did not come back to any address in {report.seconds:.1f} s"
        )
        return [
            _verdict(
                "bus.unpolled_addresses",
                "listen_too_short",
                Severity.UNKNOWN,
                f"not judged: the CLU was not heard going round all its stations, so whether "
                f"address{plural} {_list(missing)} {'are' if plural else 'is'} polled and "
                "answering is not known",
                [
                    f"listened {report.seconds:.1f} s; the CLU polled {_list(sorted(polled_set))}"
                    f" and {how_long}",
                    f"listen for at least {t.unpolled_min_cycles} of the CLU's polling cycles "
                    "to tell whether it polls every station of the site",
                ],
                missing,
                polled=sorted(polled_set),
                cycles=cycles,
                poll_cycle_s=None if cycle is None else round(cycle, 3),
            )
        ]
    return [
        _verdict(
            "bus.unpolled_addresses",
            "not_polled",
            Severity.CRITICAL,  # as BUS-UNPOLLED-01: the CLU neither manages nor reports them
            f"the CLU never polls address{plural} {_list(missing)}",
            [
                f"the site has {_list(missing)}; the CLU polled {_list(sorted(polled_set))} "
                f"at least {t.unpolled_min_cycles} times each, never these",
                "the station is missing from the CLU's configuration (or has another "
                "address than the plan says); its display may show F4 (no master)",
            ],
            missing,
            polled=sorted(polled_set),
            cycles=cycles,
        )
    ]


def _states(report: ListenReport, t: Thresholds) -> list[Verdict]:
    by_code: dict[str, list[AddressReport]] = {}
    for entry in report.addresses:
        for code in entry.states:
            meaning, severity = report.state_table.get(code, _UNLISTED_STATE)
            if severity in t.state_severities and code not in t.ignore_states:
                by_code.setdefault(code, []).append(entry)
    verdicts = []
    for code in sorted(by_code, key=lambda c: (_state_rank(report, c), c)):
        entries = by_code[code]
        meaning, severity = report.state_table.get(code, _UNLISTED_STATE)
        addresses = [e.address for e in entries]
        evidence = []
        for entry in entries:
            now = entry.state.code if entry.state else "?"
            evidence.append(
                f"address {entry.address} reported {code} in {entry.states[code]} status "
                f"answers; latest state {now}"
            )
        verdicts.append(
            _verdict(
                "station.state",
                code,
                severity,
                f"{code} at address{'es' if len(addresses) > 1 else ''} {_list(addresses)}: "
                f"{meaning}",
                evidence,
                addresses,
                meaning=meaning,
                current={str(e.address): e.state.code if e.state else None for e in entries},
            )
        )
    return verdicts


def _state_rank(report: ListenReport, code: str) -> int:
    """Worst first: a critical state code before a warning."""
    return -report.state_table.get(code, _UNLISTED_STATE)[1].rank
