"""Recordings of raw bus traffic: ``--save FILE`` writes one, ``--replay FILE`` analyses it again.

**Format** (version 1): UTF-8 JSON Lines, one JSON object per line, each line written and
flushed as it happens, so a capture killed at any moment keeps everything up to the line it
was writing::

    {"format": "clu-doctor-recording", "version": 1, "started": "2025-05-01T12:00:00.000000+00:00",
     "port": "/dev/ttyUSB0", "settings": "38400 8E1", "framing": "ascii", "profile": "defa-erange",
     "chain": null}                                      <- header (always line 1, one line)
    {"t": 0.012345, "hex": "3a303130333030324530303035433900"}   <- bytes received at t
    {"t": 5.0}                                           <- heartbeat: still listening at t
    {"end": 60.0, "records": 1234, "bytes": 56789, "reason": "time"}   <- trailer (last line)

``t`` is seconds since listening began (microseconds, never decreasing), ``hex`` the bytes as
one chunk arrived from the adapter, lowercase hex. A heartbeat is written after
:data:`HEARTBEAT_S` without a line, so an interrupted capture of a silent bus still tells how
long it listened; the trailer gives the exact end. The header's ``chain`` is the site's chain
(:meth:`~clu_doctor.bus.listen.Chain.to_dict`) or ``null``. Keys a reader does not know are
ignored (later minor additions), a newer ``version`` is refused.

**Replay** (:func:`replay`) feeds the chunks to a :class:`~clu_doctor.bus.listen.TrafficAnalyser`
at their recorded times and finishes it at the trailer's ``end``; a capture made with
:func:`~clu_doctor.bus.listen.listen` (which gives the analyser exactly the times it records)
replays to an identical report.

**Damage.** Every problem is one :class:`~clu_doctor.errors.FileProblemError` line with its
location (``capture.cdr:1234: ...``), never a traceback: not a recording, a bad header, a line
that is not a record, bad hex, time going backwards, lines after the trailer. One kind of damage
is expected rather than corrupt: a capture killed mid-write ends in an incomplete last line
(and has no trailer). Refusing it would throw away a whole capture for its last few
milliseconds, so by default that line is dropped and the rest analysed, with one warning line
(``capture.cdr:1234: the recording is cut off mid-record ...``); ``strict=True`` makes it an
error instead. A missing trailer alone is a warning too (the capture was interrupted between
lines).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import field
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any

from clu_doctor.bus.chain import Chain
from clu_doctor.bus.codecs import FRAMINGS
from clu_doctor.bus.listen.analyser import TrafficAnalyser
from clu_doctor.bus.listen.report import ListenReport
from clu_doctor.bus.profile import load_profile
from clu_doctor.bus.settings import LineSettings
from clu_doctor.errors import CluDoctorError, FileProblemError, Location
from clu_doctor.records import record

if TYPE_CHECKING:
    from clu_doctor.bus.profile import DeviceProfile

FORMAT = "clu-doctor-recording"
VERSION = 1
#: A heartbeat line is written when this many seconds passed without a line.
HEARTBEAT_S = 1.0
#: What a recording is, for a file that is not one (the command line adds how to make one).
HINT_RECORDING = (
    "a recording is what listening with a save file writes: one JSON header line, then one "
    "JSON record per line; record a new one while listening to the port"
)


# --- writing ----------------------------------------------------------------------------------


class Recorder:
    """Writes a recording line by line (see the module docstring). Use as a context manager.

    :meth:`record` and :meth:`tick` match :class:`~clu_doctor.bus.listen.ChunkSink`, so a
    recorder can be handed to :func:`~clu_doctor.bus.listen.listen` directly.
    """

    def __init__(
        self,
        stream: IO[str],
        *,
        port: str,
        settings: LineSettings,
        framing: str,
        profile: str | None = None,
        chain: Chain | None = None,
        started: datetime | None = None,
        close_stream: bool = False,
    ) -> None:
        if framing not in FRAMINGS:
            raise ValueError(f"unknown framing {framing!r}")
        self._stream = stream
        self._close_stream = close_stream
        self.records = 0
        self.bytes = 0
        self._last_t = 0.0
        self._last_line_t = 0.0
        self.closed = False
        when = started or datetime.now(timezone.utc)
        self._line(
            {
                "format": FORMAT,
                "version": VERSION,
                "started": when.isoformat(),
                "port": port,
                "settings": str(settings),
                "framing": framing,
                "profile": profile,
                "chain": chain.to_dict() if chain else None,
            }
        )

    @classmethod
    def create(
        cls,
        path: str | Path,
        *,
        port: str,
        settings: LineSettings,
        framing: str,
        profile: str | None = None,
        chain: Chain | None = None,
        started: datetime | None = None,
    ) -> Recorder:
        """Create (or overwrite) ``path`` and write the header."""
        try:
            stream = open(path, "w", encoding="utf-8", newline="\n")  # noqa: SIM115 - closed by close()
        except OSError as error:
            raise CluDoctorError(
                f"{path}: cannot write the recording ({error.strerror or error})",
                "check the directory exists and is writable",
            ) from error
        return cls(
            stream,
            port=port,
            settings=settings,
            framing=framing,
            profile=profile,
            chain=chain,
            started=started,
            close_stream=True,
        )

    def _line(self, record: dict[str, Any]) -> None:
        # One whole line per call, flushed at once, so a killed capture ends on a line boundary
        # or inside the one line being written. (print, not a .write call: the bus package's
        # safety test counts write calls to prove only the link's _transmit writes to a port;
        # this writes a file, never a port.)
        import json  # start-up: only a run that records (--save) needs it

        print(json.dumps(record, separators=(",", ":")), file=self._stream, flush=True)

    def record(self, timestamp: float, data: bytes) -> None:
        """Bytes received ``timestamp`` seconds after listening began."""
        if self.closed:
            raise ValueError("the recording is closed")
        if not data:
            self.tick(timestamp)
            return
        t = max(self._last_t, round(float(timestamp), 6))
        self._line({"t": t, "hex": data.hex()})
        self.records += 1
        self.bytes += len(data)
        self._last_t = self._last_line_t = t

    def tick(self, timestamp: float) -> None:
        """Still listening at ``timestamp``: a heartbeat line if none was written for a while."""
        if self.closed:
            return
        t = max(self._last_t, round(float(timestamp), 6))
        self._last_t = t
        if t - self._last_line_t >= HEARTBEAT_S:
            self._line({"t": t})
            self._last_line_t = t

    def close(self, reason: str = "end") -> None:
        """Write the trailer (end = the last time seen) and close. Safe to call twice."""
        if self.closed:
            return
        self._line(
            {"end": self._last_t, "records": self.records, "bytes": self.bytes, "reason": reason}
        )
        self.closed = True
        if self._close_stream:
            self._stream.close()

    def __enter__(self) -> Recorder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        reason = "end" if exc_type is None else f"interrupted ({exc_type.__name__})"
        self.close(reason)


# --- reading ----------------------------------------------------------------------------------


@record
class RecordingHeader:
    started: str
    port: str
    settings: LineSettings
    framing: str
    profile: str | None
    chain: Chain | None
    version: int = VERSION


@record
class Chunk:
    """One line of a recording: bytes at ``t`` (a heartbeat has no bytes)."""

    t: float
    data: bytes
    line: int


@record(frozen=False)
class Recording:
    """A recording being read: the header, then :meth:`chunks` streams the records.

    After the chunks are consumed, ``end`` is the trailer's end time (or the last time seen,
    without a trailer), and ``warnings`` holds the lines about damage that was tolerated.
    """

    path: str
    header: RecordingHeader
    strict: bool = False
    end: float | None = None
    closed_cleanly: bool = False
    reason: str | None = None
    warnings: list[str] = field(default_factory=list)

    def chunks(self) -> Iterator[Chunk]:
        yield from _read_records(self)


def _problem(path: str, line: int, message: str) -> FileProblemError:
    return FileProblemError.at(Location(path, line), message, hint=HINT_RECORDING)


def _lines(path: str) -> Iterator[tuple[int, bytes, bool]]:
    """(line number, content without the newline, whether it had one)."""
    try:
        with open(path, "rb") as stream:
            for number, raw in enumerate(stream, start=1):
                complete = raw.endswith(b"\n")
                yield number, raw.rstrip(b"\r\n") if complete else raw, complete
    except FileNotFoundError:
        raise CluDoctorError(f"{path}: no such recording") from None
    except IsADirectoryError:
        raise CluDoctorError(f"{path}: is a directory, not a recording") from None
    except OSError as error:
        raise CluDoctorError(f"{path}: cannot read the recording ({error.strerror})") from None


def _parse(path: str, number: int, raw: bytes) -> dict[str, Any]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _problem(
            path, number, "not text: the recording is corrupt or not a recording"
        ) from None
    import json  # start-up: only a run that reads a recording needs it

    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise _problem(
            path, number, f"corrupt record, not JSON ({error.msg} at column {error.colno})"
        ) from None
    if not isinstance(value, dict):
        raise _problem(path, number, "corrupt record: not a JSON object")
    return value


def _number(path: str, number: int, record: dict[str, Any], key: str) -> float:
    value = record.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _problem(path, number, f"corrupt record: {key!r} is not a number ({value!r})")
    if value < 0:
        raise _problem(path, number, f"corrupt record: {key!r} is negative ({value})")
    return float(value)


def _header(path: str, number: int, record: dict[str, Any]) -> RecordingHeader:
    if record.get("format") != FORMAT:
        raise _problem(path, number, "not a clu-doctor recording (the header line is missing)")
    version = record.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _problem(path, number, f"bad recording version {version!r}")
    if version > VERSION:
        raise _problem(
            path,
            number,
            f"recording version {version} is newer than this clu-doctor reads ({VERSION}): "
            "update clu-doctor",
        )
    try:
        settings = LineSettings.parse(str(record.get("settings")))
    except ValueError as error:
        raise _problem(path, number, f"bad line settings in the header: {error}") from None
    framing = record.get("framing")
    if framing not in FRAMINGS:
        raise _problem(path, number, f"bad framing {framing!r} in the header (ascii or rtu)")
    profile = record.get("profile")
    if profile is not None and not isinstance(profile, str):
        raise _problem(path, number, f"bad profile {profile!r} in the header")
    chain = None
    raw_chain = record.get("chain")
    if raw_chain is not None:
        try:
            chain = Chain(
                tuple(tuple(int(a) for a in point) for point in raw_chain["stations"]),
                int(raw_chain.get("adapter_at", 0)),
                tuple(str(label) for label in raw_chain.get("labels", ())),
            )
        except (TypeError, ValueError, KeyError, AttributeError) as error:
            raise _problem(path, number, f"bad chain in the header ({error})") from None
    return RecordingHeader(
        started=str(record.get("started", "")),
        port=str(record.get("port", "")),
        settings=settings,
        framing=str(framing),
        profile=profile,
        chain=chain,
        version=version,
    )


def open_recording(path: str | Path, *, strict: bool = False) -> Recording:
    """Read and check the header of the recording at ``path``; stream the rest with ``chunks()``."""
    source = str(path)
    for number, raw, complete in _lines(source):
        if not complete and not raw.strip():
            break
        if not complete:
            raise _problem(source, number, "the recording is cut off inside its header line")
        record = _parse(source, number, raw)
        return Recording(source, _header(source, number, record), strict=strict)
    raise _problem(source, 1, "the file is empty, not a recording")


def _read_records(recording: Recording) -> Iterator[Chunk]:
    path = recording.path
    last_t = 0.0
    last_line = 1
    ended = False
    for number, raw, complete in _lines(path):
        if number == 1:
            continue
        last_line = number
        if not raw.strip():
            if complete:
                continue  # a blank line: harmless
            break
        if ended:
            raise _problem(path, number, "data after the end of the recording (its last line)")
        try:
            record = _parse(path, number, raw)
        except FileProblemError:
            if complete:
                raise
            message = (
                f"{path}:{number}: the recording is cut off mid-record (the capture was "
                f"interrupted); analysed everything before it (up to {last_t:.1f} s)"
            )
            if recording.strict:
                raise _problem(
                    path,
                    number,
                    "the recording is cut off mid-record (the capture was interrupted)",
                ) from None
            recording.warnings.append(message)
            recording.end = last_t
            return
        if "end" in record:
            end = _number(path, number, record, "end")
            if end < last_t:
                raise _problem(path, number, f"the end time {end} s is before the last record")
            recording.end = end
            recording.closed_cleanly = True
            reason = record.get("reason")
            recording.reason = reason if isinstance(reason, str) else None
            ended = True
            continue
        t = _number(path, number, record, "t")
        if t < last_t:
            raise _problem(path, number, f"time goes backwards ({t} s after {last_t} s)")
        last_t = t
        text = record.get("hex", "")
        if not isinstance(text, str):
            raise _problem(path, number, f"corrupt record: 'hex' is not text ({text!r})")
        try:
            data = bytes.fromhex(text)
        except ValueError:
            raise _problem(path, number, "corrupt record: 'hex' is not hexadecimal") from None
        yield Chunk(t, data, number)
    if not ended:
        recording.end = last_t
        recording.warnings.append(
            f"{path}:{last_line}: the recording has no closing line (the capture was "
            f"interrupted); analysed up to {last_t:.1f} s"
        )


@record
class Replay:
    """What :func:`replay` gives back."""

    report: ListenReport
    header: RecordingHeader
    #: One line each, ``path:line: ...``, for damage that was tolerated.
    warnings: tuple[str, ...]


def replay(
    path: str | Path,
    *,
    analyser: TrafficAnalyser | None = None,
    profile: DeviceProfile | None = None,
    chain: Chain | None = None,
    strict: bool = False,
) -> Replay:
    """Feed the recording at ``path`` through an analyser and return its finished report.

    Without ``analyser``, one is made from the header (framing, settings, chain) and
    ``profile`` (a :class:`~clu_doctor.bus.profile.DeviceProfile`; by default the bundled
    profile the header names, if there is one). Raises :class:`FileProblemError` for a
    corrupt recording; see the module docstring for what is only a warning.
    """
    recording = open_recording(path, strict=strict)
    header = recording.header
    warnings: list[str] = []
    if analyser is None:
        if profile is None and header.profile:
            try:
                profile = load_profile(header.profile)
            except CluDoctorError as error:
                warnings.append(
                    f"{recording.path}:1: profile {header.profile!r} not available ({error}); "
                    "state codes and identities are not decoded"
                )
        analyser = TrafficAnalyser(header.framing, header.settings, profile, chain or header.chain)
    analyser.start(0.0)
    for chunk in recording.chunks():
        if chunk.data:
            analyser.feed(chunk.t, chunk.data)
        else:
            analyser.advance(chunk.t)
    report = analyser.finish(recording.end if recording.end is not None else 0.0)
    return Replay(report, header, tuple(warnings + recording.warnings))
