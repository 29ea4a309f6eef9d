"""The monitoring files under real processes: a textfile writer and history writers killed with
SIGKILL mid-write, and checks of one site writing its history at once.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from clu_doctor.monitoring import textfile
from clu_doctor.monitoring.history import History
from clu_doctor.monitoring.textfile import write_atomic
from tests.monitoring.test_history import SITE, at, result, series
from tests.monitoring.test_textfile import leftovers, metrics, parsed_version

REPO = Path(__file__).resolve().parents[2]


# A writer that stops after its first chunk and tells the test so: the test then kills it with
# SIGKILL at a known point (mid-write), with no timing involved.
SLOW_WRITER = textwrap.dedent(
    """
    import sys, time
    from clu_doctor.monitoring import textfile

    real = textfile._write_chunk
    def first_chunk_then_hang(fd, data):
        written = real(fd, data)
        print("partial", flush=True)
        while True:
            time.sleep(60)
    textfile._write_chunk = first_chunk_then_hang
    textfile.write_atomic(sys.argv[1], "clu_doctor_s.prom", sys.stdin.read())
    """
)


def test_a_writer_killed_mid_write_leaves_the_previous_complete_file(tmp_path: Path) -> None:
    target = write_atomic(tmp_path, "clu_doctor_s.prom", metrics(1))
    before = target.read_bytes()
    big = metrics(2, padding=40_000)  # about 1.3 MB: many chunks
    assert len(big) > 10 * textfile.CHUNK
    writer = subprocess.Popen(
        [sys.executable, "-c", SLOW_WRITER, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert writer.stdin is not None and writer.stdout is not None
    writer.stdin.write(big)
    writer.stdin.close()
    try:
        assert writer.stdout.readline() == "partial\n"
        (temporary,) = leftovers(tmp_path)
        assert temporary.startswith(f".clu_doctor_s.prom.{writer.pid}.")
        assert 0 < (tmp_path / temporary).stat().st_size < len(big)
        # Mid-write, a reader still gets the previous file, whole.
        assert target.read_bytes() == before
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        writer.stdout.close()
    assert writer.returncode == -signal.SIGKILL
    assert target.read_bytes() == before
    assert parsed_version(target) == 1
    # The next write replaces it and removes the dead writer's temporary file.
    write_atomic(tmp_path, "clu_doctor_s.prom", metrics(3))
    assert parsed_version(target) == 3
    assert leftovers(tmp_path) == []


RECORDER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from clu_doctor.monitoring.history import History
    from tests.monitoring.test_history import SITE, at, result

    directory, first, count, mode = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    if mode == "wait-for-go":  # then open: every writer creates the history at once
        print("ready", flush=True)
        sys.stdin.readline()
    history = History.open(SITE, directory)
    if mode == "hang-mid-write":
        real = History._insert_stations
        def insert_then_hang(self, check_id, stations):
            real(self, check_id, stations)
            print("mid-write", flush=True)
            sys.stdin.read()  # until killed
        History._insert_stations = insert_then_hang
    for n in range(first, first + count):
        history.record(result(at(n), silent=(n % 8 + 1,) if n % 3 == 0 else ()))
        print(f"recorded {n}", flush=True)
    if mode == "wait-for-go":
        print("done", flush=True)
    """
)


def recorder(tmp_path: Path, first: int, count: int, mode: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", RECORDER, str(tmp_path), str(first), str(count), mode],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )


def kill(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait()
    for stream in (process.stdin, process.stdout):
        if stream is not None:
            stream.close()
    assert process.returncode == -signal.SIGKILL


def test_a_check_killed_mid_write_leaves_the_history_valid(tmp_path: Path) -> None:
    with History.open(SITE, tmp_path) as before:
        series(before, [()] * 3)
    writer = recorder(tmp_path, 3, 1, "hang-mid-write")
    assert writer.stdout is not None
    try:
        assert writer.stdout.readline() == "mid-write\n"
        # The check row and its stations are written but not committed: readers do not see them.
        with History.open(SITE, tmp_path) as reader:
            assert reader.count() == 3
    finally:
        kill(writer)
    with History.open(SITE, tmp_path) as after:
        assert after.integrity() == "ok"
        assert [row.started for row in after.recent()] == [at(0), at(1), at(2)]
        assert all(len(row.stations) == 8 for row in after.recent())
        after.record(result(at(3)))
        assert after.count() == 4


def test_a_check_killed_at_any_point_of_a_run_keeps_every_committed_check(tmp_path: Path) -> None:
    writer = recorder(tmp_path, 0, 10_000, "plain")
    assert writer.stdout is not None
    try:
        confirmed = [writer.stdout.readline() for _ in range(25)]
    finally:
        kill(writer)
    assert confirmed[-1] == "recorded 24\n"
    with History.open(SITE, tmp_path) as after:
        assert after.integrity() == "ok"
        rows = after.recent(10_000)
        # Every check reported as recorded is there; at most the one in flight besides.
        assert 25 <= len(rows) <= 26
        assert [row.started for row in rows[:25]] == [at(n) for n in range(25)]
        assert all(len(row.stations) == 8 for row in rows)


@pytest.mark.parametrize(("writers", "checks"), [(2, 30), (6, 5)])
def test_checks_of_one_site_at_once_all_land(tmp_path: Path, writers: int, checks: int) -> None:
    """Writers released together: they create the history and write it at the same time."""
    firsts = [1000 * n for n in range(writers)]
    processes = [recorder(tmp_path, first, checks, "wait-for-go") for first in firsts]
    try:
        for writer in processes:
            assert writer.stdout is not None
            assert writer.stdout.readline() == "ready\n"
        for writer in processes:
            assert writer.stdin is not None
            writer.stdin.write("go\n")
            writer.stdin.flush()
        for writer in processes:
            assert writer.stdout is not None
            lines = writer.stdout.read().splitlines()
            assert lines[-1] == "done"
            assert writer.wait() == 0
    finally:
        for writer in processes:
            if writer.poll() is None:
                kill(writer)
            for stream in (writer.stdin, writer.stdout):
                if stream is not None:
                    stream.close()
    with History.open(SITE, tmp_path) as after:
        assert after.integrity() == "ok"
        rows = after.recent(1000)
        assert sorted(row.started for row in rows) == sorted(
            at(first + n) for first in firsts for n in range(checks)
        )
        assert all(len(row.stations) == 8 for row in rows)
