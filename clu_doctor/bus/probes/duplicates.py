"""Duplicate-address detection: two devices answering one address.

:func:`find_duplicates` reads the identity block of every address ``reads`` times, round-robin
(so a burst of interference hits every address alike), and keeps everything that came back:
the reply, the bytes that followed it in the same read, and whatever arrives in a short window
after it (a second device answers a little later, or at the same time and garbles both).

An address whose replies came back garbled in most of its reads gets as many reads again, each
after a pause of varied length and with a longer wait for a second reply: controllers answer at
their own pace, so a collision that garbles one read may let both replies through another
(then two identities confirm it).

A valid reply from *another* address than the one read (``wrong_address``) is not a reply of
this address: it is counted apart and neither clears nor accuses the address.

Per address the verdict is:

``confirmed``
    Two devices are proven: a second valid reply with another identity followed the first in
    one answer window; or two identities were each read cleanly at least twice; or two
    identities were read (the second once) at an address that is also *suspected* below.
    A single clean read of a second identity alone is not enough: on a very noisy ASCII line a
    corrupted reply can pass the 8-bit LRC.
``suspected``
    Any of (each rule is relative to the rest of the bus, so uniform noise cannot trigger it):

    * **corrupt rate** - of the replies at this address, a share ``k/n`` was corrupt, far above
      the bus's background (every other address pooled, ``K/N``). All of: ``n >= 8``,
      ``k >= 4``, ``k/n >= 0.25``, ``k/n >= 4 x K/N``, ``N >= 8``, and the one-sided Fisher exact
      test (hypergeometric tail ``P[X >= k]`` for ``n`` draws from ``n + N`` replies of which
      ``k + K`` corrupt) below ``ALPHA = 1e-6``.
    * **collision** - too few replies elsewhere to compare with (``N < 8``), but the replies at
      this address came back garbled in nearly every read (``k >= 4``, ``k/n >= 0.8``): a reply
      garbled every time is the signature of two controllers answering at once.
    * **doubled** - at least twice, a second valid reply with the same identity followed the
      first (two devices with identical identity blocks, e.g. blank serials).
    * **timing** - the clean reply times split into two clusters (each at least 3 replies and
      20 %, separated by a gap of at least 3 x the wider cluster's spread and at least 2 ms +
      4 character times), while the other addresses with enough replies (at least 2) show one
      cluster (at most a quarter of them two). An adapter whose latency timer quantises every
      reply time shows up on every address and is not mistaken for a second device.
``none``
    Otherwise.

The bus-wide verdict is ``confirmed`` > ``suspected`` > ``noisy`` (the background corrupt rate,
over the addresses not suspected, is at least 2 % with at least 3 corrupt replies: noise, not
a duplicate) > ``none``. The background rate is in the result so a rule can say "noisy bus".

**One idea, one file.** Finding two devices on one address actively: the read plan, the
statistics' verdict per address and the evidence a person reads are one procedure; the
statistics themselves are in :mod:`clu_doctor.bus.stats`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import field
from typing import Any, Literal, TypeVar

from clu_doctor.bus.codecs.events import Decoded, Garbage
from clu_doctor.bus.errors import UnexpectedAnswer
from clu_doctor.bus.frames import parse_read_reply
from clu_doctor.bus.link import Link
from clu_doctor.bus.probes.base import (
    AdaptiveTimeout,
    LbtResult,
    exchange,
    lbt_window,
    ranges,
    require_quiet,
)
from clu_doctor.bus.probes.scan import Progress, scan_order, scan_timer
from clu_doctor.bus.profile import DeviceProfile, Identity
from clu_doctor.bus.stats import fisher_greater
from clu_doctor.records import record

AddressVerdict = Literal["none", "suspected", "confirmed"]
DuplicateVerdict = Literal["none", "noisy", "suspected", "confirmed"]
NoiseVerdict = Literal["clean", "noisy", "unknown"]
Reason = Literal["identities", "doubled", "corrupt_rate", "collision", "timing"]

DEFAULT_READS = 30
#: Stop reading an address after this many attempts in a row with nothing at all coming back.
DEFAULT_GIVE_UP_AFTER = 3

# The corrupt-rate rule (see the module docstring).
ALPHA = 1e-6
MIN_REPLIES = 8
MIN_CORRUPT = 4
MIN_RATE = 0.25
MIN_RATIO = 4.0
MIN_BACKGROUND = 8
# The collision rule (no background to compare with).
COLLISION_RATE = 0.8
# Reads again for an address garbled in most reads: as many as the planned ones, each after a
# pause of up to this many answer timeouts, with the wait for a second reply this much longer.
GARBLED_SHARE = 0.5
RETRY_PAUSE_TIMEOUTS = 2.0
PATIENT_TAIL_FACTOR = 3.0
# The timing rule.
MIN_CLUSTER = 3
MIN_CLUSTER_SHARE = 0.2
GAP_SPREAD_RATIO = 3.0
MIN_GAP_S = 0.002
MIN_GAP_CHARS = 4
MIN_TIMED = 10
MAX_BIMODAL_OTHERS = 0.25
MIN_OTHERS_TIMED = 2
# Doubled answers.
MIN_DOUBLED = 2
# Noise.
NOISY_RATE = 0.02
NOISY_MIN_CORRUPT = 3
# The window after a reply in which a second device's reply is looked for.
TAIL_FACTOR = 2.0
TAIL_MARGIN_S = 0.010
MIN_TAIL_S = 0.005

T = TypeVar("T")


@record
class Clusters:
    """Two clusters of reply times: ``(low, high, count)`` each, and the gap between them."""

    first: tuple[float, float, int]
    second: tuple[float, float, int]
    gap: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "first": {"from_s": self.first[0], "to_s": self.first[1], "count": self.first[2]},
            "second": {"from_s": self.second[0], "to_s": self.second[1], "count": self.second[2]},
            "gap_s": round(self.gap, 6),
        }


def two_clusters(times: Sequence[float], char_time: float) -> Clusters | None:
    """The two clusters of the timing rule, or ``None`` if ``times`` do not split into two."""
    values = sorted(times)
    n = len(values)
    if n < MIN_TIMED:
        return None
    least = max(MIN_CLUSTER, math.ceil(MIN_CLUSTER_SHARE * n))
    best: tuple[float, int] | None = None
    for i in range(least, n - least + 1):
        gap = values[i] - values[i - 1]
        if best is None or gap > best[0]:
            best = (gap, i)
    if best is None:
        return None
    gap, i = best
    low, high = values[:i], values[i:]
    spread = max(low[-1] - low[0], high[-1] - high[0])
    if gap < max(MIN_GAP_S + MIN_GAP_CHARS * char_time, GAP_SPREAD_RATIO * spread):
        return None
    return Clusters((low[0], low[-1], len(low)), (high[0], high[-1], len(high)), gap)


# --- results ---------------------------------------------------------------------------------


@record
class SeenIdentity:
    """One identity read at an address, and how often."""

    identity: Identity
    #: Clean first replies with this identity.
    count: int
    #: Second replies (after another reply in the same answer window) with this identity.
    doubled: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.identity.text,
            "device_type": self.identity.device_type,
            "serial": self.identity.serial,
            "count": self.count,
            "doubled": self.doubled,
        }


@record
class AddressDuplicates:
    """The duplicate check at one address: counts, identities, statistics, verdict."""

    address: int
    verdict: AddressVerdict
    reasons: tuple[Reason, ...]
    #: Requests sent.
    reads: int
    ok: int
    corrupt: int
    no_answer: int
    unexpected: int
    exceptions: int
    #: Reads answered validly by another address than this one (counted apart).
    wrong_address: int
    #: Reads where a second valid reply followed the first.
    doubled: int
    #: Reads where corrupt bytes followed a clean reply.
    corrupt_tails: int
    identities: tuple[SeenIdentity, ...]
    response_times: tuple[float, ...]
    #: Corrupt share of the replies here, and of every other address's replies pooled.
    corrupt_rate: float | None
    background_rate: float | None
    background_replies: int
    #: Fisher exact test p-value of the corrupt count (``None``: not enough data to test).
    p_value: float | None
    clusters: Clusters | None
    evidence: tuple[str, ...]
    next_step: str | None

    @property
    def replies(self) -> int:
        """Requests that got something back that looked like a reply (clean or corrupt)."""
        return self.ok + self.corrupt

    @property
    def answered(self) -> bool:
        return self.ok + self.unexpected + self.exceptions > 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "verdict": self.verdict,
            "reasons": list(self.reasons),
            "reads": self.reads,
            "ok": self.ok,
            "corrupt": self.corrupt,
            "no_answer": self.no_answer,
            "unexpected": self.unexpected,
            "exceptions": self.exceptions,
            "wrong_address": self.wrong_address,
            "doubled": self.doubled,
            "corrupt_tails": self.corrupt_tails,
            "identities": [i.to_dict() for i in self.identities],
            "response_times_s": [round(t, 6) for t in self.response_times],
            "corrupt_rate": self.corrupt_rate,
            "background_rate": self.background_rate,
            "background_replies": self.background_replies,
            "p_value": self.p_value,
            "clusters": self.clusters.to_dict() if self.clusters else None,
            "evidence": list(self.evidence),
            "next_step": self.next_step,
        }


@record
class Background:
    """The bus's own corrupt rate, over the addresses not suspected of a duplicate."""

    replies: int
    corrupt: int
    verdict: NoiseVerdict

    @property
    def rate(self) -> float | None:
        return self.corrupt / self.replies if self.replies else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "replies": self.replies,
            "corrupt": self.corrupt,
            "rate": self.rate,
            "verdict": self.verdict,
            "noisy_rate": NOISY_RATE,
        }


