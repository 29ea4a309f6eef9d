"""The shipped Prometheus alert rules (monitoring/alerts.yml), judged by Prometheus's own tool.

``promtool check rules`` validates them; ``promtool test rules`` runs them over series made from
real ``clu-doctor check --format prometheus`` runs of simulated sites: a critical site's status
must fire CluSiteCritical only after its ``for``, a site whose checks stop completing must fire
CluCheckNotRunning once its last success is stale, and a metrics file that stops changing fires
CluMetricsFileStale. promtool's clock starts at 0, so the runs' timestamps are taken relative to
the first run's start.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from clu_doctor.clock import VirtualClock, use
from clu_doctor.resources import monitoring_dir
from clu_doctor.yamlio import load_yaml_file
from tests.commands.helpers import check, metrics, site_file
from tests.peers import peer

pytestmark = pytest.mark.peer

ALERTS = monitoring_dir() / "alerts.yml"
SITE = "Garage 8"


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [peer("promtool"), *args], capture_output=True, text=True, timeout=60, check=False
    )


def humanize_duration(seconds: float) -> str:
    """Prometheus's humanizeDuration, for the whole seconds of a value under a day."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes}m {secs}s"
    if minutes:
        return f"{minutes}m {secs}s"
    return f"{secs}s"


def quoted(labels: dict[str, str]) -> str:
    return ",".join(f'{key}="{value}"' for key, value in labels.items())


@pytest.fixture
def runs(tmp_path: Path) -> dict[str, dict[str, float]]:
    """Three real checks of one site, in-process on a virtual clock: critical (a silent
    station), then two that cannot check (the port is gone); each one's metrics file."""
    textfiles = tmp_path / "textfiles"
    textfiles.mkdir()
    site = site_file(tmp_path, SITE, 8)
    written = textfiles / "clu_doctor_garage_8.prom"
    found: dict[str, dict[str, float]] = {}
    with use(VirtualClock()):
        for name, where in (
            ("critical", ["--sim", "unpowered-station", "--listen-seconds", "12"]),
            ("gone", ["--port", str(tmp_path / "ttyUSB-unplugged")]),
        ):
            result = check(
                tmp_path,
                *("--site", str(site), *where, "--format", "prometheus"),
                *("--textfile-dir", str(textfiles)),
            )
            assert result.stdout == written.read_text(encoding="utf-8")
            found[name] = metrics(result.stdout)
            found[name]["mtime"] = os.stat(written).st_mtime
    return found


