"""Who decides what ``scan`` and ``listen`` exit with: clu_doctor.probing.status."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from clu_doctor.bus.chain import analyse_chain
from clu_doctor.bus.listen.verdicts import Verdict
from clu_doctor.exitcodes import ExitCode
from clu_doctor.probing.status import listen_status, scan_status
from clu_doctor.severity import Severity


def scanned(answered: tuple[int, ...], missing: tuple[int, ...] = ()) -> Any:
    """The two things the status reads from a scan."""
    return SimpleNamespace(answered=answered, missing=missing)


def checked(verdict: str, confirmed: tuple[int, ...] = ()) -> Any:
    """The two things the status reads from a duplicate check."""
    return SimpleNamespace(verdict=verdict, confirmed=confirmed)


@pytest.mark.parametrize(
    ("status", "code"),
    [
        ("ok", ExitCode.OK),
        ("info", ExitCode.OK),
        ("warning", ExitCode.WARNING),
        ("critical", ExitCode.CRITICAL),
        ("unknown", ExitCode.UNKNOWN),
    ],
)
def test_each_status_has_its_monitoring_exit_code(status: str, code: ExitCode) -> None:
    assert Severity(status).exit_code is code


def test_a_scan_where_nothing_answers_is_critical() -> None:
    assert scan_status(scanned(()), None, None) == ("critical", "no address answered")


def test_a_complete_scan_is_ok() -> None:
    chain = analyse_chain([1, 2, 3], "clu", {1, 2, 3})
    assert scan_status(scanned((1, 2, 3)), chain, None) == ("ok", "3 address(es) answered")


def test_a_break_in_the_chain_or_a_missing_station_is_critical() -> None:
    chain = analyse_chain([1, 2, 3, 4], "clu", {1, 2})
    assert scan_status(scanned((1, 2), (3, 4)), chain, None) == (
        "critical",
        "2 address(es) answered; chain: break (3, 4)",
    )
    assert scan_status(scanned((1, 2), (4,)), None, None) == (
        "critical",
        "2 address(es) answered; missing: 4",
    )


def test_duplicates_confirmed_are_critical_and_suspected_or_noise_a_warning() -> None:
    everyone = scanned((1, 2))
    assert scan_status(everyone, None, checked("confirmed", (1,))) == (
        "critical",
        "2 address(es) answered; duplicate address: 1",
    )
    assert scan_status(everyone, None, checked("suspected"))[0] == "warning"
    assert scan_status(everyone, None, checked("noisy")) == (
        "warning",
        "2 address(es) answered; duplicates noisy",
    )
    assert scan_status(everyone, None, checked("none"))[0] == "ok"
    # a warning never lowers a critical
    assert scan_status(scanned((1,), (2,)), None, checked("suspected"))[0] == "critical"


def verdict(severity: str, title: str) -> Verdict:
    return Verdict("bus.polling", "gaps", Severity(severity), title)


def test_a_listen_takes_its_worst_verdict_and_names_three() -> None:
    verdicts = [verdict("info", f"v{i}") for i in range(4)] + [verdict("critical", "worst")]
    assert listen_status(verdicts) == ("critical", "v0; v1; v2 (+2 more)")
    assert listen_status([verdict("warning", "gaps")]) == ("warning", "gaps")


def test_a_short_silence_is_unknown_and_a_long_one_ok_without_verdicts() -> None:
    short = SimpleNamespace(bytes=0, seconds=3.0)
    status, summary = listen_status([], short)  # type: ignore[arg-type]
    assert status == "unknown" and "listen at least 5 s" in summary
    assert listen_status([], SimpleNamespace(bytes=0, seconds=6.0)) == (  # type: ignore[arg-type]
        "ok",
        "nothing wrong heard",
    )
    assert listen_status([]) == ("ok", "nothing wrong heard")
