"""Which line settings and framing the bus uses, found by listening only.

A UART samples the line at one setting, so the only passive way to find the setting in use is
to listen a short window at each candidate and see what decodes. :func:`detect_line_settings`
reopens the port through a caller-supplied ``open_link(settings, framing) -> Link`` for each
candidate *setting* (one window per baud rate and parity: both framings are scored on the same
bytes, since the framing does not change what the UART delivers), scores every candidate by the
valid frames its decoder finds against the garbage, and stops at the first clear winner. Only
:meth:`Link.receive <clu_doctor.bus.link.Link.receive>` is called: nothing is ever transmitted.

Candidates, by default (:func:`candidate_settings`): the profile's setting and framing first,
then its other ABL generation's (a bus that shows only parity and framing errors at 38400 8E1
may be a first-generation segment at 38400 8N1, field-evidence.md §0.1), then
:data:`~clu_doctor.bus.settings.COMMON_BAUDRATES` x parities E, N, O at 8 data bits and 1 stop
bit, each with the profile's framing first. When the winner is the other generation's setting
and framing, :attr:`Detection.generation_profile` names that generation's profile: the adapter
was not set wrong, the bus speaks the other generation.

**Scores.** ``share`` is the fraction of the non-ignorable bytes that sit in valid frames. A
candidate *decodes* with at least ``decode_min_frames`` frames and a share of at least
``decode_min_share`` (a frame's checksum can match by chance in random bytes: RTU's CRC-16 about
once per 30 000 bytes of noise, so one frame is not enough); it is a *clear* winner with
``clear_min_frames`` and ``clear_min_share``, and the sweep stops there. The outcome says
plainly which of three things happened: ``found``, ``nothing_decodes`` (bytes at some setting,
valid frames at none: A/B swapped or an adapter fixed to other settings) or ``silent`` (not a
byte: nothing is transmitting; by default the sweep stops after the first silent window, since
a UART at any wrong setting still delivers bytes, framing errors included).

**Parity.** A UART that does not check parity (pyserial's default) delivers 8E1 traffic intact
at 8O1, so E and O usually score the same; ties go to the earlier candidate, which is why the
profile's setting comes first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Protocol

from clu_doctor.bus.codecs import FRAMINGS
from clu_doctor.bus.errors import PortConfigError
from clu_doctor.bus.listen.analyser import TrafficAnalyser
from clu_doctor.bus.listen.report import ListenReport
from clu_doctor.bus.listen.session import listen
from clu_doctor.bus.settings import COMMON_BAUDRATES, LineSettings
from clu_doctor.clock import Clock
from clu_doctor.records import record

if TYPE_CHECKING:
    from clu_doctor.bus.profile import DeviceProfile

#: Seconds listened at each candidate setting. The CLU polls every station about once a second.
DETECT_WINDOW_S = 1.5
DETECT_PARITIES = ("E", "N", "O")
OUTCOMES = ("found", "nothing_decodes", "silent")
#: Framings scored at every setting of the sweep. The first generation's text framing is tried
#: at its own setting (38400 8N1) and wherever a profile of it says, not across the sweep.
SWEEP_FRAMINGS = ("ascii", "rtu")


class ListeningLink(Protocol):
    """What detection needs from what ``open_link`` returns (a :class:`~clu_doctor.bus.link.Link`)."""

    @property
    def clock(self) -> Clock: ...

    def receive(self, duration: float) -> Iterable[tuple[float, bytes]]: ...

    def close(self) -> None: ...


OpenLink = Callable[[LineSettings, str], ListeningLink]


@record
class Candidate:
    settings: LineSettings
    framing: str

    def __str__(self) -> str:
        return f"{self.settings} {self.framing}"


@record
class CandidateScore:
    """How one candidate fared in its listening window."""

    settings: LineSettings
    framing: str
    seconds: float
    bytes: int
    frames: int
    requests: int
    replies: int
    garbage_events: int
    garbage_bytes: int
    frame_bytes: int
    #: Fraction of the non-ignorable bytes inside valid frames (0 when there are none).
    share: float
    decodes: bool
    clear: bool
    #: Why this candidate could not be tried (the adapter refused the setting), else ``None``.
    error: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "settings": str(self.settings),
            "framing": self.framing,
            "seconds": round(self.seconds, 3),
            "bytes": self.bytes,
            "frames": self.frames,
            "requests": self.requests,
            "replies": self.replies,
            "garbage_events": self.garbage_events,
            "garbage_bytes": self.garbage_bytes,
            "frame_bytes": self.frame_bytes,
            "share": round(self.share, 4),
            "decodes": self.decodes,
            "clear": self.clear,
            "error": self.error,
        }

    def describe(self) -> str:
        if self.error:
            return f"{self.settings} {self.framing}: not tried ({self.error})"
        return (
            f"{self.settings} {self.framing}: {self.frames} valid frames, "
            f"{self.garbage_events} garbage runs, {self.bytes} bytes in {self.seconds:.1f} s "
            f"({100 * self.share:.0f} % in frames)"
        )


@record
class Detection:
    """The result: the setting found (or why none was), and every candidate tried."""

    outcome: str  # found | nothing_decodes | silent
    settings: LineSettings | None
    framing: str | None
    candidates: tuple[CandidateScore, ...]
    #: One plain sentence for the user.
    message: str
    #: The winning window's listen report (evidence, and a first look at the traffic).
    report: ListenReport | None = None
    #: The bundled profile of the profile's other ABL generation, when the bus runs at exactly
    #: that generation's settings and framing (a first-generation bus), else ``None``.
    generation_profile: str | None = None

    @property
    def found(self) -> bool:
        return self.outcome == "found"

    def to_dict(self) -> dict[str, object]:
        return {
            "outcome": self.outcome,
            "settings": str(self.settings) if self.settings else None,
            "framing": self.framing,
            "generation_profile": self.generation_profile,
            "message": self.message,
            "candidates": [candidate.to_dict() for candidate in self.candidates],
        }


def candidate_settings(
    profile: DeviceProfile | None = None,
    *,
    framings: Sequence[str] = SWEEP_FRAMINGS,
    baudrates: Sequence[int] = COMMON_BAUDRATES,
    parities: Sequence[str] = DETECT_PARITIES,
) -> tuple[Candidate, ...]:
    """The default candidates: the profile's first, then every baud rate x parity x framing."""
    order = list(framings)
    if profile is not None and profile.framing in FRAMINGS:
        if profile.framing in order:
            order.remove(profile.framing)
        order.insert(0, profile.framing)
    found: list[Candidate] = []
    if profile is not None:
        found.extend(Candidate(profile.line, framing) for framing in order)
        other = profile.other_generation_profile()
        if other is not None and other.framing in FRAMINGS:
            found.append(Candidate(other.line, other.framing))
    for baud in baudrates:
        for parity in parities:
            settings = LineSettings(baud, 8, parity, 1.0)
            found.extend(Candidate(settings, framing) for framing in order)
    unique: list[Candidate] = []
    for candidate in found:
        if candidate not in unique:
            unique.append(candidate)
    return tuple(unique)


