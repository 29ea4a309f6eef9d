"""site.yaml's monitoring sections: ``thresholds:`` and ``ignore:``, and applying ignores."""

from __future__ import annotations

import textwrap
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clu_doctor.engine import Severity
from clu_doctor.errors import FileProblemError
from clu_doctor.monitoring.ignores import apply_ignores, unknown_ignores
from clu_doctor.site.model import (
    FlappingThreshold,
    Ignore,
    RateThreshold,
    SilentBusThreshold,
    SilentThreshold,
    Thresholds,
)
from clu_doctor.site.reader import load_site
from tests.report.factories import diagnosis, reported

HEAD = """\
name: Test site
chain:
  - {address: 1, model: UNO, label: XAXXY01}
  - {address: 7, model: UNO, label: XAXXY07}
"""
TODAY = date(2026, 11, 25)


def load(tmp_path: Path, tail: str) -> object:
    path = tmp_path / "site.yaml"
    path.write_text(HEAD + textwrap.dedent(tail), encoding="utf-8")
    return load_site(path)


def problems(tmp_path: Path, tail: str) -> list[str]:
    with pytest.raises(FileProblemError) as caught:
        load(tmp_path, tail)
    found = [str(p) for p in caught.value.problems]
    assert all("\n" not in line for line in found)
    return found


def one_problem(tmp_path: Path, tail: str) -> str:
    found = problems(tmp_path, tail)
    assert len(found) == 1, found
    return found[0]


# --- thresholds ------------------------------------------------------------------------------


def test_defaults_when_the_sections_are_absent(tmp_path: Path) -> None:
    site = load(tmp_path, "")
    assert site.thresholds == Thresholds()  # type: ignore[attr-defined]
    assert site.thresholds.stations_silent == SilentThreshold(1, 1)  # type: ignore[attr-defined]
    assert site.thresholds.corrupt_rate == RateThreshold(0.02, 0.10)  # type: ignore[attr-defined]
    assert site.thresholds.flapping == FlappingThreshold(2, 8)  # type: ignore[attr-defined]
    assert site.thresholds.silent_bus == SilentBusThreshold(None)  # type: ignore[attr-defined]
    assert site.ignores == ()  # type: ignore[attr-defined]


def test_every_threshold_can_be_given(tmp_path: Path) -> None:
    site = load(
        tmp_path,
        """\
        thresholds:
          stations_silent: {warning: 1, critical: 3}
          corrupt_rate: {warning: 0.01, critical: 5%}
          flapping: {missed: 3, of: 12}
          silent_bus: {critical: 4}
        """,
    )
    thresholds = site.thresholds  # type: ignore[attr-defined]
    assert thresholds == Thresholds(
        SilentThreshold(1, 3),
        RateThreshold(0.01, 0.05),
        FlappingThreshold(3, 12),
        SilentBusThreshold(4),
    )
    assert site.to_dict()["thresholds"] == {  # type: ignore[attr-defined]
        "stations_silent": {"warning": 1, "critical": 3},
        "corrupt_rate": {"warning": 0.01, "critical": 0.05},
        "flapping": {"missed": 3, "of": 12},
        "silent_bus": {"critical": 4},
    }


def test_omitted_keys_keep_their_defaults(tmp_path: Path) -> None:
    site = load(tmp_path, "thresholds:\n  stations_silent: {critical: 2}\n  flapping: {of: 4}\n")
    thresholds = site.thresholds  # type: ignore[attr-defined]
    assert thresholds.stations_silent == SilentThreshold(1, 2)
    assert thresholds.flapping == FlappingThreshold(2, 4)
    assert thresholds.corrupt_rate == RateThreshold()


