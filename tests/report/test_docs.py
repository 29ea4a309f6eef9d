"""docs/monitoring.md stays true: its examples parse and match the renderers' real output."""

from __future__ import annotations

import re
from pathlib import Path

from clu_doctor.report.prometheus import METRICS
from clu_doctor.resources import monitoring_dir
from clu_doctor.site.model import FlappingThreshold, RateThreshold, SilentThreshold
from clu_doctor.site.reader import parse_site
from clu_doctor.yamlio import load_yaml_text

DOCS = Path(__file__).resolve().parents[2] / "docs" / "monitoring.md"
GOLDEN = Path(__file__).parent / "golden"
TEXT = DOCS.read_text(encoding="utf-8")
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", TEXT, flags=re.S)


def blocks(language: str) -> list[str]:
    return [body for lang, body in BLOCKS if lang == language]


def test_the_docs_describe_every_metric() -> None:
    missing = [name for name in METRICS if f"`{name}`" not in TEXT]
    assert not missing, f"docs/monitoring.md does not describe {missing}"
    documented = set(re.findall(r"`(clu_doctor_[a-z_]+)`", TEXT))
    assert documented <= set(METRICS), documented - set(METRICS)


def test_the_nagios_example_is_real_output() -> None:
    """It is the output of a run of the command above it (tests/test_docs_examples.py runs
    that command and compares)."""
    (example,) = [b for b in blocks("text") if b.startswith("CLU-DOCTOR ")]
    marker = re.search(r"<!-- output of: (.+?) -->\n```text\nCLU-DOCTOR ", TEXT)
    assert marker is not None and "--format nagios" in marker[1]
    assert example.splitlines()[1].startswith("started ")  # the long output follows


def test_the_site_example_parses_with_the_documented_defaults() -> None:
    (example,) = [b for b in blocks("yaml") if b.startswith("# site.yaml")]
    site = parse_site(load_yaml_text(example, "site.yaml"), "site.yaml")
    assert site.thresholds.stations_silent == SilentThreshold()
    assert site.thresholds.corrupt_rate == RateThreshold()
    assert site.thresholds.flapping == FlappingThreshold()
    (entry,) = site.ignores
    assert (entry.finding, entry.address, str(entry.until)) == ("BUS-NOISE-01", 9, "2026-12-31")


def test_the_alert_rules_shown_are_the_shipped_file() -> None:
    """The rules in the guide are monitoring/alerts.yml itself (promtool tests that file:
    tests/live/test_alert_rules.py)."""
    shipped = (monitoring_dir() / "alerts.yml").read_text(encoding="utf-8")
    (rules,) = [b for b in blocks("yaml") if "groups:" in b]
    assert rules == shipped
    document = load_yaml_text(rules, "rules.yaml")
    alerts = {rule["alert"]: rule["expr"] for rule in document["groups"][0]["rules"]}
    assert alerts["CluSiteCritical"] == "clu_doctor_check_status == 2"
    assert alerts["CluCheckNotRunning"] == (
        "time() - clu_doctor_last_success_timestamp_seconds > 1800"
    )


def test_the_commands_use_the_check_formats_and_flags() -> None:
    commands = re.findall(r"clu-doctor check [^\n`]*", TEXT)
    assert commands
    for command in commands:
        for fmt in re.findall(r"--format ([a-z|]+)", command):
            assert fmt in ("nagios", "json", "prometheus"), command
        flags = set(re.findall(r"(--[a-z-]+)", command))
        allowed = {"--site", "--format", "--textfile-dir", "--history-dir", "--timeout", "--sim"}
        assert flags <= allowed, command
