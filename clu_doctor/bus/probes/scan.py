"""The address scan: which addresses answer, who they are, what state they report.

:func:`scan` reads every address's identity block (and, where the profile has one and the
identity answered, its status block): the expected addresses first, then the rest in the order
given. The answer deadlines are learned from the devices that answered (:class:`AdaptiveTimeout`):
a silent address costs about the slowest turnaround on the bus, not the profile's assumption,
and a device slower than that shows itself by a late answer and is read again. Silent expected
addresses get retries; the scan can stop as soon as every expected address has answered. It
listens before it talks (:func:`require_quiet`).

Each address is judged on its own: a valid reply from another address (``wrong_address``) is
not its answer, and an address whose replies come back garbled in most reads is *garbled*
(two controllers answering at once), never silent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import field, replace
from typing import Any

from clu_doctor.bus.errors import UnexpectedAnswer
from clu_doctor.bus.frames import MAX_ADDRESS, ReadRequest
from clu_doctor.bus.link import Link
from clu_doctor.bus.probes.base import (
    OUTCOMES,
    AdaptiveTimeout,
    Exchange,
    LbtResult,
    exchange,
    lbt_window,
    physical_floor,
    replies_in,
    require_quiet,
)
from clu_doctor.bus.profile import DeviceProfile, Identity, StationStatus
from clu_doctor.records import record

#: ``progress(done, total, address)``, called after each address.
Progress = Callable[[int, int, int], None]

#: Extra attempts for a silent expected address (the first request after idle is sometimes
#: lost: abl-protocol.md §4), and for any address where something came back that was not a
#: valid answer from it (garbled, or from another address): read it again to tell.
DEFAULT_RETRIES = 2
#: The last attempt at a silent expected address waits this many first-byte deadlines (at most
#: the first, patient timeout): a station ten times slower than the rest is still heard.
SILENT_PATIENCE = 10
#: Most attempts at one read, whatever came back.
MAX_ATTEMPTS = 2 + DEFAULT_RETRIES + 1
#: Garbled replies (and at least half of the reads) that make an address *garbled*.
GARBLED_MIN = 2
#: After the last read of a scan, an answer may still come: wait this many first-byte
#: deadlines for it (at least ``LATE_WAIT_MIN_S``, at most the first, patient timeout).
LATE_WAITS = 2
LATE_WAIT_MIN_S = 0.02
#: A garbled late answer may be that of any silent address asked within this many first-byte
#: deadlines before it (20: a device ten times slower than the rest, with room to spare)...
LATE_HORIZON = 20
#: ... read again, each waiting this multiple of the time the answer took, plus a deadline.
LATE_MARGIN = 1.25


@record
class AddressScan:
    """What the scan found at one address."""

    address: int
    expected: bool
    #: A valid frame came back (a device is there, even if it answered with an exception or
    #: is not the profile's device type).
    answered: bool
    identity: Identity | None
    status: StationStatus | None
    attempts: tuple[Exchange, ...]
    #: The ABL controller generation that answered, when the scan read a second time at the
    #: other generation's line settings (a mixed site, manual §9.7); ``None``: not asked.
    generation: int | None = None

    @property
    def responded(self) -> bool:
        """Anything came back, even only corrupt bytes: something at this address transmits."""
        return self.answered or any(a.garbled for a in self.attempts)

    @property
    def garbled(self) -> bool:
        """No valid answer, but replies came back garbled in most reads (at least two): the
        collision signature of two controllers answering at once, never a silent address."""
        if self.answered:
            return False
        corrupt = sum(1 for a in self.attempts if a.garbled)
        return corrupt >= GARBLED_MIN and 2 * corrupt >= len(self.attempts)

    @property
    def replied_from(self) -> tuple[int, ...]:
        """Other addresses whose valid replies came back to this address's requests."""
        found = {a.replied_from for a in self.attempts if a.replied_from is not None}
        return tuple(sorted(found))

    @property
    def state(self) -> str | None:
        return self.status.state if self.status else None

    @property
    def response_times(self) -> tuple[float, ...]:
        return tuple(a.elapsed_s for a in self.attempts if a.outcome in ("ok", "unexpected"))

    @property
    def errors(self) -> dict[str, int]:
        """Failed attempts by kind: no_answer, corrupt, unexpected, exception."""
        counts: dict[str, int] = dict.fromkeys(OUTCOMES[1:], 0)
        for attempt in self.attempts:
            if attempt.outcome != "ok":
                counts[attempt.outcome] += 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        identity = self.identity
        status = self.status
        return {
            "address": self.address,
            "expected": self.expected,
            "answered": self.answered,
            "responded": self.responded,
            "garbled": self.garbled,
            "replied_from": list(self.replied_from),
            "generation": self.generation,
            "identity": None
            if identity is None
            else {
                "text": identity.text,
                "device_type": identity.device_type,
                "serial": identity.serial,
                "raw": list(identity.raw),
            },
            "status": None
            if status is None
            else {
                "state": status.state,
                "meaning": status.meaning,
                "severity": status.severity.value,
                "currents_a": list(status.currents),
                # an inference, never a reading: which phase each current word likely is
                "currents_likely_phases": list(status.likely_phases),
                "ev_connected": status.ev_connected,
                "duty_percent": status.duty_percent,
                "flags": list(status.flags),
                "raw": list(status.raw),
            },
            "response_times_s": [round(t, 6) for t in self.response_times],
            "errors": self.errors,
            "attempts": [a.to_dict() for a in self.attempts],
        }