@record
class DuplicateResult:
    """The duplicate check over every address probed."""

    verdict: DuplicateVerdict
    addresses: tuple[AddressDuplicates, ...]
    background: Background
    reads: int
    lbt: LbtResult | None
    forced: bool
    duration_s: float
    #: Bytes that arrived after an answer window had closed and were thrown away unread
    #: before the next request (late replies, e.g. from a slow second device).
    late_bytes: int = 0
    parameters: dict[str, Any] = field(default_factory=dict)

    def get(self, address: int) -> AddressDuplicates | None:
        for entry in self.addresses:
            if entry.address == address:
                return entry
        return None

    @property
    def confirmed(self) -> tuple[int, ...]:
        return tuple(a.address for a in self.addresses if a.verdict == "confirmed")

    @property
    def suspected(self) -> tuple[int, ...]:
        return tuple(a.address for a in self.addresses if a.verdict == "suspected")

    @property
    def duplicates(self) -> tuple[int, ...]:
        """Confirmed and suspected addresses."""
        return tuple(a.address for a in self.addresses if a.verdict != "none")

    @property
    def silent(self) -> tuple[int, ...]:
        return tuple(a.address for a in self.addresses if a.replies == 0 and not a.answered)

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "confirmed": list(self.confirmed),
            "suspected": list(self.suspected),
            "silent": list(self.silent),
            "background": self.background.to_dict(),
            "reads": self.reads,
            "forced": self.forced,
            "lbt": self.lbt.to_dict() if self.lbt else None,
            "duration_s": round(self.duration_s, 4),
            "late_bytes": self.late_bytes,
            "parameters": self.parameters,
            "addresses": [a.to_dict() for a in self.addresses],
        }