@pytest.mark.parametrize(
    ("tail", "expected"),
    [
        (
            "thresholds:\n  silent: {warning: 1}\n",
            "site.yaml:6: unknown key 'silent' in thresholds (expected corrupt_rate, flapping, "
            "silent_bus, stations_silent)",
        ),
        (
            "thresholds:\n  stations_silent: {warning: 3, critical: 2}\n",
            "site.yaml:6: thresholds: stations_silent: warning (3) is above critical (2)",
        ),
        (
            "thresholds:\n  stations_silent: {warning: 2}\n",
            "site.yaml:6: thresholds: stations_silent: warning (2) is above critical (1, the default)",
        ),
        (
            "thresholds:\n  stations_silent: {warning: 0}\n",
            "site.yaml:6: thresholds: stations_silent: warning is 0 (expected a whole number, 1..16)",
        ),
        (
            "thresholds:\n  stations_silent: {critical: 1.5}\n",
            "site.yaml:6: thresholds: stations_silent: critical is a number (expected a whole number, 1..16)",
        ),
        (
            "thresholds:\n  corrupt_rate: {warning: 2}\n",
            "site.yaml:6: thresholds: corrupt_rate: warning is 2 (expected a fraction above 0 and "
            "at most 1 (0.02) or a percentage (2%))",
        ),
        (
            "thresholds:\n  corrupt_rate: {critical: lots}\n",
            "site.yaml:6: thresholds: corrupt_rate: critical is 'lots' (expected a fraction above 0 "
            "and at most 1 (0.02) or a percentage (2%))",
        ),
        (
            "thresholds:\n  corrupt_rate: {warning: 20%}\n",
            "site.yaml:6: thresholds: corrupt_rate: warning (0.2) is above critical (0.1)",
        ),
        (
            "thresholds:\n  flapping: {missed: 5, of: 4}\n",
            "site.yaml:6: thresholds: flapping: missed (5) is more than of (4)",
        ),
        (
            "thresholds:\n  flapping: {missed: 1}\n",
            "site.yaml:6: thresholds: flapping: missed is 1 (expected a whole number, 2..1000)",
        ),
        (
            "thresholds:\n  flapping: {misses: 2}\n",
            "site.yaml:6: unknown key 'misses' in thresholds: flapping (expected missed, of)",
        ),
        (
            "thresholds: strict\n",
            "site.yaml:5: thresholds is text (expected a mapping)",
        ),
    ],
)
def test_threshold_errors_point_at_the_line(tmp_path: Path, tail: str, expected: str) -> None:
    found = one_problem(tmp_path, tail)
    assert expected in found, found


def test_silent_threshold_severity() -> None:
    band = SilentThreshold(warning=1, critical=3)
    assert [band.severity(n) for n in range(5)] == [
        Severity.OK,
        Severity.WARNING,
        Severity.WARNING,
        Severity.CRITICAL,
        Severity.CRITICAL,
    ]
    assert SilentThreshold().severity(1) is Severity.CRITICAL


def test_rate_threshold_is_a_range_a_value_on_the_threshold_is_fine() -> None:
    band = RateThreshold(0.02, 0.10)
    assert band.severity(None) is Severity.UNKNOWN
    assert band.severity(0.0) is Severity.OK
    assert band.severity(0.02) is Severity.OK
    assert band.severity(0.0201) is Severity.WARNING
    assert band.severity(0.10) is Severity.WARNING
    assert band.severity(0.11) is Severity.CRITICAL


# --- ignore: the schema ----------------------------------------------------------------------

IGNORES = """\
ignore:
  - finding: BUS-NOISE-01
    address: 7
    reason: Cable at the ramp is replaced in December (ticket 4711)
    until: 2026-12-31
  - {finding: site-cable-01, reason: "measured: 160 m, accepted by DEFA", until: "2027-06-30"}
"""


def test_ignores_are_read_with_their_lines(tmp_path: Path) -> None:
    site = load(tmp_path, IGNORES)
    first, second = site.ignores  # type: ignore[attr-defined]
    assert first == Ignore(
        "BUS-NOISE-01",
        "Cable at the ramp is replaced in December (ticket 4711)",
        date(2026, 12, 31),
        7,
        str(tmp_path / "site.yaml"),
        6,
    )
    assert first.where == f"{tmp_path / 'site.yaml'}:6"
    assert second.finding == "SITE-CABLE-01"  # ids are upper-cased
    assert second.address is None
    assert second.until == date(2027, 6, 30)
    assert site.to_dict()["ignore"][0]["until"] == "2026-12-31"  # type: ignore[attr-defined]


