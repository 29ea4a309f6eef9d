"""What passive listening found, as frozen data: per-address answers, states, writes, silences,
garbage, and the :class:`ListenReport` that carries them with ``to_dict()`` for JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field, replace

from clu_doctor.bus.chain import Chain
from clu_doctor.bus.settings import LineSettings
from clu_doctor.records import record
from clu_doctor.severity import Severity

#: Version of :meth:`ListenReport.to_dict`'s shape.
REPORT_SCHEMA = 1


@record
class ResponseTimes:
    """How fast an address answered (seconds from the end of the request to the end of the answer)."""

    count: int
    minimum: float
    median: float
    maximum: float

    def to_dict(self) -> dict[str, object]:
        return {
            "count": self.count,
            "min_ms": _ms(self.minimum),
            "median_ms": _ms(self.median),
            "max_ms": _ms(self.maximum),
        }


@record
class StateSeen:
    """A state code an address reported in answer to the profile's status block."""

    code: str
    meaning: str
    severity: Severity
    #: Seconds since the start of listening, of the last answer carrying it.
    at: float

    def to_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "meaning": self.meaning,
            "severity": self.severity.value,
            "at_s": _s(self.at),
        }


@record
class AddressReport:
    """Everything heard about one address.

    Every non-broadcast request to the address is a *poll*. Each settled poll ends as exactly
    one of ``answers`` (a valid, paired answer), ``corrupt`` (no valid answer but garbage
    arrived for it, or a frame from this address that does not answer it) or ``timeouts``
    (nothing); a poll still waiting for its answer is ``pending``. So
    ``polls == answers + corrupt + timeouts + pending``.
    """

    address: int
    polls: int = 0
    reads: int = 0
    writes: int = 0
    answers: int = 0
    #: Answers that are Modbus exceptions (ABL: 0x90, "writing registers failed").
    exceptions: int = 0
    timeouts: int = 0
    corrupt: int = 0
    pending: int = 0
    #: Polls that repeat the request just before them, which went unanswered.
    retries: int = 0
    #: Retries that were answered.
    recovered: int = 0
    #: Exchanges answered validly *and* followed by a second answer, valid or garbled.
    doubled: int = 0
    #: Exchanges with two valid answers whose contents differ (two controllers, one address).
    differing: int = 0
    #: Valid frames from this address that do not answer its outstanding request.
    mismatched: int = 0
    #: Valid answers from this address while no request to it was outstanding.
    unsolicited: int = 0
    #: Valid replies from *another* address that arrived in this address's answer window (a
    #: controller answering with the wrong address, e.g. a DUO outlet set to its twin's).
    foreign: int = 0
    #: The addresses those replies came from.
    foreign_from: tuple[int, ...] = ()
    #: Valid answers that came after the master had moved on (its next request was on the
    #: wire): the station is there, but too slow for the master.
    late: int = 0
    #: Times the master came to this address: a run of polls to it (identity, write, status,
    #: retries) is one visit. Two visits to every polled address is a full polling cycle.
    visits: int = 0
    #: Mean characters of one exchange (request + expected answer), for error-rate statistics.
    exchange_chars: float = 0.0
    state: StateSeen | None = None
    #: How often each state code was reported.
    states: Mapping[str, int] = field(default_factory=dict)
    #: The last identity read by the master (profile identity block), as text.
    identity: str | None = None
    #: Every distinct identity seen, in order of first appearance.
    identities: tuple[str, ...] = ()
    response: ResponseTimes | None = None
    #: Status or identity answers the profile could not decode (wrong register map?).
    undecodable: int = 0
    #: Seconds since the start of listening: last poll, last valid answer.
    last_poll: float | None = None
    last_answer: float | None = None
    #: The ABL controller generation that answered here (1: EVCC text protocol, 2: EVCC2/3
    #: Modbus ASCII), from the profile that read the answers; ``None`` if none did.
    generation: int | None = None

    @property
    def settled(self) -> int:
        """Polls whose outcome is known."""
        return self.polls - self.pending

    @property
    def anomalies(self) -> int:
        """Exchanges that show corruption or a second answer: the duplicate-address signal."""
        return self.corrupt + self.doubled

    @property
    def lost(self) -> int:
        """Unanswered polls that no retry made good."""
        return max(0, self.timeouts - self.recovered)

    def to_dict(self) -> dict[str, object]:
        return {
            "address": self.address,
            "polls": self.polls,
            "reads": self.reads,
            "writes": self.writes,
            "answers": self.answers,
            "exceptions": self.exceptions,
            "timeouts": self.timeouts,
            "corrupt": self.corrupt,
            "pending": self.pending,
            "retries": self.retries,
            "recovered": self.recovered,
            "doubled": self.doubled,
            "differing": self.differing,
            "mismatched": self.mismatched,
            "unsolicited": self.unsolicited,
            "foreign": self.foreign,
            "foreign_from": list(self.foreign_from),
            "late": self.late,
            "visits": self.visits,
            "undecodable": self.undecodable,
            "exchange_chars": round(self.exchange_chars, 1),
            "state": self.state.to_dict() if self.state else None,
            "states": dict(sorted(self.states.items())),
            "identity": self.identity,
            "identities": list(self.identities),
            "response": self.response.to_dict() if self.response else None,
            "last_poll_s": _s(self.last_poll),
            "last_answer_s": _s(self.last_answer),
            "generation": self.generation,
        }