# --- the guided next step ---------------------------------------------------------------------


def next_step(address: int) -> str:
    """The manual-style next step for a duplicate at ``address`` (bisection by power)."""
    return (
        f"Switch off half of the stations that could hold address {address} (every station "
        "whose controller was replaced, reset or re-addressed first; if none is known, half "
        f"of the chain), then run the duplicate check on address {address} again: if the "
        "second identity is gone, the culprit is in the switched-off half, else in the other. "
        "Halve again until one station is left, then give its controller its own address "
        "(the station's label tells which one)."
    )


def bisect_candidates(
    candidates: Sequence[T], likely: Collection[T] = ()
) -> tuple[tuple[T, ...], tuple[T, ...]]:
    """Split the stations that could hold a duplicated address for one bisection step.

    Returns ``(switch_off, keep_on)``: the likely culprits (e.g. stations whose own address
    is silent, or whose controller was replaced) go into the switched-off half first.
    """
    ordered = [c for c in candidates if c in likely] + [c for c in candidates if c not in likely]
    half = (len(ordered) + 1) // 2
    return tuple(ordered[:half]), tuple(ordered[half:])


# --- the probe -------------------------------------------------------------------------------


@record(frozen=False)
class _Tally:
    address: int
    reads: int = 0
    ok: int = 0
    corrupt: int = 0
    no_answer: int = 0
    unexpected: int = 0
    exceptions: int = 0
    wrong_address: int = 0
    doubled: int = 0
    doubled_same: int = 0
    doubled_other: int = 0
    corrupt_tails: int = 0
    quiet_streak: int = 0
    identities: Counter[str] = field(default_factory=Counter)
    doubled_identities: Counter[str] = field(default_factory=Counter)
    samples: dict[str, Identity] = field(default_factory=dict)
    times: list[float] = field(default_factory=list)

    @property
    def replies(self) -> int:
        return self.ok + self.corrupt