@record
class ScanResult:
    """A whole scan: per-address results in scan order, and how the scan went."""

    profile: str
    framing: str
    line: str
    #: The planned order: expected addresses first, then the rest.
    order: tuple[int, ...]
    expected: tuple[int, ...]
    results: tuple[AddressScan, ...]
    #: Addresses not scanned because every expected address had answered.
    skipped: tuple[int, ...]
    stopped_early: bool
    lbt: LbtResult | None
    forced: bool
    duration_s: float
    timeout: dict[str, Any]
    #: The second read at the other ABL generation's settings, if one ran
    #: (:func:`with_other_generation`): its profile, line, addresses read and answering.
    other_generation: dict[str, Any] | None = None

    def get(self, address: int) -> AddressScan | None:
        for result in self.results:
            if result.address == address:
                return result
        return None

    @property
    def answered(self) -> tuple[int, ...]:
        return tuple(sorted(r.address for r in self.results if r.answered))

    @property
    def responded(self) -> tuple[int, ...]:
        return tuple(sorted(r.address for r in self.results if r.responded))

    @property
    def garbled(self) -> tuple[int, ...]:
        """Addresses whose replies came back garbled in most reads: suspected duplicates."""
        return tuple(sorted(r.address for r in self.results if r.garbled))

    @property
    def present(self) -> tuple[int, ...]:
        """Addresses with a device on them: a valid answer, or garbled replies."""
        return tuple(sorted(r.address for r in self.results if r.answered or r.garbled))

    @property
    def silent(self) -> tuple[int, ...]:
        """Addresses with no device answering them (at most a stray garbled reply)."""
        return tuple(sorted(r.address for r in self.results if not (r.answered or r.garbled)))

    @property
    def missing(self) -> tuple[int, ...]:
        """Expected addresses with no device answering them (garbled ones are there)."""
        found = set(self.present)
        return tuple(a for a in self.expected if a not in found)

    @property
    def unexpected(self) -> tuple[int, ...]:
        """Addresses that answered but were not expected (only meaningful with ``expected``)."""
        wanted = set(self.expected)
        return tuple(a for a in self.answered if a not in wanted)

    @property
    def attempts(self) -> tuple[Exchange, ...]:
        return tuple(a for r in self.results for a in r.attempts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "framing": self.framing,
            "line": self.line,
            "order": list(self.order),
            "expected": list(self.expected),
            "answered": list(self.answered),
            "responded": list(self.responded),
            "garbled": list(self.garbled),
            "silent": list(self.silent),
            "missing": list(self.missing),
            "unexpected": list(self.unexpected),
            "skipped": list(self.skipped),
            "stopped_early": self.stopped_early,
            "forced": self.forced,
            "lbt": self.lbt.to_dict() if self.lbt else None,
            "duration_s": round(self.duration_s, 4),
            "timeout": self.timeout,
            "other_generation": self.other_generation,
            "addresses": [r.to_dict() for r in self.results],
        }


def _unique(addresses: Iterable[int], what: str) -> list[int]:
    seen: dict[int, None] = {}
    for address in addresses:
        if isinstance(address, bool) or not isinstance(address, int):
            raise ValueError(f"{what}: {address!r} is not an address")
        if not 1 <= address <= MAX_ADDRESS:
            raise ValueError(f"{what}: address {address} is outside 1..{MAX_ADDRESS}")
        seen.setdefault(address, None)
    return list(seen)