def test_an_empty_ignore_list_is_fine(tmp_path: Path) -> None:
    assert load(tmp_path, "ignore: []\n").ignores == ()  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("tail", "expected"),
    [
        (
            "ignore:\n  - {finding: BUS-NOISE-01, reason: known}\n",
            "site.yaml:6: ignore 1: an ignore needs an expiry date, so that it cannot hide a "
            "fault forever (expected until: YYYY-MM-DD)",
        ),
        (
            "ignore:\n  - {finding: BUS-NOISE-01, until: 2026-12-31}\n",
            "site.yaml:6: ignore 1: an ignore needs a reason, for whoever reads the report next "
            '(expected reason: "why this finding is expected, and who decided")',
        ),
        (
            "ignore:\n  - {finding: BUS-NOISE-01, reason: ' ', until: 2026-12-31}\n",
            "site.yaml:6: ignore 1: reason is text (expected text)",
        ),
        (
            "ignore:\n  - {finding: BUS-NOISE-01, reason: known, until: next year}\n",
            "site.yaml:6: ignore 1: until is 'next year' (expected a date, YYYY-MM-DD (the last "
            "day the ignore holds))",
        ),
        (
            "ignore:\n  - {finding: BUS-NOISE-01, reason: known, until: 2026-12-31T10:00:00Z}\n",
            "site.yaml:6: ignore 1: until is a date and time (expected a date, YYYY-MM-DD (the "
            "last day the ignore holds))",
        ),
        (
            "ignore:\n  - {finding: 'noise', reason: known, until: 2026-12-31}\n",
            "site.yaml:6: ignore 1: finding is 'noise' (expected a finding id such as BUS-NOISE-01 "
            "(clu-doctor rules list shows them))",
        ),
        (
            "ignore:\n  - {finding: BUS-NOISE-01, address: 17, reason: known, until: 2026-12-31}\n",
            "site.yaml:6: ignore 1: address is 17 (expected a whole number, 1..16)",
        ),
        (
            "ignore:\n  - {finding: BUS-NOISE-01, station: 7, reason: known, until: 2026-12-31}\n",
            "site.yaml:6: unknown key 'station' in ignore 1 (expected address, finding, reason, until)",
        ),
        (
            "ignore:\n  - BUS-NOISE-01\n",
            "site.yaml:6: ignore 1 is text (expected a mapping)",
        ),
        (
            "ignore: {finding: BUS-NOISE-01}\n",
            "site.yaml:5: ignore is a mapping (expected a list of {finding, address (optional), "
            "reason, until})",
        ),
        (
            "ignore:\n"
            "  - {finding: BUS-NOISE-01, address: 7, reason: a, until: 2026-12-31}\n"
            "  - {finding: BUS-NOISE-01, address: 7, reason: b, until: 2027-12-31}\n",
            "site.yaml:7: ignore 2: BUS-NOISE-01 at address 7 is already ignored on line 6 "
            "(expected each finding (and address) once)",
        ),
    ],
)
def test_ignore_errors_point_at_the_line(tmp_path: Path, tail: str, expected: str) -> None:
    found = one_problem(tmp_path, tail)
    assert expected in found, found


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        """\
        thresholds:
          flapping: {missed: 0}
        ignore:
          - {finding: BUS-NOISE-01}
        """,
    )
    assert len(found) == 3, found
    assert [line.split(": ")[0].rsplit(":", 1)[1] for line in found] == ["6", "8", "8"]


def test_unknown_finding_ids_are_problems_at_their_line(tmp_path: Path) -> None:
    site = load(tmp_path, IGNORES)
    found = unknown_ignores(site.ignores, {"BUS-NOISE-01"})  # type: ignore[attr-defined]
    assert [str(p) for p in found] == [
        f"{tmp_path / 'site.yaml'}:10: ignore: no finding SITE-CABLE-01 in the rules "
        "(expected an id that clu-doctor rules list shows)"
    ]


# --- apply_ignores ---------------------------------------------------------------------------


def ignore(fid: str, until: date = date(2026, 12, 31), address: int | None = None) -> Ignore:
    return Ignore(fid, f"reason for {fid}", until, address, "site.yaml", 10)


NOISE = reported("BUS-NOISE-01", Severity.WARNING)
SILENT = reported("BUS-STATION-01", Severity.CRITICAL)
FINE = reported("BUS-OK-01", Severity.OK)


def test_an_active_ignore_hides_its_finding_and_the_status_follows() -> None:
    outcome = apply_ignores([FINE, NOISE], [ignore("BUS-NOISE-01")], TODAY)
    assert outcome.kept == (FINE,)
    assert [m.finding for m in outcome.ignored] == [NOISE]
    assert outcome.ignored_ids == {"BUS-NOISE-01"}
    assert outcome.status is Severity.OK
    assert outcome.expired == ()
    assert outcome.unused == ()


def test_an_ignore_holds_through_its_last_day_and_expires_the_next() -> None:
    entry = ignore("BUS-NOISE-01", until=TODAY)
    assert apply_ignores([NOISE], [entry], TODAY).kept == ()
    later = apply_ignores([FINE, NOISE], [entry], date(2026, 11, 26))
    assert later.kept == (FINE, NOISE)
    assert later.status is Severity.WARNING
    assert [(e.ignore, e.resurfaced) for e in later.expired] == [(entry, (NOISE,))]
    (note,) = later.notes()
    assert note.expired
    assert (note.id, note.severity, note.until, note.where) == (
        "BUS-NOISE-01",
        Severity.WARNING,
        "2026-11-25",
        "site.yaml:10",
    )


def test_an_expired_ignore_is_reported_even_when_its_finding_is_gone() -> None:
    entry = ignore("BUS-NOISE-01", until=date(2026, 1, 1))
    outcome = apply_ignores([FINE], [entry], TODAY)
    assert [(e.ignore, e.resurfaced) for e in outcome.expired] == [(entry, ())]
    assert outcome.notes() == ()


