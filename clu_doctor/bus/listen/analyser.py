"""Passive listening: what the CLU asks, what the stations answer, and how well, without a byte sent.

The CLU is the bus master; a second master would disturb charging, so a live site is diagnosed by
listening. :class:`TrafficAnalyser` is pure and incremental: feed it ``(timestamp, bytes)`` as
they arrive (:meth:`~TrafficAnalyser.feed`), tell it when time passes without data
(:meth:`~TrafficAnalyser.advance`), and take a :class:`ListenReport` at any moment
(:meth:`~TrafficAnalyser.snapshot`: cheap, a live table redraws from it several times a second)
or at the end (:meth:`~TrafficAnalyser.finish`). :func:`listen` pumps a
:class:`~clu_doctor.bus.link.Link` into an analyser (and a recorder) for a number of seconds; it
only ever calls :meth:`Link.receive <clu_doctor.bus.link.Link.receive>`, which never transmits.
Verdicts (findings) are derived from a report in :mod:`clu_doctor.bus.listen.verdicts`.

**Pairing** (abl-protocol.md §5). The bus has one master and one request outstanding at a time,
so a reply belongs to the last request, confirmed by content: same address; same function, or an
exception (ABL answers every error with 0x90); for reads a byte count of 2 x the registers asked
for and, on ABL controllers, the echo of the start register's low byte in the first data byte;
for writes the echoed start register and count. A request followed by another request (or by
the end of listening, once the reply window has passed) without a valid answer is *unanswered*:
a **timeout**, or a **corrupt answer** if reply-side garbage arrived for it. Broadcasts (address
0) are never answered and never outstanding.

**Retries.** A request identical to the one just before it, which went unanswered, is a
*retry*: masters resend (ABL's community masters 5-20 ms apart, the simulated CLU after its
timeout), and the first request after idle is sometimes lost. Retries are counted, and a retry
that is answered *recovers* the exchange; neither is a fault by itself. A run of polls to one
address (identity, write, status, retries) is one *visit*; the time between two visits to one
address is a turn of the master's polling cycle, and two visits to every address polled mean
the listen heard at least one whole turn.

**Attribution.** Every frame is charged to whoever sent it, or to no one. A valid frame names
its sender (the address is under the checksum): a reply from address N counts only for or
against N, and one from another address inside N's answer window is counted as *foreign* at N
(a controller answering with the wrong address, e.g. a DUO outlet set to its twin's). Garbage
is judged by its side, its timing and the address it names:

* *side*: in ASCII the start character (``:`` the master, ``>`` a station); a run whose start
  character was damaged is tried as a frame with it restored, and a run the size of a request
  (and not of the expected answer) is the master's. Master-side garbage is a garbled request,
  counted bus-wide: the master has moved on, and a valid reply after it answers the garbled
  request (a station may have read it fine).
* *timing*: a reply-side run belongs to an exchange only if it began inside that request's
  *answer window* (:meth:`TrafficAnalyser.reply_window`): learned from the bus as twice the
  longest turnaround of a valid answer plus a few characters (at least 30 ms, for USB adapter
  latency), and never past most of the master's own timeout, which its retries show. The
  master's retry of a silent station, noisy, is outside every window: it never makes a dead
  station look alive.
* *address*: a run that names an address (readable after its start character) goes to an
  exchange with that address; one that names none goes to the most recent exchange whose
  window holds it.

An exchange the master moved on from stays open for late replies until its window has passed
(a slow second controller on one address answers after the master's next request), then it is
*settled*: answered, *corrupt* (garbage but no valid answer), or a *timeout*. Garbage after a
valid answer marks it *doubled* (two controllers on one address). Runs no exchange can claim
are *unattributed*: counted bus-wide, against no station.

**Times** are the caller's timestamps (seconds, monotonic); a report gives them relative to the
start of listening. A chunk's timestamp is when the host received it, so response times are as
the host sees them (adapter latency included; 0 when request and answer arrived in one chunk).
The master's pause after an answer, which tells the other ABL generation's traffic from a
second answer, is timed from the bytes' own latest arrival times instead (where each lay in
its read, and a frame's bytes back to back); where one read holds both sides of it, the pause
does not show, and the turns in which it did decide (``_resolve_held``).

**One idea, one file.** Pairing, retries, attribution and the per-address counts are one
state machine fed a byte at a time; split across files, its state would have to travel with
every call. The data it produces (:mod:`.report`) and what it means (:mod:`.verdicts`) live
apart.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

from clu_doctor.bus.chain import Chain
from clu_doctor.bus.codecs import FRAMINGS, get_codec
from clu_doctor.bus.codecs.events import Decoded, DecodeEvent, Garbage, StreamDecoder
from clu_doctor.bus.codecs.mixed import MixedTextDecoder, is_evcc1
from clu_doctor.bus.errors import FrameError, UnexpectedAnswer
from clu_doctor.bus.frames import (
    BROADCAST_ADDRESS,
    READ_COILS,
    READ_DISCRETE_INPUTS,
    READ_FUNCTIONS,
    WRITE_MULTIPLE_COILS,
    WRITE_MULTIPLE_REGISTERS,
    WRITE_SINGLE_COIL,
    WRITE_SINGLE_REGISTER,
    Direction,
    Frame,
    infer_direction,
)
from clu_doctor.bus.listen.report import (
    AddressReport,
    GarbageCount,
    ListenReport,
    RawSample,
    ResponseTimes,
    Silence,
    StateSeen,
    WriteSeen,
    heard_together,
)
from clu_doctor.bus.settings import LineSettings
from clu_doctor.severity import Severity

if TYPE_CHECKING:
    from clu_doctor.bus.profile import DeviceProfile, RegisterBlock

#: What an answer's registers decoded to (cached per payload): a state code with its meaning
#: and the profile's severity, an identity, something the profile cannot read, or nothing.
_Payload = (
    tuple[Literal["status"], str, str, Severity]
    | tuple[Literal["identity"], str]
    | tuple[Literal["undecodable"]]
    | tuple[Literal[""]]
)

#: How long after a request a reply may start and still be charged to it, before the bus has
#: shown how fast its stations answer (and the most it ever is): the answer window.
ATTRIBUTION_WINDOW_S = 1.0


#: Once stations have answered, the answer window is this multiple of the longest turnaround
#: heard, plus :data:`WINDOW_CHARS` character times, never below :data:`WINDOW_FLOOR_S`...
TURNAROUND_FACTOR = 2.0


WINDOW_CHARS = 4


#: ... which covers a USB adapter's 16 ms latency timer (the host's timestamps of a request and
#: of its reply can be that far apart) with room to spare.
WINDOW_FLOOR_S = 0.03


#: A reply that starts after the master has given up and sent its next request is not an answer
#: the master takes: the window ends at this share of the master's timeout (from its retries).
MASTER_TIMEOUT_SHARE = 0.8


#: Garbage after an answer whose pause the host's timestamps did not show is the other
#: generation's traffic only where, after that address's answer, the master's pause was seen
#: before such garbage in at least this many turns (and in more than it came sooner).
HELD_MIN_PAUSES = 2


#: A request still unanswered this long after it ended, when listening stops, is a timeout
#: (a younger one may still have been answered: it stays ``pending``).
REPLY_WINDOW_S = 0.3


#: Silence after the last byte that makes the analyser settle a half-received frame.
SETTLE_GAP_S = 0.25


#: Silences at least this long are listed in the report.
SILENCE_MIN_S = 1.0


#: Bounded evidence: the first frames and garbage runs, the most recent events, the first
#: writes, and the silences, kept as hex in the report.
SAMPLE_FIRST = 16


SAMPLE_RECENT = 16


WRITES_KEPT = 64


SILENCES_KEPT = 64


#: Response times kept per address for the median (min and max cover every answer).
RESPONSE_SAMPLES = 512


#: Distinct status/identity payloads whose decoding is remembered.
DECODE_CACHE = 1024


_READS = frozenset({READ_COILS, READ_DISCRETE_INPUTS, *READ_FUNCTIONS})


_WRITES = frozenset(
    {WRITE_SINGLE_COIL, WRITE_SINGLE_REGISTER, WRITE_MULTIPLE_COILS, WRITE_MULTIPLE_REGISTERS}
)


_ASCII_REQUEST_START = 0x3A  # ':'


#: The two ABL generations' text framings, which one stream can carry side by side.
_TEXT_PAIR = frozenset({"ascii", "evcc1"})


#: The characters of an ABL Modbus ASCII frame (second generation), as a UART hears them.
_ABL_ASCII_CHARS = frozenset(b"0123456789ABCDEF:>\r\n")


#: A run of garbage is the other ABL generation's traffic, at 8E1, only if at least this share
#: of its characters are framing errors (an 8N1 stream through an 8E1 UART: nearly all)...
OTHER_GENERATION_NUL_SHARE = 0.5


#: ... and, at 8N1, only if it holds this many intact characters, every one of them a character
#: of ABL's ASCII framing whose even-parity bit is 1 (the rest became framing errors).
OTHER_GENERATION_MIN_CHARS = 6


class _Stats:
    """Mutable per-address counters behind an :class:`AddressReport`."""

    __slots__ = (
        "address",
        "answers",
        "chars",
        "corrupt",
        "differing",
        "doubled",
        "exceptions",
        "foreign",
        "foreign_from",
        "identities",
        "identity",
        "last_answer",
        "last_poll",
        "late",
        "mismatched",
        "polls",
        "reads",
        "recovered",
        "resp_count",
        "resp_max",
        "resp_min",
        "responses",
        "retries",
        "state",
        "states",
        "timeouts",
        "undecodable",
        "unsolicited",
        "visit_start",
        "visits",
        "writes",
    )

    def __init__(self, address: int) -> None:
        self.address = address
        self.polls = self.reads = self.writes = self.answers = self.exceptions = 0
        self.timeouts = self.corrupt = self.retries = self.recovered = 0
        self.doubled = self.differing = self.mismatched = self.unsolicited = 0
        self.undecodable = self.foreign = self.late = self.visits = 0
        self.visit_start: float | None = None
        self.foreign_from: dict[int, None] = {}
        self.chars = 0.0
        self.state: StateSeen | None = None
        self.states: dict[str, int] = {}
        self.identity: str | None = None
        self.identities: list[str] = []
        self.responses: deque[float] = deque(maxlen=RESPONSE_SAMPLES)
        self.resp_count = 0
        self.resp_min = math.inf
        self.resp_max = -math.inf
        self.last_poll: float | None = None
        self.last_answer: float | None = None


class _Exchange:
    """One request of the master and what came back for it so far.

    It is *current* while the master waits for its answer, *superseded* once the master sent
    its next request (a reply may still be on the wire: a slow second controller), and
    *settled* once its answer window has passed, when its outcome is counted.
    """

    __slots__ = (
        "answer",
        "answer_bound",
        "answer_end",
        "corrupt",
        "doubled",
        "end",
        "frame",
        "raw",
        "retry",
        "stats",
    )

    def __init__(self, frame: Frame, raw: bytes, end: float, stats: _Stats, retry: bool) -> None:
        self.frame = frame
        self.raw = raw
        self.end = end
        self.stats = stats
        self.retry = retry
        self.answer: bytes | None = None
        self.answer_end: float | None = None
        #: When the answer ended at the latest, from its bytes' own timestamps, and the read
        #: that bound comes from (:meth:`TrafficAnalyser._ended_own`).
        self.answer_bound: tuple[float, float | None] | None = None
        self.corrupt = False
        self.doubled = False

    @property
    def address(self) -> int:
        return self.frame.address


class TrafficAnalyser:
    """Incremental analysis of a passively received byte stream (see the module docstring).

    ``profile`` (a :class:`~clu_doctor.bus.profile.DeviceProfile`) decodes the master's reads
    of its status block (state codes) and identity block; without one, exchanges are still
    paired and counted. ``check_echo`` enforces ABL's echo of the start register in read
    answers; by default it follows the profile (on for ABL register maps). ``chain`` is carried
    into the report for the verdicts. ``on_exchange(address, outcome)`` is told how each poll
    ended (``answer``, ``corrupt`` or ``timeout``) when it settles: an exchange log for tests,
    benchmarks and live displays. ``attribution_window_s`` is the answer window before any
    station has answered (and its upper bound), see :meth:`reply_window`.
    """

    def __init__(
        self,
        framing: str,
        settings: LineSettings,
        profile: DeviceProfile | None = None,
        chain: Chain | None = None,
        *,
        check_echo: bool | None = None,
        silence_min_s: float = SILENCE_MIN_S,
        reply_window_s: float = REPLY_WINDOW_S,
        attribution_window_s: float = ATTRIBUTION_WINDOW_S,
        on_exchange: Callable[[int, str], None] | None = None,
        both_generations: bool = True,
    ) -> None:
        if framing not in FRAMINGS:
            raise ValueError(
                f"unknown framing {framing!r} (expected one of: {', '.join(FRAMINGS)})"
            )
        self.framing = framing
        self.settings = settings
        # Frames in the other ABL generation's framing are read with that generation's
        # profile (a first-generation segment heard with the default, second-generation one).
        profile = profile.for_framing(framing) if profile is not None else None
        self.profile = profile
        self.chain = chain
        self._codec = get_codec(framing)
        self._decoder: StreamDecoder = self._codec.decoder()
        #: The other ABL generation's frames, where they arrive as intact text (a real adapter
        #: passes characters of the wrong parity through unchanged: bus/codecs/mixed.py), are
        #: read by an analyser of that generation's own, merged into the report.
        self._companion: TrafficAnalyser | None = None
        other = profile.other_generation_profile() if profile is not None else None
        if both_generations and other is not None and {framing, other.framing} == _TEXT_PAIR:
            self._decoder = MixedTextDecoder()
            self._companion = TrafficAnalyser(
                other.framing,
                other.line,
                other,
                chain,
                silence_min_s=silence_min_s,
                reply_window_s=reply_window_s,
                attribution_window_s=attribution_window_s,
                on_exchange=on_exchange,
                both_generations=False,
            )
        self._ascii = framing == "ascii"
        #: First-generation text: the start character says the side, as in ABL's ASCII.
        self._evcc1 = framing == "evcc1"
        if check_echo is None:
            check_echo = profile is not None and profile.identity.decoder.startswith("abl-")
        self._check_echo = check_echo
        self._status: tuple[int, int, int] | None = _block_key(profile.status if profile else None)
        self._identity: tuple[int, int, int] | None = _block_key(
            profile.identity if profile else None
        )
        self._silence_min = silence_min_s
        self._reply_window = reply_window_s
        self._attribution_window = attribution_window_s
        self._on_exchange = on_exchange

        self._start: float | None = None
        self._now: float | None = None
        self._last_rx: float | None = None
        self._first_rx: float | None = None
        self._finished = False
        self._bytes = 0
        self._frames = self._requests = self._replies = self._broadcasts = 0
        self._frame_bytes = 0
        self._unpaired = self._corrupt_requests = self._unattributed = 0
        self._garbage: dict[str, list[int]] = {}
        self._writes: list[WriteSeen] = []
        self._writes_seen = 0
        self._silences: list[Silence] = []
        self._stats: dict[int, _Stats] = {}
        self._current: _Exchange | None = None
        #: Superseded exchanges whose answer window has not passed yet, oldest first.
        self._open: list[_Exchange] = []
        self._previous_raw: bytes | None = None
        self._previous_answered = True
        self._previous_end: float | None = None
        self._last_polled: int | None = None
        self._first_samples: list[_Sample] = []
        self._first_garbage: list[_Sample] = []
        self._recent: deque[_Sample] = deque(maxlen=SAMPLE_RECENT)
        self._pending_flush = False
        self._after_garbled_request = False
        self._closing = False
        self._deferred: _Exchange | None = None
        #: What the host's timestamps said of the pause before the deferred garbage (see
        #: :meth:`_other_generation_timing`): "too_soon", "untimed", or "" (not asked).
        self._deferred_timing = ""
        #: Per address, over the turns in which other-generation-like garbage followed its
        #: answer: how often the master's pause was seen before it, and how often it came
        #: sooner than the master ever paused (a second answer).
        self._after: dict[int, list[int]] = {}
        #: Answered exchanges followed by such garbage where the pause was not seen, decided
        #: when listening ends from what the other turns showed (:meth:`_resolve_held`).
        self._held: list[_Exchange] = []
        #: The last reply-side garbage run that a start character cut short, and where it ended:
        #: a ':' right behind it is the rest of that reply, not a request.
        self._interrupted_reply_end: float | None = None
        self._longest_turnaround: float | None = None
        self._master_timeout: float | None = None
        #: The shortest time the master left between a valid answer and its next request.
        self._master_gap: float | None = None
        #: The other ABL generation's line settings, where its characters have another length
        #: than ours (8N1 beside 8E1: manual §9.7); its traffic is no station's garbage here.
        self._other_line = _other_line(profile, settings)
        self._other_generation = 0
        self._cycles: deque[float] = deque(maxlen=RESPONSE_SAMPLES)
        self._state_table: dict[str, tuple[str, Severity]] = {}
        self._decoded: dict[tuple[tuple[int, int, int], bytes], _Payload] = {}
        # snapshot cache: address -> report, rebuilt for the addresses in _dirty
        self._cache: dict[int, AddressReport] = {}
        self._dirty: set[int] = set()

    # -- feeding --------------------------------------------------------------------------

    def start(self, timestamp: float) -> None:
        """Mark the moment listening began (else the first call to feed/advance does)."""
        if self._start is None:
            self._start = self._now = float(timestamp)

    def advance(self, timestamp: float) -> None:
        """Time passed without data, up to ``timestamp`` (for the seconds listened, silences)."""
        self._clock(timestamp)
        self._settle_due()
        if self._companion is not None and self._companion._start is not None:
            self._companion.advance(timestamp)

    def feed(self, timestamp: float, data: bytes) -> None:
        """Bytes received at ``timestamp`` (seconds, monotonic; the time the chunk arrived)."""
        if self._finished:
            raise RuntimeError("the analyser has finished; make a new one")
        if not data:
            self.advance(timestamp)
            return
        now = self._clock(timestamp)
        assert self._start is not None
        gap_from = self._last_rx if self._last_rx is not None else self._start
        began = max(now - self.settings.wire_time(len(data)), gap_from)
        if began - gap_from >= self._silence_min:
            self._add_silence(Silence(gap_from - self._start, began - self._start))
        if (
            self._pending_flush
            and self._last_rx is not None
            and now - self._last_rx >= SETTLE_GAP_S
        ):
            # a frame cut off by silence: settle it before the new bytes (decided from the data's
            # own timestamps only, so a replay settles exactly where the live run did)
            self._handle(self._decoder.flush())
        if self._first_rx is None:
            self._first_rx = began
        self._last_rx = now
        self._bytes += len(data)
        self._pending_flush = True
        self._handle(self._decoder.feed(data, now))
        self._settle_due()

    def finish(self, timestamp: float | None = None) -> ListenReport:
        """Listening ended (at ``timestamp``, default the last time seen): settle and report."""
        if not self._finished:
            if timestamp is not None:
                self._clock(timestamp)
            elif self._start is None:
                self._clock(0.0)
            # What the flush settles was cut off by the end of listening, not by the station:
            # counted as garbage, charged to no one.
            self._closing = True
            self._handle(self._decoder.flush())
            self._second_answer()  # nothing followed the garbage: a second answer
            self._pending_flush = False
            for exchange in self._open:  # the master has moved on from these
                self._settle(exchange)
            self._open = []
            current = self._current
            if current is not None:
                assert self._now is not None
                if (
                    current.answer is not None
                    or current.corrupt
                    or self._now - current.end >= self._reply_window
                ):
                    self._settle(current)
                    self._current = None
            self._resolve_held()
            if self._companion is not None and self._companion._start is not None:
                self._companion.finish(self._now)
            self._finished = True
        return self.snapshot()

    def _clock(self, timestamp: float) -> float:
        """Keep time monotonic whatever the caller passes; returns the time to use."""
        value = float(timestamp)
        if math.isnan(value):
            value = self._now if self._now is not None else 0.0
        if self._start is None:
            self._start = self._now = value
        assert self._now is not None
        self._now = max(self._now, value)
        return self._now

    # -- the answer window ----------------------------------------------------------------

    def reply_window(self) -> float:
        """How long after a request's end a reply may start and still be charged to it.

        Learned from this bus: :data:`TURNAROUND_FACTOR` x the longest turnaround of a valid
        answer + :data:`WINDOW_CHARS` character times, at least :data:`WINDOW_FLOOR_S`; before
        any answer, ``attribution_window_s``. Never past :data:`MASTER_TIMEOUT_SHARE` of the
        master's own timeout (seen from its retries): by then the master has moved on, and
        what starts later collides with its next request.
        """
        window = self._attribution_window
        if self._longest_turnaround is not None:
            learned = (
                TURNAROUND_FACTOR * self._longest_turnaround
                + WINDOW_CHARS * self.settings.char_time
            )
            window = min(window, max(WINDOW_FLOOR_S, learned))
        if self._master_timeout is not None:
            floor = 2 * self.settings.char_time
            window = min(window, max(floor, MASTER_TIMEOUT_SHARE * self._master_timeout))
        return window

    def _began(self, start: float | None, end: float | None, length: int) -> float:
        """When a garbage run of ``length`` bytes began, at the latest.

        Chunk times are when the host got the bytes, so the time of the chunk with the run's
        first byte and the time of its last one less the run's wire time are both upper bounds
        (the stream decoders stamp a run with exactly those two).
        """
        last = end if end is not None else self._now
        assert last is not None
        began = last - self.settings.wire_time(length)
        return began if start is None else min(start, began)

    def _frame_began(self, event: Decoded) -> float:
        """When a valid frame began: its end less its wire time (its bytes are back to back)."""
        end = event.end if event.end is not None else self._now
        assert end is not None
        return end - self.settings.wire_time(len(event.raw))

    def _began_own(self, event: DecodeEvent) -> tuple[float, float | None]:
        """When ``event`` began at the latest, from its bytes' own timestamps, and the read
        that carried its first byte (``None`` where unknown).

        Byte j of it arrived no later than its read's timestamp less the wire time of the k
        bytes after it in that read (they came later, a character time each at least), and its
        first character began j + 1 characters before that. Without marks (a decoder that
        gives none): :meth:`_frame_began` or :meth:`_began`.
        """
        if not event.marks:
            if isinstance(event, Decoded):
                return self._frame_began(event), event.start
            return self._began(event.start, event.end, event.nul + len(event.raw)), event.start
        char = self.settings.char_time
        return min(t - (k + j + 1) * char for j, t, k in event.marks), event.marks[0][1]

    def _ended_own(self, event: Decoded) -> tuple[float, float | None]:
        """When a frame ended at the latest, from its bytes' own timestamps, and the read that
        bound comes from: byte j arrived no later than its read's timestamp less the wire time
        of the k bytes after it there, and a frame's bytes are back to back, so its last one
        n - 1 - j characters after that. An earlier read of the frame can bound its end more
        tightly than the read that carried its last byte (one the host made late)."""
        if not event.marks:
            end = event.end if event.end is not None else self._now
            assert end is not None
            return end, event.end
        char, last = self.settings.char_time, len(event.raw) - 1
        return min(((t + (last - j - k) * char, t) for j, t, k in event.marks), key=_first)

    def _in_window(self, exchange: _Exchange, began: float) -> bool:
        return began - exchange.end <= self.reply_window()

    def _exchanges(self) -> list[_Exchange]:
        """Every exchange a reply could still belong to, the most recent first."""
        found = list(reversed(self._open))
        if self._current is not None:
            found.insert(0, self._current)
        return found

    def _claimant(self, began: float, address: int | None) -> _Exchange | None:
        """The exchange a reply that began at ``began`` belongs to: one to ``address`` (the
        reply's own, when readable) whose window holds ``began``, else, for a reply that
        does not say whose it is, the most recent exchange whose window holds it."""
        for exchange in self._exchanges():
            if address is not None and exchange.address != address:
                continue
            if self._in_window(exchange, began):
                return exchange
        return None

    def _supersede(self) -> None:
        """The master sent its next request: the current exchange waits only for late replies."""
        current = self._current
        if current is None:
            return
        self._current = None
        self._open.append(current)

    def _settle_due(self) -> None:
        """Settle the superseded exchanges whose answer window has passed."""
        if not self._open:
            return
        now = self._now
        assert now is not None
        window = self.reply_window()
        keep = []
        for exchange in self._open:
            if now - exchange.end >= window and exchange is not self._deferred:
                self._settle(exchange)
            else:
                keep.append(exchange)
        self._open = keep

    # -- events ---------------------------------------------------------------------------

    def _handle(self, events: list[DecodeEvent]) -> None:
        for event in events:
            if (
                self._companion is not None
                and isinstance(event, Decoded)
                and self._companion.framing == ("evcc1" if is_evcc1(event.raw) else "ascii")
            ):
                self._to_companion(event)
                continue
            deferred = self._deferred
            if deferred is not None:
                if isinstance(event, Decoded) and self._direction(event) is Direction.REPLY:
                    self._deferred, self._deferred_timing = None, ""
                    # garbage, then a reply nobody was seen asking for: the garbage was that
                    # reply's request, garbled on the way to us (the station read it fine)
                    self._corrupt_requests += 1
                    self._after_garbled_request = True
                elif isinstance(event, Garbage) and self._other_generation_traffic(event):
                    # garbage, then the other generation's answer: the garbage was the
                    # master's poll to it, in the framing this UART cannot read
                    self._deferred, self._deferred_timing = None, ""
                    self._other_generation += 1
                    self._unattributed += 1
                else:
                    self._second_answer()
            if isinstance(event, Decoded):
                self._on_frame(event)
            else:
                self._on_garbage(event)

    def _to_companion(self, event: Decoded) -> None:
        """A whole frame of the other ABL generation: its own analyser reads it."""
        companion = self._companion
        assert companion is not None and self._start is not None and self._now is not None
        if companion._start is None:
            companion.start(self._start)
        companion._clock(self._now)
        companion._handle([event])
        companion._settle_due()

    def _rel(self, when: float | None) -> float:
        assert self._start is not None
        base = when if when is not None else self._now
        assert base is not None
        return base - self._start

    def _direction(self, event: Decoded) -> Direction:
        frame = event.frame
        if frame.direction is not Direction.UNKNOWN:
            return frame.direction
        direction = infer_direction(frame.function, frame.data)
        if direction is Direction.UNKNOWN and frame.function in _WRITES:
            # 0x05/0x06: request and echo look alike; an outstanding identical request says echo
            current = self._current
            if current is not None and current.answer is None and current.raw == event.raw:
                return Direction.REPLY
            return Direction.REQUEST
        return direction

    def _on_frame(self, event: Decoded) -> None:
        frame = event.frame
        self._interrupted_reply_end = None
        if self._ascii:
            shape = infer_direction(frame.function, frame.data)
            if shape is not Direction.UNKNOWN and shape is not frame.direction:
                # A reply that starts with ':' or a request with '>': the start character was
                # damaged (0x3A and 0x3E differ in one bit). Garbage, of the side its shape says.
                garbage = Garbage(event.raw, "malformed", frame.address, event.start, event.end)
                if shape is Direction.REQUEST:
                    self._on_garbage(garbage, "request")
                else:
                    self._count_garbage(garbage)
                    self._garbled_reply(garbage, frame.address)
                return
        self._frames += 1
        self._frame_bytes += len(event.raw)
        direction = self._direction(event)
        at = self._rel(event.end)
        if direction is Direction.REPLY:
            self._replies += 1
            self._sample(at, "reply", event)
            self._on_reply(event, at)
        else:
            self._requests += 1
            self._sample(at, "request", event)
            self._on_request(event, at)

    def _stats_for(self, address: int) -> _Stats:
        stats = self._stats.get(address)
        if stats is None:
            stats = self._stats[address] = _Stats(address)
        self._dirty.add(address)
        return stats

    def _on_request(self, event: Decoded, at: float) -> None:
        frame = event.frame
        previous = self._current
        if previous is not None and previous.answer_bound is not None:
            # The master's pause after an answer, timed from the bytes' own timestamps; not
            # where the answer's end and this request's first byte came in one read (a pause
            # inside a read does not show).
            ended, ended_read = previous.answer_bound
            began, first_read = self._began_own(event)
            gap = began - ended
            if gap >= 0 and (first_read is None or first_read != ended_read):
                known = self._master_gap
                self._master_gap = gap if known is None else min(known, gap)
        self._supersede()
        if frame.function in _WRITES:
            self._record_write(frame, at)
        end = event.end if event.end is not None else self._now
        assert end is not None
        if frame.address == BROADCAST_ADDRESS:
            self._broadcasts += 1
            self._previous_raw, self._previous_answered = event.raw, True
            self._previous_end = end
            return
        self._after_garbled_request = False
        stats = self._stats_for(frame.address)
        stats.polls += 1
        if frame.function in _WRITES:
            stats.writes += 1
        else:
            stats.reads += 1
        stats.last_poll = at
        if frame.address != self._last_polled:
            # a new visit of the master to this address; the time since its last visit is
            # one turn of the master's polling cycle
            stats.visits += 1
            if stats.visit_start is not None:
                self._cycles.append(at - stats.visit_start)
            stats.visit_start = at
            self._last_polled = frame.address
        retry = event.raw == self._previous_raw and not self._previous_answered
        if retry:
            stats.retries += 1
            if self._previous_end is not None:
                # the master gave up on the first one: its timeout, as the bus shows it
                waited = self._frame_began(event) - self._previous_end
                if waited > 0:
                    known = self._master_timeout
                    self._master_timeout = waited if known is None else min(known, waited)
        stats.chars += len(event.raw) + self._answer_chars(frame)
        self._current = _Exchange(frame, event.raw, end, stats, retry)
        self._previous_raw, self._previous_answered = event.raw, False
        self._previous_end = end

    def _settle(self, exchange: _Exchange) -> None:
        """The exchange is over (its answer window passed, or listening ended)."""
        stats = exchange.stats
        self._dirty.add(stats.address)
        if self._deferred is exchange:
            self._second_answer()
        if exchange.answer is not None:
            outcome = "answer"
            if exchange.doubled:
                stats.doubled += 1
        elif exchange.corrupt:
            outcome = "corrupt"
            stats.corrupt += 1
        else:
            outcome = "timeout"
            stats.timeouts += 1
        if self._on_exchange is not None:
            self._on_exchange(stats.address, outcome)

    def _on_reply(self, event: Decoded, at: float) -> None:
        frame = event.frame
        began = self._frame_began(event)
        current = self._current
        target = current
        if current is None or current.address != frame.address:
            # not the current exchange's address: a late reply to an earlier one, or a reply
            # from another address than the master asked (charged to no station's answers)
            target = self._claimant(began, frame.address)
        if target is None:
            self._unpaired += 1
            # Not charged to the address: before the first request (listening began
            # mid-exchange) and after a garbled request (this may well be its answer).
            if self._requests and not self._after_garbled_request:
                self._stats_for(frame.address).unsolicited += 1
                if current is not None and self._in_window(current, began):
                    current.stats.foreign += 1  # another address answered this one's poll
                    current.stats.foreign_from.setdefault(frame.address, None)
                    self._dirty.add(current.address)
            return
        stats = target.stats
        self._dirty.add(stats.address)
        if not self._answers(target.frame, frame):
            # from the right address, but not an answer to this request
            stats.mismatched += 1
            if target.answer is None:
                target.corrupt = True
            else:
                target.doubled = True
            return
        if target.answer is not None:
            target.doubled = True
            if event.raw != target.answer:
                stats.differing += 1
            return
        target.answer = event.raw
        target.answer_end = event.end if event.end is not None else self._now
        target.answer_bound = self._ended_own(event)
        stats.answers += 1
        stats.last_answer = at
        if target.retry:
            stats.recovered += 1
        if frame.is_exception:
            stats.exceptions += 1
        if target is not current:
            # the master had already moved on: the station is there, but too slow for it
            stats.late += 1
        else:
            self._previous_answered = True
            end = event.end if event.end is not None else self._now
            assert end is not None
            elapsed = max(0.0, end - current.end)
            stats.responses.append(elapsed)
            stats.resp_count += 1
            stats.resp_min = min(stats.resp_min, elapsed)
            stats.resp_max = max(stats.resp_max, elapsed)
            turnaround = max(0.0, began - current.end)
            known = self._longest_turnaround
            self._longest_turnaround = turnaround if known is None else max(known, turnaround)
        if not frame.is_exception and target.frame.function in _READS:
            self._decode_registers(target.frame, frame, stats, at)

    def _answers(self, request: Frame, reply: Frame) -> bool:
        """Does ``reply`` answer ``request``? (the pairing rules of abl-protocol.md §5)"""
        if reply.address != request.address:
            return False
        if reply.is_exception:
            # ABL controllers answer every error with 0x90; others echo the function | 0x80
            return len(reply.data) == 1
        if reply.function != request.function:
            return False
        data = request.data
        if request.function in _READS:
            if len(data) != 4:
                return False
            count = int.from_bytes(data[2:4], "big")
            # registers: two bytes each; coils and discrete inputs: bits packed into bytes
            expected = 2 * count if request.function in READ_FUNCTIONS else (count + 7) // 8
            payload = reply.data
            if len(payload) != 1 + expected or payload[0] != expected:
                return False
            return not (self._check_echo and expected and payload[1] != data[1])
        if request.function in (WRITE_MULTIPLE_REGISTERS, WRITE_MULTIPLE_COILS):
            return reply.data == data[:4]
        if request.function in (WRITE_SINGLE_REGISTER, WRITE_SINGLE_COIL):
            return reply.data == data
        return True

    # -- garbage: whose is it? ----------------------------------------------------------

    def _count_garbage(self, event: Garbage) -> None:
        entry = self._garbage.setdefault(event.reason, [0, 0])
        entry[0] += 1
        entry[1] += len(event.raw)
        at = self._rel(event.end)
        if len(self._first_garbage) < SAMPLE_FIRST:
            self._first_garbage.append((at, "garbage", event))
        self._recent.append((at, "garbage", event))

    def _on_garbage(self, event: Garbage, side: str | None = None) -> None:
        """Garbage; ``side`` is ``request`` or ``reply`` where known (else from its shape)."""
        self._count_garbage(event)
        timing, answered = self._other_generation_timing(event)
        if timing == "other":
            # The master has moved on to a station of the other generation: its poll and the
            # answer, heard at settings that cannot read them, are no one's garbage here.
            if answered is not None:  # (timed: the master's pause after this answer)
                self._after.setdefault(answered.address, [0, 0])[0] += 1
            self._other_generation += 1
            self._unattributed += 1
            self._supersede()
            self._previous_raw, self._previous_answered = None, True
            return
        frame: Frame | None = None
        if side is None:
            side, frame = self._shape_of(event)
        interrupted_end = self._interrupted_reply_end
        self._interrupted_reply_end = (
            event.end if side == "reply" and event.reason == "interrupted" else None
        )
        if side == "request" and interrupted_end is not None and event.start == interrupted_end:
            # a ':' inside a garbled reply (0x32 '2' and 0x38 '8' are one bit from ':'): the
            # rest of that reply, cut off by a start character that was never sent
            side = "reply"
        if side == "request":
            # the master sent a request we could not read: the exchange before it is over, and
            # a reply that follows answers the garbled request (a station may have read it fine)
            if not self._closing:  # (one cut off by the end of listening is not garbled)
                self._corrupt_requests += 1
            self._supersede()
            self._previous_raw, self._previous_answered = None, True
            self._after_garbled_request = True
            return
        if self._closing:
            return
        if frame is not None:
            # a valid reply whose start character was damaged: its address is checksummed
            self._garbled_reply(event, frame.address)
            return
        began = self._began(event.start, event.end, len(event.raw))
        claimed = event.address if side == "reply" or not (self._ascii or self._evcc1) else None
        target = self._claimant(began, claimed)
        if target is None and claimed is not None:
            current = self._current
            if current is not None and self._in_window(current, began):
                # a garbled reply that names another address in this one's window
                current.stats.foreign += 1
                self._dirty.add(current.address)
        if target is None:
            self._unattributed += 1
            return
        self._dirty.add(target.address)
        if target.answer is None:
            target.corrupt = True
        elif side == "reply":
            target.doubled = True  # a second, garbled answer
        else:
            # After a valid answer, garbage without a start character (RTU junk, ASCII noise)
            # is a second answer or the next request garbled: what follows it tells (_handle).
            self._deferred = target
            self._deferred_timing = timing if target is answered else ""

    def _garbled_reply(self, event: Garbage, address: int) -> None:
        """A reply from ``address`` (its checksum holds) that is not well formed."""
        began = self._began(event.start, event.end, len(event.raw))
        target = self._claimant(began, address)
        if target is None:
            self._unattributed += 1
            return
        self._dirty.add(target.address)
        if target.answer is None:
            target.corrupt = True
        else:
            target.doubled = True

    def _other_generation_traffic(self, event: Garbage) -> bool:
        """Is this run (plausibly) the other ABL generation's traffic on a bus both share?"""
        return self._other_generation_timing(event)[0] == "other"

    def _other_generation_timing(self, event: Garbage) -> tuple[str, _Exchange | None]:
        """Is this run the other ABL generation's traffic on a bus both share? ``("other",
        answered)`` if so; ``("", None)`` if it cannot be; at 8E1, where that depends on when it
        began, ``("too_soon", answered)`` or ``("untimed", answered)`` (see below), with the
        exchange whose answer it follows.

        At 8N1, an 8E1 character's parity bit is read as its stop bit: those with a 0 parity
        bit become framing errors (NUL), the rest arrive intact, so the run is ABL ASCII with
        holes, every intact character one whose even-parity bit is 1: a frame that decodes
        in the other framing as far as this UART lets it. At 8E1, 8N1 characters sent back to
        back lose their stop bit to the next one's start bit: framing errors nearly throughout.
        Two 8E1 controllers answering at once garble each other much the same way, so here it
        must also be what the master's next poll explains: it follows a valid answer no sooner
        than the master ever sent its next request after one (a second controller answers
        before that, overlapping the first answer or right after it: ``too_soon``).

        Both ends of the pause are timed from the bytes' own timestamps (:meth:`_ended_own`,
        :meth:`_began_own`), not from when their reads arrived. That shows the pause unless
        the bound on the answer's end comes from the very read that carried the run's first
        byte (an adapter's packet, or a host that read late, holding both): a pause inside a
        read does not show, and the pause is ``untimed``. So is it before the master's pause
        is known. What the other turns showed then decides (:meth:`_resolve_held`).
        """
        other = self._other_line
        if other is None or self._closing:
            return "", None
        raw = event.raw
        chars = raw.replace(b"\x00", b"") if event.nul else raw
        if self.settings.parity == "N":
            shaped = (
                event.nul > 0
                and len(chars) >= OTHER_GENERATION_MIN_CHARS
                and all(
                    char in _ABL_ASCII_CHARS and _parity_bit(char, other.parity) == 1
                    for char in chars
                )
            )
            return ("other" if shaped else ""), None
        if event.nul < OTHER_GENERATION_NUL_SHARE * (event.nul + len(chars)):
            return "", None
        exchanges = self._exchanges()
        if not exchanges:
            return "", None
        answered = exchanges[0]
        if answered.answer_bound is None:
            return "", None
        ended, ended_read = answered.answer_bound
        began, first_read = self._began_own(event)
        gap = self._master_gap
        if gap is None or (first_read is not None and first_read == ended_read):
            return "untimed", answered
        slack = 2 * self.settings.char_time  # the host's timestamps of two chunks
        if began - ended >= max(0.0, gap - slack):
            return "other", answered
        return "too_soon", answered

    def _second_answer(self) -> None:
        """Nothing after the deferred garbage explained it: a second answer to that exchange,
        unless it looked like the other generation's traffic and only the host's timing of
        the master's pause stood against it (then held until listening ends)."""
        exchange, timing = self._deferred, self._deferred_timing
        self._deferred, self._deferred_timing = None, ""
        if exchange is None:
            return
        if timing in ("untimed", "too_soon"):
            if timing == "too_soon":
                self._after.setdefault(exchange.address, [0, 0])[1] += 1
            self._held.append(exchange)
            return
        exchange.doubled = True
        self._dirty.add(exchange.stats.address)

    def _resolve_held(self) -> None:
        """Decide the held garbage from every turn of the master's cycle: where, after that
        address's answer, such garbage came after the master's pause in more turns than it
        came sooner, and in two at least, the master moves on to the other generation there
        (as it does every turn, the same stations in the same order), and the runs whose
        pause did not show (``untimed``) or showed shorter (``too_soon``: a host that read one
        side of it late) are its traffic too. Elsewhere each is a second answer: a second
        controller on that address answers before the master's pause has passed, turn after
        turn."""
        doubled: set[int] = set()
        for exchange in self._held:
            paused, sooner = self._after.get(exchange.address, (0, 0))
            if paused >= HELD_MIN_PAUSES and paused > sooner:
                self._other_generation += 1
                self._unattributed += 1
            elif not exchange.doubled and id(exchange) not in doubled:
                doubled.add(id(exchange))
                exchange.stats.doubled += 1
                self._dirty.add(exchange.stats.address)
        self._held = []

    def _shape_of(self, event: Garbage) -> tuple[str | None, Frame | None]:
        """Which side garbage comes from, by its start character or its shape, and the frame
        inside it when only its start character was damaged."""
        raw = event.raw
        if self._evcc1:
            # No checksum to find a frame inside a damaged start: the start character or nothing.
            return {b"!": "request", b">": "reply"}.get(raw[:1]), None
        if self._ascii:
            side = {b":": "request", b">": "reply"}.get(raw[:1])
            if side is not None:
                return side, None
            # A start character damaged beyond recognition (or read as NUL and dropped): the
            # rest may still be a whole frame, or at least as long as a request.
            for body in (raw[1:], raw):
                try:
                    frame = self._codec.decode(b":" + body + b"\r\n")
                except FrameError:
                    continue
                shape = infer_direction(frame.function, frame.data)
                if shape is Direction.REQUEST:
                    return "request", None
                if shape is Direction.REPLY:
                    return "reply", frame
            length = len(raw.strip(b"\r\n"))
            return ("request" if self._request_sized(length, ascii_body=True) else None), None
        return ("request" if self._request_sized(len(raw), ascii_body=False) else None), None

    def _request_sized(self, length: int, *, ascii_body: bool) -> bool:
        """Is a garbage run of ``length`` bytes the size of a read request, and not the size
        of the answer the current request asks for? (A noisy copy of the master's next one.)"""
        request = 1 + 2 * 7 if ascii_body else 8  # damaged start + 7 bytes as hex; RTU: 8 bytes
        if abs(length - request) > 1:
            return False
        current = self._current
        if current is None:
            return True
        answer = self._answer_chars(current.frame)
        answer = answer - 2 if ascii_body else answer  # without CR LF
        return abs(length - answer) > 2

    def _answer_chars(self, request: Frame) -> int:
        """Characters of the answer ``request`` asks for, in this framing."""
        function, data = request.function, request.data
        if self._evcc1:
            # '>n cc' CR LF, then ' value': four digits, or the firmware text (eight at most)
            count = int.from_bytes(data[2:4], "big") if len(data) >= 4 else 1
            return 7 + (5 if count <= 2 else 9)
        if function in READ_FUNCTIONS and len(data) == 4:
            body = 3 + 2 * int.from_bytes(data[2:4], "big")
        elif function in _WRITES:
            body = 6
        else:
            body = len(request.body)
        return 1 + 2 * (body + 1) + 2 if self._ascii else body + 2

    def _record_write(self, frame: Frame, at: float) -> None:
        self._writes_seen += 1
        if len(self._writes) >= WRITES_KEPT:
            return
        data = frame.data
        if len(data) < 4:
            return
        register = int.from_bytes(data[0:2], "big")
        if frame.function == WRITE_MULTIPLE_REGISTERS and len(data) >= 5:
            payload = data[5:]
            values = tuple(
                int.from_bytes(payload[i : i + 2], "big") for i in range(0, len(payload) - 1, 2)
            )
        elif frame.function == WRITE_MULTIPLE_COILS and len(data) >= 5:
            values = tuple(data[5:])
        else:
            values = (int.from_bytes(data[2:4], "big"),)
        self._writes.append(WriteSeen(at, frame.address, frame.function, register, values))

    def _decode_registers(self, request: Frame, reply: Frame, stats: _Stats, at: float) -> None:
        profile = self.profile
        if profile is None:
            return
        key = (request.function, int.from_bytes(request.data[0:2], "big"), len(reply.data) // 2)
        if key not in (self._status, self._identity):
            return
        # A station answers the same registers poll after poll: decode each payload once.
        cache_key = (key, reply.data)
        decoded = self._decoded.get(cache_key)
        if decoded is None:
            decoded = self._decode(profile, key == self._status, reply.data[1:])
            if len(self._decoded) >= DECODE_CACHE:
                self._decoded.clear()
            self._decoded[cache_key] = decoded
        if decoded[0] == "status":
            code, meaning, severity = decoded[1:]
            stats.state = StateSeen(code, meaning, severity, at)
            stats.states[code] = stats.states.get(code, 0) + 1
            self._state_table[code] = (meaning, severity)
        elif decoded[0] == "identity":
            identity = decoded[1]
            stats.identity = identity
            if identity not in stats.identities:
                stats.identities.append(identity)
        elif decoded[0] == "undecodable":
            stats.undecodable += 1

    @staticmethod
    def _decode(profile: DeviceProfile, is_status: bool, payload: bytes) -> _Payload:
        """("status", code, meaning, severity), ("identity", text), ("undecodable",) or ("",)."""
        registers = tuple(
            int.from_bytes(payload[i : i + 2], "big") for i in range(0, len(payload), 2)
        )
        try:
            if is_status:
                status = profile.decode_status(registers)
                if status.state is None:
                    return ("",)
                return ("status", status.state, status.meaning, status.severity)
            return ("identity", profile.decode_identity(registers).text)
        except (UnexpectedAnswer, ValueError):
            return ("undecodable",)

    def _sample(self, at: float, kind: str, event: Decoded) -> None:
        # kept raw; made into RawSample (hex, description) only when a report is taken
        if len(self._first_samples) < SAMPLE_FIRST:
            self._first_samples.append((at, kind, event))
        self._recent.append((at, kind, event))

    def _add_silence(self, silence: Silence) -> None:
        if len(self._silences) < SILENCES_KEPT:
            self._silences.append(silence)
        else:  # keep the longest ones
            shortest = min(range(len(self._silences)), key=lambda i: self._silences[i].seconds)
            if self._silences[shortest].seconds < silence.seconds:
                del self._silences[shortest]
                self._silences.append(silence)

    # -- reporting ------------------------------------------------------------------------

    def snapshot(self) -> ListenReport:
        """The report as of now. Cheap: unchanged addresses are reused from the last snapshot."""
        start = self._start
        now = self._now
        for address in self._dirty:
            self._cache[address] = self._address_report(self._stats[address])
        self._dirty.clear()
        addresses = [self._cache[a] for a in sorted(self._cache)]
        # Exchanges not settled yet: pending (no answer so far), or answered twice already.
        pending: dict[int, int] = {}
        doubled: dict[int, int] = {}
        for exchange in self._exchanges():
            if exchange.answer is None:
                pending[exchange.address] = pending.get(exchange.address, 0) + 1
            elif exchange.doubled:
                doubled[exchange.address] = doubled.get(exchange.address, 0) + 1
        if pending or doubled:
            addresses = [
                replace(
                    entry,
                    pending=entry.pending + pending.get(entry.address, 0),
                    doubled=entry.doubled + doubled.get(entry.address, 0),
                )
                if entry.address in pending or entry.address in doubled
                else entry
                for entry in addresses
            ]
        silences = list(self._silences)
        if start is not None and now is not None:
            quiet_from = self._last_rx if self._last_rx is not None else start
            if now - quiet_from >= self._silence_min:
                silences.append(Silence(quiet_from - start, now - start, ongoing=True))
        silences.sort(key=lambda s: s.start)
        kept = {id(s[2]): s for s in (*self._first_samples, *self._first_garbage, *self._recent)}
        ordered = [_raw_sample(*sample) for sample in sorted(kept.values(), key=lambda s: s[0])]
        report = ListenReport(
            framing=self.framing,
            settings=self.settings,
            profile=self.profile.name if self.profile else None,
            seconds=(now - start) if start is not None and now is not None else 0.0,
            finished=self._finished,
            bytes=self._bytes,
            frames=self._frames,
            frame_bytes=self._frame_bytes,
            requests=self._requests,
            replies=self._replies,
            broadcasts=self._broadcasts,
            unpaired_replies=self._unpaired,
            corrupt_requests=self._corrupt_requests,
            garbage=MappingProxyType(
                {reason: GarbageCount(c, b) for reason, (c, b) in self._garbage.items()}
            ),
            writes_seen=self._writes_seen,
            writes=tuple(self._writes),
            silences=tuple(silences),
            first_byte=None if self._first_rx is None or start is None else self._first_rx - start,
            last_byte=None if self._last_rx is None or start is None else self._last_rx - start,
            addresses=tuple(addresses),
            samples=tuple(ordered),
            state_table=MappingProxyType(dict(self._state_table)),
            chain=self.chain,
            reply_window=self.reply_window(),
            longest_turnaround=self._longest_turnaround,
            master_timeout=self._master_timeout,
            poll_cycle=_median(self._cycles),
            unattributed=self._unattributed,
            other_generation=self._other_generation,
        )
        if self._companion is not None and self._companion._start is not None:
            return heard_together(report, self._companion.snapshot())
        return report

    def _address_report(self, stats: _Stats) -> AddressReport:
        response = None
        median = _median(stats.responses)
        if stats.resp_count and median is not None:
            response = ResponseTimes(stats.resp_count, stats.resp_min, median, stats.resp_max)
        return AddressReport(
            address=stats.address,
            generation=self.profile.generation if self.profile and stats.answers else None,
            polls=stats.polls,
            reads=stats.reads,
            writes=stats.writes,
            answers=stats.answers,
            exceptions=stats.exceptions,
            timeouts=stats.timeouts,
            corrupt=stats.corrupt,
            pending=0,
            retries=stats.retries,
            recovered=stats.recovered,
            doubled=stats.doubled,
            differing=stats.differing,
            mismatched=stats.mismatched,
            unsolicited=stats.unsolicited,
            foreign=stats.foreign,
            foreign_from=tuple(sorted(stats.foreign_from)),
            late=stats.late,
            visits=stats.visits,
            exchange_chars=stats.chars / stats.polls if stats.polls else 0.0,
            state=stats.state,
            states=MappingProxyType(dict(stats.states)),
            identity=stats.identity,
            identities=tuple(stats.identities),
            response=response,
            undecodable=stats.undecodable,
            last_poll=stats.last_poll,
            last_answer=stats.last_answer,
        )


_Sample = tuple[float, str, "Decoded | Garbage"]


def _raw_sample(at: float, kind: str, event: Decoded | Garbage) -> RawSample:
    if isinstance(event, Decoded):
        return RawSample(at, kind, event.raw.hex(), event.frame.describe())
    return RawSample(at, kind, event.raw.hex(), event.reason)


def _first(pair: tuple[float, float | None]) -> float:
    return pair[0]


def _median(values: deque[float] | list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _parity_bit(char: int, parity: str) -> int:
    """The parity bit a UART sends after ``char`` at ``parity`` (E or O)."""
    ones = bin(char).count("1") & 1
    return ones if parity == "E" else ones ^ 1


def _other_line(profile: DeviceProfile | None, settings: LineSettings) -> LineSettings | None:
    """The other ABL generation's line settings, if its characters differ from ours in parity
    (8N1 beside 8E1); else ``None``."""
    other = profile.other_generation_profile() if profile is not None else None
    if other is None:
        return None
    line = other.line
    if line.baudrate != settings.baudrate or (line.parity == "N") == (settings.parity == "N"):
        return None
    return line


def _block_key(block: RegisterBlock | None) -> tuple[int, int, int] | None:
    if block is None:
        return None
    return (block.function, block.start, block.count)
