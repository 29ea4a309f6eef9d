"""Per-site history of ``clu-doctor check`` runs, and what it says about each station over time.

Each check of a site appends one row (time, status, duration, findings) and one row per station
(answering or not, counts, state code) to the site's history, so that a finding can say
"station 7 answered in every check until 03:15 and has been silent since", and a station that
misses a few checks out of many is reported as flapping instead of being lost in the noise.

Storage: one SQLite database per site, ``<state dir>/<site slug>.sqlite3``, in WAL mode.
SQLite rather than JSON lines because the guarantees come with it:

* **Crash safety.** A check killed (SIGKILL, power cut) while writing leaves the database as it
  was before that check's transaction: each check is written in one transaction, and SQLite's
  write-ahead log rolls back an uncommitted one when the file is next opened. A JSON-lines file
  would need a tolerant reader for a torn last line, and its pruning a rewrite-and-rename that
  races concurrent appenders.
* **Concurrency.** Two checks of one site at once (a slow run overlapping the next timer tick,
  an operator running one by hand) serialize their writes: ``BEGIN IMMEDIATE`` takes the write
  lock up front and a busy timeout waits for it, readers are never blocked in WAL mode.
* **Bounded size.** :meth:`History.record` deletes checks older than ``keep_days`` (default 90)
  in the same transaction; the freed pages go back to the file system (incremental vacuum run
  to its end, then a checkpoint that truncates the log), so the file shrinks to its data.
* **Any size.** Reading streams (:meth:`History.iter_recent`): a year of checks is dumped in
  flat memory, and no query binds more parameters than SQLite allows.

``synchronous=FULL``: a committed check survives a power cut too (one small write every few
minutes, so the cost does not matter). WAL needs a local file system (not NFS/SMB); the state
directory is local on a gateway. The ``-wal`` and ``-shm`` files next to the database are part
of it while it is open.

Where: ``--history-dir`` (the ``directory`` argument), else ``$CLU_DOCTOR_STATE_DIR``, else the
platform's user state directory (:mod:`clu_doctor.paths`; ``~/.local/state/clu-doctor`` or
``$XDG_STATE_HOME/clu-doctor`` on Linux, ``%LOCALAPPDATA%\\clu-doctor`` on Windows).

**One idea, one file.** The store and what is read from it (silences, flapping) share one
schema: the queries that build the facts are written against the tables defined here.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import operator
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timezone, tzinfo
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple

from clu_doctor.errors import CluDoctorError
from clu_doctor.monitoring.result import OTHER, SILENT_BUS, CheckResult, StationHealth
from clu_doctor.monitoring.textfile import site_slug
from clu_doctor.paths import ENV_STATE_DIR, state_dir
from clu_doctor.records import record
from clu_doctor.severity import Severity

#: Version of the database layout; a newer file is refused rather than misread, an older one is
#: brought up to date when it is opened for writing (2 added ``checks.reason``).
SCHEMA_VERSION = 2
DEFAULT_KEEP_DAYS = 90
#: How long a writer waits for another check of the same site to finish its write.
BUSY_TIMEOUT_S = 30.0
#: How far back (in completed checks) "answered in every check until ..." looks: a day of
#: checks every 15 minutes.
DEFAULT_LOOKBACK = 96
#: Pause between attempts to open a history another check is creating.
_RETRY_S = 0.02

#: The layout, one statement per item.
_SCHEMA: tuple[str, ...] = (
    """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
)
""",
    """
CREATE TABLE IF NOT EXISTS checks (
    id                 INTEGER PRIMARY KEY,
    started            TEXT    NOT NULL,  -- ISO 8601 UTC, as CheckResult.started
    started_s          REAL    NOT NULL,  -- the same, seconds since the epoch
    duration_s         REAL    NOT NULL,
    status             TEXT    NOT NULL,  -- ok | info | warning | critical | unknown
    exit_code          INTEGER NOT NULL,
    completed          INTEGER NOT NULL,  -- 1: the check ran, 0: could not check
    mode               TEXT    NOT NULL,  -- listen | scan | '' (could not check)
    stations_expected  INTEGER NOT NULL,
    stations_answering INTEGER NOT NULL,
    duplicates         TEXT    NOT NULL,  -- JSON list of addresses
    corrupt_rate       REAL,
    findings           TEXT    NOT NULL,  -- JSON list of {"id", "severity"}
    message            TEXT,              -- why it could not check
    reason             TEXT               -- silent_bus | interrupted | other; NULL: it checked
)
""",
    """
CREATE INDEX IF NOT EXISTS checks_by_time ON checks (started_s)
""",
    """
CREATE TABLE IF NOT EXISTS stations (
    check_id   INTEGER NOT NULL REFERENCES checks (id) ON DELETE CASCADE,
    address    INTEGER NOT NULL,
    label      TEXT,
    expected   INTEGER NOT NULL,
    answering  INTEGER NOT NULL,
    polls      INTEGER NOT NULL,
    answers    INTEGER NOT NULL,
    corrupt    INTEGER NOT NULL,
    timeouts   INTEGER NOT NULL,
    state      TEXT,
    response_s REAL,
    PRIMARY KEY (check_id, address)
)
""",
    """