def _second_replies(
    link: Link,
    profile: DeviceProfile,
    request_raw: bytes,
    address: int,
    data: bytes,
) -> tuple[list[Identity], int]:
    """Valid replies to the same request in ``data`` (bytes after the first reply), decoded,
    and the number of corrupt runs among them."""
    decoder = link.codec.decoder()
    decoder.feed(request_raw)  # an RTU decoder then knows the reply's length
    events = decoder.feed(data) + decoder.flush()
    request = profile.identity_request(address)
    found: list[Identity] = []
    corrupt = 0
    for event in events:
        if isinstance(event, Garbage):
            corrupt += int(event.reason != "noise")
            continue
        if not isinstance(event, Decoded) or event.raw == request_raw:
            continue
        try:
            registers = parse_read_reply(request, event.frame)
            found.append(profile.decode_identity(registers))
        except UnexpectedAnswer:
            corrupt += 1
    return found, corrupt


def _read_once(
    link: Link,
    profile: DeviceProfile,
    tally: _Tally,
    timer: AdaptiveTimeout,
    tail_s: float | None,
    *,
    patient: bool = False,
) -> None:
    """One identity read of ``tally``'s address, counted. ``patient``: wait longer for the
    answer and for a second one after it (the reads again of a garbled address)."""
    request = profile.identity_request(tally.address)
    if patient:
        attempt = exchange(link, request, "identity", timer.value * PATIENT_TAIL_FACTOR)
    else:
        attempt = exchange(link, request, "identity", timer.value, timer.start)
    tally.reads += 1
    if attempt.garbled:
        # bytes came back but no readable frame (a corrupt one, or not even its start
        # readable): two controllers answering at once, in step
        tally.quiet_streak = 0
        tally.corrupt += 1
        return
    if attempt.outcome == "no_answer":
        tally.no_answer += 1
        tally.quiet_streak += 1
        return
    if attempt.outcome == "wrong_address":
        tally.wrong_address += 1
        tally.quiet_streak += 1  # nothing from this address itself
        return
    tally.quiet_streak = 0
    if attempt.outcome == "exception":
        tally.exceptions += 1
        return
    if attempt.outcome == "unexpected":
        tally.unexpected += 1
        return
    try:
        identity = profile.decode_identity(attempt.registers)
    except UnexpectedAnswer:
        tally.unexpected += 1
        return
    tally.ok += 1
    tally.times.append(attempt.elapsed_s)
    timer.observe(attempt.elapsed_s, attempt.first_byte_s)
    tally.identities[identity.text] += 1
    tally.samples.setdefault(identity.text, identity)
    # A second device answers in the same window: look at what followed the reply.
    window = (
        tail_s
        if tail_s is not None
        else max(MIN_TAIL_S, TAIL_FACTOR * timer.longest + TAIL_MARGIN_S - attempt.elapsed_s)
    )
    if patient:
        window *= PATIENT_TAIL_FACTOR
    after = attempt.trailing
    if window > 0:
        after += b"".join(chunk for _, chunk in link.receive(window))
    if not after:
        return
    seconds, corrupt = _second_replies(link, profile, attempt.request, tally.address, after)
    if corrupt and not seconds:
        tally.corrupt_tails += 1
    if seconds:
        tally.doubled += 1
        tally.doubled_same += int(any(s.text == identity.text for s in seconds))
        tally.doubled_other += int(any(s.text != identity.text for s in seconds))
        for second in seconds:
            tally.doubled_identities[second.text] += 1
            tally.samples.setdefault(second.text, second)