@record
class WriteSeen:
    """A write request from the master (0x05/0x06/0x0F/0x10), broadcast (address 0) included."""

    at: float
    address: int
    function: int
    register: int
    values: tuple[int, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "at_s": _s(self.at),
            "address": self.address,
            "function": self.function,
            "register": f"0x{self.register:04X}",
            "values": [f"0x{value:04X}" for value in self.values],
        }


@record
class Silence:
    """A stretch without a byte, in seconds since the start of listening."""

    start: float
    end: float
    #: Still silent when the report was taken.
    ongoing: bool = False

    @property
    def seconds(self) -> float:
        return self.end - self.start

    def to_dict(self) -> dict[str, object]:
        return {
            "start_s": _s(self.start),
            "end_s": _s(self.end),
            "seconds": _s(self.seconds),
            "ongoing": self.ongoing,
        }


@record
class GarbageCount:
    count: int = 0
    bytes: int = 0


@record
class RawSample:
    """One piece of raw evidence: a frame or a garbage run as it came off the wire."""

    at: float
    kind: str  # request | reply | garbage
    hex: str
    note: str = ""

    def to_dict(self) -> dict[str, object]:
        return {"at_s": _s(self.at), "kind": self.kind, "hex": self.hex, "note": self.note}


@record
class ListenReport:
    """What a listen heard: per address and bus-wide, with bounded raw evidence."""

    framing: str
    settings: LineSettings
    profile: str | None
    #: Seconds listened so far (from the start of listening to the last time the analyser saw).
    seconds: float
    #: True once :meth:`TrafficAnalyser.finish` ran.
    finished: bool
    bytes: int
    frames: int
    #: Bytes in valid frames (the rest is garbage or ignorable NUL/CR/LF between frames).
    frame_bytes: int
    requests: int
    replies: int
    broadcasts: int
    #: Reply-shaped frames that answer no outstanding request (the first one after listening
    #: starts mid-exchange is normal; more are stray traffic).
    unpaired_replies: int
    #: Garbled frames on the master's side (ASCII frames starting with ``:``).
    corrupt_requests: int
    garbage: Mapping[str, GarbageCount]
    writes_seen: int
    writes: tuple[WriteSeen, ...]
    silences: tuple[Silence, ...]
    #: Seconds since the start: first and last byte heard (``None``: not a byte yet).
    first_byte: float | None
    last_byte: float | None
    addresses: tuple[AddressReport, ...]
    samples: tuple[RawSample, ...]
    #: Meaning and severity (from the profile) of every state code in the report.
    state_table: Mapping[str, tuple[str, Severity]] = field(default_factory=dict)
    #: The site's chain, if the caller gave one (used by the verdicts).
    chain: Chain | None = None
    #: How long after a request's end a reply may start and still be charged to it, as the
    #: analyser learned it from this bus (the stations' turnarounds, the master's timeout).
    reply_window: float = 0.0
    #: The longest turnaround (request end to reply start) of an answer heard, and the
    #: master's timeout as its retries show it (``None``: not seen).
    longest_turnaround: float | None = None
    master_timeout: float | None = None
    #: Typical time between two visits of the master to one address: its polling cycle
    #: (``None``: no address was visited twice).
    poll_cycle: float | None = None
    #: Garbage runs on the reply side that no exchange could claim (outside every answer
    #: window): counted bus-wide, against no station.
    unattributed: int = 0
    #: Of those, runs that are the other ABL generation's traffic, heard at settings that
    #: cannot read it (8N1 frames at 8E1, or the reverse; manual §9.7): a mixed bus.
    other_generation: int = 0

    @property
    def generations(self) -> dict[int, int]:
        """Which ABL generation answered at which address (addresses nobody read: absent)."""
        return {a.address: a.generation for a in self.addresses if a.generation is not None}

    @property
    def mixed(self) -> bool:
        """Both ABL generations answer on this bus."""
        return len(set(self.generations.values())) > 1

    @property
    def garbage_events(self) -> int:
        return sum(entry.count for entry in self.garbage.values())

    @property
    def garbage_bytes(self) -> int:
        return sum(entry.bytes for entry in self.garbage.values())

    def address(self, address: int) -> AddressReport | None:
        for entry in self.addresses:
            if entry.address == address:
                return entry
        return None

    @property
    def polled(self) -> tuple[int, ...]:
        """Addresses the master polled."""
        return tuple(entry.address for entry in self.addresses if entry.polls)

    @property
    def longest_silence(self) -> Silence | None:
        return max(self.silences, key=lambda s: s.seconds, default=None)

    def to_dict(self) -> dict[str, object]:
        return {
            "schema": REPORT_SCHEMA,
            "framing": self.framing,
            "settings": str(self.settings),
            "profile": self.profile,
            "seconds": _s(self.seconds),
            "finished": self.finished,
            "bus": {
                "bytes": self.bytes,
                "frames": self.frames,
                "frame_bytes": self.frame_bytes,
                "requests": self.requests,
                "replies": self.replies,
                "broadcasts": self.broadcasts,
                "unpaired_replies": self.unpaired_replies,
                "corrupt_requests": self.corrupt_requests,
                "garbage": {
                    reason: {"count": entry.count, "bytes": entry.bytes}
                    for reason, entry in sorted(self.garbage.items())
                },
                "writes_seen": self.writes_seen,
                "unattributed": self.unattributed,
                "other_generation": self.other_generation,
                "reply_window_ms": _ms(self.reply_window),
                "longest_turnaround_ms": None
                if self.longest_turnaround is None
                else _ms(self.longest_turnaround),
                "master_timeout_ms": None
                if self.master_timeout is None
                else _ms(self.master_timeout),
                "poll_cycle_s": _s(self.poll_cycle),
                "first_byte_s": _s(self.first_byte),
                "last_byte_s": _s(self.last_byte),
            },
            "generations": {str(a): g for a, g in sorted(self.generations.items())},
            "addresses": [entry.to_dict() for entry in self.addresses],
            "writes": [write.to_dict() for write in self.writes],
            "silences": [silence.to_dict() for silence in self.silences],
            "samples": [sample.to_dict() for sample in self.samples],
            "state_table": {
                code: {"meaning": meaning, "severity": severity.value}
                for code, (meaning, severity) in sorted(self.state_table.items())
            },
            "chain": self.chain.to_dict() if self.chain else None,
        }


