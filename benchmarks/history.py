#!/usr/bin/env python3
"""A year of checks in a site's history: dumping it, and what pruning gives back.

Builds a history of 35,000 checks (a year of checks every 15 minutes) of a 16-station site,
then measures, each in a fresh process as a user runs it:

* ``clu-doctor history --site site.yaml --last 35000 --json`` and the same as text (piped):
  wall time and peak memory (maximum resident set size) of the process (targets: <= 2 s, <= 100 MB for
  the JSON);
* pruning the year to 90 days (as the next ``clu-doctor check`` does): the file's size on
  disk, database and write-ahead log, against the size of its live data (the same history
  copied by ``VACUUM INTO``, which holds no free page) (target: within 10 %).

Usage: python benchmarks/history.py [--checks N] [--runs N]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from clu_doctor.engine import load_rulebook
from clu_doctor.monitoring.history import History, history_path
from clu_doctor.monitoring.result import CheckResult, StationHealth

SITE = "Benchmark garage"
STATIONS = 16
SITE_FILE = f"""name: {SITE}
profile: defa-erange
adapter: clu
clu: connected
chain:
""" + "".join(
    f"  - {{address: {a}, model: UNO, label: XAXXY{a:02d}}}\n" for a in range(1, STATIONS + 1)
)


def stations(silent: int | None) -> tuple[StationHealth, ...]:
    return tuple(
        StationHealth(
            address=address,
            label=f"XAXXY{address:02d}",
            answering=address != silent,
            polls=40,
            answers=0 if address == silent else 40,
            timeouts=40 if address == silent else 0,
            state=None if address == silent else "A1",
            response_s=None if address == silent else 0.012,
        )
        for address in range(1, STATIONS + 1)
    )


def build(directory: Path, checks: int) -> Path:
    """``checks`` checks 15 minutes apart, ending now; station 7 silent in every 50th."""
    diagnosis = load_rulebook().diagnose({})
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    with History.open(SITE, directory) as history:
        # A benchmark's throw-away file: no fsync per check (a real check keeps FULL).
        history._db.execute("PRAGMA synchronous = OFF")
        for number in range(checks):
            moment = start + timedelta(minutes=15 * number)
            silent = 7 if number % 50 == 0 else None
            result = CheckResult(
                site=SITE,
                started=moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
                duration_s=21.5,
                mode="listen",
                diagnosis=diagnosis,
                stations=stations(silent),
                corrupt_rate=0.0,
            )
            history.record(dataclasses.replace(result), keep_days=3650)
    return history_path(SITE, directory)


def measured(command: list[str]) -> tuple[float, float]:
    """Wall time (s) and peak resident memory (MB) of one run of ``command``."""
    start = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(
            f"{' '.join(command)} failed: {process.stderr.read().decode() if process.stderr else ''}"
        )
    return elapsed, usage.ru_maxrss / 1024


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg()) + f" ({os.cpu_count()} CPUs)"


def on_disk(path: Path) -> int:
    return sum(
        p.stat().st_size for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=35_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="clu-doctor-history-"))
    try:
        began = time.perf_counter()
        database = build(work / "state", args.checks)
        print(
            f"history of {args.checks} checks x {STATIONS} stations: {on_disk(database) / 1e6:.1f} MB"
            f" (built in {time.perf_counter() - began:.0f} s)"
        )
        site_file = work / "site.yaml"
        site_file.write_text(SITE_FILE, encoding="utf-8")
        script = Path(sys.executable).with_name("clu-doctor")
        base = [
            str(script) if script.exists() else "clu-doctor",
            "history",
            "--site",
            str(site_file),
            "--history-dir",
            str(work / "state"),
            "--last",
            str(args.checks),
        ]
        print("load average before the runs (1, 5, 15 min): " + _load())
        for label, extra in (("--json", ["--json"]), ("text (piped)", [])):
            runs = [measured(base + extra) for _ in range(args.runs)]
            wall = statistics.median(r[0] for r in runs)
            peak = max(r[1] for r in runs)
            print(
                f"history {label:<13} {wall:6.2f} s (median of {args.runs}), "
                f"peak memory {peak:6.1f} MB (targets for --json: <= 2 s, <= 100 MB)"
            )

        pruned = work / "pruned"
        shutil.copytree(work / "state", pruned)
        with History.open(SITE, pruned) as history:
            before = on_disk(history.path)
            removed = history.prune(keep_days=90)
            after = on_disk(history.path)
            live = work / "live.sqlite3"
            history._db.execute("VACUUM INTO ?", (str(live),))
        live_size = live.stat().st_size
        print(
            f"prune to 90 days: {removed} checks removed; file {before / 1e6:.1f} MB -> "
            f"{after / 1e6:.2f} MB; live data {live_size / 1e6:.2f} MB; "
            f"{(after / live_size - 1) * 100:+.1f} % over it (target: within 10 %)"
        )
        with sqlite3.connect(live) as check:
            assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        print("load average after the runs (1, 5, 15 min): " + _load())
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