def _mostly_garbled(tally: _Tally) -> bool:
    """Replies garbled in most reads, and not yet two identities to confirm it."""
    return (
        tally.corrupt >= 2
        and tally.corrupt >= GARBLED_SHARE * tally.reads
        and len(set(tally.identities) | set(tally.doubled_identities)) < 2
    )


def _judge(
    tally: _Tally,
    others: list[_Tally],
    bimodal_others: tuple[int, int],
    char_time: float,
) -> AddressDuplicates:
    evidence: list[str] = []
    reasons: list[Reason] = []
    address = tally.address

    # Corrupt rate against the rest of the bus (Fisher's exact test).
    n, k = tally.replies, tally.corrupt
    big_n = sum(o.replies for o in others)
    big_k = sum(o.corrupt for o in others)
    rate = k / n if n else None
    background = big_k / big_n if big_n else None
    p_value: float | None = None
    if n and big_n:
        p_value = fisher_greater(k, n, big_k, big_n)
    suspect_rate = (
        rate is not None
        and background is not None
        and p_value is not None
        and n >= MIN_REPLIES
        and k >= MIN_CORRUPT
        and big_n >= MIN_BACKGROUND
        and rate >= MIN_RATE
        and rate >= MIN_RATIO * background
        and p_value <= ALPHA
    )
    collision = (
        not suspect_rate
        and rate is not None
        and big_n < MIN_BACKGROUND
        and k >= MIN_CORRUPT
        and rate >= COLLISION_RATE
    )
    if collision:
        reasons.append("collision")
        evidence.append(
            f"{k} of {n} replies at address {address} were corrupt ({rate:.0%}): a reply garbled "
            "in nearly every read is two controllers answering at once (too few replies "
            "elsewhere on the bus to compare with)"
        )
    if suspect_rate:
        reasons.append("corrupt_rate")
        evidence.append(
            f"{k} of {n} replies at address {address} were corrupt ({rate:.0%}), against "
            f"{big_k} of {big_n} ({background:.1%}) at the other addresses "
            f"(Fisher exact test p = {p_value:.1e})"
        )

    # Doubled answers with the same identity.
    if tally.doubled_same >= MIN_DOUBLED:
        reasons.append("doubled")
        evidence.append(
            f"{tally.doubled_same} of {tally.ok} clean replies were followed by a second, identical "
            "valid reply: two devices with the same identity answer this address"
        )

    # Two clusters of reply times, where the other addresses show one.
    clusters = two_clusters(tally.times, char_time)
    tested, bimodal = bimodal_others
    if (
        clusters is not None
        and tested >= MIN_OTHERS_TIMED
        and bimodal <= MAX_BIMODAL_OTHERS * tested
    ):
        reasons.append("timing")
        evidence.append(
            f"reply times form two clusters, {clusters.first[0] * 1000:.1f}-"
            f"{clusters.first[1] * 1000:.1f} ms ({clusters.first[2]}) and "
            f"{clusters.second[0] * 1000:.1f}-{clusters.second[1] * 1000:.1f} ms "
            f"({clusters.second[2]}), while {tested - bimodal} of {tested} other addresses "
            "show one"
        )

    # Identities.
    names = set(tally.identities) | set(tally.doubled_identities)
    seen = tuple(
        sorted(
            (
                SeenIdentity(
                    tally.samples[name],
                    tally.identities[name],
                    tally.doubled_identities[name],
                )
                for name in names
            ),
            key=lambda s: (-(s.count + s.doubled), s.identity.text),
        )
    )
    totals = sorted(
        (tally.identities[n] + tally.doubled_identities[n] for n in names), reverse=True
    )
    confirmed = len(names) >= 2 and (tally.doubled_other > 0 or totals[1] >= 2 or bool(reasons))
    if len(names) >= 2:
        listing = ", ".join(f"{s.identity.text} (x{s.count + s.doubled})" for s in seen)
        if confirmed:
            reasons.insert(0, "identities")
            how = (
                "two valid replies to one request"
                if tally.doubled_other
                else "different identities on different reads"
            )
            evidence.insert(
                0, f"{len(names)} identities answer address {address} ({how}): {listing}"
            )
        else:
            evidence.append(
                f"a second identity was read once among {tally.ok} clean replies ({listing}); "
                "not enough on its own to confirm a duplicate"
            )

    verdict: AddressVerdict = "confirmed" if confirmed else "suspected" if reasons else "none"
    if verdict == "none" and tally.replies == 0 and not tally.unexpected + tally.exceptions:
        evidence.append(f"address {address}: no reply in {tally.reads} reads")
    return AddressDuplicates(
        address=address,
        verdict=verdict,
        reasons=tuple(reasons),
        reads=tally.reads,
        ok=tally.ok,
        corrupt=tally.corrupt,
        no_answer=tally.no_answer,
        wrong_address=tally.wrong_address,
        unexpected=tally.unexpected,
        exceptions=tally.exceptions,
        doubled=tally.doubled,
        corrupt_tails=tally.corrupt_tails,
        identities=seen,
        response_times=tuple(tally.times),
        corrupt_rate=rate,
        background_rate=background,
        background_replies=big_n,
        p_value=p_value,
        clusters=clusters,
        evidence=tuple(evidence),
        next_step=next_step(address) if verdict != "none" else None,
    )


