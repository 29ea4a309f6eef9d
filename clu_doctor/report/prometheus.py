"""A check result as Prometheus metrics, in the text exposition format (version 0.0.4), for
node_exporter's textfile collector (written with :func:`clu_doctor.monitoring.textfile.write_atomic`).

Every metric is a **gauge** and describes the last check of the site: a check listens for tens
of seconds every few minutes, so its counts (polls, answers, corrupt answers) are samples of
that window, not ever-growing totals. Making them counters would mean carrying totals across
runs in the history, which resets when the history is pruned or moved, and ``rate()`` over a
series that changes once per check says no more than the gauge itself. So the names carry no
``_total``; graph them as they are, or ``avg_over_time`` them.

Labels: ``site`` (the site's name from site.yaml) on every metric; per station also
``address`` (1..16) and ``label`` (the outlet label, ``""`` if the plan has none); findings
``id`` and ``severity``. Label values are escaped per the format (``\\``, ``"``, line feed).

:data:`METRICS` is the reference (name, help); docs/monitoring.md lists the same.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

from clu_doctor.monitoring.history import parse_time
from clu_doctor.monitoring.result import CheckResult
from clu_doctor.severity import Severity

#: Every metric this module writes: name -> help text. All are gauges.
METRICS: dict[str, str] = {
    "clu_doctor_check_status": (
        "Status of the last check of the site: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN "
        "(the exit code)."
    ),
    "clu_doctor_check_completed": (
        "1 if the last check ran, 0 if it could not check (no port, port busy, invalid site "
        "file, timeout before any frame)."
    ),
    "clu_doctor_check_duration_seconds": "How long the last check took.",
    "clu_doctor_check_timestamp_seconds": "When the last check started (Unix time).",
    "clu_doctor_last_success_timestamp_seconds": (
        "When the last check that completed, whatever its status, ended (Unix time); 0 if "
        "none ever did. Alert on time() minus this to catch a check that stopped running."
    ),
    "clu_doctor_stations_expected": "Stations (outlet addresses) the site plan expects.",
    "clu_doctor_stations_answering": "Expected stations that answered in the last check.",
    "clu_doctor_duplicate_addresses": "Addresses with two devices on them in the last check.",
    "clu_doctor_address_duplicated": "1 for each address with two devices on it.",
    "clu_doctor_corrupt_answer_ratio": (
        "Corrupt answers over polls on the whole bus during the last check (0..1); absent when "
        "nothing was polled."
    ),
    "clu_doctor_station_up": "1 if the station answered in the last check, else 0.",
    "clu_doctor_station_expected": "1 if the site plan has the station, 0 if it answered unplanned.",
    "clu_doctor_station_polls": "Polls of the station seen during the last check.",
    "clu_doctor_station_answers": "Valid answers from the station during the last check.",
    "clu_doctor_station_corrupt_answers": "Corrupt answers from the station during the last check.",
    "clu_doctor_station_timeouts": "Polls the station left unanswered during the last check.",
    "clu_doctor_station_response_seconds": "Median response time of the station in the last check.",
    "clu_doctor_station_state": "1 for the state code the station last reported (label state).",
    "clu_doctor_finding": "1 for each finding of the last check (labels id and severity).",
    "clu_doctor_findings": "Findings of the last check by severity.",
    "clu_doctor_findings_ignored": "Findings left out of the status by ignore entries of site.yaml.",
    "clu_doctor_ignores_expired": "Findings counted again because their ignore entry expired.",
}

Labels = Mapping[str, str]
Sample = tuple[Labels, float]


def escape_label_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def format_value(value: float) -> str:
    """Integers without a decimal point; ``NaN``, ``+Inf``, ``-Inf`` as the format spells them."""
    if isinstance(value, bool):
        return str(int(value))
    number = float(value)
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "+Inf" if number > 0 else "-Inf"
    if number.is_integer() and abs(number) < 2**53:
        return str(int(number))
    return repr(number)


def _labels(labels: Labels) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{key}="{escape_label_value(value)}"' for key, value in labels.items())
    return "{" + inner + "}"


def _family(name: str, samples: Iterable[Sample]) -> list[str]:
    lines = [f"# HELP {name} {escape_help(METRICS[name])}", f"# TYPE {name} gauge"]
    lines += [f"{name}{_labels(labels)} {format_value(value)}" for labels, value in samples]
    return lines


def _render(families: Sequence[tuple[str, Iterable[Sample]]], comments: Sequence[str] = ()) -> str:
    lines = [f"# {' '.join(comment.split())}" for comment in comments]
    for name, samples in families:
        listed = list(samples)
        if listed:  # a family without samples is left out, HELP and TYPE too
            lines += _family(name, listed)
    return "\n".join(lines) + "\n"


def _started_s(started: str | None) -> float | None:
    if not started:
        return None
    try:
        return parse_time(started).timestamp()
    except ValueError:
        return None


def render_prometheus(result: CheckResult, *, last_success: float | None = None) -> str:
    """The metrics of a check that ran. ``last_success`` defaults to this check's end."""
    site = {"site": result.site}
    started_s = _started_s(result.started)
    if last_success is None and started_s is not None:
        last_success = started_s + result.duration_s
    stations = sorted(result.stations, key=lambda s: s.address)

    def per_station(values: Iterable[tuple[int, str | None, float]]) -> list[Sample]:
        return [
            ({**site, "address": str(address), "label": label or ""}, value)
            for address, label, value in values
        ]

    labels_of = {s.address: s.label for s in stations}
    all_findings = result.diagnosis.all_findings()
    families: list[tuple[str, Iterable[Sample]]] = [
        ("clu_doctor_check_status", [(site, result.exit_code)]),
        ("clu_doctor_check_completed", [(site, 1)]),
        ("clu_doctor_check_duration_seconds", [(site, result.duration_s)]),
        (
            "clu_doctor_check_timestamp_seconds",
            [(site, started_s)] if started_s is not None else [],
        ),
        ("clu_doctor_last_success_timestamp_seconds", [(site, last_success or 0)]),
        ("clu_doctor_stations_expected", [(site, result.stations_expected)]),
        ("clu_doctor_stations_answering", [(site, result.stations_answering)]),
        ("clu_doctor_duplicate_addresses", [(site, len(result.duplicates))]),
        (
            "clu_doctor_address_duplicated",
            per_station((a, labels_of.get(a), 1) for a in sorted(result.duplicates)),
        ),
        (
            "clu_doctor_corrupt_answer_ratio",
            [(site, result.corrupt_rate)] if result.corrupt_rate is not None else [],
        ),
        (
            "clu_doctor_station_up",
            # no sample for a station the listen could not judge: unknown, not down
            per_station((s.address, s.label, s.answering) for s in stations if s.judged),
        ),
        (
            "clu_doctor_station_expected",
            per_station((s.address, s.label, s.expected) for s in stations),
        ),
        ("clu_doctor_station_polls", per_station((s.address, s.label, s.polls) for s in stations)),
        (
            "clu_doctor_station_answers",
            per_station((s.address, s.label, s.answers) for s in stations),
        ),
        (
            "clu_doctor_station_corrupt_answers",
            per_station((s.address, s.label, s.corrupt) for s in stations),
        ),
        (
            "clu_doctor_station_timeouts",
            per_station((s.address, s.label, s.timeouts) for s in stations),
        ),
        (
            "clu_doctor_station_response_seconds",
            per_station(
                (s.address, s.label, s.response_s) for s in stations if s.response_s is not None
            ),
        ),
        (
            "clu_doctor_station_state",
            [
                ({**site, "address": str(s.address), "label": s.label or "", "state": s.state}, 1)
                for s in stations
                if s.state
            ],
        ),
        (
            "clu_doctor_finding",
            [
                ({**site, "id": item.id, "severity": item.severity.value}, 1)
                for item in all_findings
            ],
        ),
        (
            "clu_doctor_findings",
            [
                (
                    {**site, "severity": severity.value},
                    sum(1 for item in all_findings if item.severity is severity),
                )
                for severity in Severity
            ],
        ),
        (
            "clu_doctor_findings_ignored",
            [(site, sum(1 for note in result.ignored if not note.expired))],
        ),
        ("clu_doctor_ignores_expired", [(site, sum(1 for note in result.ignored if note.expired))]),
    ]
    return _render(families)


