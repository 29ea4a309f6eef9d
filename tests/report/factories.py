"""Fixed check results for the renderers' tests: built in code, with fixed times, no port."""

from __future__ import annotations

from collections.abc import Sequence

from clu_doctor.engine import Diagnosis, Finding, Layer, ReportedFinding, Severity
from clu_doctor.engine.diagnosis import overall_status
from clu_doctor.monitoring.result import CheckResult, IgnoredFinding, StationHealth

STARTED = "2026-11-25T03:15:00Z"
#: 2026-11-25T03:15:00Z as seconds since the epoch.
STARTED_S = 1795576500.0


def finding(
    fid: str,
    severity: Severity = Severity.OK,
    title: str | None = None,
    layer: Layer = Layer.BUS,
    remedy: Sequence[str] = (),
) -> Finding:
    return Finding(
        id=fid,
        tree="test",
        severity=severity,
        layer=layer,
        title=title or f"Title of {fid}",
        cause=f"Cause of {fid}.",
        remedy=tuple(remedy) or (f"Fix {fid}.",),
        manual="CLU MK1 manual §9",
    )


def reported(
    fid: str,
    severity: Severity = Severity.OK,
    title: str | None = None,
    *,
    evidence: Sequence[str] = (),
    consequences: Sequence[ReportedFinding] = (),
    consequence_of: str | None = None,
    layer: Layer = Layer.BUS,
    remedy: Sequence[str] = (),
) -> ReportedFinding:
    children = tuple(child._replace(consequence_of=fid) for child in consequences)
    return ReportedFinding(
        finding=finding(fid, severity, title, layer, remedy),
        reached_by=("test",),
        consequences=children,
        consequence_of=consequence_of,
        evidence=tuple(evidence),
    )


def diagnosis(*roots: ReportedFinding) -> Diagnosis:
    severities = [item.severity for root in roots for item in root.walk()]
    return Diagnosis(overall_status(severities), tuple(roots), (), ())


def stations(
    count: int = 16,
    *,
    silent: Sequence[int] = (),
    corrupt: dict[int, int] | None = None,
    states: dict[int, str] | None = None,
) -> tuple[StationHealth, ...]:
    out = []
    for address in range(1, count + 1):
        answering = address not in silent
        polls = 40
        out.append(
            StationHealth(
                address=address,
                label=f"XAXXY{address:02d}",
                answering=answering,
                polls=polls,
                answers=polls - (corrupt or {}).get(address, 0) if answering else 0,
                corrupt=(corrupt or {}).get(address, 0),
                timeouts=0 if answering else polls,
                state=(states or {}).get(address, "A1") if answering else None,
                response_s=0.012 if answering else None,
            )
        )
    return tuple(out)


def healthy(site: str = "Solsiden garage B") -> CheckResult:
    return CheckResult(
        site=site,
        started=STARTED,
        duration_s=21.5,
        mode="listen",
        diagnosis=diagnosis(
            reported("CLU-RUN-01", Severity.OK, "The CLU is polling the bus", layer=Layer.CLU_BOOT),
            reported("BUS-OK-01", Severity.OK, "Every planned station answers"),
        ),
        stations=stations(),
        corrupt_rate=0.0,
    )


def silent_station(site: str = "Solsiden garage B") -> CheckResult:
    """Station 7 silent (critical), with a consequence, evidence and an ignored noise warning."""
    return CheckResult(
        site=site,
        started=STARTED,
        duration_s=32.25,
        mode="listen",
        diagnosis=diagnosis(
            reported("CLU-RUN-01", Severity.OK, "The CLU is polling the bus", layer=Layer.CLU_BOOT),
            reported(
                "BUS-STATION-01",
                Severity.CRITICAL,
                "A planned station does not answer",
                remedy=(
                    "Check that the silent station has power (its breaker and its own display).",
                    "Check the address set in the silent station against its label.",
                ),
                evidence=(
                    "station 7 (XAXXY07): 40 polls, no answer",
                    "station 7 (XAXXY07) answered in every check until 03:00 UTC and has been "
                    "silent since 03:15 UTC (1 check)",
                ),
                consequences=(
                    reported(
                        "STATION-LOST-01",
                        Severity.WARNING,
                        "Charging at the outlet stops when its session ends",
                        layer=Layer.STATION,
                    ),
                ),
            ),
        ),
        stations=stations(silent=(7,), corrupt={3: 1}),
        corrupt_rate=1 / 600,
        ignored=(
            IgnoredFinding(
                "BUS-NOISE-01",
                Severity.WARNING,
                "cable at the ramp is replaced in December",
                "2026-12-31",
                address=9,
                where="/etc/clu-doctor/site.yaml:40",
            ),
        ),
    )


def every_severity(site: str = "Solsiden garage B") -> CheckResult:
    """One root finding of every severity, a duplicate address, and awkward text."""
    roots = [
        reported(
            f"TEST-{severity.name}-01",
            severity,
            f"A {severity.value} finding | with a pipe, 'quotes' = signs",
            evidence=(f"evidence for {severity.value}\nsecond line",),
        )
        for severity in Severity
    ]
    return CheckResult(
        site=site,
        started=STARTED,
        duration_s=9.0,
        mode="scan",
        diagnosis=diagnosis(*roots),
        stations=(
            *stations(4, silent=(2,), states={3: "F4"}),
            StationHealth(
                address=12, label=None, answering=True, expected=False, polls=3, answers=3
            ),
        ),
        duplicates=(4,),
        corrupt_rate=None,
        ignored=(
            IgnoredFinding(
                "BUS-NOISE-01",
                Severity.WARNING,
                "was expected | until the cable was replaced",
                "2026-10-31",
                expired=True,
                where="site.yaml:12",
            ),
        ),
    )


def with_status(result: CheckResult, severity: Severity) -> CheckResult:
    """``result`` with one extra root finding that makes its status ``severity``."""
    import dataclasses

    root = reported(f"TEST-{severity.name}-99", severity, f"Forced {severity.value}")
    return dataclasses.replace(result, diagnosis=diagnosis(root))
