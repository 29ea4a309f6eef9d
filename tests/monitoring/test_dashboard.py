"""The Grafana dashboard shipped in monitoring/: it loads, it asks only for metrics clu-doctor
writes, every panel follows the site and data-source variables, and no two panels overlap.
(tests/live/test_alert_rules.py has Prometheus's own parser read every query.)"""

from __future__ import annotations

import json
import re
from typing import Any

from clu_doctor.report.prometheus import METRICS
from clu_doctor.resources import monitoring_dir

DASHBOARD: dict[str, Any] = json.loads(
    (monitoring_dir() / "grafana-dashboard.json").read_text(encoding="utf-8")
)


def queries() -> list[str]:
    return [t["expr"] for panel in DASHBOARD["panels"] for t in panel["targets"]]


def test_the_dashboard_has_a_title_a_uid_and_its_variables() -> None:
    assert DASHBOARD["uid"] == "clu-doctor-sites"
    variables = {v["name"]: v for v in DASHBOARD["templating"]["list"]}
    assert variables["datasource"]["query"] == "prometheus"
    assert variables["site"]["definition"] == "label_values(clu_doctor_check_status, site)"
    assert variables["site"]["includeAll"] and variables["site"]["multi"]


def test_every_query_uses_metrics_clu_doctor_writes_for_the_chosen_sites() -> None:
    assert len(queries()) >= 8
    for expr in queries():
        names = re.findall(r"\b(clu_doctor_[a-z_]+)\b", expr)
        assert names and set(names) <= set(METRICS), expr
        assert 'site=~"$site"' in expr, expr
    shown = {n for expr in queries() for n in re.findall(r"\b(clu_doctor_[a-z_]+)\b", expr)}
    assert {
        "clu_doctor_check_status",
        "clu_doctor_last_success_timestamp_seconds",
        "clu_doctor_station_up",
        "clu_doctor_finding",
    } <= shown


def test_every_panel_reads_the_chosen_data_source() -> None:
    for panel in DASHBOARD["panels"]:
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert all(t["datasource"]["uid"] == "${datasource}" for t in panel["targets"])
        assert panel["description"], panel["title"]


def test_panels_have_their_own_ids_and_places() -> None:
    panels = DASHBOARD["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    cells: set[tuple[int, int]] = set()
    for panel in panels:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        mine = {
            (x, y)
            for x in range(grid["x"], grid["x"] + grid["w"])
            for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not mine & cells, f"{panel['title']} overlaps another panel"
        cells |= mine