def scan_order(addresses: Iterable[int], expected: Iterable[int] = ()) -> tuple[int, ...]:
    """Expected addresses first (in their order), then the rest of ``addresses`` in theirs."""
    first = _unique(expected, "expected")
    rest = [a for a in _unique(addresses, "addresses") if a not in set(first)]
    return tuple(first + rest)


def _read(
    link: Link,
    request: ReadRequest,
    purpose: str,
    timer: AdaptiveTimeout,
    tries: int,
    decode: Callable[[tuple[int, ...]], Any],
    *,
    patient: float | None = None,
    late: _Late | None = None,
    last_patient: bool = False,
) -> tuple[list[Exchange], Any]:
    """Up to ``tries`` attempts until a valid frame comes back; the decoded value if ``ok``.

    Something that came back but was not a valid answer (garbled, or from another address)
    earns the address the retries of an expected one. ``patient``: the first-byte deadline to
    use instead of the learned one. Bytes that came after an attempt's deadline (the link
    threw them away before the next) are its late answer: the rest of the attempts wait as
    long as before anything answered. Late answers to addresses read before go to ``late``.
    ``last_patient``: the last of several attempts waits :data:`SILENT_PATIENCE` first-byte
    deadlines (an expected station that stayed silent may be one far slower than the rest).
    """
    attempts: list[Exchange] = []
    value: Any = None
    extended = False  # one more attempt for a late answer in the way, once
    while len(attempts) < min(tries, MAX_ATTEMPTS):
        if last_patient and patient is None and tries > 1 and len(attempts) == tries - 1:
            patient = min(timer.initial, SILENT_PATIENCE * timer.start)
        if patient is not None:
            attempt = exchange(link, request, purpose, patient + timer.value, patient)
        else:
            attempt = exchange(link, request, purpose, timer.value, timer.start)
        in_the_way = False
        if (
            attempts
            and attempts[-1].outcome == "no_answer"
            and _late_answer_of(link, attempt.stray_before, request.address)
        ):
            timer.observe_late()  # the attempt before was answered, too late
            patient = timer.initial
            in_the_way = True
        elif late is not None:
            in_the_way = late.note(link, attempt.stray_before, attempt.began_at)
            # bytes that were no answer, or a garbled one, or came before the answer: perhaps
            # a late answer that collided with this request or its answer
            noise = attempt.garbage if attempt.outcome == "ok" else attempt.reply
            if (attempt.outcome == "ok" or attempt.garbled) and late.note(
                link, noise, attempt.began_at + attempt.elapsed_s
            ):
                in_the_way = True
            if attempt.outcome == "wrong_address" and attempt.replied_from in late.asked:
                # not this address answering wrongly: the late answer of one read before
                late.found.add(attempt.replied_from)
                attempt = replace(
                    attempt,
                    outcome="no_answer",
                    error=f"address {attempt.replied_from}'s late answer came instead",
                )
                in_the_way = True
        if attempt.outcome == "ok":
            timer.observe(attempt.elapsed_s, attempt.first_byte_s)
            try:
                value = decode(attempt.registers)
            except UnexpectedAnswer as error:
                attempt = replace(attempt, outcome="unexpected", error=error.message)
        attempts.append(attempt)
        if attempt.answered:
            break
        if attempt.garbled or attempt.outcome == "wrong_address":
            tries = max(tries, 1 + DEFAULT_RETRIES)
        if in_the_way and not extended:
            tries, extended = max(tries, len(attempts) + 1), True
    return attempts, value


def _late_answer_of(link: Link, stray: bytes, address: int) -> bool:
    """Are ``stray`` bytes the late answer to ``address``'s request just before? Yes if a
    valid reply from it is among them, or if they are no one's valid reply."""
    if not stray:
        return False
    whose = replies_in(link, stray)
    return address in whose or not whose


@record(frozen=False)
class _Late:
    """The scan's silent addresses and when each was asked (``asked``), and the late answers
    seen since the last look: from which of them (``found``), or garbled, arrived by when
    (``garbled_by``)."""

    asked: dict[int, float] = field(default_factory=dict)
    found: set[int] = field(default_factory=set)
    garbled_by: float | None = None

    def note(self, link: Link, data: bytes, by: float) -> bool:
        """Take ``data`` (bytes that were nobody's answer, arrived by ``by``) as evidence;
        True if there was some."""
        if not data:
            return False
        whose = replies_in(link, data)
        mine = [a for a in whose if a in self.asked]
        self.found.update(mine)
        if not whose and self.asked:
            self.garbled_by = by if self.garbled_by is None else min(self.garbled_by, by)
        return bool(mine) or not whose

    @property
    def pending(self) -> bool:
        return bool(self.found) or self.garbled_by is not None


