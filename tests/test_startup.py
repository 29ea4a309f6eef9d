"""Commands import only what they need: a diagnosis from flags touches no serial stack, piped
text no rich, the help no Markdown stack and no command it does not show.

Each run is a fresh interpreter that reports which modules it loaded; the speed itself is
measured by benchmarks/cli_latency.py, never asserted here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.commands.helpers import REPO

HEAVY = ("serial", "clu_doctor.bus", "clu_doctor.sim", "clu_doctor.probing", "pydantic")


#: What reads and applies a catalogue: a run in another language needs none of it once the
#: catalogues are kept (shipped with the package, else cached), an English run never.
TRANSLATING = ("clu_doctor.pofile", "clu_doctor.engine.texts")


def loaded_by(
    args: list[str], cache_dir: str | None = None, environ: dict[str, str] | None = None
) -> tuple[str, set[str]]:
    """Run ``clu-doctor ARGS`` in a fresh interpreter with stdout a pipe: what it printed, and
    every module it imported."""
    code = (
        "import sys, io, contextlib\n"
        "from clu_doctor.cli import run\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        f"    run({args!r})\n"
        "print(out.getvalue())\n"
        "print('MODULES:' + ','.join(sorted(sys.modules)))\n"
    )
    env = {**os.environ, **(environ or {})}
    if cache_dir is not None:
        env["CLU_DOCTOR_CACHE_DIR"] = cache_dir
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60, env=env
    )
    assert proc.returncode == 0, proc.stderr
    printed, _, modules = proc.stdout.rpartition("MODULES:")
    return printed, set(modules.strip().split(","))


def under(modules: set[str], *roots: str) -> list[str]:
    return sorted(m for m in modules if any(m == r or m.startswith(r + ".") for r in roots))


DIAGNOSIS_JSON = ["diagnose", "-o", "clu.power_led=off", "--no-input", "--json"]


def test_a_diagnosis_from_flags_imports_no_bus_code() -> None:
    _, modules = loaded_by(DIAGNOSIS_JSON)
    assert under(modules, *HEAVY) == []


def test_an_english_run_reads_no_catalogue(tmp_path: object) -> None:
    for args in (DIAGNOSIS_JSON, ["check", "--help"]):
        _, modules = loaded_by(args, cache_dir=str(tmp_path))
        assert under(modules, *TRANSLATING) == []


@pytest.mark.parametrize("language", ["nb", "sv", "fi"])
def test_a_run_in_another_language_parses_no_catalogue_once_kept(
    language: str, tmp_path: object
) -> None:
    """The catalogues come parsed and the rulebook translated with the package (else from the
    user's cache, after the first run of a source checkout whose catalogues were edited)."""
    args = [*DIAGNOSIS_JSON, "--lang", language]
    first, _ = loaded_by(args, cache_dir=str(tmp_path))
    again, modules = loaded_by(args, cache_dir=str(tmp_path))
    assert again == first and f'"language": "{language}"' in again
    assert under(modules, *TRANSLATING) == []
    assert under(modules, *HEAVY, "yaml", "rich") == []
    help_page, modules = loaded_by(["check", "--help", "--lang", language], str(tmp_path))
    assert "--format" in help_page and "Output format." not in help_page
    assert under(modules, *TRANSLATING, "markdown_it", "pygments") == []


def test_piped_diagnosis_text_imports_no_rich() -> None:
    printed, modules = loaded_by(
        ["diagnose", "-o", "clu.power_led=off", "-o", "clu.status_led=off", "--no-input", "--why"]
    )
    assert "What to do:" in printed and "Why: the answers that led here" in printed
    assert under(modules, "rich") == []


def test_piped_check_text_imports_no_rich(tmp_path: object) -> None:
    printed, modules = loaded_by(
        ["check", "--sim", "healthy-16", "--history-dir", str(tmp_path), "--format", "text"]
    )
    assert printed.strip()
    assert under(modules, "rich") == []


@pytest.mark.parametrize("args", [["--help"], ["-h"], []])
def test_the_root_help_builds_no_command_and_loads_no_markdown(args: list[str]) -> None:
    printed, modules = loaded_by(args)
    for name in ("diagnose", "check", "scan", "listen", "history", "sim", "ports", "rules"):
        assert name in printed
    assert under(modules, "clu_doctor.commands", "clu_doctor.engine") == []
    assert under(modules, "markdown_it", "pygments") == []


def test_a_piped_command_help_loads_no_rich() -> None:
    """Drawn as rich would draw it without a terminal (tests/test_plain_help.py), where the
    installed rich and typer are releases that layout was compared with."""
    from clu_doctor import plainhelp

    printed, modules = loaded_by(["check", "--help"])
    assert "--format" in printed and "╭─" in printed
    if plainhelp._releases() is not None:
        assert under(modules, "rich") == []
    assert under(modules, "markdown_it", "pygments") == []
    assert under(modules, "clu_doctor.commands.diagnose", "clu_doctor.commands.sim") == []


def test_a_command_help_drawn_by_typer_loads_no_markdown() -> None:
    printed, modules = loaded_by(["check", "--help"], environ={"TTY_COMPATIBLE": "0"})
    assert "--format" in printed and under(modules, "rich") != []
    assert under(modules, "markdown_it", "pygments") == []


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_the_version_builds_nothing(flag: str) -> None:
    from clu_doctor import __version__

    printed, modules = loaded_by([flag])
    assert printed.strip() == f"clu-doctor {__version__}"
    assert under(modules, "clu_doctor.commands", "rich") == []


def test_the_root_help_is_the_same_as_with_every_command_built() -> None:
    """The root help lists each command by the summary in cli.py; it must be the command's own
    first paragraph, so the help reads the same as with every command built."""
    import typer

    from clu_doctor.cli import _app_for, full_app

    def listing(app: typer.Typer) -> list[tuple[str, str]]:
        group = typer.main.get_command(app)
        ctx = typer.Context(group)
        out = []
        for name in group.list_commands(ctx):  # type: ignore[attr-defined]
            command = group.get_command(ctx, name)  # type: ignore[attr-defined]
            out.append((name, (command.short_help or command.help or "").split("\n\n")[0]))
        return out

    assert listing(_app_for(["--help"])) == listing(full_app())


def test_running_one_command_builds_only_that_command() -> None:
    """Typer evaluates every parameter of every command it builds; a run builds only its own
    command, and the root help builds none (it lists them by name and summary)."""
    from clu_doctor.cli import _COMMAND_MODULES, _app_for, _listed, app

    def names(built: object) -> set[str]:
        return {info.name or info.callback.__name__ for info in built.registered_commands}  # type: ignore[attr-defined, union-attr]

    every = names(app) | {group.name for group in app.registered_groups}
    assert every >= {"diagnose", "check", "scan", "listen", "history", "sim", "ports", "rules"}
    assert names(_app_for(["--debug", "diagnose", "-o", "clu.power_led=off"])) == {"diagnose"}
    assert names(_app_for(["scan", "--sim", "healthy-16"])) == {"scan", "listen"}
    root_help = _app_for(["--help"])
    assert names(root_help) == set(_COMMAND_MODULES)
    assert {info.callback for info in root_help.registered_commands} == {_listed}
    assert _app_for(["no-such-command"]) is app


def test_the_root_help_lists_every_command() -> None:
    from tests.commands.helpers import invoke

    result = invoke("--help")
    assert result.code == 0
    for name in ("diagnose", "check", "scan", "listen", "history", "sim", "ports", "rules"):
        assert name in result.stdout
    unknown = invoke("no-such-command")
    assert unknown.code == 3 and "No such command 'no-such-command'" in unknown.stderr


def test_what_the_help_defers_is_the_real_thing_when_used() -> None:
    code = (
        "from clu_doctor.cli import _defer_help_extras\n"
        "_defer_help_extras()\n"
        "import rich.markdown\n"
        "from rich.markdown import Markdown\n"
        "from rich.traceback import Traceback\n"
        "import sys\n"
        "assert 'markdown_it' not in sys.modules\n"
        "print(type(Markdown('# hi')).__module__, rich.markdown.Heading.__name__)\n"
        "try:\n"
        "    1 / 0\n"
        "except ZeroDivisionError as error:\n"
        "    shown = Traceback.from_exception(type(error), error, error.__traceback__)\n"
        "print(type(shown).__module__)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["rich.markdown", "Heading", "rich.traceback"]


def test_the_collector_waits_for_the_command_and_then_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """``python -m clu_doctor`` holds the cycle collector off while the command line loads;
    the command itself runs with it on, start-up's objects frozen (never scanned again)."""
    import gc

    import clu_doctor.engine
    from clu_doctor.cli import run

    seen: list[tuple[bool, int]] = []
    real = clu_doctor.engine.load_rulebook

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append((gc.isenabled(), gc.get_freeze_count()))
        return real(*args, **kwargs)

    monkeypatch.setattr(clu_doctor.engine, "load_rulebook", spy)
    gc.disable()
    try:
        code = run(
            ["diagnose", "-o", "clu.power_led=off", "--no-input", "--json"], collector_held=True
        )
    finally:
        gc.enable()
        gc.unfreeze()
    assert code == 3 and seen and seen[0][0] is True and seen[0][1] > 0
    seen.clear()
    gc.disable()
    try:
        run(["rules", "list"], collector_held=False)
        held_on = gc.isenabled()
    finally:
        gc.enable()
    assert held_on is False  # a caller that keeps it off is left so


def test_an_editable_install_reads_the_bytecode_its_build_compiled(tmp_path: Path) -> None:
    """``pip install -e`` runs hatch_build.py, which compiles the package as pip compiles a
    wheel's at install time: under PYTHONDONTWRITEBYTECODE=1 (no bytecode written as modules
    are imported) a run then reads that bytecode rather than compiling every module."""
    import shutil

    from hatch_build import compile_sources

    checkout = tmp_path / "checkout"
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(REPO / "clu_doctor", checkout / "clu_doctor", ignore=ignore)
    shutil.copytree(REPO / "rules", checkout / "rules", ignore=ignore)
    compile_sources(checkout / "clu_doctor")
    env = {**os.environ, "PYTHONPATH": str(checkout), "PYTHONDONTWRITEBYTECODE": "1"}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with (checkout / "clu_doctor" / "report" / "layout.py").open("a") as edited:
        edited.write("\n# edited since the install\n")
    run = subprocess.run(
        [sys.executable, "-v", "-m", "clu_doctor", *DIAGNOSIS_JSON],
        capture_output=True,
        text=True,
        cwd=elsewhere,
        env=env,
        timeout=60,
    )
    assert '"schema": "clu-doctor/diagnosis"' in run.stdout, run.stderr[-2000:]
    read = {  # "# code object from '.../__pycache__/cli.cpython-311.pyc'"
        line.rsplit("/", 1)[-1].split(".")[0]
        for line in run.stderr.splitlines()
        if line.startswith("# code object from '" + str(checkout)) and "__pycache__" in line
    }
    assert {"cli", "walk", "diagnosis", "rulebook"} <= read
    assert "layout" not in read  # compiled again, in memory