def find_duplicates(
    link: Link,
    profile: DeviceProfile,
    addresses: Sequence[int],
    *,
    reads: int = DEFAULT_READS,
    give_up_after: int = DEFAULT_GIVE_UP_AFTER,
    timeout: float | None = None,
    tail_s: float | None = None,
    progress: Progress | None = None,
    force: bool = False,
    lbt: LbtResult | None = None,
    listen_s: float | None = None,
    listen_max_s: float | None = None,
) -> DuplicateResult:
    """Read the identity of every address ``reads`` times and judge each (module docstring).

    ``timeout``: the answer timeout until something answered (default twice the profile's
    ``response_timeout_floor``), then learned from the answers as in the scan
    (:func:`~clu_doctor.bus.probes.scan.scan_timer`), but never below the profile's floor:
    this check must not take a slow second controller for silence. ``tail_s``: how long to listen
    after each clean reply for a second one (default: 2 x the longest reply time + 10 ms,
    less this reply's time). An address with nothing back ``give_up_after`` times in a row is
    not read further. ``progress(done, total, address)`` counts requests.

    Listens first unless ``force``; raises :class:`~clu_doctor.bus.probes.base.BusBusy` with
    nothing sent if the bus is not quiet.
    """
    if reads < 1 or give_up_after < 1:
        raise ValueError("reads and give_up_after must be at least 1")
    order = scan_order(addresses)
    # (a slow second controller must not be taken for silence: the profile's floor stays)
    timer = scan_timer(link, profile, timeout, keep_assumed=True)
    idle = listen_s if listen_s is not None else lbt_window(profile.timing.master_period)
    listened = require_quiet(link, force=force, lbt=lbt, idle_s=idle, max_wait_s=listen_max_s)
    started = link.clock.now()
    discarded_before = link.bytes_discarded
    tallies = {address: _Tally(address) for address in order}
    total = reads * len(order)
    done = 0
    for _ in range(reads):
        for address in order:
            tally = tallies[address]
            done += 1
            if (
                tally.quiet_streak >= give_up_after
                and not tally.replies + tally.unexpected + tally.exceptions
            ):
                continue
            _read_once(link, profile, tally, timer, tail_s)
            if progress is not None:
                progress(done, total, address)
    # Garbled in most reads: as many reads again, paced differently (the module docstring).
    again = [a for a in order if _mostly_garbled(tallies[a])]
    if again:
        import random  # start-up: only an active probe uses it

        pace = random.Random("duplicates/" + ",".join(map(str, again)))
        total += reads * len(again)
        for _ in range(reads):
            for address in again:
                done += 1
                link.clock.sleep(pace.uniform(0.0, RETRY_PAUSE_TIMEOUTS * timer.value))
                _read_once(link, profile, tallies[address], timer, tail_s, patient=True)
                if progress is not None:
                    progress(done, total, address)
    char_time = link.settings.char_time
    timed = {a: t for a, t in tallies.items() if len(t.times) >= MIN_TIMED}
    bimodal = {a for a, t in timed.items() if two_clusters(t.times, char_time) is not None}
    judged = []
    for address in order:
        others = [t for a, t in tallies.items() if a != address]
        tested = [a for a in timed if a != address]
        judged.append(
            _judge(
                tallies[address],
                others,
                (len(tested), len([a for a in tested if a in bimodal])),
                char_time,
            )
        )
    clean = [a for a in judged if a.verdict == "none"]
    replies = sum(a.replies for a in clean)
    corrupt = sum(a.corrupt for a in clean)
    noise: NoiseVerdict = (
        "unknown"
        if replies < MIN_BACKGROUND
        else "noisy"
        if corrupt >= NOISY_MIN_CORRUPT and corrupt / replies >= NOISY_RATE
        else "clean"
    )
    verdicts = {a.verdict for a in judged}
    verdict: DuplicateVerdict = (
        "confirmed"
        if "confirmed" in verdicts
        else "suspected"
        if "suspected" in verdicts
        else "noisy"
        if noise == "noisy"
        else "none"
    )
    return DuplicateResult(
        verdict=verdict,
        addresses=tuple(judged),
        background=Background(replies, corrupt, noise),
        reads=reads,
        lbt=listened,
        forced=force,
        duration_s=link.clock.now() - started,
        late_bytes=link.bytes_discarded - discarded_before,
        parameters={
            "alpha": ALPHA,
            "min_replies": MIN_REPLIES,
            "min_corrupt": MIN_CORRUPT,
            "min_rate": MIN_RATE,
            "min_ratio": MIN_RATIO,
            "min_background": MIN_BACKGROUND,
            "min_doubled": MIN_DOUBLED,
            "noisy_rate": NOISY_RATE,
            "give_up_after": give_up_after,
            "timeout": timer.to_dict(),
        },
    )


