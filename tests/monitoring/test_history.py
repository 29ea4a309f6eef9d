"""The per-site history: records, queries, facts for the rules, pruning, errors. Crashes and
concurrency, with real processes, are in tests/live/test_monitoring_processes.py."""

from __future__ import annotations

import dataclasses
import sqlite3
import sys
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from clu_doctor.engine import Severity
from clu_doctor.monitoring.history import (
    ENV_STATE_DIR,
    SCHEMA_VERSION,
    FindingRef,
    History,
    HistoryError,
    check_times,
    compute_facts,
    default_directory,
    history_path,
    parse_time,
)
from clu_doctor.monitoring.result import CheckResult, StationHealth
from tests.report.factories import diagnosis, reported, stations

REPO = Path(__file__).resolve().parents[2]
SITE = "Solsiden garage B"
T0 = datetime(2026, 11, 25, 1, 0, tzinfo=timezone.utc)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def at(n: int, step_min: int = 15) -> str:
    """The start of the n-th check, every ``step_min`` minutes from 01:00 UTC."""
    return iso(T0 + timedelta(minutes=step_min * n))


def result(
    started: str, *, silent: Sequence[int] = (), count: int = 8, status: Severity | None = None
) -> CheckResult:
    severity = status or (Severity.CRITICAL if silent else Severity.OK)
    fid = "BUS-STATION-01" if silent else "BUS-OK-01"
    return CheckResult(
        site=SITE,
        started=started,
        duration_s=20.0,
        mode="listen",
        diagnosis=diagnosis(reported(fid, severity)),
        stations=stations(count, silent=silent),
        corrupt_rate=0.0,
    )


def series(history: History, silences: Sequence[Sequence[int]]) -> None:
    for n, silent in enumerate(silences):
        history.record(result(at(n), silent=silent))


@pytest.fixture
def history(tmp_path: Path) -> Iterator[History]:
    with History.open(SITE, tmp_path) as opened:
        yield opened


# --- where -------------------------------------------------------------------------------------


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the XDG conventions are Linux's")
def test_the_state_directory_follows_flag_then_env_then_xdg_then_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_STATE_DIR, "/srv/state")
    monkeypatch.setenv("XDG_STATE_HOME", "/x")
    assert default_directory() == Path("/srv/state")
    monkeypatch.delenv(ENV_STATE_DIR)
    assert default_directory() == Path("/x/clu-doctor")
    monkeypatch.delenv("XDG_STATE_HOME")
    assert default_directory() == Path.home() / ".local/state/clu-doctor"
    assert history_path(SITE, tmp_path) == tmp_path / "solsiden_garage_b.sqlite3"


def test_open_creates_the_directory_and_a_wal_database(tmp_path: Path) -> None:
    with History.open(SITE, tmp_path / "a" / "b") as opened:
        assert opened.path == tmp_path / "a/b/solsiden_garage_b.sqlite3"
        assert opened.path.is_file()
        assert opened.integrity() == "ok"
    raw = sqlite3.connect(tmp_path / "a/b/solsiden_garage_b.sqlite3")
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert raw.execute("SELECT value FROM meta WHERE key = 'site'").fetchone()[0] == SITE
    raw.close()


# --- records -----------------------------------------------------------------------------------


def test_a_check_round_trips(history: History) -> None:
    check = dataclasses.replace(result(at(0), silent=(7,)), duplicates=(4,), corrupt_rate=0.25)
    check_id = history.record(check)
    (row,) = history.recent()
    assert row.id == check_id
    assert (row.started, row.started_s) == ("2026-11-25T01:00:00Z", parse_time(at(0)).timestamp())
    assert (row.status, row.exit_code, row.completed, row.mode) == (
        Severity.CRITICAL,
        2,
        True,
        "listen",
    )
    assert (row.stations_expected, row.stations_answering) == (8, 7)
    assert row.duplicates == (4,)
    assert row.corrupt_rate == 0.25
    assert row.findings == (FindingRef("BUS-STATION-01", Severity.CRITICAL),)
    assert row.finding_ids == ("BUS-STATION-01",)
    assert [s.address for s in row.stations] == list(range(1, 9))
    seven = row.station(7)
    assert seven is not None
    assert (seven.label, seven.answering, seven.polls, seven.timeouts) == ("XAXXY07", False, 40, 40)
    assert row.station(1) is not None and row.station(1).state == "A1"  # type: ignore[union-attr]
    assert row.to_dict()["stations"][6]["answering"] is False