CREATE INDEX IF NOT EXISTS stations_by_address ON stations (address, check_id)
""",
)


#: The columns of a check in :meth:`History.iter_dump`, in the order of
#: :meth:`CheckRow.to_dict` (as stored: ``duplicates`` and ``findings`` JSON text).
DUMP_CHECK_COLUMNS = (
    "id",
    "started",
    "duration_s",
    "status",
    "exit_code",
    "completed",
    "mode",
    "stations_expected",
    "stations_answering",
    "duplicates",
    "corrupt_rate",
    "findings",
    "message",
    "reason",
)

#: The columns of a station in :meth:`History.iter_dump`, in the order of
#: :meth:`CheckRow.to_dict`'s stations.
DUMP_STATION_COLUMNS = (
    "address",
    "label",
    "expected",
    "answering",
    "polls",
    "answers",
    "corrupt",
    "timeouts",
    "state",
    "response_s",
)

#: Each station column of a dump as a JSON literal, worked out by SQLite: text through
#: ``json_quote`` (the escaping of ``json.dumps(..., ensure_ascii=False)``: quote, backslash
#: and control characters escaped, everything else as it is), NULL as ``null``, the flags as
#: ``true``/``false``, numbers as numbers (a REAL arrives as the same float, and ``str()`` of it
#: is its ``repr``, as json writes it; only an infinite time, ``inf``, is left for the writer
#: to spell as json does). ``{label}`` and ``{state}`` are the text columns' literals
#: (:data:`_QUOTED`, or where the SQLite build has no JSON functions the plain columns, quoted
#: afterwards in Python).
_DUMP_STATION_SQL = (
    "s.address, {label}, CASE WHEN s.expected THEN 'true' ELSE 'false' END, "
    "CASE WHEN s.answering THEN 'true' ELSE 'false' END, s.polls, s.answers, s.corrupt, "
    "s.timeouts, {state}, ifnull(s.response_s, 'null')"
)
_QUOTED = "json_quote({0})"  # NULL: null


class HistoryError(CluDoctorError):
    """The history cannot be opened or written (permissions, not a database, newer schema)."""


# --- where -------------------------------------------------------------------------------------


def default_directory() -> Path:
    """``$CLU_DOCTOR_STATE_DIR``, else the platform's user state directory
    (:func:`clu_doctor.paths.state_dir`: ``~/.local/state/clu-doctor`` on Linux)."""
    return state_dir()


def history_path(site: str, directory: str | Path | None = None) -> Path:
    """The database of one site: ``<directory>/<site slug>.sqlite3``."""
    folder = Path(directory).expanduser() if directory is not None else default_directory()
    return folder / f"{site_slug(site)}.sqlite3"


# --- rows --------------------------------------------------------------------------------------


class FindingRef(NamedTuple):
    """A finding as the history keeps it: its id and severity."""

    id: str
    severity: Severity


@record(kw_only=True)
class StationRow(StationHealth):
    """One station in one recorded check: what that check saw of it, and which check it was."""

    check_id: int
    started: str

    def to_dict(self) -> dict[str, Any]:
        seen = super().to_dict()
        # The history's own key order (JSON readers see it): the check first, then the station.
        order = ("address", "label", "expected", "answering")
        return {
            "check_id": self.check_id,
            "started": self.started,
            **{key: seen[key] for key in order},
            **{key: value for key, value in seen.items() if key not in order},
        }


@record
class CheckRow:
    """One recorded check (or attempt: ``completed`` is false when it could not check)."""

    id: int
    started: str
    started_s: float
    duration_s: float
    status: Severity
    exit_code: int
    completed: bool
    mode: str
    stations_expected: int
    stations_answering: int
    duplicates: tuple[int, ...] = ()
    corrupt_rate: float | None = None
    findings: tuple[FindingRef, ...] = ()
    message: str | None = None
    stations: tuple[StationRow, ...] = ()
    #: Why it could not check (``silent_bus``, ``interrupted``, ``other``: see
    #: :data:`clu_doctor.monitoring.result.SILENT_BUS`);
    #: ``None`` for a check that ran.
    reason: str | None = None

    @property
    def finding_ids(self) -> tuple[str, ...]:
        return tuple(ref.id for ref in self.findings)

    def station(self, address: int) -> StationRow | None:
        for row in self.stations:
            if row.address == address:
                return row
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "started": self.started,
            "duration_s": self.duration_s,
            "status": self.status.value,
            "exit_code": self.exit_code,
            "completed": self.completed,
            "mode": self.mode,
            "stations_expected": self.stations_expected,
            "stations_answering": self.stations_answering,
            "duplicates": list(self.duplicates),
            "corrupt_rate": self.corrupt_rate,
            "findings": [{"id": ref.id, "severity": ref.severity.value} for ref in self.findings],
            "message": self.message,
            "reason": self.reason,
            "stations": [
                {k: v for k, v in row.to_dict().items() if k not in ("check_id", "started")}
                for row in self.stations
            ],
        }


# --- facts for the rules -----------------------------------------------------------------------


@record
class SilenceFact:
    """An expected station that is silent in the newest check, and since when."""

    address: int
    label: str | None
    #: Consecutive silent checks, newest included.
    silent_checks: int
    #: The first check of that silent run (ISO 8601 UTC).
    silent_since: str
    #: The newest check in which it answered, if any within the look-back.
    last_answer: str | None
    #: True when it answered in every check (within the look-back) before the silent run.
    steady_before: bool
    evidence: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "label": self.label,
            "silent_checks": self.silent_checks,
            "silent_since": self.silent_since,
            "last_answer": self.last_answer,
            "steady_before": self.steady_before,
            "evidence": list(self.evidence),
        }


@record
class FlappingFact:
    """An expected station that missed ``missed`` of the last ``of`` checks, and answered again
    after missing: it comes and goes (a warning), rather than being simply off."""

    address: int
    label: str | None
    missed: int
    of: int
    #: One character per check, oldest first: ``+`` answered, ``-`` silent.
    pattern: str
    evidence: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "label": self.label,
            "missed": self.missed,
            "of": self.of,
            "pattern": self.pattern,
            "evidence": list(self.evidence),
        }


@record
class HistoryFacts:
    """What the history says about the site's stations, for the rules and the report."""

    #: Completed checks looked at (the current one included, if given).
    checks: int
    silences: tuple[SilenceFact, ...] = ()
    flapping: tuple[FlappingFact, ...] = ()

    @property
    def evidence(self) -> tuple[str, ...]:
        lines = [line for fact in self.silences for line in fact.evidence]
        return (*lines, *(line for fact in self.flapping for line in fact.evidence))

    def silent_addresses(self) -> tuple[int, ...]:
        return tuple(fact.address for fact in self.silences)

    def flapping_addresses(self) -> tuple[int, ...]:
        return tuple(fact.address for fact in self.flapping)

    def to_dict(self) -> dict[str, Any]:
        return {
            "checks": self.checks,
            "silences": [fact.to_dict() for fact in self.silences],
            "flapping": [fact.to_dict() for fact in self.flapping],
        }