def scan_timer(
    link: Link, profile: DeviceProfile, timeout: float | None, *, keep_assumed: bool = False
) -> AdaptiveTimeout:
    """The adaptive deadlines for reading ``profile``'s devices over ``link``: ``timeout``
    (default twice the profile's ``response_timeout_floor``) until something answered, never
    below what the line allows (:func:`~clu_doctor.bus.probes.base.physical_floor`).
    ``keep_assumed``: never below the profile's ``response_timeout_floor`` either (a probe
    that must not miss a slow second device, not one that must be fast)."""
    settings = link.settings
    floor = physical_floor(settings, link.framing, profile.timing.turnaround_floor)
    if keep_assumed:
        floor = max(floor, profile.timing.response_timeout_floor)
    assumed = profile.timing.response_timeout_floor
    initial = max(floor, timeout if timeout is not None else 2 * assumed)
    return AdaptiveTimeout(floor=floor, initial=initial, char_time=settings.char_time)


def _read_address(
    link: Link,
    profile: DeviceProfile,
    address: int,
    expected: bool,
    timer: AdaptiveTimeout,
    tries: int,
    read_status: bool,
    *,
    patient: float | None = None,
    late: _Late | None = None,
) -> AddressScan:
    """The identity read (and the status read, where the identity answered) of one address."""
    attempts, identity = _read(
        link,
        profile.identity_request(address),
        "identity",
        timer,
        tries,
        profile.decode_identity,
        patient=patient,
        late=late,
        last_patient=expected,
    )
    status: StationStatus | None = None
    status_request = profile.status_request(address) if read_status else None
    if identity is not None and status_request is not None:
        status_attempts, status = _read(
            link, status_request, "status", timer, tries, profile.decode_status, late=late
        )
        attempts += status_attempts
    answered = any(a.answered for a in attempts)
    return AddressScan(address, expected, answered, identity, status, tuple(attempts))


def _read_late(
    link: Link,
    profile: DeviceProfile,
    results: list[AddressScan],
    timer: AdaptiveTimeout,
    read_status: bool,
    late: _Late,
) -> None:
    """Answers came after their deadline: read those silent addresses again, waiting long
    enough this time, so the slow devices are found and learned.

    A late answer that names its address is that address's. A garbled one (it collided with
    our next request, most likely) could be any silent address asked shortly before: those
    asked within :data:`LATE_HORIZON` first-byte deadlines are read again, the most recent
    first, each waiting as long as its answer took to come, until one answers.
    """
    index = {entry.address: i for i, entry in enumerate(results)}
    for address in sorted(late.found):
        if address in index and not results[index[address]].answered:
            timer.observe_late()
            results[index[address]] = _again(
                link, profile, results[index[address]], timer, read_status, timer.initial
            )
            late.asked.pop(address, None)
    by = late.garbled_by
    if by is not None and not late.found:
        horizon = min(timer.initial, LATE_HORIZON * timer.start)
        recent = sorted(
            ((asked, a) for a, asked in late.asked.items() if by - asked <= horizon),
            reverse=True,
        )
        for asked, address in recent:
            took = min(timer.initial, LATE_MARGIN * (by - asked) + timer.start)
            again = _again(link, profile, results[index[address]], timer, read_status, took)
            results[index[address]] = again
            if again.answered:
                timer.observe_late()
                late.asked.pop(address, None)
                break
    late.found.clear()
    late.garbled_by = None


def _again(
    link: Link,
    profile: DeviceProfile,
    before: AddressScan,
    timer: AdaptiveTimeout,
    read_status: bool,
    first_byte: float,
) -> AddressScan:
    """``before``'s address read again, waiting ``first_byte`` for its answer to begin."""
    again = _read_address(
        link, profile, before.address, before.expected, timer, 1, read_status, patient=first_byte
    )
    return replace(again, attempts=before.attempts + again.attempts)


