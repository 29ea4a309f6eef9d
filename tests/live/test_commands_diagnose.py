"""``clu-doctor diagnose`` through a real pty and as a real process, on the wall clock.

One scenario per real transport: every scenario runs in-process on the virtual clock in
tests/commands/test_diagnose_bus.py, with the same arguments.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from clu_doctor.sim import serve
from tests.commands.helpers import invoke, invoke_subprocess
from tests.commands.test_diagnose import assert_one_line_error
from tests.commands.test_diagnose_bus import CASES, problems, site_file, technicians_arguments


def test_a_scenario_through_a_pty_as_a_technician_would(tmp_path: Path) -> None:
    """Compressed time (``time_scale``): the pty's far end runs on the wall clock."""
    scenario = "cable-break"
    _, expected, status = CASES[scenario]
    args = technicians_arguments(scenario, tmp_path, "3")
    with serve(scenario, tcp=False, time_scale=4) as server:
        assert server.pty is not None
        result = invoke(*args, "--port", server.pty)
    assert "Traceback" not in result.stderr
    document = result.json()
    assert problems(document) == expected, json.dumps(document["findings"])[:2000]
    assert document["status"] == status


def test_through_a_pty_with_a_site_file(tmp_path: Path) -> None:
    site = site_file(tmp_path, range(1, 9))
    with serve("unpowered-station", tcp=False, time_scale=4) as server:
        assert server.pty is not None
        result = invoke(
            "diagnose",
            "--port",
            server.pty,
            "--site",
            str(site),
            "--listen-seconds",
            "3",
            "--json",
            "--no-input",
        )
    document = result.json()
    assert problems(document) == {"BUS-STATION-01"}, json.dumps(document["findings"])[:2000]
    assert document["evidence"]["site"]["name"] == "test site"


def test_unreadable_answers_file_as_an_unprivileged_user(tmp_path: Path) -> None:
    """Root reads everything, so the permission check runs as a real unprivileged process."""

    answers = tmp_path / "secret.yaml"
    answers.write_text("clu.power_led: off\n", encoding="utf-8")
    answers.chmod(0o000)
    tmp_path.chmod(0o755)
    command = [sys.executable, "-m", "clu_doctor", "diagnose", "-a", str(answers), "--no-input"]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        assert setpriv, "util-linux setpriv is needed to drop root for this test"
        command = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", *command]
    env = {**os.environ, "CLU_DOCTOR_NO_CACHE": "1", "HOME": str(tmp_path)}
    proc = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
    assert_one_line_error(proc.returncode, proc.stderr, str(answers), "permission denied")


def test_subprocess_piped_stdin_never_prompts() -> None:
    result = invoke_subprocess("diagnose", stdin="2\n2\n")
    assert result.code == 3
    assert "[1]" not in result.stderr
    assert "Result: UNKNOWN" in result.stdout