def render_prometheus_unknown(
    site: str | None,
    message: str,
    duration_s: float | None = None,
    *,
    last_success: float | None,
    started: str | None = None,
    status: Severity = Severity.UNKNOWN,
) -> str:
    """The metrics when the check could not check: status 3 (2 for a silent bus that lasted
    until it is critical), completed 0, and the last success from the history (0 if none), so
    ``time() - last_success`` keeps growing.

    The reason goes into a comment line (the format ignores it; a person reading the file
    sees it). Per-station metrics are left out: nothing was heard.
    """
    labels = {"site": site or ""}
    started_s = _started_s(started)
    families: list[tuple[str, Iterable[Sample]]] = [
        ("clu_doctor_check_status", [(labels, int(status.exit_code))]),
        ("clu_doctor_check_completed", [(labels, 0)]),
        (
            "clu_doctor_check_duration_seconds",
            [(labels, duration_s)] if duration_s is not None else [],
        ),
        (
            "clu_doctor_check_timestamp_seconds",
            [(labels, started_s)] if started_s is not None else [],
        ),
        ("clu_doctor_last_success_timestamp_seconds", [(labels, last_success or 0)]),
    ]
    said = "could not check" if status is Severity.UNKNOWN else status.value
    return _render(families, [f"clu-doctor {said}: {message}"])