def parse_time(iso: str) -> datetime:
    """``2026-11-25T03:15:00Z`` (or with an offset; naive means UTC) as an aware datetime."""
    text = iso.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _station_name(address: int, label: str | None) -> str:
    return f"station {address} ({label})" if label else f"station {address}"


class _Clock:
    """Times for evidence lines: ``03:15 UTC`` on the newest check's day, else with the date."""

    def __init__(self, reference: str, tz: tzinfo | None) -> None:
        self.tz = tz or timezone.utc
        self.day = parse_time(reference).astimezone(self.tz).date()

    def __call__(self, iso: str) -> str:
        moment = parse_time(iso).astimezone(self.tz)
        zone = moment.tzname() or ""
        zone = "UTC" if zone in ("UTC", "UTC+00:00") else zone
        shown = (
            moment.strftime("%H:%M")
            if moment.date() == self.day
            else moment.strftime("%Y-%m-%d %H:%M")
        )
        return f"{shown} {zone}".strip()


def check_times(started: Sequence[str], tz: tzinfo | None = None) -> list[str]:
    """Checks' start times as evidence shows them: ``03:15 UTC`` on the newest one's day,
    with the date on other days."""
    if not started:
        return []
    clock = _Clock(started[-1], tz)
    return [clock(moment) for moment in started]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def compute_facts(
    checks: Sequence[tuple[str, Mapping[int, StationHealth]]],
    *,
    missed: int = 2,
    of: int = 8,
    addresses: Sequence[int] | None = None,
    tz: tzinfo | None = None,
) -> HistoryFacts:
    """The facts from a series of completed checks, oldest first: ``(started, stations by
    address)``. Pure; :meth:`History.facts` feeds it from the database.

    For each address expected in the newest check (or each of ``addresses``): a
    :class:`SilenceFact` when it is silent in the newest check, a :class:`FlappingFact` when it
    missed at least ``missed`` of its last ``of`` checks and answered again after the first of
    those misses. A station missing from a check (not planned then) does not count either way.
    """
    if not checks:
        return HistoryFacts(0)
    newest_started, newest = checks[-1]
    clock = _Clock(newest_started, tz)
    wanted = (
        list(addresses)
        if addresses is not None
        else sorted(a for a, row in newest.items() if row.expected)
    )
    silences: list[SilenceFact] = []
    flapping: list[FlappingFact] = []
    for address in wanted:
        series = [
            (started, stations[address].answering)
            for started, stations in checks
            if address in stations and stations[address].expected
        ]
        if not series:
            continue
        label = next(
            (s[address].label for _, s in reversed(checks) if address in s and s[address].label),
            None,
        )
        name = _station_name(address, label)
        # silent "since" only if the newest check judged it (a listen too short to judge a
        # station leaves no row for it)
        silence = _silence(series, address, label, name, clock) if address in newest else None
        if silence is not None:
            silences.append(silence)
        flap = _flapping(series[-of:], address, label, name, missed)
        if flap is not None:
            flapping.append(flap)
    return HistoryFacts(len(checks), tuple(silences), tuple(flapping))


