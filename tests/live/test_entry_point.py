"""The installed ``clu-doctor`` script and ``python -m clu_doctor`` behave the same."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from clu_doctor import __version__
from tests.commands.helpers import invoke_subprocess


def installed_script() -> str:
    beside = Path(sys.executable).with_name("clu-doctor")
    found = str(beside) if beside.exists() else shutil.which("clu-doctor")
    assert found, "the clu-doctor console script is not installed (pip install -e .)"
    return found


def test_console_script_runs_a_diagnosis() -> None:
    proc = subprocess.run(
        [
            installed_script(),
            "diagnose",
            "-o",
            "clu.power_led=off",
            "-o",
            "clu.status_led=off",
            "--json",
            "--no-input",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert '"CLU-PWR-01"' in proc.stdout


def test_version_and_help() -> None:
    assert invoke_subprocess("--version").stdout.strip() == f"clu-doctor {__version__}"
    help_text = invoke_subprocess("diagnose", "--help").stdout
    assert "Examples:" in help_text and "--observe" in help_text


def test_no_arguments_shows_help_and_is_not_an_error_code_2() -> None:
    result = invoke_subprocess()
    assert result.code in (0, 3)
    assert "diagnose" in result.stdout + result.stderr


def test_shell_completion_of_observation_keys_and_values() -> None:
    env = {
        "_CLU_DOCTOR_COMPLETE": "complete_bash",
        "COMP_WORDS": "clu-doctor diagnose -o clu.power",
        "COMP_CWORD": "3",
    }
    keys = invoke_subprocess(env=env).stdout.split()
    assert "clu.power_led=" in keys
    env["COMP_WORDS"] = "clu-doctor diagnose -o clu.power_led=st"
    values = invoke_subprocess(env=env).stdout.split()
    assert values == ["clu.power_led=steady"]