def describe_identity(seen: SeenIdentity) -> str:
    """``device type 2W22M1, serial DF230101: 12 replies (3 as a second reply)``."""
    identity = seen.identity
    parts = []
    if identity.device_type is not None:
        parts.append(f"device type {identity.device_type.strip() or '(blank)'}")
    if identity.serial is not None:
        parts.append(f"serial {identity.serial.strip() or '(blank)'}")
    name = ", ".join(parts) or f"identity {identity.text}"
    total = seen.count + seen.doubled
    counted = f"{total} repl{'y' if total == 1 else 'ies'}"
    if seen.doubled:
        counted += f" ({seen.doubled} as a second reply to the same request)"
    return f"{name}: {counted}"


_VERDICT_WORDS = {"confirmed": "duplicate confirmed", "suspected": "duplicate suspected"}


def describe_address(entry: AddressDuplicates) -> list[str]:
    """What a user needs at one confirmed or suspected address: the identities seen there,
    the evidence, and the next step. Empty for an address that is not a duplicate."""
    if entry.verdict == "none":
        return []
    address = entry.address
    heading = f"address {address}: {_VERDICT_WORDS[entry.verdict]}"
    if not entry.identities:
        heading += f"; no clean reply in {entry.reads} reads to read an identity from"
    elif len(entry.identities) == 1:
        heading += "; one identity seen"
    else:
        heading += f"; {len(entry.identities)} identities seen"
    lines = [heading]
    lines += [
        f"address {address} answered as {describe_identity(seen)}" for seen in entry.identities
    ]
    # The identities line of the evidence lists them again, in the decoder's words: skip it.
    skip = 1 if entry.reasons[:1] == ("identities",) else 0
    lines += list(entry.evidence[skip:])
    if entry.next_step:
        lines.append(f"next step: {entry.next_step}")
    return lines


def describe(result: DuplicateResult) -> list[str]:
    """Readable lines for reports and logs: per confirmed or suspected address the identities
    seen (device type, serial, how often), the evidence and the next step; then bus-wide noise
    and the silent addresses."""
    lines = []
    for entry in result.addresses:
        lines += describe_address(entry)
    if result.verdict == "noisy" and result.background.rate is not None:
        lines.append(f"noisy bus: {result.background.rate:.1%} of replies corrupt at every address")
    if result.silent:
        lines.append(f"silent: {ranges(list(result.silent))}")
    return lines
