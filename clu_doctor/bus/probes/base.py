"""What every active probe shares: listen-before-talk, one recorded exchange, the adapted timeout.

The CLU is the bus master. A probe that transmits next to a polling CLU collides with it, and a
station that loses its master's polls may stop charging. So every active probe first calls
:func:`require_quiet`, which listens (:func:`listen_before_talk`, never transmits) and raises
:class:`BusBusy` if it hears anything that looks like traffic; only an explicit ``force=True``
skips that. The link itself (:mod:`clu_doctor.bus.link`) still refuses anything but read requests
and waits for a quiet line before each one.
"""

from __future__ import annotations

from dataclasses import field, replace
from typing import TYPE_CHECKING, Any, Literal

from clu_doctor.bus.codecs.events import Decoded, Garbage
from clu_doctor.bus.errors import (
    BusError,
    CorruptAnswer,
    DeviceException,
    NoAnswer,
    UnexpectedAnswer,
    WrongAddress,
)
from clu_doctor.bus.frames import Direction, Frame, ReadRequest, infer_direction
from clu_doctor.bus.link import Link
from clu_doctor.bus.settings import LineSettings
from clu_doctor.clock import Timeout
from clu_doctor.records import record

if TYPE_CHECKING:
    from clu_doctor.bus.listen.report import ListenReport

#: Polling periods of the bus master a silence must last to prove that no master polls: a
#: master that polls each station once a period is heard at least once in any two.
LBT_PERIODS = 2.0
#: ... plus this, for a master whose period wavers.
LBT_MARGIN_S = 0.1
#: The silence asked for when nothing is known of the master: two periods of about 1 s (an
#: assumption: DEFA does not publish the CLU's; see the profile's ``master_period_ms``).
DEFAULT_IDLE_S = LBT_PERIODS * 1.0 + LBT_MARGIN_S
#: Longest listen before giving up on a quiet line (at least twice the silence asked for).
DEFAULT_MAX_WAIT_S = 6.0
#: Silence after the last byte before the stream decoder settles a pending frame.
_SETTLE_S = 0.05
#: Step of the listening loop.
_LISTEN_STEP_S = 0.05
#: How many frames the listen-before-talk keeps as evidence.
_SAMPLES = 6

Outcome = Literal["ok", "no_answer", "corrupt", "unexpected", "exception", "wrong_address"]
OUTCOMES: tuple[Outcome, ...] = (
    "ok",
    "no_answer",
    "corrupt",
    "unexpected",
    "exception",
    "wrong_address",
)
#: Outcomes that prove a device at the address took the request (a valid frame from that
#: address came back). A valid reply from *another* address (``wrong_address``) proves only
#: that some device is there, not that the addressed one is: each address is judged on its own.
ANSWERED: frozenset[str] = frozenset({"ok", "unexpected", "exception"})
LbtVerdict = Literal["quiet", "traffic", "noise"]

HINT_BUSY = (
    "disconnect the CLU's USB-RS485 interface from the bus (or power the CLU off) and run "
    "again, or use the explicit force option if you are sure no master is active"
)


# --- listen before talk ------------------------------------------------------------------------


def lbt_window(period: float) -> float:
    """The silence that proves no master polls, for a master polling every ``period`` s
    (measured on this bus by a listen, or the profile's assumption)."""
    return LBT_PERIODS * period + LBT_MARGIN_S