def _silence(
    series: Sequence[tuple[str, bool]], address: int, label: str | None, name: str, clock: _Clock
) -> SilenceFact | None:
    if series[-1][1]:
        return None
    run = 0
    for _, answered in reversed(series):
        if answered:
            break
        run += 1
    since = series[-run][0]
    before = series[:-run]
    last_answer = next((started for started, answered in reversed(before) if answered), None)
    steady = bool(before) and all(answered for _, answered in before)
    checks = _plural(run, "check")
    if last_answer is None and run == 1:
        line = f"{name} did not answer in the first recorded check of it ({clock(since)})"
    elif last_answer is None:
        line = (
            f"{name} has not answered in any of the {_plural(run, 'recorded check')} "
            f"(since {clock(since)})"
        )
    elif steady:
        line = (
            f"{name} answered in every check until {clock(last_answer)} and has been silent "
            f"since {clock(since)} ({checks})"
        )
    else:
        misses = sum(1 for _, answered in before if not answered)
        line = (
            f"{name} last answered at {clock(last_answer)} (it missed {misses} of the "
            f"{len(before)} checks before) and has been silent since {clock(since)} ({checks})"
        )
    return SilenceFact(address, label, run, since, last_answer, steady, (line,))


def _flapping(
    window: Sequence[tuple[str, bool]], address: int, label: str | None, name: str, missed: int
) -> FlappingFact | None:
    misses = [index for index, (_, answered) in enumerate(window) if not answered]
    if len(misses) < missed:
        return None
    if not any(answered for _, answered in window[misses[0] :]):
        return None  # one silent run at the end: silent since, not flapping
    pattern = "".join("+" if answered else "-" for _, answered in window)
    line = (
        f"{name} missed {len(misses)} of the last {_plural(len(window), 'check')} and answered "
        f"in between ({pattern}, oldest first, + answered, - silent)"
    )
    return FlappingFact(address, label, len(misses), len(window), pattern, (line,))


# --- the database ------------------------------------------------------------------------------


def _row_to_station(row: sqlite3.Row) -> StationRow:
    return StationRow(
        check_id=row["check_id"],
        started=row["started"],
        address=row["address"],
        label=row["label"],
        expected=bool(row["expected"]),
        answering=bool(row["answering"]),
        polls=row["polls"],
        answers=row["answers"],
        corrupt=row["corrupt"],
        timeouts=row["timeouts"],
        state=row["state"],
        response_s=row["response_s"],
    )


def _row_to_check(row: sqlite3.Row, stations: Sequence[StationRow]) -> CheckRow:
    findings = tuple(
        FindingRef(item["id"], Severity(item["severity"])) for item in json.loads(row["findings"])
    )
    return CheckRow(
        id=row["id"],
        started=row["started"],
        started_s=row["started_s"],
        duration_s=row["duration_s"],
        status=Severity(row["status"]),
        exit_code=row["exit_code"],
        completed=bool(row["completed"]),
        mode=row["mode"],
        stations_expected=row["stations_expected"],
        stations_answering=row["stations_answering"],
        duplicates=tuple(json.loads(row["duplicates"])),
        corrupt_rate=row["corrupt_rate"],
        findings=findings,
        message=row["message"],
        stations=tuple(stations),
        reason=row["reason"],
    )


