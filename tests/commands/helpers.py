"""Run the command line in-process or as a real subprocess and capture what a user would see."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clu_doctor.cli import run

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


class _FakeStdin(io.StringIO):
    def isatty(self) -> bool:
        return False


def invoke(*args: str, stdin: str = "") -> Outcome:
    """Run ``clu-doctor ARGS`` in this process (stdin and stdout are not terminals)."""
    out, err = io.StringIO(), io.StringIO()
    saved_stdin = sys.stdin
    sys.stdin = _FakeStdin(stdin)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = run(list(args))
    finally:
        sys.stdin = saved_stdin
    return Outcome(code, out.getvalue(), err.getvalue())


def invoke_subprocess(
    *args: str, stdin: str = "", timeout: float = 60, env: dict[str, str] | None = None
) -> Outcome:
    """Run ``python -m clu_doctor ARGS`` as a separate process, as a shell would."""
    full_env = {**os.environ, "NO_COLOR": "1", **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-m", "clu_doctor", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
        cwd=REPO,
    )
    return Outcome(proc.returncode, proc.stdout, proc.stderr)
