"""Recordings: the format, save-and-replay to the same report, and damaged files as one clear line."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clu_doctor.bus.chain import Chain
from clu_doctor.bus.link import Link
from clu_doctor.bus.listen.analyser import TrafficAnalyser
from clu_doctor.bus.listen.recording import FORMAT, HEARTBEAT_S, Recorder, open_recording, replay
from clu_doctor.bus.listen.session import listen
from clu_doctor.bus.listen.verdicts import derive_verdicts
from clu_doctor.errors import CluDoctorError, FileProblemError
from clu_doctor.sim import register_url_handler
from tests.bus.listen.support import ABL, ABL_LINE, Script, analyse

register_url_handler()


def record(path: Path, chunks: list[tuple[float, bytes]], *, end: float | None = None) -> Path:
    with Recorder.create(
        path, port="/dev/ttyUSB0", settings=ABL_LINE, framing="ascii", profile="defa-erange"
    ) as recorder:
        for t, data in chunks:
            recorder.record(t, data)
        if end is not None:
            recorder.tick(end)
    return path


def sample_chunks() -> list[tuple[float, bytes]]:
    script = Script()
    script.cycles(3, range(1, 5), silent=(3,), states={2: 0xF4})
    script.wait(2.5)
    script.exchange(1)
    return script.chunks


@pytest.fixture
def capture(tmp_path: Path) -> Path:
    return record(tmp_path / "capture.cdr", sample_chunks(), end=12.0)


# --- the format ---------------------------------------------------------------------------


def test_a_recording_is_json_lines_with_a_header_records_heartbeats_and_a_trailer(
    capture: Path,
) -> None:
    lines = [json.loads(line) for line in capture.read_text(encoding="utf-8").splitlines()]
    header, *body, trailer = lines
    assert header["format"] == FORMAT and header["version"] == 1
    assert (header["port"], header["settings"], header["framing"], header["profile"]) == (
        "/dev/ttyUSB0",
        "38400 8E1",
        "ascii",
        "defa-erange",
    )
    assert header["started"].endswith("+00:00") and header["chain"] is None
    data = [line for line in body if "hex" in line]
    assert [(line["t"], bytes.fromhex(line["hex"])) for line in data] == sample_chunks()
    heartbeats = [line["t"] for line in body if "hex" not in line]
    assert heartbeats == [12.0]  # the 2.5 s pause had no tick; the end did
    assert trailer == {
        "end": 12.0,
        "records": len(data),
        "bytes": sum(len(d) for _, d in sample_chunks()),
        "reason": "end",
    }


def test_heartbeats_mark_a_silent_stretch(tmp_path: Path) -> None:
    path = tmp_path / "silent.cdr"
    with Recorder.create(path, port="p", settings=ABL_LINE, framing="ascii") as recorder:
        for tick in range(1, 51):
            recorder.tick(tick * 0.1)
    times = [json.loads(line).get("t") for line in path.read_text().splitlines()[1:-1]]
    assert times == pytest.approx([HEARTBEAT_S * i for i in range(1, 6)])


def test_reading_back_gives_the_chunks_and_the_end(capture: Path) -> None:
    recording = open_recording(capture)
    assert recording.header.settings == ABL_LINE and recording.header.profile == "defa-erange"
    chunks = [(c.t, c.data) for c in recording.chunks() if c.data]
    assert chunks == sample_chunks()
    assert (recording.end, recording.closed_cleanly, recording.reason) == (12.0, True, "end")
    assert recording.warnings == []


def test_the_chain_travels_in_the_header(tmp_path: Path) -> None:
    chain = Chain(((1,), (2, 3)), 2, ("A", "B"))
    path = tmp_path / "chain.cdr"
    with Recorder.create(path, port="p", settings=ABL_LINE, framing="ascii", chain=chain):
        pass
    assert open_recording(path).header.chain == chain


def test_replay_gives_the_report_of_the_same_traffic(capture: Path) -> None:
    replayed = replay(capture)
    assert replayed.warnings == ()
    direct = analyse(sample_chunks(), end=12.0)
    assert replayed.report.to_dict() == direct.to_dict()
    assert [v.value for v in derive_verdicts(replayed.report)] == ["stopped", "no_chain", "F4"]


def test_a_saved_live_capture_replays_to_the_same_report_and_verdicts(tmp_path: Path) -> None:
    path = tmp_path / "live.cdr"
    url = "sim://duplicate-address?seed=2"
    analyser = TrafficAnalyser("ascii", ABL_LINE, ABL)
    with (
        Link.open(url, ABL_LINE, "ascii") as link,
        Recorder.create(
            path, port=url, settings=ABL_LINE, framing="ascii", profile="defa-erange"
        ) as recorder,
    ):
        live = listen(link, 6.0, analyser, recorder=recorder)
    replayed = replay(path)
    assert replayed.warnings == ()
    assert live.frames > 0 and replayed.report.to_dict() == live.to_dict()
    assert derive_verdicts(replayed.report) == derive_verdicts(live)
    assert [v.key for v in derive_verdicts(live)] == [
        "bus.silent_addresses",
        "bus.duplicate_address",
    ]


# --- damage -------------------------------------------------------------------------------


def test_a_recording_cut_off_mid_record_is_analysed_up_to_the_cut_with_one_warning(
    capture: Path,
) -> None:
    text = capture.read_bytes()
    lines = text.split(b"\n")
    cut = len(b"\n".join(lines[:6])) + 1 + 20  # 20 bytes into line 7
    capture.write_bytes(text[:cut])
    replayed = replay(capture)
    (warning,) = replayed.warnings
    assert warning.startswith(f"{capture}:7: the recording is cut off mid-record")
    assert "\n" not in warning
    last_t = json.loads(lines[5])["t"]
    assert replayed.report.seconds == pytest.approx(last_t)
    assert replayed.report.frames == 5


def test_strict_reading_refuses_a_cut_off_recording_with_one_line(capture: Path) -> None:
    text = capture.read_bytes()
    capture.write_bytes(text[: len(text) // 2])
    with pytest.raises(FileProblemError) as caught:
        replay(capture, strict=True)
    message = str(caught.value)
    assert message.startswith(f"{capture}:") and "cut off mid-record" in message
    assert "\n" not in message


def test_a_recording_without_its_closing_line_says_so(capture: Path) -> None:
    lines = capture.read_text(encoding="utf-8").splitlines(keepends=True)
    capture.write_text("".join(lines[:-1]), encoding="utf-8")
    replayed = replay(capture)
    (warning,) = replayed.warnings
    assert warning == (
        f"{capture}:{len(lines) - 1}: the recording has no closing line (the capture was "
        "interrupted); analysed up to 12.0 s"
    )
    assert replayed.report.seconds == 12.0


def _replace_line(path: Path, number: int, content: bytes) -> None:
    lines = path.read_bytes().split(b"\n")
    lines[number - 1] = content
    path.write_bytes(b"\n".join(lines))


@pytest.mark.parametrize(
    ("line", "content", "message"),
    [
        (5, b'{"t": 0.1, "hex": "3a30', "5: corrupt record, not JSON"),
        (5, b"\xff\xfe\x00garbage", "5: not text"),
        (5, b"[1, 2, 3]", "5: corrupt record: not a JSON object"),
        (5, b'{"t": 0.1, "hex": "3a3g"}', "5: corrupt record: 'hex' is not hexadecimal"),
        (5, b'{"t": 0.0001, "hex": "3a"}', "5: time goes backwards"),
        (5, b'{"t": "soon", "hex": "3a"}', "5: corrupt record: 't' is not a number"),
        (5, b'{"t": NaN, "hex": "3a"}', "5: corrupt record: 't' is not a number"),
        (5, b'{"t": 0.5, "hex": 58}', "5: corrupt record: 'hex' is not text"),
        (5, b'{"end": 0.0001}', "5: the end time"),
        (1, b'{"format": "something-else"}', "1: not a clu-doctor recording"),
        (1, b"name: my site", "1: corrupt record, not JSON"),
        (1, b'{"format": "clu-doctor-recording", "version": 9, "settings": "38400 8E1", "framing": "ascii"}', "1: recording version 9 is newer"),
        (1, b'{"format": "clu-doctor-recording", "version": 1, "settings": "fast", "framing": "ascii"}', "1: bad line settings"),
        (1, b'{"format": "clu-doctor-recording", "version": 1, "settings": "9600 8N1", "framing": "morse"}', "1: bad framing"),
        (1, b'{"format": "clu-doctor-recording", "version": 1, "settings": "9600 8N1", "framing": "rtu", "chain": {"stations": 5}}', "1: bad chain"),
    ],
)  # fmt: skip
def test_a_corrupt_recording_gives_one_clear_line_with_its_location(
    capture: Path, line: int, content: bytes, message: str
) -> None:
    _replace_line(capture, line, content)
    with pytest.raises(FileProblemError) as caught:
        replay(capture)
    text = str(caught.value)
    assert text.startswith(f"{capture}:{message}"), text
    assert "\n" not in text


def test_the_hint_tells_what_a_recording_is_without_naming_commands(capture: Path) -> None:
    """The bus layer names no command or flag; the command line adds them (see
    tests/commands/test_bus.py)."""
    _replace_line(capture, 1, b"name: my site")
    with pytest.raises(FileProblemError) as caught:
        replay(capture)
    hint = caught.value.hint or ""
    assert "one JSON header line" in hint
    assert "clu-doctor" not in hint and "--" not in hint
    assert "clu_doctor/" not in hint and ".py" not in hint  # no source files for users


def test_data_after_the_closing_line_is_corrupt(capture: Path) -> None:
    with capture.open("a", encoding="utf-8") as stream:
        stream.write('{"t": 99.0, "hex": "3a"}\n')
    with pytest.raises(FileProblemError, match=r"data after the end of the recording"):
        replay(capture)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", ":1: the file is empty, not a recording"),
        (b'{"format": "clu-doctor-rec', ":1: the recording is cut off inside its header line"),
    ],
)
def test_an_empty_or_headless_file(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.cdr"
    path.write_bytes(content)
    with pytest.raises(FileProblemError) as caught:
        replay(path)
    assert str(caught.value) == f"{path}{message}"


def test_a_missing_recording(tmp_path: Path) -> None:
    with pytest.raises(CluDoctorError, match="no such recording"):
        replay(tmp_path / "nowhere.cdr")
    with pytest.raises(CluDoctorError, match="is a directory"):
        replay(tmp_path)


def test_a_recording_that_cannot_be_written(tmp_path: Path) -> None:
    with pytest.raises(CluDoctorError, match="cannot write the recording"):
        Recorder.create(
            tmp_path / "no" / "such" / "dir.cdr", port="p", settings=ABL_LINE, framing="ascii"
        )


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cut=st.integers(min_value=0),
    flips=st.lists(st.tuples(st.integers(0), st.integers(0, 255)), max_size=3),
)
def test_damage_anywhere_never_gives_a_traceback(
    capture: Path, tmp_path: Path, cut: int, flips: list[tuple[int, int]]
) -> None:
    original = capture.read_bytes()
    damaged = bytearray(original[: cut % (len(original) + 1)])
    for position, value in flips:
        if damaged:
            damaged[position % len(damaged)] = value
    path = tmp_path / "damaged.cdr"
    path.write_bytes(bytes(damaged))
    try:
        result = replay(path)
    except CluDoctorError as error:
        assert "\n" not in str(error)
    else:
        assert all("\n" not in warning for warning in result.warnings)
    finally:
        os.unlink(path)
