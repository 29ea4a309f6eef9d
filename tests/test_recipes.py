"""The gateway recipes work as written, and the README's are the guide's.

docs/monitoring.md is the one source: the README shows some of its blocks, each a verbatim
copy. Every recipe calls the tool by the full path the install recipe links
(``/usr/local/bin/clu-doctor``: cron and systemd do not search the PATH), runs it as the user
the recipe creates, in ``dialout``, with the one state directory, so ``history`` finds what
the check recorded; every ``clu-doctor`` command line in them uses options that exist.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from tests.test_hints import problems_with_command

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
GUIDE = (REPO / "docs" / "monitoring.md").read_text(encoding="utf-8")
TOOL = "/usr/local/bin/clu-doctor"
STATE = "CLU_DOCTOR_STATE_DIR=/var/lib/clu-doctor"
USER = "clu-doctor"


def fenced(text: str) -> list[tuple[str, str]]:
    return re.findall(r"```(\w+)\n(.*?)```", text, re.S)


def guide_block(language: str, start: str) -> str:
    (found,) = [body for lang, body in fenced(GUIDE) if lang == language and start in body]
    return found


def readme_section(title: str) -> str:
    start = README.index(f"### {title}")
    return README[start : README.index("\n### ", start + 1)]


def test_the_readmes_gateway_recipes_are_copies_of_the_guides() -> None:
    section = readme_section("Unattended checks for cron and monitoring")
    guide = fenced(GUIDE)
    copied = [(lang, body) for lang, body in fenced(section) if lang != "sh" or "sudo" in body]
    assert len(copied) >= 5  # install, user, cron, service, timer
    for block in copied:
        assert block in guide, f"README block differs from docs/monitoring.md:\n{block[1]}"


def test_the_install_links_the_path_every_recipe_uses() -> None:
    install = guide_block("sh", "sudo python3 -m venv /opt/clu-doctor")
    assert "sudo apt install python3-venv" in install
    assert f"sudo ln -sf /opt/clu-doctor/bin/clu-doctor {TOOL}" in install
    user = guide_block("sh", "sudo useradd")
    assert f"--groups dialout {USER}" in user
    assert f"sudo -u {USER} {STATE} {TOOL} check" in user


def test_the_cron_line_runs_the_full_path_as_the_user_with_the_state_directory() -> None:
    cron = guide_block("cron", "*/15")
    lines = [line for line in cron.splitlines() if line and not line.startswith("#")]
    assert lines[0] == STATE
    fields = lines[1].split()
    assert len(fields[:5]) == 5 and all(re.fullmatch(r"[\d*/,-]+", f) for f in fields[:5])
    assert fields[5] == USER and fields[6] == TOOL


def test_the_systemd_unit_runs_the_full_path_as_the_user_in_dialout() -> None:
    service = guide_block("ini", "[Service]")
    settings = dict(
        line.split("=", 1) for line in service.splitlines() if "=" in line and line[0] != "#"
    )
    assert settings["User"] == USER and settings["SupplementaryGroups"] == "dialout"
    assert settings["Environment"] == STATE
    assert settings["StateDirectory"] == "clu-doctor"
    assert settings["ExecStart"].startswith(f"{TOOL} check ")
    assert "3" not in settings["SuccessExitStatus"].split()  # UNKNOWN fails the unit


def test_icinga_and_nrpe_run_the_full_path_with_the_state_directory() -> None:
    icinga = guide_block("icinga2", "CheckCommand")
    assert f'command = [ "{TOOL}", "check" ]' in icinga
    assert 'env.CLU_DOCTOR_STATE_DIR = "/var/lib/clu-doctor"' in icinga
    nrpe = guide_block("cfg", "command[check_clu]")
    assert nrpe.strip().startswith(f"command[check_clu]=/usr/bin/env {STATE} {TOOL} check ")
    assert "usermod -aG dialout,clu-doctor nagios" in GUIDE


@pytest.mark.parametrize("text", [GUIDE, README], ids=["docs/monitoring.md", "README.md"])
def test_every_command_line_in_the_recipes_uses_real_commands_and_options(text: str) -> None:
    checked = 0
    for language, body in fenced(text):
        if language not in ("sh", "cron", "ini", "cfg", "icinga2"):
            continue  # YAML, output examples: text about the tool, not command lines
        for line in body.replace("\\\n", " ").splitlines():
            code = line.split(" #", 1)[0]
            for part in re.split(r"[|;&>]", code):
                match = re.search(r"(?:^|\s|/)clu-doctor ((?:check|history|site|docs)\b.*)", part)
                if match is None:
                    continue
                words = shlex.split(match.group(1))
                assert problems_with_command(words) == [], line
                checked += 1
    assert checked >= 5