def test_recent_is_the_newest_n_oldest_first(history: History) -> None:
    series(history, [()] * 5)
    assert [row.started for row in history.recent(3)] == [at(2), at(3), at(4)]
    assert history.count() == 5


def test_a_failed_attempt_is_recorded_but_is_no_success(history: History) -> None:
    assert history.last_success() is None
    history.record(result(at(0)))
    history.record_failure(at(1), 0.25, "port /dev/ttyUSB0 is busy")
    rows = history.recent()
    assert [(r.completed, r.status, r.exit_code) for r in rows] == [
        (True, Severity.OK, 0),
        (False, Severity.UNKNOWN, 3),
    ]
    assert rows[1].message == "port /dev/ttyUSB0 is busy"
    assert rows[1].stations == ()
    assert history.last_success() == parse_time(at(0)).timestamp() + 20.0
    assert [r.started for r in history.recent(completed_only=True)] == [at(0)]


def test_station_timeline(history: History) -> None:
    series(history, [(), (7,), (), (7,)])
    history.record_failure(at(4), 1.0, "timeout")
    timeline = history.station_timeline(7, 3)
    assert [(s.started, s.answering) for s in timeline] == [
        (at(1), False),
        (at(2), True),
        (at(3), False),
    ]


# --- facts -------------------------------------------------------------------------------------


def test_silent_since_after_steady_answers(history: History) -> None:
    series(history, [()] * 9 + [(7,)] * 4)
    facts = history.facts()
    assert facts.checks == 13
    (fact,) = facts.silences
    assert (fact.address, fact.label, fact.silent_checks) == (7, "XAXXY07", 4)
    assert (fact.last_answer, fact.silent_since, fact.steady_before) == (at(8), at(9), True)
    assert fact.evidence == (
        "station 7 (XAXXY07) answered in every check until 03:00 UTC and has been silent "
        "since 03:15 UTC (4 checks)",
    )
    assert facts.flapping == ()
    assert facts.silent_addresses() == (7,)
    assert facts.to_dict()["silences"][0]["silent_since"] == at(9)


def test_silent_after_an_unsteady_past(history: History) -> None:
    series(history, [(), (7,), (), (), (7,), (7,)])
    (fact,) = history.facts(missed=3).silences
    assert not fact.steady_before
    assert fact.evidence == (
        "station 7 (XAXXY07) last answered at 01:45 UTC (it missed 1 of the 4 checks before) "
        "and has been silent since 02:00 UTC (2 checks)",
    )


def test_never_answered_within_the_look_back(history: History) -> None:
    series(history, [(3,)] * 3)
    (fact,) = history.facts().silences
    assert fact.last_answer is None
    assert fact.evidence == (
        "station 3 (XAXXY03) has not answered in any of the 3 recorded checks (since 01:00 UTC)",
    )


def test_flapping_is_k_misses_of_n_with_answers_in_between(history: History) -> None:
    # 12 checks; the flapping window is the last 8: + - + + - + + +  (2 misses)
    series(history, [(), (), (), (), (), (6,), (), (), (6,), (), (), ()])
    facts = history.facts(missed=2, of=8)
    (flap,) = facts.flapping
    assert (flap.address, flap.missed, flap.of, flap.pattern) == (6, 2, 8, "+-++-+++")
    assert flap.evidence == (
        "station 6 (XAXXY06) missed 2 of the last 8 checks and answered in between "
        "(+-++-+++, oldest first, + answered, - silent)",
    )
    assert facts.silences == ()
    assert history.facts(missed=3, of=8).flapping == ()
    assert facts.evidence == flap.evidence


def test_a_station_that_went_silent_and_stayed_silent_is_not_flapping(history: History) -> None:
    series(history, [()] * 6 + [(5,)] * 3)
    facts = history.facts(missed=2, of=8)
    assert facts.flapping == ()
    assert facts.silent_addresses() == (5,)


def test_flapping_and_now_silent_are_both_reported(history: History) -> None:
    series(history, [(), (5,), (), (5,), (5,)])
    facts = history.facts(missed=2, of=8)
    assert facts.flapping_addresses() == (5,)
    assert facts.silent_addresses() == (5,)
    assert facts.flapping[0].pattern == "+-+--"


