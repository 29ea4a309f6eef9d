"""The one severity type: its order, its exit codes, the worst of several, and what decides."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clu_doctor.exitcodes import ExitCode
from clu_doctor.severity import GRADES, Severity

# Least urgent first: an undecided result outweighs "all fine" but not a problem found.
ORDER = [Severity.OK, Severity.INFO, Severity.UNKNOWN, Severity.WARNING, Severity.CRITICAL]


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (Severity.OK, ExitCode.OK),
        (Severity.INFO, ExitCode.OK),
        (Severity.WARNING, ExitCode.WARNING),
        (Severity.CRITICAL, ExitCode.CRITICAL),
        (Severity.UNKNOWN, ExitCode.UNKNOWN),
    ],
)
def test_exit_codes(status: Severity, code: ExitCode) -> None:
    assert status.exit_code is code


def test_the_rank_orders_every_severity() -> None:
    assert sorted(Severity, key=lambda s: s.rank) == ORDER
    assert len({s.rank for s in Severity}) == len(Severity)  # no ties: worst() is unambiguous


@given(st.lists(st.sampled_from(list(Severity)), min_size=1))
def test_the_worst_is_the_highest_ranked(severities: list[Severity]) -> None:
    worst = Severity.worst(severities)
    assert worst in severities
    assert all(s.rank <= worst.rank for s in severities)
    assert Severity.worst(iter(severities)) is worst  # any iterable, read once


def test_the_worst_of_nothing_is_the_callers_default() -> None:
    assert Severity.worst([], default=Severity.UNKNOWN) is Severity.UNKNOWN
    assert Severity.worst([], default=Severity.OK) is Severity.OK
    assert Severity.worst([Severity.INFO], default=Severity.UNKNOWN) is Severity.INFO
    with pytest.raises(ValueError, match="default"):
        Severity.worst([])


def test_pairs_agree_with_the_order() -> None:
    for a, b in itertools.product(Severity, repeat=2):
        assert Severity.worst([a, b]) is max(a, b, key=ORDER.index)


def test_the_grades_are_every_severity_that_decides() -> None:
    assert GRADES == (Severity.OK, Severity.INFO, Severity.WARNING, Severity.CRITICAL)
    assert Severity.UNKNOWN not in GRADES
    assert [g.rank for g in GRADES] == sorted(g.rank for g in GRADES)


def test_files_keep_their_words() -> None:
    # Profiles, trees and JSON say "warning"; the enum reads and writes the same word.
    for severity in Severity:
        assert Severity(severity.value) is severity
        assert severity == severity.value  # a str: comparisons with a file's word still hold
