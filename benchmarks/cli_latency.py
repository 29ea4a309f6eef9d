#!/usr/bin/env python3
"""Start-up cost of the command line, relative to importing its toolkit alone.

Each case below is timed against ``python -c "import typer, rich"`` in interleaved pairs (the
baseline, then the case, again and again), so that a change in the machine's load touches both
sides of a pair alike; the figure is the median of the pairs' ratios. Targets: every diagnose
and check case <= 1.3x, the help <= 1.5x.

Cases (a diagnosis from flags: ``diagnose -o clu.power_led=off -o clu.status_led=off
--no-input``):

* ``diagnose --json``, warm cache: the rulebook cache filled, bytecode compiled;
* ``diagnose --json``, cold cache: an empty cache directory for every run (a new user, an
  upgrade, cron under another HOME); the rulebook shipped with the package carries it;
* ``diagnose`` text, piped (stdout not a terminal), warm and cold;
* ``diagnose --json --lang nb``, warm and cold: the same diagnosis in Norwegian (the run's
  messages and the rule texts translated);
* ``--help``, ``check --help``, ``check --help --lang nb`` and ``--version``;
* ``check --format nagios`` and ``check --json``: an unattended check's start-up, up to the
  moment it opens the serial port. The port named does not exist, so the check ends there,
  with its UNKNOWN result in the format asked for: what is timed is everything a check does
  before the bus (the command line, the site file, the rules, the monitoring and bus code
  imported), not the bus itself, whose listening time is the check's ``--listen-seconds``
  and not start-up. ``--no-history``: writing the result to the history is the end of a check
  (benchmarks/history.py measures the history). Warm: the site file and the device profiles
  were parsed by an earlier check (they are kept until their text changes); cold: the first
  check after an upgrade or under another HOME parses them, with PyYAML;
* no bytecode at all, under ``PYTHONDONTWRITEBYTECODE=1``: the package's modules compiled on
  every run (a copy of the source tree without ``__pycache__``, first on ``PYTHONPATH``;
  typer and rich keep the bytecode pip compiled), with a warm and a cold cache: a checkout
  that was never installed (``PYTHONPATH=. python -m clu_doctor``), or whose every module was
  edited since;
* an editable install under ``PYTHONDONTWRITEBYTECODE=1``: the same copy with the bytecode
  ``hatch_build.py`` compiles when ``pip install -e`` runs it (``compile_sources``), which
  the interpreter reads though it writes none.

PYTHONDONTWRITEBYTECODE is cleared for the other runs: an installed package has its bytecode
compiled at install time; so is PYTHONUNBUFFERED (a user's shell does not set it). Every run
starts in an empty directory: ``python -m`` puts the current directory first on the path, and
run from the repository it would import the package from there rather than from the copy
without bytecode. A few warm-up rounds fill the OS file cache first.

Usage: python benchmarks/cli_latency.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DIAGNOSE = ["diagnose", "-o", "clu.power_led=off", "-o", "clu.status_led=off", "--no-input"]
NORWEGIAN = ["--lang", "nb"]


#: Where every run starts (see the module docstring); set in main().
WHERE: list[Path] = []


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        check=False,
        env=env,
        cwd=WHERE[0] if WHERE else None,
    )
    return time.perf_counter() - start


class Case:
    def __init__(self, label: str, args: list[str], env: dict[str, str], cold: bool = False):
        self.label, self.args, self.env, self.cold = label, args, env, cold
        self.ratios: list[float] = []
        self.times: list[float] = []

    def run(self, scratch: Path) -> float:
        env = dict(self.env)
        if self.cold:  # an empty cache directory for each run
            folder = Path(tempfile.mkdtemp(dir=scratch))
            env["CLU_DOCTOR_CACHE_DIR"] = str(folder)
        return timed([sys.executable, "-m", "clu_doctor", *self.args], env)


def source_copy(scratch: Path) -> Path:
    """The package and its rules as a source checkout has them, without any bytecode."""
    root = scratch / "checkout"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    if not root.exists():
        shutil.copytree(REPO / "clu_doctor", root / "clu_doctor", ignore=ignore)
        shutil.copytree(REPO / "rules", root / "rules", ignore=ignore)
    return root


def site_and_absent_port(scratch: Path, env: dict[str, str]) -> list[str]:
    """``--site FILE --port PATH``: the commented site file ``site init`` writes (what a user
    starts from) and a port that does not exist (see the module docstring)."""
    site = scratch / "site.yaml"
    template = subprocess.run(
        [sys.executable, "-m", "clu_doctor", "site", "init"],
        capture_output=True,
        text=True,
        env=env,
        cwd=WHERE[0],
        check=True,
    )
    site.write_text(template.stdout, encoding="utf-8")
    args = ["--site", str(site), "--port", str(scratch / "no-such-port")]
    ended = subprocess.run(
        [sys.executable, "-m", "clu_doctor", "check", *args, "--no-history", "--json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=WHERE[0],
        check=False,
    )
    if ended.returncode != 3 or "no such port" not in ended.stdout:
        sys.exit(f"the check did not end at the port:\n{ended.stdout}{ended.stderr}")
    return args


def compiled_copy(scratch: Path) -> Path:
    """The source copy as an editable install leaves it: compiled by the build hook."""
    root = scratch / "installed"
    shutil.copytree(source_copy(scratch), root)
    sys.path.insert(0, str(REPO))
    try:
        from hatch_build import compile_sources  # the build hook's own step
    finally:
        sys.path.remove(str(REPO))
    compile_sources(root / "clu_doctor")
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="clu-doctor-latency-"))
    try:
        WHERE.append(scratch / "cwd")
        WHERE[0].mkdir()
        cleared = ("PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "CLU_DOCTOR_NO_CACHE")
        base_env = {k: v for k, v in os.environ.items() if k not in cleared}
        warm = {**base_env, "CLU_DOCTOR_CACHE_DIR": str(scratch / "warm-cache")}
        no_bytecode = {
            **warm,
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONPATH": str(source_copy(scratch)),
            "CLU_DOCTOR_CACHE_DIR": str(scratch / "warm-cache-source"),
        }
        installed = {
            **no_bytecode,
            "PYTHONPATH": str(compiled_copy(scratch)),
            "CLU_DOCTOR_CACHE_DIR": str(scratch / "warm-cache-installed"),
        }
        check = ["check", *site_and_absent_port(scratch, warm), "--no-history"]
        cases = [
            Case("diagnose --json, warm cache", [*DIAGNOSE, "--json"], warm),
            Case("diagnose --json, cold cache", [*DIAGNOSE, "--json"], warm, cold=True),
            Case("diagnose text piped, warm", DIAGNOSE, warm),
            Case("diagnose text piped, cold", DIAGNOSE, warm, cold=True),
            Case("diagnose --json --lang nb, warm", [*DIAGNOSE, "--json", *NORWEGIAN], warm),
            Case(
                "diagnose --json --lang nb, cold",
                [*DIAGNOSE, "--json", *NORWEGIAN],
                warm,
                cold=True,
            ),
            Case("check --format nagios (start-up)", [*check, "--format", "nagios"], warm),
            Case("check --json (start-up)", [*check, "--json"], warm),
            Case("check --json, cold cache", [*check, "--json"], warm, cold=True),
            Case("--help", ["--help"], warm),
            Case("check --help", ["check", "--help"], warm),
            Case("check --help --lang nb", ["check", "--help", *NORWEGIAN], warm),
            Case("--version", ["--version"], warm),
            Case("no bytecode, --json, warm", [*DIAGNOSE, "--json"], no_bytecode),
            Case("no bytecode, --json, cold", [*DIAGNOSE, "--json"], no_bytecode, cold=True),
            Case("editable, none written, --json, warm", [*DIAGNOSE, "--json"], installed),
            Case(
                "editable, none written, --json, cold",
                [*DIAGNOSE, "--json"],
                installed,
                cold=True,
            ),
        ]
        for env in (no_bytecode, installed):
            where = subprocess.run(
                [sys.executable, "-c", "import clu_doctor; print(clu_doctor.__file__)"],
                capture_output=True,
                text=True,
                env=env,
                cwd=WHERE[0],
                check=True,
            ).stdout.strip()
            if not where.startswith(env["PYTHONPATH"]):
                sys.exit(f"the runs without bytecode would import {where}, not the copy")
        baseline = [sys.executable, "-c", "import typer, rich"]
        load_before = os.getloadavg()
        for _ in range(3):  # warm-up: file cache, bytecode, the warm caches
            for case in cases:
                timed(baseline, warm)
                case.run(scratch)
        base_times: list[float] = []
        for _ in range(args.runs):
            for case in cases:
                base = timed(baseline, case.env)
                took = case.run(scratch)
                base_times.append(base)
                case.times.append(took)
                case.ratios.append(took / base)
        load_after = os.getloadavg()
        print(f"runs per case: {args.runs}, each paired with a run of the baseline")
        print(
            "load average (1, 5, 15 min): before "
            + " ".join(f"{x:.2f}" for x in load_before)
            + ", after "
            + " ".join(f"{x:.2f}" for x in load_after)
            + f" ({os.cpu_count()} CPUs)"
        )
        label = 'python -c "import typer, rich"'
        print(f"{label:<37} {statistics.median(base_times) * 1000:7.1f} ms (median)")
        for case in cases:
            target = 1.5 if "help" in case.label or "version" in case.label else 1.3
            print(
                f"{case.label:<37} {statistics.median(case.times) * 1000:7.1f} ms  "
                f"ratio {statistics.median(case.ratios):5.2f}x (median of pairs; target <= "
                f"{target}x)"
            )
        # In ratios (each against its own baseline runs), so that the load cancels out.
        ratio = {case.label: statistics.median(case.ratios) for case in cases}
        extra = ratio["diagnose --json --lang nb, warm"] - ratio["diagnose --json, warm cache"]
        print(
            "Norwegian over English (diagnose --json, warm): "
            f"{extra * statistics.median(base_times) * 1000:+.1f} ms"
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
