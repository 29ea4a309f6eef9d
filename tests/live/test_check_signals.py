"""A check stopped from outside, with real processes and real signals.

SIGTERM is how systemd stops a unit and how monitoring engines end a plugin that ran too long;
Ctrl-C is a person at the gateway. Either way the check says UNKNOWN in the format it was asked
for, records it in the history, and never prints a traceback.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from clu_doctor.monitoring.history import History
from tests.commands.helpers import metrics

REPO = Path(__file__).resolve().parents[2]


def start_check(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[str], Path]:
    """A check of a simulated site that listens for a long time, recording what it hears;
    returns once it listens (the recording has its header)."""
    recording = tmp_path / "capture.cdr"
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "clu_doctor", "check", "--sim", "healthy-16"),
            *("--listen-seconds", "40", "--timeout", "60", "--save", str(recording)),
            *("--history-dir", str(tmp_path / "state"), *args),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "NO_COLOR": "1"},
    )
    # A readiness wait, ended by the check itself: the recording starts when listening does.
    give_up = time.monotonic() + 30
    while not (recording.exists() and recording.stat().st_size > 0):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < give_up, "the check never started listening"
        time.sleep(0.02)
    return proc, recording


def stop(proc: subprocess.Popen[str], signum: int) -> tuple[int, str, str]:
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=30)
    assert "Traceback" not in err, err
    return proc.returncode, out, err


@pytest.mark.parametrize("fmt", ["text", "nagios", "json", "prometheus"])
def test_sigterm_during_a_check_is_an_unknown_line_in_its_format(tmp_path: Path, fmt: str) -> None:
    textfiles = tmp_path / "textfiles"
    textfiles.mkdir()
    proc, _ = start_check(tmp_path, "--format", fmt, "--textfile-dir", str(textfiles))
    code, out, _ = stop(proc, signal.SIGTERM)
    assert code == 3, out
    said = "stopped by SIGTERM after"
    if fmt == "text":
        assert out.startswith(f"healthy-16: UNKNOWN: could not check: {said}")
    elif fmt == "nagios":
        assert out.startswith(f"CLU-DOCTOR UNKNOWN - healthy-16: could not check: {said}")
        assert "while listening" in out.splitlines()[0]
    elif fmt == "json":
        document = json.loads(out)
        assert (document["status"], document["exit_code"], document["completed"]) == (
            "unknown",
            3,
            False,
        )
        assert document["message"].startswith(said)
    else:
        assert metrics(out)["clu_doctor_check_status{site=healthy-16}"] == 3
    written = (textfiles / "clu_doctor_healthy_16.prom").read_text(encoding="utf-8")
    assert metrics(written)["clu_doctor_check_completed{site=healthy-16}"] == 0
    with History.open("healthy-16", tmp_path / "state", create=False) as history:
        [row] = history.recent()
    assert (row.completed, row.reason, row.exit_code) == (False, "interrupted", 3)
    assert row.message is not None and row.message.startswith(said)


def test_ctrl_c_during_a_check_says_unknown_and_exits_130(tmp_path: Path) -> None:
    proc, _ = start_check(tmp_path, "--format", "nagios")
    code, out, err = stop(proc, signal.SIGINT)
    assert code == 130
    assert out.startswith("CLU-DOCTOR UNKNOWN - healthy-16: could not check: stopped by SIGINT")
    assert "interrupted" in err
    with History.open("healthy-16", tmp_path / "state", create=False) as history:
        [row] = history.recent()
    assert row.reason == "interrupted"


def test_a_second_signal_while_reporting_leaves_at_once(tmp_path: Path) -> None:
    """Two SIGTERMs in a row (a service manager that loses patience): still no traceback,
    still the UNKNOWN exit code."""
    proc, _ = start_check(tmp_path, "--format", "nagios")
    proc.send_signal(signal.SIGTERM)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 3
    assert "Traceback" not in err
