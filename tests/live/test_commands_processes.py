"""``clu-doctor sim`` and ``clu-doctor history`` as a shell runs them: real processes, a pty.

The same commands in-process are in tests/commands/test_sim.py and tests/commands/test_history.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from clu_doctor.bus.link import Link
from clu_doctor.bus.profile import load_profile
from clu_doctor.monitoring.history import ENV_STATE_DIR
from tests.commands.helpers import REPO, invoke_subprocess
from tests.commands.test_history import STATION_3, build_history, write_site


def test_serves_a_pty_a_client_can_read_until_interrupted() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "clu_doctor", "sim", "healthy-16", "--no-clu", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "NO_COLOR": "1"},
    )
    try:
        assert proc.stdout is not None
        text = ""
        while not text.startswith("{") or not text.rstrip("\n").endswith("\n}"):
            line = proc.stdout.readline()
            assert line, "the simulator ended before printing its ports"
            text += line
        addresses = json.loads(text)["addresses"]
        assert addresses["tcp"].startswith("socket://127.0.0.1:")
        profile = load_profile("defa-erange")
        with Link.open(addresses["pty"], profile.line, profile.framing, timeout=5.0) as link:
            request = profile.identity_request(3)
            result = link.read_registers(request.address, request.start, request.count)
        assert profile.decode_identity(result.registers).serial == "DF230103"
    finally:
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130  # Ctrl-C is "interrupted" for every command
    assert "simulator stopped" in stderr
    assert "Traceback" not in stderr


def test_the_simulator_stops_cleanly_on_sigterm() -> None:
    """systemd or kill asking it to stop is a clean end: exit 0."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "clu_doctor", "sim", "healthy-16", "--no-pty"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip()  # it serves (the first address printed)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert "simulator stopped" in stderr and "Traceback" not in stderr


def test_a_real_process_prints_the_history_and_exits_0(tmp_path: Path) -> None:
    site = write_site(tmp_path)
    build_history(tmp_path / "state")
    outcome = invoke_subprocess(
        "history", "--site", str(site), env={ENV_STATE_DIR: str(tmp_path / "state")}
    )
    assert outcome.code == 0, outcome.stderr
    assert outcome.stderr == ""
    assert "   6 XAXXY06   ++-+-+++  missed 2 of 8" in outcome.stdout.splitlines()
    assert STATION_3 in outcome.stdout
    as_json = invoke_subprocess(
        "history", "--site", str(site), "--history-dir", str(tmp_path / "state"), "--json"
    )
    assert as_json.code == 0
    assert as_json.json()["schema"] == "clu-doctor/history"


def test_a_real_process_without_history_exits_3_without_a_traceback(tmp_path: Path) -> None:
    site = write_site(tmp_path)
    outcome = invoke_subprocess(
        "history", "--site", str(site), env={ENV_STATE_DIR: str(tmp_path / "none")}
    )
    assert outcome.code == 3
    assert outcome.stdout == ""
    assert outcome.stderr.count("\n") == 1
    assert outcome.stderr.startswith("clu-doctor: error: no history of site")
    assert "Traceback" not in outcome.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")
def test_on_a_terminal_the_text_is_styled(tmp_path: Path) -> None:
    import pty

    site = write_site(tmp_path)
    build_history(tmp_path / "state")
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    try:
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "clu_doctor", "history", "--site", str(site), "--last", "2"],
                stdout=follower,
                stderr=subprocess.PIPE,
                text=True,
                timeout=60,
                env={**env, "TERM": "xterm", ENV_STATE_DIR: str(tmp_path / "state")},
                cwd=REPO,
            )
        finally:
            os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # Linux: EIO once the writer is gone and the buffer is empty
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(leader)
    assert proc.returncode == 0, proc.stderr
    text = shown.decode("utf-8")
    assert "\x1b[" in text  # rich styling
    assert "CRITICAL" in text and "could not check: port /dev/ttyUSB0 is busy" in text
