"""Scenario files written for the tests (none of them bundled): a chain of stations with a
duplicate address, a dead station or a DUO with a dead outlet, at any turnaround spread and
noise level, as YAML in the documented format (docs/simulator.md)."""

from __future__ import annotations

from pathlib import Path

#: Where the hand-written scenario files of the tests live.
HERE = Path(__file__).resolve().parent


def chain_site(
    *,
    stations: int = 8,
    duplicate: int | None = None,
    first: tuple[float, float] = (3, 1),
    second: tuple[float, float] = (6, 3),
    dead: tuple[int, ...] = (),
    noise: float = 0.0,
    clu: bool = True,
) -> str:
    """``stations`` single-outlet stations on 1..n, CLU polling (or off the bus). With
    ``duplicate``, a station at the end of the chain was left at that address: its controller
    answers ``second`` (turnaround, jitter in ms) while the rightful one answers ``first``.
    ``dead`` stations have no power; ``noise`` is the ambient per-character error rate."""
    lines = [
        "description: test site",
        "bus: {framing: ascii, line: 38400 8E1, cable_m: 60, termination: both, "
        f"extra_byte_error: {noise}}}",
        "clu: {present: " + ("true" if clu else "false") + "}",
        "defaults: {model: eRange UNO, type: 2W22M1, turnaround_ms: 3, jitter_ms: 1}",
        "stations:",
    ]
    for address in range(1, stations + 1):
        extra = ""
        if address == duplicate:
            extra = f", turnaround_ms: {first[0]}, jitter_ms: {first[1]}"
        if address in dead:
            extra += ", powered: false"
        lines.append(
            f"  - {{label: XAXXY{address:02d}, address: {address}, serial: DF{address:06d}{extra}}}"
        )
    if duplicate is not None:
        label = f"XAXXY{stations + 1:02d}"
        lines.append(
            f"  - {{label: {label}, address: {duplicate}, serial: AB{stations + 1:06d}, "
            f"turnaround_ms: {second[0]}, jitter_ms: {second[1]}}}"
        )
    return "\n".join(lines) + "\n"


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / f"{name}.yaml"
    path.write_text(text)
    return path
