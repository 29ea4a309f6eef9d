"""Commands import only what they need: a diagnosis from flags touches no serial stack."""

from __future__ import annotations

import subprocess
import sys

from tests.commands.helpers import REPO

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


def test_running_one_command_builds_only_that_command() -> None:
    """Typer evaluates every parameter of every command it builds; a run builds only its own
    command, while the root help still lists them all."""
    from clu_doctor.cli import _app_for, app

    def names(built: object) -> set[str]:
        return {info.name or info.callback.__name__ for info in built.registered_commands}  # type: ignore[attr-defined, union-attr]

    every = names(app) | {group.name for group in app.registered_groups}
    assert every >= {"diagnose", "check", "scan", "listen", "history", "sim", "ports", "rules"}
    assert names(_app_for(["--debug", "diagnose", "-o", "clu.power_led=off"])) == {"diagnose"}
    assert names(_app_for(["scan", "--sim", "healthy-16"])) == {"scan", "listen"}
    assert _app_for(["--help"]) is app
    assert _app_for(["no-such-command"]) is app


def test_the_root_help_lists_every_command() -> None:
    from tests.commands.helpers import invoke

    result = invoke("--help")
    assert result.code == 0
    for name in ("diagnose", "check", "scan", "listen", "history", "sim", "ports", "rules"):
        assert name in result.stdout
    unknown = invoke("no-such-command")
    assert unknown.code == 3 and "No such command 'no-such-command'" in unknown.stderr