@record
class LbtResult:
    """What a listen-before-talk heard. ``quiet`` allows transmitting."""

    quiet: bool
    #: Seconds actually listened.
    listened_s: float
    #: The silence asked for, and the longest the listen was allowed to take.
    idle_s: float
    max_wait_s: float
    bytes_seen: int = 0
    frames_seen: int = 0
    #: Frames shaped like a master's request (the CLU polling), and like a device's reply.
    requests_seen: int = 0
    replies_seen: int = 0
    #: Runs of bytes that were no valid frame.
    garbage_seen: int = 0
    #: Addresses in the requests heard (whom the master polls) and in the replies heard.
    polled: tuple[int, ...] = ()
    replying: tuple[int, ...] = ()
    #: The first few frames heard, as text, for the report.
    samples: tuple[str, ...] = ()

    @property
    def verdict(self) -> LbtVerdict:
        """``quiet``; ``traffic`` (valid frames: a master is polling); ``noise`` (only bytes)."""
        if self.quiet:
            return "quiet"
        return "traffic" if self.frames_seen else "noise"

    def describe(self) -> str:
        if self.quiet:
            return f"the bus was quiet for {self.idle_s:.1f} s"
        if self.frames_seen:
            text = (
                f"heard {self.frames_seen} frames in {self.listened_s:.1f} s "
                f"({self.requests_seen} requests, {self.replies_seen} replies)"
            )
            if self.polled:
                text += f", requests to {_ranges(self.polled)}"
            return text
        return (
            f"heard {self.bytes_seen} bytes but no valid frame in {self.listened_s:.1f} s: "
            "something transmits with other line settings, or the line is noisy"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "quiet": self.quiet,
            "verdict": self.verdict,
            "listened_s": round(self.listened_s, 4),
            "idle_s": self.idle_s,
            "max_wait_s": self.max_wait_s,
            "bytes_seen": self.bytes_seen,
            "frames_seen": self.frames_seen,
            "requests_seen": self.requests_seen,
            "replies_seen": self.replies_seen,
            "garbage_seen": self.garbage_seen,
            "polled": list(self.polled),
            "replying": list(self.replying),
            "samples": list(self.samples),
        }


class BusBusy(BusError):
    """The bus is not quiet (the CLU seems to be polling): the probe sent nothing."""

    def __init__(self, lbt: LbtResult | None, detail: str | None = None) -> None:
        what = detail or (lbt.describe() if lbt else "traffic from another master")
        super().__init__(
            f"the bus is not quiet ({what}): the CLU seems to be polling, so clu-doctor stays "
            "passive and sends nothing",
            HINT_BUSY,
        )
        self.lbt = lbt


def _ranges(addresses: tuple[int, ...]) -> str:
    """``(1, 2, 3, 5)`` -> ``1-3, 5``."""
    if not addresses:
        return "-"
    parts: list[str] = []
    values = sorted(set(addresses))
    first = last = values[0]
    for value in values[1:]:
        if value == last + 1:
            last = value
            continue
        parts.append(f"{first}-{last}" if last > first else str(first))
        first = last = value
    parts.append(f"{first}-{last}" if last > first else str(first))
    return ", ".join(parts)


def _is_request(frame: Frame) -> bool:
    if frame.direction is not Direction.UNKNOWN:
        return frame.direction is Direction.REQUEST
    return infer_direction(frame.function, frame.data) is Direction.REQUEST


def listen_before_talk(
    link: Link, idle_s: float = DEFAULT_IDLE_S, max_wait_s: float | None = None
) -> LbtResult:
    """Listen until the bus has been silent for ``idle_s``, for at most ``max_wait_s``.

    Never transmits. Quiet means: ``idle_s`` of uninterrupted silence and no valid frame heard
    at all (a master polling in bursts has gaps, but any frame it sends disqualifies the bus).
    Once a frame has been heard the answer is known; the listen goes on only until ``idle_s``
    has passed, to see whom the master polls. ``max_wait_s`` defaults to
    :data:`DEFAULT_MAX_WAIT_S`, or twice ``idle_s`` if that is longer.
    """
    if max_wait_s is None:
        max_wait_s = max(DEFAULT_MAX_WAIT_S, 2 * idle_s)
    if idle_s <= 0 or max_wait_s < idle_s:
        raise ValueError(f"need 0 < idle_s <= max_wait_s, not {idle_s} and {max_wait_s}")
    decoder = link.codec.decoder()
    clock = link.clock
    waited = Timeout(max_wait_s, clock)
    start = waited.started
    last_rx = start
    pending = False
    counts = {"bytes": 0, "frames": 0, "requests": 0, "replies": 0, "garbage": 0}
    polled: dict[int, None] = {}
    replying: dict[int, None] = {}
    samples: list[str] = []

    def take(events: list[Decoded | Garbage]) -> None:
        for event in events:
            if isinstance(event, Garbage):
                counts["garbage"] += int(event.reason != "noise" or len(event.raw) > 2)
                continue
            counts["frames"] += 1
            if _is_request(event.frame):
                counts["requests"] += 1
                polled.setdefault(event.frame.address, None)
            else:
                counts["replies"] += 1
                replying.setdefault(event.frame.address, None)
            if len(samples) < _SAMPLES:
                samples.append(event.frame.describe())

    quiet = False
    while True:
        now = clock.now()
        if not counts["frames"] and now - last_rx >= idle_s:
            quiet = True
            break
        if counts["frames"] and now - start >= idle_s:
            break
        if waited.expired():
            break
        for stamp, chunk in link.receive(_LISTEN_STEP_S):
            counts["bytes"] += len(chunk)
            last_rx = stamp
            pending = True
            take(decoder.feed(chunk, stamp))
        if pending and clock.now() - last_rx >= _SETTLE_S:
            pending = False
            take(decoder.flush())
    take(decoder.flush())
    quiet = quiet and not counts["frames"]
    return LbtResult(
        quiet=quiet,
        listened_s=waited.elapsed(),
        idle_s=idle_s,
        max_wait_s=max_wait_s,
        bytes_seen=counts["bytes"],
        frames_seen=counts["frames"],
        requests_seen=counts["requests"],
        replies_seen=counts["replies"],
        garbage_seen=counts["garbage"],
        polled=tuple(sorted(polled)),
        replying=tuple(sorted(replying)),
        samples=tuple(samples),
    )


