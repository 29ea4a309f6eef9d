"""``clu-doctor history --site site.yaml``: what a user sees of a site's recorded checks."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence
from pathlib import Path

import pytest

from clu_doctor.cli import run
from clu_doctor.monitoring.history import ENV_STATE_DIR, History
from tests.monitoring.test_history import SITE, at, result

#: Station 6 comes and goes, station 3 went silent two checks ago; the last attempt failed.
SILENCES: tuple[tuple[int, ...], ...] = ((), (), (6,), (), (6,), (), (3,), (3,))

STATION_3 = (
    "station 3 (XAXXY03) answered in every check until 02:15 UTC and has been silent since "
    "02:30 UTC (2 checks)"
)
STATION_6 = (
    "station 6 (XAXXY06) missed 2 of the last 8 checks and answered in between "
    "(++-+-+++, oldest first, + answered, - silent)"
)


def write_site(directory: Path, flapping: str = "") -> Path:
    chain = "\n".join(f"  - {{address: {n}, model: UNO, label: XAXXY{n:02d}}}" for n in range(1, 9))
    text = f"name: {SITE}\nchain:\n{chain}\n"
    if flapping:
        text += f"thresholds:\n  flapping: {flapping}\n"
    path = directory / "site.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def build_history(directory: Path, silences: Sequence[Sequence[int]] = SILENCES) -> None:
    with History.open(SITE, directory) as history:
        for n, silent in enumerate(silences):
            history.record(result(at(n), silent=silent))
        history.record_failure(at(len(silences)), 0.031, "port /dev/ttyUSB0 is busy")


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return write_site(tmp_path)


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A history of the site in its own directory; the environment points elsewhere."""
    directory = tmp_path / "state"
    build_history(directory)
    monkeypatch.setenv(ENV_STATE_DIR, str(tmp_path / "nowhere"))
    return directory


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run(["history", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --- text --------------------------------------------------------------------------------------


def test_text_shows_each_check_the_station_pattern_and_what_the_history_says(
    capsys: pytest.CaptureFixture[str], site: Path, state: Path
) -> None:
    code, out, err = cli(capsys, "--site", str(site), "--history-dir", str(state))
    assert code == 0, err
    assert err == ""
    lines = out.splitlines()
    assert lines[0] == (f"{SITE}: 9 checks, 2026-11-25 01:00 .. 2026-11-25 03:00 UTC, oldest first")
    assert "2026-11-25 01:00  OK           0     20.0 s        8/8" in lines
    assert "2026-11-25 02:45  CRITICAL     2     20.0 s        7/8  BUS-STATION-01" in lines
    assert (
        "2026-11-25 03:00  UNKNOWN      3      0.0 s          -  could not check: "
        "port /dev/ttyUSB0 is busy"
    ) in lines
    assert "   3 XAXXY03   ++++++--  missed 2 of 8" in lines
    assert "   6 XAXXY06   ++-+-+++  missed 2 of 8" in lines
    assert "   7 XAXXY07   ++++++++" in lines
    assert "What the history says:" in lines
    assert f"  {STATION_3}" in lines
    assert f"  {STATION_6}" in lines
    assert "\x1b[" not in out  # piped: plain text, no colour codes


def test_the_text_is_the_report_the_golden_file_shows(
    capsys: pytest.CaptureFixture[str], site: Path, state: Path
) -> None:
    golden = Path(__file__).parents[1] / "report" / "golden" / "history-text.txt"
    code, out, _ = cli(capsys, "--site", str(site), "--history-dir", str(state))
    assert code == 0
    assert out == golden.read_text(encoding="utf-8")


def test_last_limits_the_checks_shown(
    capsys: pytest.CaptureFixture[str], site: Path, state: Path
) -> None:
    code, out, _ = cli(capsys, "--site", str(site), "--history-dir", str(state), "--last", "3")
    assert code == 0
    assert out.splitlines()[0] == (
        f"{SITE}: 3 checks, 2026-11-25 02:30 .. 2026-11-25 03:00 UTC, oldest first"
    )
    assert "2026-11-25 02:15" not in out
    assert "   3 XAXXY03   --  missed 2 of 2" in out.splitlines()
    assert "   6 XAXXY06   ++" in out.splitlines()


def test_last_below_one_is_a_usage_error_not_critical(
    capsys: pytest.CaptureFixture[str], site: Path, state: Path
) -> None:
    code, out, err = cli(capsys, "--site", str(site), "--history-dir", str(state), "--last", "0")
    assert code == 3
    assert out == ""
    assert err.count("\n") == 1 and "--last" in err


def test_the_flapping_thresholds_come_from_the_site_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, state: Path
) -> None:
    strict = write_site(tmp_path, flapping="{missed: 3, of: 8}")
    code, out, _ = cli(capsys, "--site", str(strict), "--history-dir", str(state))
    assert code == 0
    assert STATION_3 in out  # silent since: not a matter of thresholds
    assert STATION_6 not in out  # 2 misses are fewer than 3
    assert "flapping" not in out


def test_an_empty_history_says_so(
    capsys: pytest.CaptureFixture[str], site: Path, tmp_path: Path
) -> None:
    History.open(SITE, tmp_path / "empty").close()
    code, out, err = cli(capsys, "--site", str(site), "--history-dir", str(tmp_path / "empty"))
    assert (code, out, err) == (0, f"{SITE}: no checks recorded yet\n", "")


# --- json --------------------------------------------------------------------------------------


@pytest.mark.parametrize("flags", [("--format", "json"), ("--json",), ("-f", "json")])
def test_json_carries_the_schema_the_checks_and_the_facts(
    capsys: pytest.CaptureFixture[str], site: Path, state: Path, flags: tuple[str, ...]
) -> None:
    code, out, err = cli(capsys, "--site", str(site), "--history-dir", str(state), *flags)
    assert code == 0, err
    document = json.loads(out)
    assert document["schema"] == "clu-doctor/history"
    assert document["schema_version"] == 1
    assert document["tool"]["name"] == "clu-doctor"
    assert document["site"] == SITE
    checks = document["checks"]
    assert len(checks) == 9
    assert [c["status"] for c in checks] == [
        "ok", "ok", "critical", "ok", "critical", "ok", "critical", "critical", "unknown",
    ]  # fmt: skip
    assert checks[0]["started"] == "2026-11-25T01:00:00Z"
    assert checks[-1]["completed"] is False
    assert checks[-1]["message"] == "port /dev/ttyUSB0 is busy"
    assert checks[-1]["exit_code"] == 3
    assert checks[2]["findings"] == [{"id": "BUS-STATION-01", "severity": "critical"}]
    station_6 = next(s for s in checks[2]["stations"] if s["address"] == 6)
    assert station_6["answering"] is False and station_6["label"] == "XAXXY06"
    facts = document["facts"]
    assert facts["checks"] == 8
    (silence,) = facts["silences"]
    assert (silence["address"], silence["silent_checks"]) == (3, 2)
    assert silence["silent_since"] == "2026-11-25T02:30:00Z"
    assert silence["steady_before"] is True
    (flap,) = facts["flapping"]
    assert (flap["address"], flap["missed"], flap["of"], flap["pattern"]) == (
        6, 2, 8, "++-+-+++",
    )  # fmt: skip


def test_json_uses_the_site_files_flapping_window(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, state: Path
) -> None:
    short = write_site(tmp_path, flapping="{missed: 2, of: 4}")
    code, out, _ = cli(capsys, "--site", str(short), "--history-dir", str(state), "--json")
    assert code == 0
    # Station 6's last 4 checks (-+++) hold one miss only; station 3 is silent, not flapping.
    assert json.loads(out)["facts"]["flapping"] == []


# --- where the history is ----------------------------------------------------------------------


def test_the_state_dir_environment_variable_is_honoured(
    capsys: pytest.CaptureFixture[str],
    site: Path,
    state: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(ENV_STATE_DIR, str(state))
    code, out, err = cli(capsys, "--site", str(site))
    assert code == 0, err
    assert out.startswith(f"{SITE}: 9 checks")


def test_history_dir_wins_over_the_environment(
    capsys: pytest.CaptureFixture[str],
    site: Path,
    state: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    other = tmp_path / "other"
    build_history(other, [(), ()])
    monkeypatch.setenv(ENV_STATE_DIR, str(state))
    code, out, _ = cli(capsys, "--site", str(site), "--history-dir", str(other))
    assert code == 0
    assert out.startswith(f"{SITE}: 3 checks")


# --- when it cannot show a history -------------------------------------------------------------


def test_no_history_is_one_line_with_a_hint_and_exit_3(
    capsys: pytest.CaptureFixture[str], site: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    code, out, err = cli(capsys, "--site", str(site), "--history-dir", str(empty))
    assert code == 3
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith(f"clu-doctor: error: no history of site {SITE!r} in {empty}")
    assert "(hint: run clu-doctor check with this site first" in err
    assert "Traceback" not in err
    assert not empty.exists()  # looking never creates a history


def test_a_bad_site_file_names_the_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, state: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        textwrap.dedent(
            """\
            name: Test site
            chain:
              - {address: 1, model: UNO, label: XAXXY01}
            thresholds:
              flapping: {missed: 9, of: 8}
            """
        ),
        encoding="utf-8",
    )
    code, out, err = cli(capsys, "--site", str(bad), "--history-dir", str(state))
    assert code == 3
    assert out == ""
    assert err.startswith(f"clu-doctor: error: {bad}:5")
    assert "missed (9) is more than of (8)" in err
    assert "Traceback" not in err


def test_without_site_it_asks_for_one(capsys: pytest.CaptureFixture[str], state: Path) -> None:
    code, out, err = cli(capsys, "--history-dir", str(state))
    assert code == 3
    assert out == ""
    assert err.count("\n") == 1 and "--site" in err


def test_help_shows_the_options_and_examples(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "--help")
    assert code == 0
    for text in ("--site", "--history-dir", "--last", "--format", "--json", "Examples:"):
        assert text in out
    assert "clu-doctor history --site" in out
