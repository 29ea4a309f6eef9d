"""The layout as a technician meets it: every bundled scenario and a set of LED answers run
through the real command line (in-process, the simulator on the virtual clock)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from clu_doctor.engine import load_rulebook
from clu_doctor.report.layout import AREAS
from clu_doctor.sim.scenario_reader import list_scenarios
from tests.commands.helpers import check, invoke

SCENARIOS = [name for name, _ in list_scenarios()]
LED_ANSWERS = {
    "nothing": (),
    "no-power": ("clu.power_led=off", "clu.status_led=off"),
    "booting": ("clu.power_led=steady", "clu.status_led=flashing", "usb.red_led=off",
                "usb.green_led=off", "clu.uptime_s=60"),
    "no-answers": ("clu.power_led=steady", "clu.status_led=flashing", "usb.red_led=flashing",
                   "usb.green_led=off", "clu.uptime_s=10m"),
    "all-fine": ("clu.power_led=steady", "clu.status_led=flashing", "usb.red_led=flashing",
                 "usb.green_led=flashing", "charging.starts=yes",
                 "cloud.heartbeat_timeout=no", "cloud.meter_data_missing=no"),
}  # fmt: skip
RUNS = [("--sim", name) for name in SCENARIOS] + [
    tuple(arg for answer in answers for arg in ("-o", answer)) for answers in LED_ANSWERS.values()
]
IDS = SCENARIOS + [f"led-{name}" for name in LED_ANSWERS]

#: Words a person should never have to read in the default text: the vocabulary's keys and
#: the probes' names (the question's words or a plain name are shown instead).
RULEBOOK = load_rulebook()
INTERNAL = sorted({*RULEBOOK.vocabulary.specs, *RULEBOOK.vocabulary.probes})
STATISTICS = re.compile(r"\d\.\de-\d+")


@pytest.mark.parametrize("args", RUNS, ids=IDS)
def test_default_text_reads_summary_first_problems_first_in_plain_words(
    args: tuple[str, ...],
) -> None:
    text = invoke("diagnose", *args, "--no-input")
    document = invoke("diagnose", *args, "--no-input", "--json")
    assert text.code == document.code == document.json()["exit_code"]
    lines = text.stdout.splitlines()

    # one summary line per area, each area once
    assert lines[0] == "Summary"
    marks = [line for line in lines[1 : len(AREAS) * 3] if re.match(r"^  \S  \S", line)]
    names = [line[5:].split("  ")[0] for line in marks]
    assert len(names) == len(set(names))
    assert {a.name for a in AREAS if a.always} <= set(names) <= {a.name for a in AREAS}

    # the first thing to do is the first step of the first problem, as the JSON says
    first = document.json()["first_step"]
    flat = " ".join(text.stdout.split())
    if first is None:
        assert "Nothing to do:" in text.stdout
    else:
        assert f"First: {first['step']}" in flat

    # problems before what was fine, in the JSON's order
    problems = [
        f["id"] for f in document.json()["findings"] if f["severity"] in ("critical", "warning")
    ]
    positions = [text.stdout.index(f"  {fid}\n") for fid in problems]
    assert positions == sorted(positions)
    if "Checked and fine:" in text.stdout and problems:
        assert positions[-1] < text.stdout.index("Checked and fine:")

    # numbered steps before the evidence; at most three evidence lines each
    for block in text.stdout.split("What to do:")[1:]:
        seen = block.split("Seen:")
        if len(seen) > 1:
            items = re.findall(r"^      - ", seen[1].split("Verify:")[0], flags=re.M)
            assert len(items) <= 3
            assert "1. " in seen[0]

    # no internal keys, no test statistics, no simulator hint
    for word in INTERNAL:
        assert not re.search(rf"(?<![\w.-]){re.escape(word)}(?![\w])", text.stdout), word
    assert not STATISTICS.search(text.stdout)
    assert "--sim" not in text.stdout


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_nagios_and_check_text_name_the_first_step_of_each_problem_and_list_problems_first(
    scenario: str, tmp_path: Path
) -> None:
    nagios = check(tmp_path, "--sim", scenario, "--format", "nagios")
    document = check(tmp_path, "--sim", scenario, "--format", "json")
    if not document.json()["completed"]:
        return  # could not check: one line, no findings (tests/commands/test_check.py)
    long_output = nagios.stdout.splitlines()[2:]
    findings = [line for line in long_output if line.startswith("[")]
    severities = [line[1:].split("]")[0] for line in findings]
    fine = [n for n, word in enumerate(severities) if word in ("OK", "INFO")]
    bad = [n for n, word in enumerate(severities) if word in ("CRITICAL", "WARNING")]
    assert not fine or not bad or max(bad) < min(fine), nagios.stdout
    for root in document.json()["findings"]:
        if root["severity"] in ("critical", "warning"):
            step = " ".join(root["remedy"][0].split()).replace("|", "/")
            assert f"    first step: {step}" in nagios.stdout
    text = check(tmp_path, "--sim", scenario)
    for root in document.json()["findings"]:
        if root["severity"] in ("critical", "warning"):
            assert f"first step: {' '.join(root['remedy'][0].split())}" in text.stdout


def test_verbose_and_why_show_the_evidence_the_default_leaves_out() -> None:
    short = invoke("diagnose", "--sim", "cable-break", "--no-input")
    why = invoke("diagnose", "--sim", "cable-break", "--no-input", "--why")
    verbose = invoke("diagnose", "--sim", "cable-break", "--no-input", "-v")
    assert "(2 more lines: --why, -v or --json)" in short.stdout
    assert "addresses 7-12, each: 14 polls (7 retries), no answer" in short.stdout
    assert "every polled station up to XAXXY06 answers" not in short.stdout
    assert "every polled station up to XAXXY06 answers" in why.stdout
    assert "Why: the answers that led here" in why.stdout
    # verbose: as the probes wrote it, one line per address
    assert "address 12: 14 polls (7 retries), no answer" in verbose.stdout
    assert "Why:" not in verbose.stdout
    assert short.code == why.code == verbose.code == 2
