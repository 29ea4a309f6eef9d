"""The wheel carries the rules, profiles and scenarios, and the installed tool finds them there
(a wheel built and installed by real processes: on the wall clock, with the live tests)."""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(out),
            str(REPO),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = out.glob("clu_doctor-*.whl")
    return built


@pytest.mark.slow
def test_wheel_contains_the_data(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "clu_doctor/rules/observations.yaml" in names
    assert any(n.startswith("clu_doctor/rules/trees/") and n.endswith(".yaml") for n in names)
    assert any(n.startswith("clu_doctor/bus/profiles/") and n.endswith(".yaml") for n in names)
    assert any(n.startswith("clu_doctor/sim/scenarios/") and n.endswith(".yaml") for n in names)
    assert {"clu_doctor/docs/monitoring.md", "clu_doctor/docs/simulator.md"} <= names
    assert "clu_doctor/docs/monitoring/alerts.yml" in names
    assert "clu_doctor/docs/monitoring/grafana-dashboard.json" in names
    assert "clu_doctor/rulebook.pickle" in names  # validated at build time (hatch_build.py)
    for language in ("nb", "sv", "fi"):  # the translations, and what rules check measures
        assert f"clu_doctor/rules/locale/{language}.po" in names
        assert f"clu_doctor/locale/{language}.po" in names
        # ... parsed and applied at build time (hatch_build.py)
        assert f"clu_doctor/rulebook-{language}.pickle" in names
        assert f"clu_doctor/messages-{language}.pickle" in names
    assert "clu_doctor/locale/messages.pot" in names
    assert not any(n.startswith("tests/") for n in names)


@pytest.mark.slow
def test_installed_wheel_loads_rules_from_the_package(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    # Dependencies come from the test environment (no network needed), listed after the new
    # venv's own site-packages, so the wheel's copy of clu_doctor is the one imported.
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    outer = sysconfig.get_paths()["purelib"]
    Path(purelib, "zz-test-dependencies.pth").write_text(outer + "\n", encoding="utf-8")
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = subprocess.run(
        [str(python), "-c", "import clu_doctor.resources as r; print(r.rules_dir())"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert where.startswith(str(env_dir)), where
    assert where.endswith("clu_doctor/rules")
    check = subprocess.run(
        [str(env_dir / "bin" / "clu-doctor"), "rules", "check"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode == 0, check.stderr
    diagnosis = subprocess.run(
        [
            str(env_dir / "bin" / "clu-doctor"),
            "diagnose",
            "-o",
            "clu.power_led=off",
            "-o",
            "clu.status_led=off",
            "--json",
            "--no-input",
        ],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert diagnosis.returncode == 2
    assert '"CLU-PWR-01"' in diagnosis.stdout
    finnish = subprocess.run(
        [str(env_dir / "bin" / "clu-doctor"), "diagnose", "-o", "clu.power_led=pois", "--json"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        timeout=60,
        env={"LANG": "fi_FI.UTF-8", "PATH": "/usr/bin:/bin"},
    )
    document = json.loads(finnish.stdout)
    assert document["language"] == "fi"
    assert document["observations"][0]["value"] == "off"

    # A first run with an empty cache starts from the rulebook shipped in the wheel.
    first = subprocess.run(
        [
            str(python),
            "-c",
            "import sys; from clu_doctor.engine import load_rulebook; "
            "load_rulebook(); print('yaml' in sys.modules)",
        ],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        timeout=60,
        env={"CLU_DOCTOR_CACHE_DIR": str(tmp_path / "empty-cache"), "PATH": "/usr/bin:/bin"},
    )
    assert first.stdout.strip() == "False", first.stderr
    assert not (tmp_path / "empty-cache").exists()
    # ... and a first run in another language from its translations shipped in the wheel.
    swedish = subprocess.run(
        [
            str(python),
            "-c",
            "import sys; from clu_doctor.cli import run; "
            "run(['diagnose', '-o', 'clu.power_led=off', '--json', '--no-input', '--lang', 'sv']); "
            "print([m for m in ('yaml', 'clu_doctor.pofile', 'clu_doctor.engine.texts') "
            "if m in sys.modules])",
        ],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        timeout=60,
        env={"CLU_DOCTOR_CACHE_DIR": str(tmp_path / "empty-cache"), "PATH": "/usr/bin:/bin"},
    )
    assert swedish.stdout.strip().endswith("[]"), swedish.stdout + swedish.stderr
    assert '"language": "sv"' in swedish.stdout
    assert not (tmp_path / "empty-cache").exists()

    # What the hints name is there: the docs and the monitoring files, and a site template.
    listed = subprocess.run(
        [str(env_dir / "bin" / "clu-doctor"), "docs"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listed.returncode == 0, listed.stderr
    for topic in ("monitoring", "rules-format", "simulator", "alerts", "grafana-dashboard"):
        assert topic in listed.stdout
    assert str(env_dir) in listed.stdout and str(REPO) not in listed.stdout
    template = subprocess.run(
        [str(env_dir / "bin" / "clu-doctor"), "site", "init"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert template.returncode == 0 and template.stdout.startswith("# site.yaml")