def _quote_station(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """A dump's station with its label and state quoted here (a SQLite without
    ``json_quote``), as :data:`_DUMP_STATION_SQL` has SQLite quote them."""
    label, state = row[2], row[9]
    return (
        *row[:2],
        "null" if label is None else json.dumps(label, ensure_ascii=False),
        *row[3:9],
        "null" if state is None else json.dumps(state, ensure_ascii=False),
        row[10],
    )


class History:
    """The history of one site. Open with :meth:`open`; use as a context manager or
    :meth:`close` it."""

    def __init__(
        self,
        connection: sqlite3.Connection,
        path: Path,
        site: str,
        busy_timeout_s: float = BUSY_TIMEOUT_S,
    ) -> None:
        self._db = connection
        self.path = path
        self.site = site
        self.busy_timeout_s = busy_timeout_s

    # -- opening --------------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        site: str,
        directory: str | Path | None = None,
        *,
        create: bool = True,
        busy_timeout_s: float = BUSY_TIMEOUT_S,
    ) -> History:
        """Open (and with ``create``, create) the history of ``site``.

        ``directory`` is ``--history-dir``; ``None`` means :func:`default_directory`. Without
        ``create`` a missing history is an error (for ``clu-doctor history``).
        """
        path = history_path(site, directory)
        if not create and not path.is_file():
            raise HistoryError(
                f"no history of site {site!r} in {path.parent}",
                "run clu-doctor check with this site first, or pass the --history-dir the "
                f"checks use (or set {ENV_STATE_DIR})",
            )
        if create:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise HistoryError(
                    f"cannot create the history directory {path.parent}: {error.strerror or error}",
                    f"pass --history-dir (or set {ENV_STATE_DIR}) to a writable directory",
                ) from None
        try:
            connection = sqlite3.connect(path, timeout=busy_timeout_s, isolation_level=None)
        except sqlite3.Error as error:
            raise _open_error(path, error) from None
        connection.row_factory = sqlite3.Row
        history = cls(connection, path, site, busy_timeout_s)
        # Switching a new file to WAL takes a lock SQLite does not wait for: when several
        # checks create the same history at once, the losers retry within the busy timeout. On
        # the wall clock, not clu_doctor.clock: the lock is held by another process, for real.
        deadline = time.monotonic() + busy_timeout_s
        while True:
            try:
                history._prepare()
            except sqlite3.OperationalError as error:
                if _is_busy(error) and time.monotonic() < deadline:
                    time.sleep(_RETRY_S)
                    continue
                connection.close()
                raise _open_error(path, error) from None
            except sqlite3.Error as error:
                connection.close()
                raise _open_error(path, error) from None
            except HistoryError:
                connection.close()
                raise
            return history

    def _prepare(self) -> None:
        db = self._db
        if db.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            db.execute("PRAGMA auto_vacuum = INCREMENTAL")  # only takes effect on a new file
            db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = FULL")
        db.execute("PRAGMA foreign_keys = ON")
        version = self._meta("schema_version")
        if version is None:
            with self._transaction():
                for statement in _SCHEMA:
                    db.execute(statement)
                db.execute(
                    "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?), "
                    "('site', ?)",
                    (str(SCHEMA_VERSION), self.site),
                )
            version = self._meta("schema_version")
        if version is not None and int(version) < SCHEMA_VERSION:
            self._upgrade(int(version))
            version = self._meta("schema_version")
        if version is not None and int(version) > SCHEMA_VERSION:
            raise HistoryError(
                f"{self.path} was written by a newer clu-doctor (history schema {version})",
                "upgrade clu-doctor, or pass another --history-dir",
            )
        owner = self._meta("site")
        if owner is not None and owner != self.site:
            raise HistoryError(
                f"{self.path} holds the history of site {owner!r}, not {self.site!r}",
                "two site names give the same file name: rename one site, or give each its "
                "own --history-dir",
            )

    def _upgrade(self, version: int) -> None:
        """Bring a history written by an older clu-doctor up to :data:`SCHEMA_VERSION`, in one
        transaction (another check doing the same at once finds it done)."""
        with self._transaction():
            current = self._meta("schema_version")
            if current is None or int(current) >= SCHEMA_VERSION:
                return
            if version < 2:
                self._db.execute("ALTER TABLE checks ADD COLUMN reason TEXT")
                # Version 1 kept only the message: a check that heard nothing said so first.
                self._db.execute(
                    "UPDATE checks SET reason = CASE WHEN message LIKE 'no frame heard%' "
                    "THEN ? ELSE ? END WHERE completed = 0",
                    (SILENT_BUS, OTHER),
                )
            self._db.execute(
                "UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),)
            )

    def _meta(self, key: str) -> str | None:
        try:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        except sqlite3.OperationalError as error:
            if "no such table" in str(error):
                return None
            raise
        return None if row is None else str(row[0])

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """One write transaction: the write lock taken up front (waiting out another writer up
        to the busy timeout), committed whole or not at all."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> History:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- writing --------------------------------------------------------------------------------

    def record(self, result: CheckResult, *, keep_days: int = DEFAULT_KEEP_DAYS) -> int:
        """Append one completed check and its stations; prune checks older than ``keep_days``
        (counted back from this check). Returns the new check's id."""
        started_s = parse_time(result.started).timestamp()
        findings = [
            {"id": item.id, "severity": item.severity.value}
            for item in result.diagnosis.all_findings()
        ]
        return self._write(
            (
                result.started,
                started_s,
                result.duration_s,
                result.status.value,
                result.exit_code,
                1,
                result.mode,
                result.stations_expected,
                result.stations_answering,
                json.dumps(list(result.duplicates)),
                result.corrupt_rate,
                json.dumps(findings),
                None,
                None,
            ),
            result.stations,
            started_s - keep_days * 86400,
        )

    def record_failure(
        self,
        started: str,
        duration_s: float,
        message: str,
        *,
        reason: str = OTHER,
        status: Severity = Severity.UNKNOWN,
        keep_days: int = DEFAULT_KEEP_DAYS,
    ) -> int:
        """Append a check that could not check (port busy, no port, timeout before any frame),
        with no stations and its ``reason``. Its status is unknown, unless a silent bus that
        lasted made it ``status`` (critical). It never counts as a success or as a silent
        station."""
        started_s = parse_time(started).timestamp()
        return self._write(
            (
                started,
                started_s,
                duration_s,
                status.value,
                int(status.exit_code),
                0,
                "",
                0,
                0,
                "[]",
                None,
                "[]",
                message,
                reason,
            ),
            (),
            started_s - keep_days * 86400,
        )

    def _write(
        self, values: tuple[Any, ...], stations: Sequence[StationHealth], cutoff_s: float
    ) -> int:
        try:
            with self._transaction():
                cursor = self._db.execute(
                    "INSERT INTO checks (started, started_s, duration_s, status, exit_code, "
                    "completed, mode, stations_expected, stations_answering, duplicates, "
                    "corrupt_rate, findings, message, reason) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    values,
                )
                check_id = cursor.lastrowid
                assert check_id is not None
                self._insert_stations(check_id, stations)
                pruned = self._prune(cutoff_s)
        except sqlite3.OperationalError as error:
            raise _write_error(self.path, error, self.busy_timeout_s) from None
        if pruned:
            self._give_back()
        return check_id

    def _insert_stations(self, check_id: int, stations: Sequence[StationHealth]) -> None:
        self._db.executemany(
            "INSERT INTO stations (check_id, address, label, expected, answering, polls, "
            "answers, corrupt, timeouts, state, response_s) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    check_id,
                    s.address,
                    s.label,
                    int(s.expected),
                    int(s.answering),
                    s.polls,
                    s.answers,
                    s.corrupt,
                    s.timeouts,
                    s.state,
                    s.response_s,
                )
                for s in stations
                if s.judged  # a station the listen could not judge is no data point either way
            ],
        )

    def _prune(self, cutoff_s: float) -> int:
        self._db.execute(
            "DELETE FROM stations WHERE check_id IN (SELECT id FROM checks WHERE started_s < ?)",
            (cutoff_s,),
        )
        return int(self._db.execute("DELETE FROM checks WHERE started_s < ?", (cutoff_s,)).rowcount)

    def _give_back(self) -> None:
        """After a prune (committed): return the free pages to the file system and cut the
        write-ahead log, so the file shrinks to its data.

        The incremental vacuum frees one page per step of its statement, and Python's
        ``execute`` steps a statement without result columns only once (it freed one page per
        prune, so a pruned file never shrank): ``executescript`` steps it to the end. Its own
        short transaction, after the prune's; best effort: if another check holds the lock,
        the next prune frees these pages too."""
        with contextlib.suppress(sqlite3.OperationalError):
            self._db.executescript("PRAGMA incremental_vacuum; PRAGMA wal_checkpoint(TRUNCATE);")

    def prune(self, keep_days: int = DEFAULT_KEEP_DAYS, *, now_s: float | None = None) -> int:
        """Delete checks older than ``keep_days`` before ``now_s`` (default: the newest
        check); return how many."""
        if now_s is None:
            row = self._db.execute("SELECT MAX(started_s) FROM checks").fetchone()
            if row[0] is None:
                return 0
            now_s = float(row[0])
        try:
            with self._transaction():
                removed = self._prune(now_s - keep_days * 86400)
        except sqlite3.OperationalError as error:
            raise _write_error(self.path, error, self.busy_timeout_s) from None
        if removed:
            self._give_back()
        return removed

    # -- reading --------------------------------------------------------------------------------

    def recent(self, n: int = 20, *, completed_only: bool = False) -> list[CheckRow]:
        """The newest ``n`` checks with their stations, oldest first."""
        return list(self.iter_recent(n, completed_only=completed_only))

    def iter_recent(self, n: int = 20, *, completed_only: bool = False) -> Iterator[CheckRow]:
        """The newest ``n`` checks with their stations, oldest first, one at a time: memory
        stays flat however many there are (a year of checks is 35,000), and no query binds
        more than a couple of parameters, whatever SQLite's limit on them."""
        where = "WHERE completed = 1" if completed_only else ""
        window = (
            f"SELECT id, started_s FROM checks {where} ORDER BY started_s DESC, id DESC LIMIT ?"
        )
        checks = self._db.execute(
            f"SELECT c.* FROM checks c JOIN ({window}) w ON w.id = c.id ORDER BY c.started_s, c.id",
            (n,),
        )
        stations = self._db.execute(
            "SELECT s.*, c.started FROM stations s JOIN checks c ON c.id = s.check_id "
            f"JOIN ({window}) w ON w.id = s.check_id ORDER BY c.started_s, c.id, s.address",
            (n,),
        )
        pending = stations.fetchone()
        for row in checks:
            own: list[StationRow] = []
            while pending is not None and pending["check_id"] == row["id"]:
                own.append(_row_to_station(pending))
                pending = stations.fetchone()
            yield _row_to_check(row, own)

    def iter_marks(self, n: int = 20) -> Iterator[tuple[CheckRow, list[tuple[Any, ...]]]]:
        """The newest ``n`` checks, oldest first, for the text of thousands: each check without
        its stations, and its stations as plain tuples ``(check id, address, label, expected,
        answering)`` (all the text shows of a station; an object per station costs more than
        the rest). Streams as :meth:`iter_recent` does."""
        columns = "s.check_id, s.address, s.label, s.expected, s.answering"
        checks, stations = self._newest_with_stations(n, "c.*", columns)
        stations.row_factory = None  # plain tuples
        for check, own in _paired(checks, stations, operator.itemgetter("id")):
            yield _row_to_check(check, ()), own

    def iter_dump(
        self, n: int = 20, *, json_functions: bool | None = None
    ) -> Iterator[tuple[tuple[Any, ...], list[tuple[Any, ...]]]]:
        """The newest ``n`` checks, oldest first, for a dump of thousands: each check as a
        plain tuple of :data:`DUMP_CHECK_COLUMNS`, and its stations as tuples of
        :data:`DUMP_STATION_COLUMNS` already in JSON's words (see :data:`_DUMP_STATION_SQL`),
        so that a station is written by one string format: a year of checks is half a million
        stations, and an object (or even a Python function call) per station costs more than
        everything else. Streams as :meth:`iter_recent` does. ``json_functions``: whether to
        let SQLite quote the text (default: when it can)."""
        if json_functions is None:
            json_functions = self._has_json_functions()
        columns = ", ".join(f"c.{name}" for name in DUMP_CHECK_COLUMNS)
        text = _QUOTED if json_functions else "s.{0}"
        values = _DUMP_STATION_SQL.format(label=text.format("label"), state=text.format("state"))
        checks, stations = self._newest_with_stations(n, columns, f"s.check_id, {values}")
        checks.row_factory = None  # plain tuples: the fastest SQLite gives
        stations.row_factory = None
        rows: Iterable[tuple[Any, ...]] = stations
        if not json_functions:
            rows = map(_quote_station, stations)
        yield from _paired(checks, rows, operator.itemgetter(0))

    def _newest_with_stations(
        self, n: int, check_columns: str, station_columns: str
    ) -> tuple[sqlite3.Cursor, sqlite3.Cursor]:
        """Cursors over the newest ``n`` checks (``check_columns`` of ``checks c``), oldest
        first, and over their stations (``station_columns`` of ``stations s``, the check's id
        first) in the same order, by address: what :func:`_paired` puts together."""
        execute = self._db.execute
        first = self._first_in_order(n)
        if first is not None:  # the newest n are the checks from ``first`` on, in id order
            checks = execute(
                f"SELECT {check_columns} FROM checks c WHERE c.id >= ? ORDER BY c.id", (first,)
            )
            stations = execute(
                f"SELECT {station_columns} FROM stations s WHERE s.check_id >= ? "
                "ORDER BY s.check_id, s.address",
                (first,),
            )
            return checks, stations
        window = "SELECT id, started_s FROM checks ORDER BY started_s DESC, id DESC LIMIT ?"
        checks = execute(
            f"SELECT {check_columns} FROM checks c JOIN ({window}) w ON w.id = c.id "
            "ORDER BY c.started_s, c.id",
            (n,),
        )
        stations = execute(
            f"SELECT {station_columns} FROM stations s "
            f"JOIN ({window}) w ON w.id = s.check_id ORDER BY w.started_s, w.id, s.address",
            (n,),
        )
        return checks, stations

    def _first_in_order(self, n: int) -> int | None:
        """The id of the oldest of the newest ``n`` checks, when from it on the checks were
        recorded in the order of their times (as a history is, unless a clock went back):
        then the newest ``n`` are exactly the checks from that id on, and reading them (and
        their stations) in the order of the primary key needs no sort of half a million
        stations. None otherwise (or with no checks)."""
        first = self._db.execute(
            "SELECT MIN(id) FROM (SELECT id FROM checks ORDER BY started_s DESC, id DESC LIMIT ?)",
            (n,),
        ).fetchone()[0]
        if first is None:
            return None
        try:
            disorder = self._db.execute(
                "SELECT EXISTS (SELECT 1 FROM (SELECT started_s, LAG(started_s) OVER "
                "(ORDER BY id) AS before FROM checks WHERE id >= ?) WHERE before > started_s)",
                (first,),
            ).fetchone()[0]
        except sqlite3.OperationalError:  # a SQLite older than 3.25 (no window functions)
            return None
        return None if disorder else int(first)

    def _has_json_functions(self) -> bool:
        """Whether this SQLite has ``json_quote`` (built in since 3.38, often before)."""
        try:
            self._db.execute("SELECT json_quote('')").fetchone()
        except sqlite3.OperationalError:
            return False
        return True

    def span(self, n: int = 20) -> tuple[int, str | None, str | None]:
        """How many of the newest ``n`` checks there are, and when the oldest and the newest
        of them started (what a dump says before it streams them)."""
        row = self._db.execute(
            "SELECT COUNT(*), MIN(started_s), MAX(started_s) FROM (SELECT started_s FROM checks "
            "ORDER BY started_s DESC, id DESC LIMIT ?)",
            (n,),
        ).fetchone()
        if not row[0]:
            return 0, None, None
        first = self._db.execute(
            "SELECT started FROM checks WHERE started_s = ? ORDER BY id LIMIT 1", (row[1],)
        ).fetchone()[0]
        last = self._db.execute(
            "SELECT started FROM checks WHERE started_s = ? ORDER BY id DESC LIMIT 1", (row[2],)
        ).fetchone()[0]
        return int(row[0]), str(first), str(last)

    def count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM checks").fetchone()[0])

    def station_timeline(self, address: int, n: int = 20) -> list[StationRow]:
        """One station over the newest ``n`` completed checks it was part of, oldest first."""
        rows = self._db.execute(
            "SELECT s.*, c.started FROM stations s JOIN checks c ON c.id = s.check_id "
            "WHERE s.address = ? AND c.completed = 1 "
            "ORDER BY c.started_s DESC, c.id DESC LIMIT ?",
            (address, n),
        ).fetchall()
        return [_row_to_station(row) for row in reversed(rows)]

    def silent_bus_run(self, limit: int = 1000) -> tuple[str, ...]:
        """When the checks of the current silent-bus run started, oldest first: the newest
        checks that heard not a byte, back to the last check that ran (checks that could not
        check for another reason, such as a busy port, neither count nor end the run)."""
        rows = self._db.execute(
            "SELECT started, completed, reason FROM checks "
            "ORDER BY started_s DESC, id DESC LIMIT ?",
            (limit,),
        ).fetchall()
        run: list[str] = []
        for row in rows:
            if row["completed"]:
                break
            if row["reason"] == SILENT_BUS:
                run.append(row["started"])
        return tuple(reversed(run))

    def last_success(self) -> float | None:
        """When the last check that completed (whatever its status) ended, in seconds since
        the epoch; ``None`` if none did. For ``clu_doctor_last_success_timestamp_seconds``."""
        row = self._db.execute(
            "SELECT MAX(started_s + duration_s) FROM checks WHERE completed = 1"
        ).fetchone()
        return None if row[0] is None else float(row[0])

    def facts(
        self,
        *,
        missed: int = 2,
        of: int = 8,
        lookback: int = DEFAULT_LOOKBACK,
        current: tuple[str, Sequence[StationHealth]] | None = None,
        addresses: Sequence[int] | None = None,
        tz: tzinfo | None = None,
    ) -> HistoryFacts:
        """Silent-since and flapping facts from the last ``max(lookback, of)`` completed checks.

        ``current`` is the check being made (its start time and stations) when the facts are
        wanted before it is recorded (to feed the rules whose findings go into the record);
        it counts as the newest check. See :func:`compute_facts`.
        """
        window = max(lookback, of)
        recorded = self.recent(window - (1 if current else 0), completed_only=True)
        series: list[tuple[str, Mapping[int, StationHealth]]] = [
            (row.started, {s.address: s for s in row.stations}) for row in recorded
        ]
        if current is not None:
            series.append((current[0], {s.address: s for s in current[1]}))
        return compute_facts(series, missed=missed, of=of, addresses=addresses, tz=tz)

    def integrity(self) -> str:
        """SQLite's own consistency check: ``ok`` when the file is sound."""
        return str(self._db.execute("PRAGMA integrity_check").fetchone()[0])


