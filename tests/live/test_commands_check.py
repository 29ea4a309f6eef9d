"""``clu-doctor check`` where only real time and real processes will do: the wall-clock deadline
stopping a probe on a pty, a second check on a port the first one holds, and checks killed with
SIGKILL at any moment. The rest of the check runs in-process in tests/commands/test_check.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from clu_doctor.bus.link import Link
from clu_doctor.bus.profile import load_profile
from clu_doctor.monitoring.history import History
from clu_doctor.sim import serve
from tests.commands.helpers import REPO, check, metrics, site_file, status_line


def test_the_timeout_stops_a_long_probe_and_releases_the_port(tmp_path: Path) -> None:
    site = site_file(tmp_path, "Quiet", 16, "clu: disconnected\n")
    with serve("duplicate-address", tcp=False, clu=False, time_scale=4) as server:
        assert server.pty is not None
        result = check(
            tmp_path,
            *("--site", str(site), "--port", server.pty, "--listen-seconds", "1"),
            *("--timeout", "6", "--format", "nagios"),
        )
        profile = load_profile("defa-erange")
        with Link.open(server.pty, profile.line, profile.framing):
            pass  # the port was released: an exclusive open succeeds
    assert result.code == 3, result.stdout
    line = status_line(result)
    assert line.startswith("CLU-DOCTOR UNKNOWN - Quiet: could not check: timed out after ")
    assert "(--timeout 6) while " in line
    assert "the port is released" in line
    with History.open("Quiet", tmp_path / "state", create=False) as history:
        [row] = history.recent()
        assert not row.completed and row.exit_code == 3


def start(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    state = str(tmp_path / "state")
    return subprocess.Popen(
        [sys.executable, "-m", "clu_doctor", "check", "--history-dir", state, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "NO_COLOR": "1"},
    )


def holds(pid: int, path: str) -> bool:
    """Has process ``pid`` got ``path`` open? (Linux /proc)"""
    folder = Path(f"/proc/{pid}/fd")
    try:
        return any(os.readlink(fd) == path for fd in folder.iterdir())
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs Linux /proc")
def test_a_second_check_on_a_busy_port_says_so_at_once(tmp_path: Path) -> None:
    site = site_file(tmp_path, "Garage 16", 16)
    with serve("healthy-16", tcp=False, time_scale=4) as server:
        assert server.pty is not None
        first = start(tmp_path, "--site", str(site), "--port", server.pty, "--listen-seconds", "8")
        try:
            while not holds(first.pid, server.pty):
                assert first.poll() is None, first.communicate()
                time.sleep(0.02)
            second = start(tmp_path, "--site", str(site), "--port", server.pty, "-f", "nagios")
            out, err = second.communicate(timeout=60)
            assert first.poll() is None  # the second ended while the first still listens
        finally:
            first_out, first_err = first.communicate(timeout=60)
    assert second.returncode == 3
    assert out.startswith("CLU-DOCTOR UNKNOWN - Garage 16: could not check: ")
    assert "in use by another program" in out
    assert "Traceback" not in err
    assert first.returncode == 0, first_out + first_err
    with History.open("Garage 16", tmp_path / "state", create=False) as history:
        assert history.integrity() == "ok"
        assert sorted(row.exit_code for row in history.recent()) == [0, 3]


def test_a_check_killed_at_any_moment_leaves_history_and_metrics_readable(tmp_path: Path) -> None:
    site = site_file(tmp_path, "Garage 16", 16)
    textfiles = tmp_path / "textfile"
    textfiles.mkdir()
    args = ["--site", str(site), "--sim", "healthy-16?time_scale=4", "--listen-seconds", "1"]
    args += ["--format", "prometheus", "--textfile-dir", str(textfiles)]
    first = start(tmp_path, *args)
    assert first.wait(timeout=60) == 0
    completed = 1
    for delay in (0.3, 0.8, 1.2, 1.4, 1.6, 1.8, 2.2):
        process = start(tmp_path, *args)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=60)
        if process.returncode == 0:
            completed += 1
        with History.open("Garage 16", tmp_path / "state", create=False) as history:
            assert history.integrity() == "ok"
            rows = history.recent(50)
            assert all(row.completed and row.exit_code == 0 for row in rows)
            assert len(rows) >= completed
        found = metrics((textfiles / "clu_doctor_garage_16.prom").read_text(encoding="utf-8"))
        assert found["clu_doctor_check_status{site=Garage 16}"] == 0
    proms = [p.name for p in textfiles.iterdir() if p.name.endswith(".prom")]
    assert proms == ["clu_doctor_garage_16.prom"]
