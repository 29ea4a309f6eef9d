"""Ctrl-C at any moment ends every command with exit 130 and no traceback.

Each command runs as the installed ``clu-doctor`` script, and gets SIGINT at several moments
from the instant its own code starts: while the command line is still being imported (typer,
rich, the command's modules), while it works, and for the quick ones, while Python winds down
after it finished. "Its own code starts" is read from Python's ``-X importtime`` report, which
announces ``clu_doctor.__main__`` once it is loaded; before that the interpreter itself is still
starting, which is Python's business, not the tool's.

A command that finished before the signal came exits with its own code; one killed by the
signal after it finished (``-SIGINT``) is what a shell reports as 130 too.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

MOMENTS = (0.0, 0.02, 0.06, 0.2)

#: Every command, doing real work: (arguments, its own exit code if it finishes first).
COMMANDS: dict[str, tuple[list[str], int | None]] = {
    "diagnose": (["diagnose", "--sim", "cable-break", "--no-input"], None),
    "check": (["check", "--sim", "healthy-16", "--history-dir", "{tmp}/state"], None),
    "scan": (["scan", "--sim", "healthy-16?clu=0"], None),
    "listen": (["listen", "--sim", "healthy-16", "--seconds", "30", "--save", "{tmp}/c.cdr"], None),
    "history": (["history", "--sim", "healthy-16", "--history-dir", "{tmp}/state"], 3),
    "rules check": (["rules", "check"], 0),
    "rules show": (["rules", "show"], 0),
    "rules list": (["rules", "list"], 0),
    "rules observations": (["rules", "observations", "--template"], 0),
    "sim": (["sim", "healthy-16"], None),
    "ports": (["ports"], 0),
    "site init": (["site", "init", "--sim", "cable-break", "--seconds", "30"], None),
    "docs": (["docs", "monitoring"], 0),
}


def installed_script() -> str:
    script = Path(sys.executable).with_name("clu-doctor")
    assert script.exists(), "the clu-doctor console script is not installed (pip install -e .)"
    return str(script)


def interrupted(args: list[str], moment: float) -> tuple[int, str]:
    proc = subprocess.Popen(
        [sys.executable, "-X", "importtime", installed_script(), *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    seen = []
    while True:  # until our entry point is loaded: from then on a Ctrl-C is ours to handle
        line = proc.stderr.readline()
        seen.append(line)
        if not line or line.rstrip().endswith("| clu_doctor.__main__"):
            break
    time.sleep(moment)
    proc.send_signal(signal.SIGINT)
    # The rest of stderr through the same reader (what readline buffered is not lost); it
    # ends when the process does.
    rest = proc.stderr.read()
    proc.wait(timeout=60)
    lines = [*seen, *rest.splitlines(keepends=True)]
    errors = "".join(line for line in lines if not line.startswith("import time:"))
    return proc.returncode, errors


@pytest.mark.parametrize("moment", MOMENTS)
@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_ctrl_c_at_any_moment_is_exit_130_without_a_traceback(
    name: str, moment: float, tmp_path: Path
) -> None:
    template, finished = COMMANDS[name]
    args = [arg.replace("{tmp}", str(tmp_path)) for arg in template]
    code, errors = interrupted(args, moment)
    assert "Traceback" not in errors and "Exception ignored" not in errors, errors
    allowed = {130, -signal.SIGINT} | ({finished} if finished is not None else set())
    assert code in allowed, (code, errors)
    if code == 130:
        assert "clu-doctor: interrupted" in errors, errors