def scan(
    link: Link,
    profile: DeviceProfile,
    addresses: Sequence[int],
    *,
    expected: Sequence[int] = (),
    retries: int = DEFAULT_RETRIES,
    retries_other: int = 0,
    stop_when_expected: bool = False,
    read_status: bool = True,
    timeout: float | None = None,
    progress: Progress | None = None,
    force: bool = False,
    lbt: LbtResult | None = None,
    listen_s: float | None = None,
    listen_max_s: float | None = None,
) -> ScanResult:
    """Scan ``addresses`` (plus any ``expected`` ones) with ``profile``'s identity read.

    * Order: ``expected`` first, then the rest of ``addresses`` as given.
    * Attempts: ``1 + retries`` for a silent (or only corrupt) expected address,
      ``1 + retries_other`` for the others; a valid frame (reply, exception, other device type)
      ends the attempts.
    * Timeout: ``timeout`` (default: twice the profile's ``timing.response_timeout_floor``)
      until something answered; then, learned from the answers (:class:`AdaptiveTimeout`): a
      reply must *begin* within the longest first byte seen plus a small margin (never below
      what the line's speed allows), and end within 1.5 x the longest reply + 10 ms. A device
      slower than that shows itself by an answer that comes late: its address is read again
      with the first timeout, and learned.
    * Status: where the profile has a status block, one read (same attempts) per address whose
      identity answered, for the state code.
    * ``stop_when_expected``: stop once every expected address has answered.
    * ``progress(done, total, address)`` after each address; no terminal code here.

    Listens first (:func:`~clu_doctor.bus.probes.base.require_quiet`) unless ``force``, for
    ``listen_s`` of silence (default: two of the master's polling periods, the profile's
    ``master_period_ms``), or takes ``lbt``, a listen already done; raises
    :class:`~clu_doctor.bus.probes.base.BusBusy` with nothing sent if the bus is not quiet.
    """
    if retries < 0 or retries_other < 0:
        raise ValueError("retries cannot be negative")
    order = scan_order(addresses, expected)
    wanted = scan_order(expected)
    timer = scan_timer(link, profile, timeout)
    idle = listen_s if listen_s is not None else lbt_window(profile.timing.master_period)
    listened = require_quiet(link, force=force, lbt=lbt, idle_s=idle, max_wait_s=listen_max_s)
    started = link.clock.now()  # the scan's own time, without the listen
    results: list[AddressScan] = []
    late = _Late()
    pending = set(wanted)
    skipped: tuple[int, ...] = ()
    for index, address in enumerate(order):
        if stop_when_expected and wanted and not pending:
            skipped = order[index:]
            break
        is_expected = address in wanted
        tries = 1 + (retries if is_expected else retries_other)
        result = _read_address(
            link, profile, address, is_expected, timer, tries, read_status, late=late
        )
        if late.pending:
            _read_late(link, profile, results, timer, read_status, late)
            pending.difference_update(r.address for r in results if r.answered)
        results.append(result)
        if result.answered:
            pending.discard(address)
        else:
            late.asked[address] = result.attempts[-1].began_at
        if progress is not None:
            progress(index + 1, len(order), address)
    if results and not results[-1].answered:
        # an answer to the last reads may still come: wait as long as a slow device would
        link.clock.sleep(min(timer.initial, max(LATE_WAITS * timer.start, LATE_WAIT_MIN_S)))
        if link.drain() and late.note(link, link.stray, link.clock.now()):
            _read_late(link, profile, results, timer, read_status, late)
    return ScanResult(
        profile=profile.name,
        framing=link.framing,
        line=str(link.settings),
        order=order,
        expected=tuple(wanted),
        results=tuple(results),
        skipped=skipped,
        stopped_early=bool(skipped),
        lbt=listened,
        forced=force,
        duration_s=link.clock.now() - started,
        timeout=timer.to_dict(),
    )


def with_other_generation(
    first: ScanResult, second: ScanResult, generations: tuple[int, int]
) -> ScanResult:
    """``first`` with the addresses that answered ``second`` (a read of ``first``'s silent
    addresses at the other ABL generation's line settings) taken from it. ``generations``:
    (``first``'s, ``second``'s). Every answering address then says its generation."""
    mine, theirs = generations
    found = {r.address: replace(r, generation=theirs) for r in second.results if r.answered}
    results = tuple(
        found.get(r.address) or (replace(r, generation=mine) if r.answered else r)
        for r in first.results
    )
    return replace(
        first,
        results=results,
        duration_s=first.duration_s + second.duration_s,
        other_generation={
            "profile": second.profile,
            "line": second.line,
            "framing": second.framing,
            "generation": theirs,
            "read": [r.address for r in second.results],
            "answered": sorted(found),
        },
    )