def test_facts_can_include_the_check_being_made(history: History) -> None:
    series(history, [()] * 4)
    current = result(at(4), silent=(2,))
    facts = history.facts(current=(current.started, current.stations))
    assert facts.checks == 5
    assert facts.silences[0].evidence == (
        "station 2 (XAXXY02) answered in every check until 01:45 UTC and has been silent "
        "since 02:00 UTC (1 check)",
    )
    assert history.count() == 4  # nothing written


def test_dates_are_shown_when_the_day_differs_and_zones_can_be_local() -> None:
    def check(started: str, silent: bool) -> tuple[str, dict[int, StationHealth]]:
        return started, {7: StationHealth(7, "XAXXY07", answering=not silent)}

    checks = [check("2026-11-24T22:45:00Z", False), check("2026-11-24T23:00:00Z", True)]
    (fact,) = compute_facts(checks).silences
    assert fact.evidence == (
        "station 7 (XAXXY07) answered in every check until 22:45 UTC and has been silent "
        "since 23:00 UTC (1 check)",
    )
    (fact,) = compute_facts(checks, tz=ZoneInfo("Europe/Oslo")).silences
    assert fact.evidence == (
        "station 7 (XAXXY07) answered in every check until 2026-11-24 23:45 CET and has been "
        "silent since 00:00 CET (1 check)",
    )


def test_only_expected_stations_and_checks_they_were_part_of_count() -> None:
    unplanned = StationHealth(12, None, answering=False, expected=False)
    checks = [
        ("2026-11-25T01:00:00Z", {12: unplanned}),
        ("2026-11-25T01:15:00Z", {1: StationHealth(1, None, answering=False), 12: unplanned}),
    ]
    facts = compute_facts(checks)
    assert facts.silent_addresses() == (1,)
    assert facts.silences[0].evidence == (
        "station 1 did not answer in the first recorded check of it (01:15 UTC)",
    )
    assert compute_facts([]).checks == 0
    assert compute_facts(checks, addresses=[3]).silences == ()


# --- pruning -----------------------------------------------------------------------------------


def test_record_keeps_the_last_n_days(history: History) -> None:
    for day in range(100):
        history.record(result(iso(T0 + timedelta(days=day)), count=2), keep_days=90)
    rows = history.recent(1000)
    assert len(rows) == 91  # days 9..99: within 90 days of the newest
    assert rows[0].started == iso(T0 + timedelta(days=9))
    raw = sqlite3.connect(history.path)
    assert raw.execute("SELECT COUNT(*) FROM stations").fetchone()[0] == 91 * 2
    raw.close()
    assert history.prune(30) == 60
    assert history.count() == 31


# --- errors ------------------------------------------------------------------------------------


def test_no_history_yet_when_not_creating(tmp_path: Path) -> None:
    with pytest.raises(HistoryError, match="no history of site 'Solsiden garage B'") as caught:
        History.open(SITE, tmp_path, create=False)
    assert caught.value.hint is not None and "--history-dir" in caught.value.hint


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    history_path(SITE, tmp_path).write_text("not sqlite " * 100)
    with pytest.raises(HistoryError, match="is not a clu-doctor history") as caught:
        History.open(SITE, tmp_path)
    assert caught.value.exit_code == 3


def test_two_sites_with_one_file_name_are_refused(tmp_path: Path) -> None:
    History.open("Site A!", tmp_path).close()
    with pytest.raises(HistoryError, match="holds the history of site 'Site A!', not 'site a'"):
        History.open("site a", tmp_path)


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    History.open(SITE, tmp_path).close()
    raw = sqlite3.connect(history_path(SITE, tmp_path))
    raw.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (SCHEMA_VERSION + 1,))
    raw.commit()
    raw.close()
    with pytest.raises(HistoryError, match="written by a newer clu-doctor"):
        History.open(SITE, tmp_path)


