"""The check's JSON and text, and the dispatcher over every format (exhaustiveness)."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest
from prometheus_client.parser import text_string_to_metric_families

from clu_doctor.engine import Severity
from clu_doctor.report import SCHEMA_VERSION, CheckFormat
from clu_doctor.report.check import (
    render_check,
    render_check_json,
    render_check_text,
    render_check_unknown,
)
from clu_doctor.report.console import OutputMode
from clu_doctor.report.summary import headline_finding, summary
from clu_doctor.site.model import Thresholds
from tests.report.factories import diagnosis, every_severity, healthy, silent_station, with_status

PLAIN = OutputMode(styled=False, width=100)
STYLED = OutputMode(styled=True, width=100)


def rendered(fmt: CheckFormat, severity: Severity) -> str:
    result = with_status(healthy(), severity)
    return render_check(result, fmt, thresholds=Thresholds(), mode=PLAIN)


@pytest.mark.parametrize("fmt", list(CheckFormat))
@pytest.mark.parametrize("severity", list(Severity))
def test_every_severity_renders_in_every_format(fmt: CheckFormat, severity: Severity) -> None:
    output = rendered(fmt, severity)
    assert output.endswith("\n")
    fid = f"TEST-{severity.name}-99"
    assert fid in output
    if fmt is CheckFormat.JSON:
        document = json.loads(output)
        assert document["status"] == severity.value
        assert document["findings"][0]["severity"] == severity.value
    if fmt is CheckFormat.PROMETHEUS:
        names = {f.name for f in text_string_to_metric_families(output)}
        assert "clu_doctor_finding" in names


@pytest.mark.parametrize("fmt", list(CheckFormat))
def test_could_not_check_renders_in_every_format(fmt: CheckFormat) -> None:
    output = render_check_unknown(
        fmt, site="S", message="no port /dev/ttyUSB0", duration_s=0.5, hint="plug it in"
    )
    assert "no port /dev/ttyUSB0" in output
    if fmt is CheckFormat.JSON:
        document = json.loads(output)
        assert (document["status"], document["exit_code"], document["completed"]) == (
            "unknown",
            3,
            False,
        )
        assert document["hint"] == "plug it in"


def test_the_json_document_is_versioned_and_complete() -> None:
    result = silent_station()
    document = json.loads(render_check_json(result, extra={"history": {"checks": 3}}))
    assert document["schema"] == "clu-doctor/check"
    assert document["schema_version"] == SCHEMA_VERSION
    assert (document["status"], document["exit_code"], document["completed"]) == (
        "critical",
        2,
        True,
    )
    assert document["summary"] == summary(result)
    assert document["stations_answering"] == 15
    # problems first, as in the text; the first thing to do is the problem's first step
    assert [f["id"] for f in document["findings"]] == ["BUS-STATION-01", "CLU-RUN-01"]
    assert document["first_step"]["finding"] == "BUS-STATION-01"
    assert document["first_step"]["step"].startswith("Check that the silent station has power")
    assert document["findings"][0]["consequences"][0]["id"] == "STATION-LOST-01"
    assert document["ignored"][0]["id"] == "BUS-NOISE-01"
    assert document["trace"] == []
    assert document["observations"] == []
    assert document["history"] == {"checks": 3}


def test_summary_and_headline() -> None:
    assert summary(healthy()) == "16/16 stations answering"
    assert headline_finding(healthy()) is None
    headline = headline_finding(silent_station())
    assert headline is not None and headline.id == "BUS-STATION-01"
    empty = dataclasses.replace(healthy(), diagnosis=diagnosis())
    assert summary(empty) == "16/16 stations answering; nothing could be decided"
    assert empty.exit_code == 3


def test_text_for_a_person() -> None:
    text = render_check_text(silent_station(), PLAIN)
    assert text.splitlines()[0] == "Solsiden garage B: CRITICAL (exit 2)"
    assert "   7  XAXXY07   yes      NO            40        0        0        40  -      -" in text
    assert "\x1b[" not in text


def test_styled_text_has_the_same_words(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    styled = render_check_text(every_severity(), STYLED)
    assert "\x1b[" in styled
    plain = render_check_text(every_severity(), PLAIN)
    assert re.sub(r"\x1b\[[0-9;]*m", "", styled) == plain