def lbt_from_listen(report: ListenReport, idle_s: float) -> LbtResult:
    """A listen of this bus that just ended, as the listen-before-talk: quiet if it heard no
    valid frame and its last ``idle_s`` were silent. (A session that listened first need not
    listen again before it talks.)"""
    last = report.last_byte
    silent_for = report.seconds - last if last is not None else report.seconds
    return LbtResult(
        quiet=report.frames == 0 and silent_for >= idle_s,
        listened_s=report.seconds,
        idle_s=idle_s,
        max_wait_s=report.seconds,
        bytes_seen=report.bytes,
        frames_seen=report.frames,
        requests_seen=report.requests,
        replies_seen=report.replies,
        garbage_seen=report.garbage_events,
        polled=report.polled,
        replying=tuple(entry.address for entry in report.addresses if entry.answers),
    )


def require_quiet(
    link: Link,
    *,
    force: bool = False,
    lbt: LbtResult | None = None,
    idle_s: float = DEFAULT_IDLE_S,
    max_wait_s: float | None = None,
) -> LbtResult | None:
    """The gate in front of every active probe.

    ``force=True`` skips listening (the user's explicit flag) and returns ``lbt`` as given.
    Otherwise ``lbt`` (a listen the caller already ran on this link) or a fresh
    :func:`listen_before_talk` must be quiet, else :class:`BusBusy` is raised and nothing has
    been sent.
    """
    if force:
        return lbt
    result = lbt if lbt is not None else listen_before_talk(link, idle_s, max_wait_s)
    if not result.quiet:
        raise BusBusy(result)
    return result


# --- one exchange ---------------------------------------------------------------------------