def _s(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def _ms(value: float) -> float:
    return round(value * 1000, 3)


def merge_generations(base: ListenReport, other: ListenReport) -> ListenReport:
    """One report of a bus that both ABL generations share (manual §9.7), from a listen at each
    generation's line settings: a UART at 8E1 hears the first generation's 8N1 frames as
    framing errors, one at 8N1 half the second generation's characters, so neither hears both.

    ``base`` (the profile's own settings) keeps its bus-wide counts and every address it heard
    polled; each address ``other`` heard polled and answered that ``base`` did not is added
    from ``other``. The other generation's frames are garbage at the wrong parity, charged to
    no station in either window (the analyser tells them from a second answer), so they are
    not counted again; a duplicate address on either side keeps its garbled answers."""
    heard = {entry.address for entry in base.addresses if entry.polls}
    added = [
        entry
        for entry in other.addresses
        if entry.polls and entry.answers and entry.address not in heard
    ]
    if not added:
        return base
    kept = [entry for entry in base.addresses if entry.address not in {a.address for a in added}]
    addresses = tuple(sorted((*kept, *added), key=lambda e: e.address))
    table = dict(other.state_table)
    table.update(base.state_table)
    return replace(base, addresses=addresses, state_table=table)


def heard_together(base: ListenReport, other: ListenReport) -> ListenReport:
    """One report of a bus that both ABL generations share, heard in one listen by an adapter
    that passes the other generation's characters through unchanged (bus/codecs/mixed.py):
    ``other`` read the other generation's whole frames, ``base`` everything else.

    The frames are whole, so every address ``other`` heard polled is added (a silent station of
    the other generation is a timeout there, as on its own bus), unless ``base`` heard it polled
    too (one address, polled in both framings: ``base`` keeps it). ``other``'s frames and their
    bytes are added to the bus-wide counts; its garbage is none (it reads whole frames only).
    Where ``base`` read no frame at all, the bus is the other generation's: its report, with
    the settings listened at and what the line carried."""
    if not other.frames:
        return base
    samples = tuple(sorted((*base.samples, *other.samples), key=lambda s: s.at))
    if not base.frames:
        # Only the other generation spoke: a bus of that generation, heard whole at our
        # settings. Its report, with what the line carried as we heard it.
        return replace(
            other,
            settings=base.settings,
            seconds=base.seconds,
            finished=base.finished,
            bytes=base.bytes,
            garbage=base.garbage,
            silences=base.silences,
            first_byte=base.first_byte,
            last_byte=base.last_byte,
            samples=samples,
            unattributed=base.unattributed,
            other_generation=base.other_generation,
        )
    heard = {entry.address for entry in base.addresses if entry.polls}
    added = [entry for entry in other.addresses if entry.polls and entry.address not in heard]
    kept = [entry for entry in base.addresses if entry.address not in {a.address for a in added}]
    addresses = tuple(sorted((*kept, *added), key=lambda e: e.address))
    table = dict(other.state_table)
    table.update(base.state_table)
    return replace(
        base,
        addresses=addresses,
        state_table=table,
        frames=base.frames + other.frames,
        frame_bytes=base.frame_bytes + other.frame_bytes,
        requests=base.requests + other.requests,
        replies=base.replies + other.replies,
        broadcasts=base.broadcasts + other.broadcasts,
        unpaired_replies=base.unpaired_replies + other.unpaired_replies,
        writes_seen=base.writes_seen + other.writes_seen,
        writes=tuple(sorted((*base.writes, *other.writes), key=lambda w: w.at)),
        samples=samples,
    )