def _is_busy(error: sqlite3.OperationalError) -> bool:
    text = str(error)
    return "locked" in text or "busy" in text


def _open_error(path: Path, error: sqlite3.Error) -> HistoryError:
    text = str(error)
    if isinstance(error, sqlite3.DatabaseError) and "not a database" in text:
        return HistoryError(
            f"{path} is not a clu-doctor history ({text})",
            "move the file aside; the next check starts a new history",
        )
    if "readonly" in text or "unable to open" in text:
        return HistoryError(
            f"cannot open the history {path}: {text}",
            "the user running the check needs write access to the file and its directory "
            f"(or pass --history-dir / set {ENV_STATE_DIR})",
        )
    return HistoryError(f"cannot open the history {path}: {text}")


def _write_error(path: Path, error: sqlite3.OperationalError, timeout_s: float) -> HistoryError:
    text = str(error)
    if _is_busy(error):
        return HistoryError(
            f"the history {path} stayed locked by another check for {timeout_s:g} s",
            "another clu-doctor check of this site is still writing; look for a hung process",
        )
    return HistoryError(f"cannot write the history {path}: {text}")


def _paired(
    checks: Iterable[Any], stations: Iterable[tuple[Any, ...]], check_id: Callable[[Any], Any]
) -> Iterator[tuple[Any, list[tuple[Any, ...]]]]:
    """Each check with its stations, both in the same order, stations keyed by their first
    column (the check's id): grouped in C, no Python step per station. A check that could not
    check has no stations."""
    groups = itertools.groupby(stations, operator.itemgetter(0))
    pending = next(groups, None)
    for check in checks:
        if pending is not None and pending[0] == check_id(check):
            yield check, list(pending[1])
            pending = next(groups, None)
        else:
            yield check, []