@record
class Exchange:
    """One request and what came back, as evidence."""

    address: int
    #: What the request was for: ``identity`` or ``status``.
    purpose: str
    outcome: Outcome
    #: The answer timeout used (by then the answer must be complete).
    timeout_s: float
    #: ``ok``/``unexpected``: request sent -> reply's last byte; otherwise the time spent.
    elapsed_s: float
    request: bytes
    #: The reply (``ok``, ``unexpected``, ``wrong_address``), the corrupt bytes
    #: (``corrupt``), or the stray bytes that came but were no answer (``no_answer``).
    reply: bytes = b""
    #: Bytes that followed the reply in the same read (see ``ReadResult.trailing``).
    trailing: bytes = b""
    registers: tuple[int, ...] = ()
    error: str | None = None
    #: Modbus exception code, for ``exception``.
    exception_code: int | None = None
    #: The address a ``wrong_address`` reply came from.
    replied_from: int | None = None
    #: The deadline for the answer's first byte, and when it came (``None``: none given, or
    #: nothing came).
    first_byte_timeout_s: float | None = None
    first_byte_s: float | None = None
    #: Bytes the link threw away unread just before sending this request: a late answer to
    #: an earlier request (a device slower than its deadline), or other traffic.
    stray_before: bytes = b""
    #: Clock time at which the exchange began (before the link's wait for a quiet line).
    began_at: float = 0.0
    #: Bytes that came in the answer window before a valid answer and were none (``ok``):
    #: noise, or a late answer to an earlier request.
    garbage: bytes = b""

    @property
    def answered(self) -> bool:
        return self.outcome in ANSWERED

    @property
    def garbled(self) -> bool:
        """Bytes came back, but no valid frame: a corrupt answer, or one so garbled that not
        even its start was readable (two controllers answering at once, in step)."""
        return self.outcome == "corrupt" or (self.outcome == "no_answer" and bool(self.reply))

    def to_dict(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "purpose": self.purpose,
            "outcome": self.outcome,
            "timeout_s": round(self.timeout_s, 4),
            "elapsed_s": round(self.elapsed_s, 6),
            "request": _show(self.request),
            "reply": _show(self.reply),
            "trailing": _show(self.trailing),
            "error": self.error,
            "exception_code": self.exception_code,
            "replied_from": self.replied_from,
            "first_byte_timeout_s": None
            if self.first_byte_timeout_s is None
            else round(self.first_byte_timeout_s, 4),
            "first_byte_s": None if self.first_byte_s is None else round(self.first_byte_s, 6),
            "stray_before": _show(self.stray_before),
            "garbage": _show(self.garbage),
        }


def _show(raw: bytes) -> str:
    """Bytes for a report: ASCII frames as text, binary (RTU) as hex."""
    if raw and all(32 <= b < 127 or b in (10, 13) for b in raw):
        return raw.decode("ascii").replace("\r", "\\r").replace("\n", "\\n")
    return raw.hex(" ").upper()


def exchange(
    link: Link,
    request: ReadRequest,
    purpose: str,
    timeout: float,
    first_byte: float | None = None,
) -> Exchange:
    """Send ``request`` and sort what comes back into an :class:`Exchange`.

    ``timeout`` and ``first_byte`` as for :meth:`Link.request`. Bus-level failures of this
    one device become outcomes; :class:`BusBusy` is raised if the answer window held another
    master's requests; port errors and refusals propagate.
    """
    raw_request = link.codec.encode(request.to_frame())
    clock = link.clock
    started = clock.now()
    base = Exchange(
        request.address,
        purpose,
        "no_answer",
        timeout,
        0.0,
        raw_request,
        first_byte_timeout_s=first_byte,
        began_at=started,
    )
    try:
        result = link.request(request, timeout=timeout, first_byte=first_byte)
    except NoAnswer as error:
        outcome: Exchange = replace(
            base, elapsed_s=clock.now() - started, reply=error.stray, error=error.message
        )
    except WrongAddress as error:
        outcome = replace(
            base,
            outcome="wrong_address",
            elapsed_s=clock.now() - started,
            reply=error.raw,
            error=error.message,
            replied_from=error.replied_from,
        )
    except UnexpectedAnswer as error:
        outcome = replace(
            base,
            outcome="unexpected",
            elapsed_s=clock.now() - started,
            reply=error.raw,
            error=error.message,
        )
    except CorruptAnswer as error:
        outcome = replace(
            base,
            outcome="corrupt",
            elapsed_s=clock.now() - started,
            reply=error.raw,
            error=error.message,
        )
    except DeviceException as error:
        outcome = replace(
            base,
            outcome="exception",
            elapsed_s=clock.now() - started,
            error=error.message,
            exception_code=error.code,
        )
    else:
        others = [d for d in result.skipped if d.raw != raw_request and _is_request(d.frame)]
        if others:
            raise BusBusy(
                None,
                f"{len(others)} request(s) from another master arrived during a probe, e.g. "
                f"{others[0].frame.describe()}",
            )
        outcome = replace(
            base,
            outcome="ok",
            elapsed_s=result.elapsed,
            reply=result.raw,
            trailing=result.trailing,
            registers=result.registers,
            first_byte_s=result.first_byte,
            garbage=b"".join(g.raw for g in result.garbage),
        )
    # what the link threw away before it transmitted came before our request
    return replace(outcome, stray_before=link.stray)


# --- the answer timeout ----------------------------------------------------------------------


