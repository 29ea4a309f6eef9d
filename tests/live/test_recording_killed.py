"""A process recording a live listen, killed: the recording still replays (a real subprocess,
so on the wall clock)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from clu_doctor.bus.listen.recording import replay


def test_a_capture_killed_mid_run_still_replays(tmp_path: Path) -> None:
    """A process recording a live listen is killed (SIGKILL: no cleanup at all)."""
    path = tmp_path / "killed.cdr"
    program = f"""
from clu_doctor.sim import register_url_handler
from clu_doctor.bus.link import Link
from clu_doctor.bus.listen.analyser import TrafficAnalyser
from clu_doctor.bus.listen.session import listen
from clu_doctor.bus.listen.recording import Recorder
from clu_doctor.bus.settings import LineSettings
register_url_handler()
line = LineSettings(38400, 8, "E", 1)
url = "sim://healthy-16?time_scale=5"
with Link.open(url, line, "ascii") as link:
    recorder = Recorder.create({str(path)!r}, port=url, settings=line, framing="ascii",
                               profile="defa-erange")
    listen(link, 60.0, TrafficAnalyser("ascii", line), recorder=recorder)
"""
    child = subprocess.Popen([sys.executable, "-c", program])
    try:
        give_up = time.monotonic() + 60
        while not (path.exists() and path.stat().st_size > 20000):  # a readiness wait
            assert child.poll() is None, "the recording process died on its own"
            assert time.monotonic() < give_up, "the recording process wrote nothing"
            time.sleep(0.02)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    replayed = replay(path)
    assert replayed.report.frames > 100
    assert len(replayed.warnings) == 1
    assert replayed.warnings[0].startswith(f"{path}:")
    assert "interrupted" in replayed.warnings[0]
