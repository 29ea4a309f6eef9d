"""A user whose home, cache and state directories cannot be written (a locked-down gateway
account, a read-only root file system, a service user without a home).

diagnose and rules check work as ever (the rulebook cache is only an optimisation); check
reports the bus as it found it and says UNKNOWN only for what the history would have told, with
a warning that it could not record. As root every directory is writable, so the commands run
as an unprivileged user (nobody) there.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NOBODY = 65534


@pytest.fixture
def read_only() -> Iterator[dict[str, str]]:
    """The environment of a user whose HOME, XDG_CACHE_HOME and state directory exist but
    cannot be written (readable by everyone, so an unprivileged user sees them)."""
    top = Path(tempfile.mkdtemp(prefix="clu-doctor-ro-"))
    top.chmod(0o755)
    home = top / "home"
    for folder in (home, home / ".cache", home / "state"):
        folder.mkdir()
    for folder in (home / ".cache", home / "state", home):
        folder.chmod(0o555)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLU_DOCTOR_", "XDG_"))}
    env.update(
        HOME=str(home),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_STATE_HOME=str(home / "state"),
        CLU_DOCTOR_STATE_DIR=str(home / "state"),
        NO_COLOR="1",
    )
    yield env
    for folder in (home, home / ".cache", home / "state"):
        folder.chmod(0o755)
    shutil.rmtree(top)


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "clu_doctor", *args]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        assert setpriv, "util-linux setpriv is needed to drop root for this test"
        command = [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *command]
    return subprocess.run(
        command, env=env, cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_directories_really_cannot_be_written(read_only: dict[str, str]) -> None:
    probe = run(read_only, "--version")
    assert probe.returncode == 0, probe.stderr  # the user can run the tool at all
    touch = ["sh", "-c", f"touch {read_only['HOME']}/x {read_only['XDG_CACHE_HOME']}/x"]
    if os.geteuid() == 0:
        touch = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *touch]
    assert subprocess.run(touch, capture_output=True, check=False).returncode != 0


def test_diagnose_and_rules_check_work_and_say_nothing_of_the_cache(
    read_only: dict[str, str],
) -> None:
    diagnosis = run(read_only, "diagnose", "--sim", "cable-break", "--no-input", "--json")
    assert diagnosis.returncode == 2, diagnosis.stderr
    assert diagnosis.stderr == ""
    assert json.loads(diagnosis.stdout)["status"] == "critical"
    rules = run(read_only, "rules", "check")
    assert (rules.returncode, rules.stderr) == (0, "")
    # the rulebook shipped with the package needs no cache; other rules from a directory do
    copy = Path(tempfile.mkdtemp()) / "rules"
    shutil.copytree(REPO / "rules", copy)
    with (copy / "observations.yaml").open("a", encoding="utf-8") as extra:
        extra.write("\n# a local edit: not the shipped rulebook\n")
    for path in (copy.parent, *copy.rglob("*")):
        path.chmod(0o755 if path.is_dir() else 0o644)
    copy.chmod(0o755)
    rules_dir = str(copy)
    quiet = run(
        read_only, "diagnose", "--rules", rules_dir, "-o", "clu.power_led=off", "--no-input"
    )
    # a cache it cannot write: not a word (exit 3: the questions after the power LED are open)
    assert (quiet.returncode, quiet.stderr) == (3, "")
    debug = run(
        read_only,
        "--debug",
        "diagnose",
        "--rules",
        rules_dir,
        "-o",
        "clu.power_led=off",
        "--no-input",
    )
    shutil.rmtree(copy.parent, ignore_errors=True)
    assert "clu-doctor: debug: rulebook cache " in debug.stderr
    assert "Traceback" not in debug.stderr


def test_check_reports_the_bus_and_only_the_history_as_unknown(
    read_only: dict[str, str],
) -> None:
    result = run(
        read_only,
        *("check", "--sim", "unpowered-station", "--listen-seconds", "3", "--json"),
    )
    assert result.returncode == 2, result.stdout + result.stderr  # the silent station
    document = json.loads(result.stdout)
    assert (document["status"], document["completed"]) == ("critical", True)
    assert "BUS-STATION-01" in {f["id"] for f in document["findings"]}
    [history] = [o for o in document["observations"] if o["key"] == "history.flapping"]
    assert history["value"] == "unknown"
    assert history["detail"].startswith("no history: cannot open the history")
    [warning] = result.stderr.splitlines()
    assert warning.startswith("clu-doctor: warning: history not recorded: cannot open")
    assert "the checks it takes (silent since, flapping) are unknown" in warning
    assert "CLU_DOCTOR_STATE_DIR" in warning  # where to point it instead
