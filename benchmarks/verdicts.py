#!/usr/bin/env python3
"""Recall and false alarms of the bus verdicts over many seeds, under noise and collisions.

Sites of eight stations on ABL-style Modbus ASCII at 38400 8E1 (none of them bundled; written
to a temporary directory), each run with seeds 1..N on the virtual clock:

* **duplicate**: a ninth controller left at address 5, at three turnaround spreads whose
  answers overlap with the rightful one's ((3 +/- 1, 3 +/- 1), (3 +/- 1, 6 +/- 3),
  (3 +/- 1, 10 +/- 6) ms): *recall* = runs that name 5 a duplicate (suspected or confirmed);
  runs that call 5 silent are counted too.
* **healthy**: the same bus without the duplicate: *false duplicates* = runs that name any
  address a duplicate; false silences likewise.
* **dead**: station 4 without power: *recall* = runs that call exactly 4 silent.

Each at an ambient character error rate of 0, 1e-4 and 1e-3 (``bus.extra_byte_error``), in
two modes: **listen** (the CLU polls; a 15 s listen, verdicts of bus/listen/verdicts.py) and
**scan** (the CLU off the bus; the scan of 1-8 with the site's addresses expected, then the
duplicate check of what it found, 12 reads each). Targets: recall >= 99 % of duplicates at
every spread and noise level up to 1e-3, no false duplicate on the healthy bus.

Usage: python benchmarks/verdicts.py [--seeds N] [--jobs J]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from clu_doctor.bus.chain import Chain
from clu_doctor.bus.link import Link
from clu_doctor.bus.listen.analyser import TrafficAnalyser
from clu_doctor.bus.listen.verdicts import derive_verdicts
from clu_doctor.bus.probes.duplicates import find_duplicates
from clu_doctor.bus.probes.scan import scan
from clu_doctor.bus.profile import load_profile
from clu_doctor.clock import VirtualClock, use
from clu_doctor.sim import register_url_handler
from clu_doctor.sim.scenario_reader import load_scenario
from clu_doctor.sim.simulator import SimSite

PROFILE = load_profile("defa-erange")
LISTEN_S = 15.0
SPREADS = (((3, 1), (3, 1)), ((3, 1), (6, 3)), ((3, 1), (10, 6)))
NOISE = (0.0, 1e-4, 1e-3)
STATIONS = 8
DUPLICATE, DEAD = 5, 4
TARGET = 0.99


@dataclass(frozen=True)
class Site:
    kind: str  # duplicate | healthy | dead
    noise: float
    spread: tuple[tuple[float, float], tuple[float, float]] | None = None

    @property
    def label(self) -> str:
        if self.spread is None:
            return self.kind
        (a, b), (c, d) = self.spread
        return f"{self.kind} {a:g}+-{b:g} / {c:g}+-{d:g} ms"

    def text(self, clu: bool) -> str:
        lines = [
            "description: verdict benchmark site",
            "bus: {framing: ascii, line: 38400 8E1, cable_m: 60, termination: both, "
            f"extra_byte_error: {self.noise}}}",
            "clu: {present: " + ("true" if clu else "false") + "}",
            "defaults: {model: eRange UNO, type: 2W22M1, turnaround_ms: 3, jitter_ms: 1}",
            "stations:",
        ]
        for address in range(1, STATIONS + 1):
            extra = ""
            if self.spread is not None and address == DUPLICATE:
                extra = f", turnaround_ms: {self.spread[0][0]}, jitter_ms: {self.spread[0][1]}"
            if self.kind == "dead" and address == DEAD:
                extra += ", powered: false"
            lines.append(f"  - {{label: S{address:02d}, address: {address}{extra}}}")
        if self.spread is not None:
            turnaround, jitter = self.spread[1]
            lines.append(
                f"  - {{label: S{STATIONS + 1:02d}, address: {DUPLICATE}, serial: AB000009, "
                f"turnaround_ms: {turnaround}, jitter_ms: {jitter}}}"
            )
        return "\n".join(lines) + "\n"


def listen_run(path: str, seed: int) -> tuple[set[int], set[int]]:
    """(duplicate addresses, silent addresses) of a listen while the CLU polls."""
    clock = VirtualClock()
    scenario = load_scenario(path)
    site = SimSite(scenario, seed=seed, clock=clock)
    analyser = TrafficAnalyser("ascii", scenario.bus.settings, PROFILE)
    analyser.start(0.0)
    step = 0.005
    for tick in range(1, round(LISTEN_S / step) + 1):
        now = clock.advance_to(round(tick * step, 6))
        data = site.adapter_read(now)
        if data:
            analyser.feed(now, data)
        else:
            analyser.advance(now)
    verdicts = derive_verdicts(analyser.finish(clock.now()), chain=Chain.of(range(1, 9)))
    found = {v.key: set(v.addresses) for v in verdicts}
    return found.get("bus.duplicate_address", set()), found.get("bus.silent_addresses", set())


def scan_run(path: str, seed: int) -> tuple[set[int], set[int]]:
    """(duplicate addresses, silent addresses) of a scan and the duplicate check after it."""
    register_url_handler()
    with (
        use(VirtualClock()),
        Link.open(f"sim://{path}?seed={seed}", PROFILE.line, PROFILE.framing) as link,
    ):
        scanned = scan(link, PROFILE, range(1, 9), expected=range(1, 9), listen_s=0.2)
        checked = find_duplicates(link, PROFILE, scanned.present, reads=12, lbt=scanned.lbt)
    return set(checked.duplicates), set(scanned.silent)


def one(job: tuple[str, str, int]) -> tuple[set[int], set[int]]:
    mode, path, seed = job
    return (listen_run if mode == "listen" else scan_run)(path, seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seeds", type=int, default=100, help="seeds per site (default 100)")
    parser.add_argument("--jobs", type=int, default=2, help="processes (default 2)")
    args = parser.parse_args()
    sites = [Site("duplicate", noise, spread) for spread in SPREADS for noise in NOISE]
    sites += [Site("healthy", noise) for noise in NOISE]
    sites += [Site("dead", noise) for noise in NOISE]
    print(f"{args.seeds} seeds per line; target: duplicate recall >= {TARGET:.0%}, no false one")
    header = f"{'mode':<7} {'site':<28} {'noise':>6}  {'result':<44}"
    print(header)
    print("-" * len(header))
    ok = True
    with tempfile.TemporaryDirectory() as folder, ProcessPoolExecutor(args.jobs) as pool:
        for mode in ("listen", "scan"):
            for site in sites:
                path = Path(folder) / f"{mode}-{len(list(Path(folder).iterdir()))}.yaml"
                path.write_text(site.text(clu=mode == "listen"))
                jobs = [(mode, str(path), seed) for seed in range(1, args.seeds + 1)]
                tally: Counter[str] = Counter()
                for duplicates, silent in pool.map(one, jobs):
                    tally["duplicate"] += duplicates == {DUPLICATE}
                    tally["false duplicate"] += bool(duplicates - {DUPLICATE})
                    tally["5 silent"] += DUPLICATE in silent
                    tally["dead silent"] += silent == {DEAD}
                    tally["false silent"] += bool(silent - {DEAD})
                n = args.seeds
                if site.kind == "duplicate":
                    recall = tally["duplicate"] / n
                    text = f"recall {recall:6.1%}, called silent {tally['5 silent']}"
                    ok &= recall >= TARGET and not tally["false duplicate"]
                elif site.kind == "healthy":
                    text = (
                        f"false duplicates {tally['false duplicate']}, "
                        f"false silences {tally['false silent']}"
                    )
                    ok &= not tally["false duplicate"]
                else:
                    recall = tally["dead silent"] / n
                    text = (
                        f"silent recall {recall:6.1%}, false duplicates {tally['false duplicate']}"
                    )
                print(f"{mode:<7} {site.label:<28} {site.noise:>6g}  {text:<44}", flush=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
