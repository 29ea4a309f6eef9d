"""Two faults at once on one bus: XAXXY03 without power (the bus passes it) and the cable cut
after XAXXY08. Each has its own remedy, so the technician must be told of both: the break is
the finding, the silent station before it is named in its title, its steps and its evidence,
whether the tool listened to the CLU's polls or read the bus itself, in diagnose and check."""

from __future__ import annotations

from typing import Any

import pytest

from tests.commands.helpers import invoke
from tests.scenarios.sites import HERE

SITE = f"{HERE / 'break-and-silent-station'}.yaml"


def findings(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}

    def walk(items: list[dict[str, Any]]) -> None:
        for item in items:
            found[item["id"]] = item
            walk(item.get("consequences", []))

    walk(document["findings"])
    return found


@pytest.mark.parametrize("query", ["", "?clu=0"], ids=["listening", "reading"])
def test_diagnose_names_the_break_and_the_silent_station_before_it(query: str) -> None:
    result = invoke(
        "diagnose", "--sim", SITE + query, "--listen-seconds", "12", "--no-input", "--json"
    )
    document = result.json()
    assert result.code == document["exit_code"] == 2
    found = findings(document)
    assert "BUS-BREAK-01" not in found and "BUS-STATION-01" not in found
    both = found["BUS-BREAK-02"]
    assert both["severity"] == "critical"
    assert document["first_step"]["finding"] == "BUS-BREAK-02"
    seen = " ".join(both["evidence"])
    assert "address 3" in seen and "9" in seen
    assert any("silent station before the break" in step for step in both["remedy"])
    areas = {line["area"]: line for line in document["areas"]}
    assert areas["Bus"]["mark"] == "problem"


def test_listening_says_where_the_cut_is_and_which_station_is_silent_too() -> None:
    result = invoke("diagnose", "--sim", SITE, "--listen-seconds", "12", "--no-input")
    assert result.code == 2
    text = result.stdout
    assert "The bus is interrupted, and a station before the break is silent too" in text
    assert "between XAXXY08 and XAXXY09" in text
    assert "address 3 is silent too, with stations beyond answering" in text


def test_check_reports_both_faults_in_one_line(tmp_path: Any) -> None:
    result = invoke("check", "--sim", SITE, "--history-dir", str(tmp_path), "--format", "nagios")
    assert result.code == 2
    first = result.stdout.splitlines()[0]
    assert first.startswith("CLU-DOCTOR CRITICAL - ")
    assert "silent: 3 (XAXXY03), 9 (XAXXY09)" in first
    assert "BUS-BREAK-02" in first
