"""``clu-doctor explain ID`` and ``clu-doctor rules show ID``: one finding, for a person."""

from __future__ import annotations

from clu_doctor.engine import load_rulebook
from tests.commands.helpers import invoke, one_line_error

RULEBOOK = load_rulebook()


def test_explain_shows_title_cause_steps_verify_escalate_and_manual() -> None:
    finding = RULEBOOK.findings["BUS-BREAK-01"]
    result = invoke("explain", "BUS-BREAK-01")
    assert result.code == 0, result.stderr
    flat = " ".join(result.stdout.split())
    lines = result.stdout.splitlines()
    assert lines[0] == f"BUS-BREAK-01  {finding.title}"
    assert lines[1].startswith("CRITICAL  area: Bus  decision tree: bus-reach")
    assert " ".join(finding.cause.split()) in flat
    for number, step in enumerate(finding.remedy, 1):
        assert f"{number}. {' '.join(step.split())}" in flat
    assert f"Verify: {finding.verify}" in flat
    assert f"Escalate: {finding.escalate}" in flat
    assert f"Manual: {finding.manual}" in flat
    order = [flat.index(word) for word in ("What to do:", "Verify:", "Escalate:", "Manual:")]
    assert order == sorted(order)
    assert "\x1b[" not in result.stdout


def test_every_finding_can_be_explained() -> None:
    for fid, finding in RULEBOOK.findings.items():
        result = invoke("explain", fid)
        assert result.code == 0, fid
        assert result.stdout.startswith(f"{fid}  "), fid
        assert f"Manual: {' '.join(finding.manual.split())}" in " ".join(result.stdout.split())


def test_an_id_in_any_case_and_several_ids() -> None:
    result = invoke("explain", "usb-dark-01", "Clu-Pwr-01")
    assert result.code == 0
    assert result.stdout.startswith("USB-DARK-01  ")
    assert "\n\nCLU-PWR-01  The CLU has no power\n" in result.stdout


def test_a_mistyped_id_suggests_the_nearest_in_one_line_exit_3() -> None:
    line = one_line_error(invoke("explain", "BUS-BRAEK-01"), "no finding named BUS-BRAEK-01")
    assert "did you mean 'BUS-BREAK-01' or 'BUS-BREAK-02'?" in line
    assert "clu-doctor rules list" in line
    one_line_error(invoke("explain", "nonsense"), "no finding named nonsense")


def test_explain_as_json_and_markdown() -> None:
    document = invoke("explain", "BUS-DUP-01", "--json").json()
    assert document["schema"] == "clu-doctor/explain"
    (finding,) = document["findings"]
    assert finding["id"] == "BUS-DUP-01"
    assert finding["area"] == "Configuration"
    assert finding["remedy"] == list(RULEBOOK.findings["BUS-DUP-01"].remedy)
    markdown = invoke("explain", "BUS-DUP-01", "--format", "markdown")
    assert markdown.stdout.startswith("#### `BUS-DUP-01` ")


def test_rules_show_takes_finding_ids_as_well_as_trees() -> None:
    assert (
        invoke("rules", "show", "bus-break-01").stdout == invoke("explain", "BUS-BREAK-01").stdout
    )
    both = invoke("rules", "show", "usb-leds", "CLU-PWR-01")
    assert both.code == 0
    assert "ask usb.red_led" in both.stdout and "CLU-PWR-01  The CLU has no power" in both.stdout
    one_line_error(
        invoke("rules", "show", "BUS-BRAEK-01"), "did you mean 'BUS-BREAK-01' or 'BUS-BREAK-02'?"
    )


def test_the_help_names_explain_with_examples() -> None:
    assert "explain" in invoke("--help").stdout
    result = invoke("explain", "--help")
    assert result.code == 0
    assert "clu-doctor explain BUS-BREAK-01" in result.stdout
