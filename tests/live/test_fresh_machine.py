"""A machine with Python and nothing else: the README's test command passes there.

The tests that drive a third-party program (marked ``peer``) are the only ones that need more
than Python; here the README's own pytest command runs them with mbpoll, socat, tmux and
promtool hidden from the PATH. They must skip, each naming its program and the command that
installs it, and the run must pass; with ``CLU_DOCTOR_REQUIRE_PEERS=1`` (CI) the same run must
fail on each missing program instead. ``.ci/run`` runs the whole README command without the
peers, then the peer tests with them.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.peers import INSTALL, REQUIRE_ENV

REPO = Path(__file__).resolve().parents[2]
HIDDEN = ("socat", "mbpoll", "tmux", "promtool")


def readme_pytest_arguments() -> list[str]:
    """The arguments of the pytest in the README's test command (after ``-m pytest``)."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^# run the tests\n(.+)$", readme, re.M)
    assert match, "README.md lost its '# run the tests' command"
    pytest_part = match.group(1).split("&&")[-1]
    words = shlex.split(pytest_part)
    assert words[1:3] == ["-m", "pytest"], pytest_part
    return words[3:]


def peerless_path(directory: Path) -> str:
    """A PATH with everything on this one except the peer programs."""
    directory.mkdir()
    for part in os.environ.get("PATH", "").split(os.pathsep):
        folder = Path(part)
        if not folder.is_dir():
            continue
        for tool in folder.iterdir():
            if tool.name in HIDDEN or (directory / tool.name).exists():
                continue
            if os.access(tool, os.X_OK):
                (directory / tool.name).symlink_to(tool)
    return str(directory)


def run_peer_tests(
    tmp_path: Path, *, required: bool, where: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != REQUIRE_ENV}
    env["PATH"] = peerless_path(tmp_path / "bin")
    if required:
        env[REQUIRE_ENV] = "1"
    command = [sys.executable, "-m", "pytest", *readme_pytest_arguments(), *where]
    # Only the peer tests (the rest need nothing but Python), in one process: the README's
    # workers would each collect the whole suite for a handful of tests.
    command += ["-m", "peer", "-n", "0", "-p", "no:cacheprovider", "-rs"]
    return subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False
    )


def test_the_readme_test_command_passes_without_the_peer_programs(tmp_path: Path) -> None:
    result = run_peer_tests(tmp_path, required=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert re.search(r"\d+ skipped", output) and " failed" not in output, output
    for tool in ("mbpoll", "socat", "promtool"):
        assert f"{tool} is not installed ({INSTALL[tool]})" in output, (tool, output)


def test_ci_requires_every_peer(tmp_path: Path) -> None:
    result = run_peer_tests(tmp_path, required=True, where=("tests/live",))  # where they are
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert " skipped" not in output.splitlines()[-1], output
    for tool in ("mbpoll", "socat", "promtool"):
        assert f"{tool} is not installed ({INSTALL[tool]}), and {REQUIRE_ENV}=1 requires it" in (
            output
        ), tool


@pytest.mark.parametrize("tool", HIDDEN)
def test_the_peers_are_really_hidden(tmp_path: Path, tool: str) -> None:
    path = peerless_path(tmp_path / "bin")
    found = subprocess.run(
        ["sh", "-c", f"command -v {tool}"], env={"PATH": path}, capture_output=True, check=False
    )
    assert found.returncode != 0