def test_the_rules_are_valid() -> None:
    result = promtool("check", "rules", str(ALERTS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 4 rules found" in result.stdout


def test_the_rules_fire_on_real_check_metrics(
    runs: dict[str, dict[str, float]], tmp_path: Path
) -> None:
    site = {"site": SITE}
    key = f"{{site={SITE}}}"
    critical, gone = runs["critical"], runs["gone"]
    assert (critical[f"clu_doctor_check_status{key}"], gone[f"clu_doctor_check_status{key}"]) == (
        2,
        3,
    )
    start = critical[f"clu_doctor_check_timestamp_seconds{key}"]
    # The last success, relative to the first run's start; the failed run keeps it (history).
    success = critical[f"clu_doctor_last_success_timestamp_seconds{key}"] - start
    assert gone[f"clu_doctor_last_success_timestamp_seconds{key}"] - start == success
    file_label = {"file": "/var/lib/node_exporter/textfile_collector/clu_doctor_garage_8.prom"}
    file_label["instance"] = "gw-solsiden:9100"
    mtime = runs["gone"]["mtime"] - start

    def annotations_critical() -> dict[str, str]:
        return {
            "summary": f"CLU site {SITE} is CRITICAL",
            "description": (
                f"clu-doctor found a critical fault at {SITE} in two checks in a row; see "
                f'clu_doctor_finding{{site="{SITE}"}} for the findings, and \'clu-doctor '
                "history' on the gateway for since when."
            ),
        }

    def annotations_not_running(at_s: float) -> dict[str, str]:
        return {
            "summary": f"no completed clu-doctor check of {SITE} for 30 minutes",
            "description": (
                f"The last check of {SITE} that completed ended "
                f"{humanize_duration(at_s - success)} ago. On the gateway: systemctl status "
                "clu-doctor-check.timer, journalctl -u clu-doctor-check.service."
            ),
        }

    status = int(critical[f"clu_doctor_check_status{key}"])
    unknown = int(gone[f"clu_doctor_check_status{key}"])
    tests: list[dict[str, Any]] = [
        {  # the critical file, read every minute: two checks' worth before it pages
            "interval": "1m",
            "input_series": [
                {"series": f"clu_doctor_check_status{{{quoted(site)}}}", "values": f"{status}x40"}
            ],
            "alert_rule_test": [
                {"eval_time": "15m", "alertname": "CluSiteCritical", "exp_alerts": []},
                {
                    "eval_time": "17m",
                    "alertname": "CluSiteCritical",
                    "exp_alerts": [
                        {
                            "exp_labels": {"severity": "page", **site},
                            "exp_annotations": annotations_critical(),
                        }
                    ],
                },
                {"eval_time": "17m", "alertname": "CluCheckNotRunning", "exp_alerts": []},
            ],
        },
        {  # a check that completed at 0, then checks that cannot check: the success goes stale
            "interval": "1m",
            "input_series": [
                {
                    "series": f"clu_doctor_check_status{{{quoted(site)}}}",
                    "values": f"{status}x14 {unknown}x46",
                },
                {
                    "series": f"clu_doctor_last_success_timestamp_seconds{{{quoted(site)}}}",
                    "values": f"{success!r}x60",
                },
                {  # the file is rewritten by every check, failed or not, until 45 min ago
                    "series": f"node_textfile_mtime_seconds{{{quoted(file_label)}}}",
                    "values": f"{mtime!r}x60",
                },
            ],
            "alert_rule_test": [
                {"eval_time": "34m", "alertname": "CluCheckNotRunning", "exp_alerts": []},
                {
                    "eval_time": "37m",
                    "alertname": "CluCheckNotRunning",
                    "exp_alerts": [
                        {
                            "exp_labels": {"severity": "ticket", **site},
                            "exp_annotations": annotations_not_running(37 * 60),
                        }
                    ],
                },
                {"eval_time": "37m", "alertname": "CluSiteCritical", "exp_alerts": []},
                {"eval_time": "49m", "alertname": "CluMetricsFileStale", "exp_alerts": []},
                {
                    "eval_time": "52m",
                    "alertname": "CluMetricsFileStale",
                    "exp_alerts": [{"exp_labels": {"severity": "ticket", **file_label}}],
                },
            ],
        },
    ]
    # The stale-file alert's annotations name the file and the instance: checked as promtool
    # renders them, so they are left to its own comparison below.
    stale = tests[1]["alert_rule_test"][-1]["exp_alerts"][0]
    stale["exp_annotations"] = {
        "summary": (
            f"{file_label['file']} on {file_label['instance']} has not changed for 45 minutes"
        ),
        "description": (
            "clu-doctor check writes this file every run, even when it cannot check; a file "
            "that stops changing means the check no longer runs on that gateway."
        ),
    }
    document = {"rule_files": [str(ALERTS)], "evaluation_interval": "1m", "tests": tests}
    test_file = tmp_path / "alerts.test.yml"
    test_file.write_text(json.dumps(document, indent=2), encoding="utf-8")  # JSON is YAML
    result = promtool("test", "rules", str(test_file))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_the_rules_name_only_metrics_clu_doctor_writes() -> None:
    from clu_doctor.report.prometheus import METRICS

    rules = load_yaml_file(ALERTS)["groups"][0]["rules"]
    for rule in rules:
        for name in re.findall(r"\b(clu_doctor_[a-z_]+)\b", rule["expr"]):
            assert name in METRICS, (rule["alert"], name)


def test_every_dashboard_query_is_valid_promql(tmp_path: Path) -> None:
    """Prometheus's own parser reads each query of the Grafana dashboard (as a recording rule,
    with the dashboard's variables given values)."""
    dashboard = json.loads((monitoring_dir() / "grafana-dashboard.json").read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    rules = [
        {"record": f"clu_doctor:dashboard_query_{index}", "expr": expr.replace("$site", ".*")}
        for index, expr in enumerate(exprs)
    ]
    rule_file = tmp_path / "dashboard-queries.yml"
    rule_file.write_text(json.dumps({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = promtool("check", "rules", str(rule_file))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(exprs)} rules found" in result.stdout
