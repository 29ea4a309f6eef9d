#!/usr/bin/env python3
"""Start-up cost of a non-interactive diagnosis, relative to importing the CLI toolkit alone.

Measures the median wall time of

    clu-doctor diagnose --observe clu.power_led=off --observe clu.status_led=off --json --no-input

against ``python -c "import typer, rich"`` on the same machine, and prints the ratio (target
<= 1.5x: a command must not import what it does not need). Runs are interleaved so that a
change in machine load affects both sides alike; a few warm-up runs fill the OS file cache,
the bytecode cache and the rulebook cache first. PYTHONDONTWRITEBYTECODE is cleared for the
runs: an installed package has its bytecode compiled at install time, and recompiling every
module on each run would measure the compiler, not the tool.

Usage: python benchmarks/cli_latency.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def clu_doctor_command() -> list[str]:
    script = Path(sys.executable).with_name("clu-doctor")
    found = str(script) if script.exists() else shutil.which("clu-doctor")
    if not found:
        sys.exit("clu-doctor is not installed in this environment (pip install -e .)")
    return [
        found,
        "diagnose",
        "--observe",
        "clu.power_led=off",
        "--observe",
        "clu.status_led=off",
        "--json",
        "--no-input",
    ]


ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, env=ENV
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    baseline = [sys.executable, "-c", "import typer, rich"]
    diagnose = clu_doctor_command()
    for _ in range(3):
        timed(baseline)
        timed(diagnose)
    base_times, diag_times = [], []
    for _ in range(args.runs):
        base_times.append(timed(baseline))
        diag_times.append(timed(diagnose))
    base, diag = statistics.median(base_times), statistics.median(diag_times)
    print(f"runs per command:                {args.runs}")
    print(f'python -c "import typer, rich":  {base * 1000:7.1f} ms (median)')
    print(f"clu-doctor diagnose ... --json:  {diag * 1000:7.1f} ms (median)")
    print(f"ratio:                           {diag / base:7.2f}x (target <= 1.5x)")


if __name__ == "__main__":
    main()
