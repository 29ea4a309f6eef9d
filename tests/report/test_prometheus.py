"""Prometheus output parses with prometheus_client's own parser and keeps its documented names."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from clu_doctor.engine import Severity
from clu_doctor.monitoring.result import CheckResult, StationHealth
from clu_doctor.report.prometheus import (
    METRICS,
    escape_label_value,
    format_value,
    render_prometheus,
    render_prometheus_unknown,
)
from tests.report.factories import (
    STARTED_S,
    diagnosis,
    every_severity,
    healthy,
    reported,
    silent_station,
    with_status,
)

FIXTURES = [healthy(), silent_station(), every_severity()]


def parse(text: str) -> dict[str, list[Sample]]:
    families = {}
    for family in text_string_to_metric_families(text):
        assert family.type == "gauge", family.name
        assert family.documentation == METRICS[family.name]
        families[family.name] = family.samples
    return families


def value(families: dict[str, list[Sample]], name: str, **labels: str) -> float:
    matches = [s.value for s in families[name] if all(s.labels[k] == v for k, v in labels.items())]
    assert len(matches) == 1, (name, labels, families[name])
    return matches[0]


@pytest.mark.parametrize("result", FIXTURES, ids=["healthy", "silent", "every-severity"])
def test_every_output_parses_and_every_metric_is_documented(result: CheckResult) -> None:
    families = parse(render_prometheus(result))
    assert set(families) <= set(METRICS)
    for name, samples in families.items():
        assert samples, name
        for sample in samples:
            assert sample.labels["site"] == result.site


def test_between_them_the_fixtures_use_every_metric() -> None:
    used = set()
    for result in FIXTURES:
        used |= set(parse(render_prometheus(result)))
    assert used == set(METRICS)


def test_check_level_values() -> None:
    families = parse(render_prometheus(silent_station()))
    site = "Solsiden garage B"
    assert value(families, "clu_doctor_check_status", site=site) == 2
    assert value(families, "clu_doctor_check_completed", site=site) == 1
    assert value(families, "clu_doctor_check_duration_seconds") == 32.25
    assert value(families, "clu_doctor_check_timestamp_seconds") == STARTED_S
    # Without a history value, the last success is this check's end.
    assert value(families, "clu_doctor_last_success_timestamp_seconds") == STARTED_S + 32.25
    assert value(families, "clu_doctor_stations_expected") == 16
    assert value(families, "clu_doctor_stations_answering") == 15
    assert value(families, "clu_doctor_duplicate_addresses") == 0
    assert value(families, "clu_doctor_corrupt_answer_ratio") == pytest.approx(1 / 600)
    assert value(families, "clu_doctor_findings_ignored") == 1
    assert value(families, "clu_doctor_ignores_expired") == 0


def test_station_values_carry_address_and_label() -> None:
    families = parse(render_prometheus(silent_station()))
    assert value(families, "clu_doctor_station_up", address="7", label="XAXXY07") == 0
    assert value(families, "clu_doctor_station_up", address="8", label="XAXXY08") == 1
    assert value(families, "clu_doctor_station_timeouts", address="7") == 40
    assert value(families, "clu_doctor_station_corrupt_answers", address="3") == 1
    assert value(families, "clu_doctor_station_state", address="1", state="A1") == 1
    assert {s.labels["address"] for s in families["clu_doctor_station_response_seconds"]} == {
        str(a) for a in range(1, 17) if a != 7
    }


def test_unplanned_stations_duplicates_and_findings() -> None:
    families = parse(render_prometheus(every_severity()))
    assert value(families, "clu_doctor_station_expected", address="12", label="") == 0
    assert value(families, "clu_doctor_station_up", address="12") == 1
    assert value(families, "clu_doctor_address_duplicated", address="4", label="XAXXY04") == 1
    assert value(families, "clu_doctor_duplicate_addresses") == 1
    assert value(families, "clu_doctor_station_state", address="3", state="F4") == 1
    assert "clu_doctor_corrupt_answer_ratio" not in families  # unknown: left out, not NaN
    assert value(families, "clu_doctor_ignores_expired") == 1
    for severity in Severity:
        assert value(families, "clu_doctor_findings", severity=severity.value) == 1
        assert (
            value(
                families,
                "clu_doctor_finding",
                id=f"TEST-{severity.name}-01",
                severity=severity.value,
            )
            == 1
        )


@pytest.mark.parametrize("severity", list(Severity))
def test_every_severity_gives_its_status_value(severity: Severity) -> None:
    result = with_status(healthy(), severity)
    families = parse(render_prometheus(result))
    assert value(families, "clu_doctor_check_status") == result.exit_code
    assert value(families, "clu_doctor_finding", severity=severity.value) == 1


def test_the_last_success_comes_from_the_history_when_given() -> None:
    families = parse(render_prometheus(healthy(), last_success=1234.5))
    assert value(families, "clu_doctor_last_success_timestamp_seconds") == 1234.5


def test_could_not_check_keeps_the_last_success_so_the_alert_fires() -> None:
    text = render_prometheus_unknown(
        "Solsiden garage B",
        "port busy\n# TYPE evil counter",
        0.5,
        last_success=STARTED_S - 3600,
        started="2026-11-25T03:15:00Z",
    )
    assert text.startswith("# clu-doctor could not check: port busy # TYPE evil counter\n")
    families = parse(text)
    assert set(families) == {
        "clu_doctor_check_status",
        "clu_doctor_check_completed",
        "clu_doctor_check_duration_seconds",
        "clu_doctor_check_timestamp_seconds",
        "clu_doctor_last_success_timestamp_seconds",
    }
    assert value(families, "clu_doctor_check_status") == 3
    assert value(families, "clu_doctor_check_completed") == 0
    assert value(families, "clu_doctor_last_success_timestamp_seconds") == STARTED_S - 3600
    # Never a success: 0, so "time() - last success > 1800" fires at once.
    families = parse(render_prometheus_unknown(None, "invalid site file", last_success=None))
    assert value(families, "clu_doctor_last_success_timestamp_seconds", site="") == 0
    assert "clu_doctor_check_duration_seconds" not in families


def test_values_are_formatted_as_the_format_spells_them() -> None:
    assert [format_value(v) for v in (1, 0.5, 2.0, True, float("nan"), float("inf"))] == [
        "1",
        "0.5",
        "2",
        "1",
        "NaN",
        "+Inf",
    ]
    assert format_value(-float("inf")) == "-Inf"
    assert format_value(1795576532.25) == "1795576532.25"
    assert escape_label_value('a\\b"c\nd') == 'a\\\\b\\"c\\nd'


TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)


@given(site=TEXT, label=TEXT, state=TEXT, fid=TEXT)
def test_any_label_value_round_trips_through_the_parser(
    site: str, label: str, state: str, fid: str
) -> None:
    station = StationHealth(3, label or None, answering=True, polls=1, answers=1, state=state)
    result = dataclasses.replace(
        healthy(site),
        stations=(station,),
        diagnosis=diagnosis(reported(fid or "X", Severity.WARNING)),
    )
    families = parse(render_prometheus(result))
    assert {s.labels["site"] for samples in families.values() for s in samples} == {site}
    assert families["clu_doctor_station_up"][0].labels["label"] == label
    if state:
        assert families["clu_doctor_station_state"][0].labels["state"] == state
    assert families["clu_doctor_finding"][0].labels["id"] == (fid or "X")
