"""Each outlet's address judged on its own, in every mode, and listens too short to judge.

A DUO whose second outlet (13) never answers: its controller answers with its twin's address,
or it is dead. Listening while the CLU polls, and reading the bus with the CLU off, through
``listen``, ``scan``, ``diagnose`` and ``check``: 13 is silent every time, never cleared by its
twin 12 answering at the same station. A listen shorter than one turn of the CLU's polling
cycle: the stations it did not hear polled are not judged (unknown), never critical.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.commands.helpers import invoke
from tests.scenarios.sites import HERE

DUO_SITES = ["duo-outlet-answers-as-twin", "duo-outlet-dead"]


def site(name: str, query: str = "") -> str:
    return f"{HERE / name}.yaml{query}"


def finding(document: dict[str, Any], identifier: str) -> dict[str, Any]:
    [found] = [f for f in document["findings"] if f["id"] == identifier]
    return found


def evidence_of(item: dict[str, Any]) -> str:
    return " ".join(str(line) for line in item.get("evidence", ()))


@pytest.mark.parametrize("name", DUO_SITES)
def test_listening_the_silent_outlet_is_silent(name: str) -> None:
    result = invoke("listen", "--sim", site(name), "--seconds", "10", "--json")
    document = result.json()
    assert result.code == document["exit_code"] == 2
    [silent] = [v for v in document["verdicts"] if v["key"] == "bus.silent_addresses"]
    assert silent["addresses"] == [13]
    assert "12 at the same station answers" not in str(silent)  # (that is the scan's wording)
    assert "shares DUO-12 with 12, which answers" in " ".join(silent["evidence"])


@pytest.mark.parametrize("name", DUO_SITES)
def test_reading_the_bus_the_silent_outlet_is_missing(name: str) -> None:
    result = invoke("scan", "--sim", site(name, "?clu=0"), "--json")
    document = result.json()
    assert result.code == document["exit_code"] == 2
    assert document["scan"]["missing"] == [13] and 13 not in document["scan"]["answered"]
    assert document["chain"]["verdict"] == "station" and document["chain"]["silent"] == [13]
    if name == "duo-outlet-answers-as-twin":
        [entry] = [a for a in document["scan"]["addresses"] if a["address"] == 13]
        assert entry["replied_from"] == [12] and entry["errors"]["wrong_address"] >= 1


@pytest.mark.parametrize("query", ["", "?clu=0"])
@pytest.mark.parametrize("name", DUO_SITES)
def test_diagnose_names_the_silent_outlet_with_the_clu_on_or_off(name: str, query: str) -> None:
    result = invoke("diagnose", "--sim", site(name, query), "--no-input", "--json")
    document = result.json()
    assert result.code == 2
    station = finding(document, "BUS-STATION-01")
    assert "13" in evidence_of(station)
    assert "BUS-OK-01" not in [f["id"] for f in document["findings"]]


@pytest.mark.parametrize("query", ["", "?clu=0"])
@pytest.mark.parametrize("name", DUO_SITES)
def test_check_names_the_silent_outlet_with_the_clu_on_or_off(name: str, query: str) -> None:
    result = invoke("check", "--sim", site(name, query), "--no-history", "--format", "json")
    document = result.json()
    assert result.code == document["exit_code"] == 2
    assert "BUS-STATION-01" in [f["id"] for f in document["findings"]]
    [thirteen] = [s for s in document["stations"] if s["address"] == 13]
    assert thirteen["answering"] is False


# --- listens too short to judge ----------------------------------------------------------------


def test_a_check_shorter_than_a_polling_cycle_is_unknown_not_critical() -> None:
    """The CLU's first turn (identity, Icmax, status for each of 16 stations) takes about a
    second: in the 1 s the option allows at least, station 16 was not polled yet. The check
    says it could not judge it."""
    result = invoke(
        "check", "--sim", "healthy-16", "--listen-seconds", "1", "--no-history", "--format", "json"
    )
    document = result.json()
    assert result.code == document["exit_code"] == 3
    short = finding(document, "BUS-UNPOLLED-02")
    assert short["severity"] == "unknown"
    assert "BUS-UNPOLLED-01" not in [f["id"] for f in document["findings"]]


def test_a_check_of_two_polling_cycles_judges_every_station() -> None:
    result = invoke(
        "check",
        "--sim",
        "healthy-16",
        "--listen-seconds",
        "2.5",
        "--no-history",
        "--format",
        "json",
    )
    assert result.code == 0, result.stdout
    ids = [f["id"] for f in result.json()["findings"]]
    assert "BUS-UNPOLLED-02" not in ids and "BUS-UNPOLLED-01" not in ids


def test_a_short_listen_says_what_it_could_not_judge() -> None:
    result = invoke("listen", "--sim", "healthy-16", "--seconds", "1")
    assert result.code == 3
    assert "not judged" in result.stdout and "16" in result.stdout