def _score(
    candidate: Candidate,
    report: ListenReport,
    *,
    decode_min_frames: int,
    decode_min_share: float,
    clear_min_frames: int,
    clear_min_share: float,
) -> CandidateScore:
    judged = report.frame_bytes + report.garbage_bytes
    share = report.frame_bytes / judged if judged else 0.0
    decodes = report.frames >= decode_min_frames and share >= decode_min_share
    clear = decodes and report.frames >= clear_min_frames and share >= clear_min_share
    return CandidateScore(
        settings=candidate.settings,
        framing=candidate.framing,
        seconds=report.seconds,
        bytes=report.bytes,
        frames=report.frames,
        requests=report.requests,
        replies=report.replies,
        garbage_events=report.garbage_events,
        garbage_bytes=report.garbage_bytes,
        frame_bytes=report.frame_bytes,
        share=share,
        decodes=decodes,
        clear=clear,
    )


def _rank(score: CandidateScore) -> tuple[bool, float, int]:
    return (score.decodes, score.share, score.frames)


def detect_line_settings(
    open_link: OpenLink,
    candidates: Sequence[Candidate] | None = None,
    *,
    profile: DeviceProfile | None = None,
    window: float = DETECT_WINDOW_S,
    decode_min_frames: int = 2,
    decode_min_share: float = 0.1,
    clear_min_frames: int = 3,
    clear_min_share: float = 0.3,
    stop_when_silent: bool = True,
    on_candidate: Callable[[CandidateScore], None] | None = None,
    stop: Callable[[], bool] | None = None,
) -> Detection:
    """Listen ``window`` seconds (on each link's clock) at each candidate setting until one
    clearly decodes.

    ``open_link(settings, framing)`` opens the port (e.g. ``lambda s, f: Link.open(port, s, f)``);
    each link is closed after its window. A setting the adapter refuses
    (:class:`~clu_doctor.bus.errors.PortConfigError`) is recorded and skipped; any other port
    error propagates. ``on_candidate`` sees each score as it is made (progress display).
    """
    if candidates is None:
        candidates = candidate_settings(profile)
    if not candidates:
        raise ValueError("no candidate settings to try")
    groups: dict[LineSettings, list[Candidate]] = {}
    for candidate in candidates:
        groups.setdefault(candidate.settings, []).append(candidate)
    scores: list[CandidateScore] = []
    reports: dict[Candidate, ListenReport] = {}
    winner: CandidateScore | None = None
    silent_window: CandidateScore | None = None
    for settings, group in groups.items():
        if stop is not None and stop():
            break
        try:
            link = open_link(settings, group[0].framing)
        except PortConfigError as error:
            for candidate in group:
                score = CandidateScore(
                    candidate.settings, candidate.framing, 0.0, 0, 0, 0, 0, 0, 0, 0, 0.0,
                    decodes=False, clear=False, error=error.message,
                )  # fmt: skip
                scores.append(score)
                if on_candidate is not None:
                    on_candidate(score)
            continue
        analysers = {
            candidate: TrafficAnalyser(candidate.framing, settings, profile, both_generations=False)
            for candidate in group
        }
        first, *others = analysers.values()
        for analyser in others:
            analyser.start(0.0)

        def fan_out(t: float, data: bytes, others: list[TrafficAnalyser] = others) -> None:
            for analyser in others:
                analyser.feed(t, data)

        try:
            first_report = listen(link, window, first, on_chunk=fan_out, stop=stop)
        finally:
            link.close()
        group_scores = []
        for candidate, analyser in analysers.items():
            report = first_report if analyser is first else analyser.finish(first_report.seconds)
            reports[candidate] = report
            score = _score(
                candidate,
                report,
                decode_min_frames=decode_min_frames,
                decode_min_share=decode_min_share,
                clear_min_frames=clear_min_frames,
                clear_min_share=clear_min_share,
            )
            group_scores.append(score)
            scores.append(score)
            if on_candidate is not None:
                on_candidate(score)
        clear = [s for s in group_scores if s.clear]
        if clear:
            winner = max(clear, key=_rank)  # max keeps the first of equals
            break
        if stop_when_silent and all(s.bytes == 0 for s in group_scores):
            silent_window = group_scores[0]
            break
    if winner is None:
        decoding = [s for s in scores if s.decodes]
        if decoding:
            winner = max(decoding, key=_rank)
    tried = tuple(scores)
    if winner is not None:
        candidate = Candidate(winner.settings, winner.framing)
        strength = "" if winner.clear else " (weakly: a noisy line, or too short a window)"
        other = profile.other_generation_profile() if profile is not None else None
        generation = None
        if other is not None and (other.line, other.framing) == (winner.settings, winner.framing):
            generation = other.name
            strength += f" (ABL generation {other.generation}, profile {other.name})"
        return Detection(
            "found",
            winner.settings,
            winner.framing,
            tried,
            f"the bus runs at {winner.settings} {winner.framing}{strength}: "
            f"{winner.frames} valid frames, {100 * winner.share:.0f} % of the bytes in frames",
            reports.get(candidate),
            generation_profile=generation,
        )
    heard = sum(s.bytes for s in scores)
    if heard:
        settings_tried = len({s.settings for s in scores if s.error is None})
        return Detection(
            "nothing_decodes",
            None,
            None,
            tried,
            f"bytes on the line ({heard}) but nothing decodes at any of the {settings_tried} "
            "settings tried, in either framing: A/B swapped, or an adapter fixed to other "
            "settings",
        )
    window_text = (
        f"in {silent_window.seconds:.1f} s at {silent_window.settings}"
        if silent_window is not None
        else f"at any of the {len({s.settings for s in scores})} settings tried"
    )
    return Detection(
        "silent",
        None,
        None,
        tried,
        f"the line is silent: not a byte {window_text}; nothing is transmitting (is the CLU "
        "polling?)",
    )
