"""Commands import only what they need: a diagnosis from flags touches no serial stack."""

from __future__ import annotations

import subprocess
import sys

from tests.cli.helpers import REPO

HEAVY = ("serial", "clu_doctor.bus", "clu_doctor.sim", "clu_doctor.probing", "pydantic")


def test_a_diagnosis_from_flags_imports_no_bus_code() -> None:
    code = (
        "import sys\n"
        "from clu_doctor.cli import run\n"
        "run(['diagnose', '-o', 'clu.power_led=off', '--no-input', '--json'])\n"
        f"heavy = [m for m in sys.modules if m.split('.')[0] in {HEAVY!r} or "
        f"any(m == h or m.startswith(h + '.') for h in {HEAVY!r})]\n"
        "print('HEAVY:' + ','.join(sorted(heavy)))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    (marker,) = [line for line in proc.stdout.splitlines() if line.startswith("HEAVY:")]
    assert marker == "HEAVY:", f"imported at start-up: {marker[6:]}"
