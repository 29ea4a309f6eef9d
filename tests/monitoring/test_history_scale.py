"""A history at a year's scale: dumps stream, no query outgrows SQLite's parameter limit, and
pruning gives the space back. (The figures - seconds and megabytes for a year of checks - are
benchmarks/history.py's; these tests check the behaviour on smaller files.)"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from clu_doctor.monitoring.history import CheckRow, History
from clu_doctor.monitoring.result import CheckResult, StationHealth
from clu_doctor.report.history import (
    history_dump_chunks,
    history_json_chunks,
    history_marks_chunks,
    history_text_chunks,
    render_history_json,
)
from tests.commands.helpers import invoke
from tests.monitoring.test_history import SITE, result
from tests.report.test_golden import PLAIN

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def at(n: int) -> str:
    return (T0 + timedelta(minutes=15 * n)).strftime("%Y-%m-%dT%H:%M:%SZ")


def fill(history: History, checks: int, *, keep_days: int = 3650) -> None:
    # A test's throw-away file: no fsync per check.
    history._db.execute("PRAGMA synchronous = OFF")
    for n in range(checks):
        history.record(result(at(n), silent=(3,) if n % 7 == 0 else ()), keep_days=keep_days)


@pytest.fixture
def history(tmp_path: Path) -> Iterator[History]:
    with History.open(SITE, tmp_path) as opened:
        yield opened


@pytest.mark.skipif(not hasattr(sqlite3.Connection, "setlimit"), reason="Python 3.11+")
def test_more_checks_than_sqlite_allows_parameters_are_read(history: History) -> None:
    """SQLite's default limit is 32,766 bound parameters; a query with one per check failed
    with "too many SQL variables" past it. Here the limit is 999, and 1,200 checks are read."""
    fill(history, 1200)
    history._db.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)
    rows = history.recent(1200)
    assert len(rows) == 1200 and all(len(row.stations) == 8 for row in rows)
    assert [row.started for row in rows[:2]] == [at(0), at(1)]
    assert sum(1 for _ in history.iter_dump(5000)) == 1200
    assert history.span(1200) == (1200, at(0), at(1199))
    assert history.facts(lookback=1200).checks == 1200


@pytest.mark.parametrize("json_functions", [True, False], ids=["sqlite-quotes", "python-quotes"])
def test_the_dump_is_the_document_of_the_rows(history: History, json_functions: bool) -> None:
    """The command writes the JSON from plain tuples, the stations' values quoted by SQLite
    (or by Python where SQLite has no JSON functions); it is the same text as the document
    built from the rows (labels and states with quotes, non-ASCII, every control character;
    missing values; fractional and infinite times)."""
    fill(history, 20)
    controls = "".join(chr(code) for code in range(1, 32)) + "\x7f"
    odd = (
        StationHealth(1, 'Q"uote\\d', answering=True, polls=3, answers=3, response_s=0.1 + 0.2),
        StationHealth(2, "Ærø \t\x01 ✓", answering=False, expected=False, state="F4"),
        StationHealth(3, None, answering=True, state=None, response_s=1e-05),
        StationHealth(4, controls, answering=True, state="\u2028/\ufeff", response_s=1e300),
        StationHealth(5, "", answering=True, state="", response_s=float("inf")),
    )
    history.record(
        dataclasses.replace(result(at(21)), stations=odd, duplicates=(4, 5), corrupt_rate=None)
    )
    history.record_failure(at(22), 1.5, message='port "busy"\nreally', reason="other")
    facts = history.facts()
    expected = render_history_json(history.recent(100), site=SITE, facts=facts)
    dumps = history.iter_dump(100, json_functions=json_functions)
    dumped = "".join(history_dump_chunks(dumps, site=SITE, facts=facts))
    assert dumped == expected
    text = "".join(history_text_chunks(history.recent(100), PLAIN, site=SITE, facts=facts))
    marks = history_marks_chunks(history.iter_marks(100), PLAIN, site=SITE, facts=facts)
    assert "".join(marks) == text
    empty = render_history_json([], site=SITE, facts=None)
    assert "".join(history_dump_chunks([], site=SITE, facts=None)) == empty


@pytest.mark.parametrize("last", [3, 5, 9, 100])
def test_a_dump_of_checks_recorded_out_of_time_order(history: History, last: int) -> None:
    """A clock that went back: checks are dumped by their time all the same, the newest
    ``last`` of them (a history in time order is read in the order of its ids)."""
    for n in (0, 1, 2, 6, 7, 3, 4, 8, 9, 10):
        history.record(result(at(n), silent=(n % 8,)))
    history.record_failure(at(5), 1.5, message="port busy", reason="other")
    expected = render_history_json(history.recent(last), site=SITE)
    assert "".join(history_dump_chunks(history.iter_dump(last), site=SITE)) == expected
    text = "".join(history_text_chunks(history.recent(last), PLAIN, site=SITE))
    assert "".join(history_marks_chunks(history.iter_marks(last), PLAIN, site=SITE)) == text
    in_order = [at(n) for n in range(11)][-last:]
    assert [row.started for row in history.recent(last)] == in_order


class Counted:
    """Rows handed out one at a time, counting how many were taken."""

    def __init__(self, rows: list[CheckRow]) -> None:
        self.rows, self.taken = rows, 0

    def __iter__(self) -> Iterator[CheckRow]:
        for row in self.rows:
            self.taken += 1
            yield row


def test_dumps_write_each_check_as_it_comes(history: History) -> None:
    fill(history, 30)
    rows = Counted(history.recent(30))
    chunks = history_json_chunks(rows, site=SITE, facts=None)
    next(chunks), next(chunks)  # the head and the opening of "checks"
    assert '"started": "' + at(0) in next(chunks)
    assert rows.taken == 1
    rows = Counted(history.recent(30))
    text = history_text_chunks(rows, PLAIN, site=SITE, span=history.span(30))
    assert "30 checks" in next(text)
    assert rows.taken == 0
    assert at(0)[:10] in next(text)
    assert rows.taken == 30  # one batch of check lines; the marks are all that is kept


def test_the_history_command_dumps_a_long_history(history: History, tmp_path: Path) -> None:
    fill(history, 600)
    site = tmp_path / "site.yaml"
    site.write_text(
        f"name: {SITE}\nprofile: defa-erange\nadapter: clu\nclu: connected\nchain:\n"
        + "".join(f"  - {{address: {a}, model: UNO, label: XAXXY{a:02d}}}\n" for a in range(1, 9)),
        encoding="utf-8",
    )
    args = ("history", "--site", str(site), "--history-dir", str(tmp_path), "--last", "1000")
    dumped = invoke(*args, "--json")
    assert dumped.code == 0, dumped.stderr
    assert len(dumped.json()["checks"]) == 600
    shown = invoke(*args)
    assert shown.code == 0 and "600 checks" in shown.stdout
    assert "   3 XAXXY03   " + "-++++++" * 85 in shown.stdout


def on_disk(path: Path) -> int:
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


def test_pruning_gives_the_space_back(history: History, tmp_path: Path) -> None:
    fill(history, 3000)  # a month of checks
    history._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    before = on_disk(history.path)
    removed = history.prune(keep_days=3)
    assert removed == 3000 - 3 * 96 - 1
    after = on_disk(history.path)
    live = tmp_path / "live.sqlite3"
    history._db.execute("VACUUM INTO ?", (str(live),))
    assert history._db.execute("PRAGMA freelist_count").fetchone()[0] == 0
    assert after < before / 5
    # No free page is left; what remains over the live data is pages the deletes left part
    # full (a few on a file this small; benchmarks/history.py measures a year's).
    assert after <= live.stat().st_size * 1.25
    assert history.integrity() == "ok"
    assert len(history.recent(5000)) == 3 * 96 + 1


def test_each_check_prunes_and_gives_back_as_it_goes(history: History) -> None:
    fill(history, 1500, keep_days=2)
    assert history.count() == 2 * 96 + 1
    assert history._db.execute("PRAGMA freelist_count").fetchone()[0] == 0


def test_a_check_result_of_any_size_round_trips(history: History) -> None:
    many = tuple(StationHealth(a, f"L{a}", answering=a % 2 == 0) for a in range(1, 248))
    history.record(dataclasses.replace(result(at(0)), stations=many))
    (row,) = history.recent()
    assert [s.address for s in row.stations] == list(range(1, 248))
    assert isinstance(result(at(0)), CheckResult)
