"""Golden output of every check format, from fixed check results with fixed timestamps.

When an output changes on purpose, regenerate the files and review the diff::

    CLU_DOCTOR_UPDATE_GOLDEN=1 python -m pytest tests/report/test_golden.py
    git diff tests/report/golden/

A missing golden file is a failure, never silently created (unless the variable is set).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from clu_doctor import __version__
from clu_doctor.monitoring.history import History
from clu_doctor.report import CheckFormat
from clu_doctor.report.check import render_check, render_check_unknown
from clu_doctor.report.console import OutputMode
from clu_doctor.report.history import render_history_json, render_history_text
from clu_doctor.site.model import RateThreshold, SilentThreshold, Thresholds
from tests.monitoring.test_history import at, result
from tests.report.factories import STARTED, STARTED_S, every_severity, healthy, silent_station

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("CLU_DOCTOR_UPDATE_GOLDEN") == "1"
PLAIN = OutputMode(styled=False, width=100)
CUSTOM = Thresholds(SilentThreshold(warning=1, critical=3), RateThreshold(0.01, 0.05))

RESULTS = {"healthy": healthy, "silent": silent_station, "every-severity": every_severity}


def unknown(fmt: CheckFormat) -> str:
    return render_check_unknown(
        fmt,
        site="Solsiden garage B",
        message="port /dev/ttyUSB0 is busy (another clu-doctor check holds it)",
        duration_s=0.042,
        hint="two checks overlap: make the timer interval longer than --timeout",
        started=STARTED,
        last_success=STARTED_S - 900 + 21.5,
    )


def history_rows(tmp: Path) -> History:
    history = History.open("Solsiden garage B", tmp)
    for n, silent in enumerate([(), (), (6,), (), (6,), (), (3,), (3,)]):
        history.record(result(at(n), silent=silent))
    history.record_failure(at(8), 0.031, "port /dev/ttyUSB0 is busy")
    return history


def history_text(tmp: Path) -> str:
    with history_rows(tmp) as history:
        return render_history_text(
            history.recent(20), PLAIN, site=history.site, facts=history.facts()
        )


def history_json(tmp: Path) -> str:
    with history_rows(tmp) as history:
        return render_history_json(history.recent(20), site=history.site, facts=history.facts())


CASES: dict[str, Callable[[Path], str]] = {}
for _name, _build in RESULTS.items():
    for _fmt in CheckFormat:
        CASES[f"{_fmt.value}-{_name}"] = lambda _t, b=_build, f=_fmt: render_check(
            b(), f, thresholds=Thresholds(), last_success=None, mode=PLAIN
        )
    CASES[f"nagios-{_name}-custom-thresholds"] = lambda _t, b=_build: render_check(
        b(), CheckFormat.NAGIOS, thresholds=CUSTOM
    )
for _fmt in CheckFormat:
    CASES[f"{_fmt.value}-unknown"] = lambda _t, f=_fmt: unknown(f)
CASES["history-text"] = history_text
CASES["history-json"] = history_json


def normalise(text: str) -> str:
    """The tool's version changes with every release; the golden files say <version>."""
    return text.replace(f'"version": "{__version__}"', '"version": "<version>"')


@pytest.mark.parametrize("name", sorted(CASES))
def test_output_matches_its_golden_file(name: str, tmp_path: Path) -> None:
    produced = normalise(CASES[name](tmp_path))
    path = GOLDEN / f"{name}.txt"
    if UPDATE:
        path.write_text(produced, encoding="utf-8")
    assert path.is_file(), f"no golden file {path}; set CLU_DOCTOR_UPDATE_GOLDEN=1 to create it"
    assert produced == path.read_text(encoding="utf-8")


def test_every_golden_file_has_a_case() -> None:
    assert sorted(p.stem for p in GOLDEN.glob("*.txt")) == sorted(CASES)


def test_rendering_is_deterministic(tmp_path: Path) -> None:
    for name, build in CASES.items():
        if not name.startswith("history"):
            assert build(tmp_path) == build(tmp_path), name