def test_a_writer_that_holds_the_lock_too_long_is_one_clear_error(tmp_path: Path) -> None:
    History.open(SITE, tmp_path).close()
    holder = sqlite3.connect(history_path(SITE, tmp_path), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with History.open(SITE, tmp_path, busy_timeout_s=0.01) as waiting:
            with pytest.raises(HistoryError, match="stayed locked by another check"):
                waiting.record(result(at(0)))
            assert waiting.count() == 0  # readers are not blocked in WAL mode
    finally:
        holder.execute("ROLLBACK")
        holder.close()


# --- why a check could not check, and a silent bus that lasts ---------------------------------


def test_a_silent_bus_run_spans_other_failures_and_ends_at_a_check_that_ran(
    history: History,
) -> None:
    assert history.silent_bus_run() == ()
    history.record_failure(at(0), 20.0, "no frame heard on /dev/ttyUSB0", reason="silent_bus")
    history.record(result(at(1)))
    history.record_failure(at(2), 20.0, "no frame heard on /dev/ttyUSB0", reason="silent_bus")
    history.record_failure(at(3), 0.1, "port /dev/ttyUSB0 is busy")
    history.record_failure(
        at(4), 20.0, "no frame heard", reason="silent_bus", status=Severity.CRITICAL
    )
    assert history.silent_bus_run() == (at(2), at(4))
    rows = history.recent()
    assert [(r.reason, r.status, r.exit_code) for r in rows] == [
        ("silent_bus", Severity.UNKNOWN, 3),
        (None, Severity.OK, 0),
        ("silent_bus", Severity.UNKNOWN, 3),
        ("other", Severity.UNKNOWN, 3),
        ("silent_bus", Severity.CRITICAL, 2),
    ]
    assert history.last_success() == parse_time(at(1)).timestamp() + 20.0


def test_check_times_show_the_date_only_off_the_newest_checks_day() -> None:
    assert check_times(["2026-11-24T23:45:00Z", "2026-11-25T00:00:00Z"]) == [
        "2026-11-24 23:45 UTC",
        "00:00 UTC",
    ]
    assert check_times([]) == []


V1_CHECKS = """
CREATE TABLE checks (
    id INTEGER PRIMARY KEY, started TEXT NOT NULL, started_s REAL NOT NULL,
    duration_s REAL NOT NULL, status TEXT NOT NULL, exit_code INTEGER NOT NULL,
    completed INTEGER NOT NULL, mode TEXT NOT NULL, stations_expected INTEGER NOT NULL,
    stations_answering INTEGER NOT NULL, duplicates TEXT NOT NULL, corrupt_rate REAL,
    findings TEXT NOT NULL, message TEXT
)
"""


def test_a_history_from_the_first_schema_is_brought_up_to_date(tmp_path: Path) -> None:
    """Version 1 had no reason column: a check that heard nothing said so in its message."""
    path = history_path(SITE, tmp_path)
    raw = sqlite3.connect(path)
    raw.executescript(
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        f"INSERT INTO meta VALUES ('schema_version', '1'), ('site', '{SITE}');"
        f"{V1_CHECKS};"
        "CREATE TABLE stations (check_id INTEGER NOT NULL, address INTEGER NOT NULL, "
        "label TEXT, expected INTEGER NOT NULL, answering INTEGER NOT NULL, "
        "polls INTEGER NOT NULL, answers INTEGER NOT NULL, corrupt INTEGER NOT NULL, "
        "timeouts INTEGER NOT NULL, state TEXT, response_s REAL, "
        "PRIMARY KEY (check_id, address));"
    )
    for index, message in enumerate(
        ["no frame heard on /dev/ttyUSB0 in 20.0 s", "port /dev/ttyUSB0 is busy"]
    ):
        started = at(index)
        raw.execute(
            "INSERT INTO checks (started, started_s, duration_s, status, exit_code, completed, "
            "mode, stations_expected, stations_answering, duplicates, corrupt_rate, findings, "
            "message) VALUES (?, ?, 20, 'unknown', 3, 0, '', 0, 0, '[]', NULL, '[]', ?)",
            (started, parse_time(started).timestamp(), message),
        )
    raw.commit()
    raw.close()
    with History.open(SITE, tmp_path) as upgraded:
        assert [r.reason for r in upgraded.recent()] == ["silent_bus", "other"]
        assert upgraded.silent_bus_run() == (at(0),)
        upgraded.record(result(at(2)))
        assert upgraded.integrity() == "ok"
    with History.open(SITE, tmp_path) as again:  # opening it again changes nothing
        assert [r.reason for r in again.recent()] == ["silent_bus", "other", None]
    version = sqlite3.connect(path).execute("SELECT value FROM meta WHERE key = 'schema_version'")
    assert version.fetchone()[0] == str(SCHEMA_VERSION)