#: The first-byte deadline's margin over the longest first byte seen: at least this long
#: (the host's own scheduling, an adapter's USB packets)...
START_MARGIN_S = 0.001
#: ... and a character time ...
START_MARGIN_CHARS = 1
#: ... and this share of the longest first byte itself (a slow device jitters more) ...
START_MARGIN_SHARE = 0.1
#: ... and twice all that until this many answers have shown how the first bytes spread.
START_SETTLED = 8


def physical_floor(settings: LineSettings, framing: str, turnaround: float) -> float:
    """The earliest an answer's first byte can possibly come once the request has left (a
    port's flush may return only then): the silence an RTU device waits first (t3.5), the
    shortest turnaround, and the first character, with one more for the margin."""
    rtu_silence = settings.t35 if framing == "rtu" else 0.0
    return rtu_silence + turnaround + START_MARGIN_CHARS * settings.char_time


@record(frozen=False)
class AdaptiveTimeout:
    """The answer deadlines of the active probes, learned from the answers on this bus.

    Two per request, both from the moment it was handed to the port: :attr:`start`, by which
    an answer's first byte must have come (else the address is silent), and :attr:`value`, by
    which the whole answer must have come.

    Before anything answered both are ``initial`` (the profile's assumption). Then
    :attr:`start` is the longest first byte seen plus a margin (1 ms, a character, or a tenth
    of it, whichever is most; twice that over the first few answers), never below ``floor``
    (:func:`physical_floor`); :attr:`value`
    is ``factor`` x the longest answer seen + ``margin``, never below :attr:`start`. Both
    stay below ``ceiling``. A device slower than :attr:`start` shows itself by a late answer:
    read again with ``initial``, it is learned like any other (:meth:`observe_late` counts it).
    """

    floor: float
    initial: float
    char_time: float = 0.0
    factor: float = 1.5
    margin: float = 0.010
    ceiling: float = 2.0
    longest: float = 0.0
    longest_first: float = 0.0
    observed: list[float] = field(default_factory=list)
    late: int = 0

    def __post_init__(self) -> None:
        if self.floor <= 0 or self.initial < self.floor:
            raise ValueError(f"need 0 < floor <= initial, not {self.floor} and {self.initial}")

    def observe(self, elapsed: float, first_byte: float | None = None) -> None:
        """An answer took ``elapsed`` to complete, its first byte ``first_byte`` to come."""
        self.observed.append(elapsed)
        self.longest = max(self.longest, elapsed)
        first = elapsed if first_byte is None else first_byte
        self.longest_first = max(self.longest_first, first)

    def observe_late(self) -> None:
        """An answer came after :attr:`start` had given up on it. The caller reads that
        address again with ``initial`` and :meth:`observe` learns the slow device from it."""
        self.late += 1

    @property
    def start(self) -> float:
        if not self.observed:
            return self.initial
        first = self.longest_first
        margin = max(
            START_MARGIN_S, START_MARGIN_CHARS * self.char_time, START_MARGIN_SHARE * first
        )
        if len(self.observed) < START_SETTLED:
            margin *= 2
        return min(self.ceiling, max(self.floor, first + margin))

    @property
    def value(self) -> float:
        if not self.observed:
            return self.initial
        return min(self.ceiling, max(self.start, self.factor * self.longest + self.margin))

    def to_dict(self) -> dict[str, Any]:
        return {
            "floor_s": round(self.floor, 6),
            "initial_s": self.initial,
            "factor": self.factor,
            "margin_s": self.margin,
            "longest_reply_s": round(self.longest, 6),
            "longest_first_byte_s": round(self.longest_first, 6),
            "late_answers": self.late,
            "first_byte_s": round(self.start, 4),
            "final_s": round(self.value, 4),
        }


def replies_in(link: Link, data: bytes) -> tuple[int, ...]:
    """The addresses of the valid replies in ``data`` (stray bytes the link threw away)."""
    decoder = link.codec.decoder()
    events = decoder.feed(data) + decoder.flush()
    found = [e.frame.address for e in events if isinstance(e, Decoded) and not _is_request(e.frame)]
    return tuple(dict.fromkeys(found))


def ranges(addresses: tuple[int, ...] | list[int]) -> str:
    """Addresses as compact ranges for messages: ``1-6, 9``."""
    return _ranges(tuple(addresses))