def test_address_scoped_ignores_must_cover_every_address_of_the_finding() -> None:
    at_7 = ignore("BUS-STATION-01", address=7)
    at_9 = ignore("BUS-STATION-01", address=9)
    only_7 = {"BUS-STATION-01": [7]}
    both = {"BUS-STATION-01": [7, 9]}
    assert apply_ignores([SILENT], [at_7], TODAY, addresses=only_7).kept == ()
    assert apply_ignores([SILENT], [at_7], TODAY, addresses=both).kept == (SILENT,)
    assert apply_ignores([SILENT], [at_7, at_9], TODAY, addresses=both).kept == ()
    # Without addresses for the finding, only an entry without an address matches.
    assert apply_ignores([SILENT], [at_7], TODAY).kept == (SILENT,)
    assert apply_ignores([SILENT], [ignore("BUS-STATION-01")], TODAY, addresses=both).kept == ()


def test_expired_scoped_ignore_resurfaces_only_where_it_applied() -> None:
    old_7 = ignore("BUS-STATION-01", until=date(2026, 1, 1), address=7)
    outcome = apply_ignores([SILENT], [old_7], TODAY, addresses={"BUS-STATION-01": [9]})
    assert outcome.kept == (SILENT,)
    assert outcome.expired[0].resurfaced == ()
    outcome = apply_ignores([SILENT], [old_7], TODAY, addresses={"BUS-STATION-01": [7]})
    assert outcome.expired[0].resurfaced == (SILENT,)


def test_an_active_entry_wins_over_an_expired_one() -> None:
    old = ignore("BUS-NOISE-01", until=date(2026, 1, 1))
    new = ignore("BUS-NOISE-01", until=date(2027, 1, 1))
    outcome = apply_ignores([NOISE], [old, new], TODAY)
    assert outcome.kept == ()
    assert outcome.expired[0].resurfaced == ()


def test_unused_entries_are_reported() -> None:
    entry = ignore("SITE-CABLE-01")
    assert apply_ignores([FINE, NOISE], [entry], TODAY).unused == (entry,)


def test_status_when_nothing_was_found_stays_unknown() -> None:
    assert apply_ignores([], [ignore("BUS-NOISE-01")], TODAY).status is Severity.UNKNOWN


def test_filter_removes_ignored_findings_and_promotes_their_consequences() -> None:
    lost = reported("STATION-LOST-01", Severity.WARNING)
    root = reported("BUS-STATION-01", Severity.CRITICAL, consequences=(lost,))
    original = diagnosis(FINE, root)
    outcome = apply_ignores(original.all_findings(), [ignore("BUS-STATION-01")], TODAY)
    filtered = outcome.filter(original)
    assert [f.id for f in filtered.findings] == ["BUS-OK-01", "STATION-LOST-01"]
    assert filtered.findings[1].consequence_of is None
    assert filtered.status is Severity.WARNING
    assert filtered.exit_code == 1
    # Ignoring the consequence keeps the root, without it.
    outcome = apply_ignores(original.all_findings(), [ignore("STATION-LOST-01")], TODAY)
    filtered = outcome.filter(original)
    assert [f.id for f in filtered.all_findings()] == ["BUS-OK-01", "BUS-STATION-01"]
    assert filtered.status is Severity.CRITICAL


SEVERITIES = st.sampled_from(list(Severity))
IDS = st.sampled_from(["A-1", "B-1", "C-1", "D-1"])


@given(
    found=st.lists(st.tuples(IDS, SEVERITIES), unique_by=lambda t: t[0]),
    entries=st.lists(
        st.tuples(IDS, st.integers(-3, 3), st.one_of(st.none(), st.integers(1, 3))), max_size=5
    ),
)
def test_every_finding_is_kept_or_ignored_once_and_expired_entries_never_hide(
    found: list[tuple[str, Severity]], entries: list[tuple[str, int, int | None]]
) -> None:
    findings = [reported(fid, severity) for fid, severity in found]
    ignores = [
        Ignore(fid, "r", date.fromordinal(TODAY.toordinal() + days), address)
        for fid, days, address in entries
    ]
    addresses = {fid: [1, 2] for fid, _ in found}
    outcome = apply_ignores(findings, ignores, TODAY, addresses=addresses)
    ignored = [m.finding for m in outcome.ignored]
    assert sorted(f.id for f in [*outcome.kept, *ignored]) == sorted(f.id for f in findings)
    assert [f for f in findings if f in outcome.kept] == list(outcome.kept)  # order kept
    for match in outcome.ignored:
        assert match.ignores
        assert all(entry.active(TODAY) for entry in match.ignores)
    hidden_by_active = {
        fid
        for fid, _ in found
        if any(e.finding == fid and e.active(TODAY) and e.address is None for e in ignores)
        or {1, 2} <= {e.address for e in ignores if e.finding == fid and e.active(TODAY)}
    }
    assert outcome.ignored_ids == hidden_by_active
    if outcome.kept:
        assert outcome.status == max((f.severity for f in outcome.kept), key=lambda s: s.rank)
