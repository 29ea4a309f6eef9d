#!/usr/bin/env python3
"""How closely the simulator's wire-time emulation matches physics, for one identity read.

Reads one station's identity (0x0050 x8) through :class:`clu_doctor.bus.link.Link` many times
and compares the median wall time of ``link.read_registers`` with the physical bound::

    bound = (request_bytes + reply_bytes) * bits_per_char / baud
            + t3.5                      (RTU only: the station waits for the silence)
            + turnaround                (the station's nominal turnaround, 3 ms here)

    ASCII 38400 8E1: (17 + 43) * 11 / 38400            + 3 ms = 20.19 ms
    RTU    9600 8N1: ( 8 + 21) * 10 /  9600 + 3.65 ms + 3 ms = 36.85 ms

and prints the ratio (target <= 1.1x). The turnaround has a +/- 1 ms uniform jitter, so the
median sits on the nominal value. Two paths are measured: the in-process ``sim://`` URL
handler (no threads, no OS) and a pty served by a separate process (the path a real tool
takes, with a kernel tty and a thread pump in between). The CLU is unplugged (``clu=0``) so
that its polling does not share the wire with the reads.

Usage: python benchmarks/wire_time.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

from clu_doctor.bus.link import Link
from clu_doctor.bus.settings import LineSettings
from clu_doctor.sim import register_url_handler
from clu_doctor.sim.scenario_reader import load_scenario

TARGET = 1.1


@dataclass(frozen=True)
class Case:
    name: str
    scenario: str
    framing: str
    request_bytes: int
    reply_bytes: int

    @property
    def settings(self) -> LineSettings:
        return load_scenario(self.scenario).bus.settings

    @property
    def turnaround(self) -> float:
        return load_scenario(self.scenario).stations[0].controllers[0].turnaround_s

    def bound(self) -> float:
        settings = self.settings
        wire = settings.wire_time(self.request_bytes + self.reply_bytes)
        silence = settings.t35 if self.framing == "rtu" else 0.0
        return wire + silence + self.turnaround


CASES = (
    Case("ASCII 38400 8E1", "healthy-16", "ascii", 17, 43),
    Case("RTU    9600 8N1", "healthy-rtu-4", "rtu", 8, 21),
)


def measure(port: str, case: Case, runs: int) -> list[float]:
    times = []
    with Link.open(port, case.settings, case.framing, timeout=1.0) as link:
        link.read_registers(1, 0x0050, 8)  # warm-up
        for _ in range(runs):
            time.sleep(0.02)  # the link waits for a quiet line first: make it quiet already
            start = time.perf_counter()
            link.read_registers(1, 0x0050, 8)
            times.append(time.perf_counter() - start)
    return times


def serve_in_subprocess(scenario: str) -> tuple[subprocess.Popen[str], str]:
    code = (
        "import sys\n"
        "from clu_doctor.sim.endpoints import serve\n"
        f"server = serve({scenario!r}, tcp=False, clu=False)\n"
        "print(server.addresses['pty'], flush=True)\n"
        "sys.stdin.read()\n"
        "server.stop()\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


def report(path: str, case: Case, times: list[float]) -> bool:
    median = statistics.median(times)
    bound = case.bound()
    ratio = median / bound
    ok = ratio <= TARGET
    print(
        f"{case.name}  {path:<5} median {median * 1000:7.2f} ms  bound {bound * 1000:6.2f} ms  "
        f"ratio {ratio:5.3f}x  {'ok' if ok else 'OVER TARGET'}  "
        f"(min {min(times) * 1000:.2f}, max {max(times) * 1000:.2f}, n={len(times)})"
    )
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()
    register_url_handler()
    print(f"target: median <= {TARGET}x the physical bound")
    all_ok = True
    for case in CASES:
        times = measure(f"sim://{case.scenario}?clu=0", case, args.runs)
        all_ok &= report("url", case, times)
        process, pty = serve_in_subprocess(case.scenario)
        try:
            times = measure(pty, case, args.runs)
        finally:
            assert process.stdin is not None
            process.stdin.close()
            process.wait(timeout=10)
        all_ok &= report("pty", case, times)
    sys.exit(0 if all_ok else 1)


if __name__ == "__main__":
    main()
