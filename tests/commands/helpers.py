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

from prometheus_client.parser import text_string_to_metric_families

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


def one_line_error(result: Outcome, *fragments: str) -> str:
    """The one line a failing command printed (exit 3, no traceback), holding ``fragments``."""
    assert result.code == 3, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


# --- clu-doctor check ----------------------------------------------------------------------


def site_file(
    tmp_path: Path, name: str, stations: int, extra: str = "", file: str = "site.yaml"
) -> Path:
    chain = "\n".join(
        f"  - {{address: {a}, model: UNO, label: XAXXY{a:02d}}}" for a in range(1, stations + 1)
    )
    path = tmp_path / file
    path.write_text(f"name: {name}\nchain:\n{chain}\n{extra}", encoding="utf-8")
    return path


def check(tmp_path: Path, *args: str) -> Outcome:
    return invoke("check", "--history-dir", str(tmp_path / "state"), *args)


def status_line(result: Outcome) -> str:
    return result.stdout.splitlines()[0]


def metrics(text: str) -> dict[str, float]:
    """``name{labels}`` -> value, through prometheus_client's own parser."""
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            out[f"{sample.name}{{{labels}}}"] = sample.value
    return out
