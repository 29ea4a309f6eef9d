"""Both ABL controller generations through every command, in-process on the virtual clock:
the first-generation site, a mixed site, and a mixed site with a fault on each side
(XAXXY11, second generation, without power; XAXXY07, first generation, in F5). The same
sites through a real pty: tests/live/test_commands_bus.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.commands.helpers import invoke

#: scenario -> the exit code and the problems every command must find in it
EXPECTED: dict[str, tuple[int, set[str]]] = {
    "healthy-evcc1-8": (0, set()),
    "mixed-generations": (0, set()),
    "mixed-generations-faults": (2, {"BUS-STATION-01", "STATION-FAULT-01"}),
}
COMMANDS: dict[str, tuple[str, ...]] = {
    "diagnose": ("diagnose", "--sim", "{s}", "--no-input"),
    "listen": ("listen", "--sim", "{s}", "--seconds", "20"),
    "scan": ("scan", "--sim", "{s}?clu=0"),
    "check": ("check", "--sim", "{s}"),
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("scenario", sorted(EXPECTED))
def test_every_command_finds_what_each_generation_site_has(
    scenario: str, command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLU_DOCTOR_STATE_DIR", str(tmp_path))
    args = [part.format(s=scenario) for part in COMMANDS[command]]
    result = invoke(*args, "--json")
    document = result.json()
    code, problems = EXPECTED[scenario]
    assert result.code == document["exit_code"] == code
    found = {f["id"] for f in document["findings"] if f["severity"] not in ("ok", "info")}
    assert found == problems
    if scenario == "mixed-generations-faults":
        seen = " ".join(
            line
            for f in document["findings"]
            if f["id"] == "STATION-FAULT-01"
            for line in f["evidence"]
        )
        assert "address 7 (XAXXY07): state F5" in seen  # the first generation's fault, named


def test_a_mixed_site_says_which_generation_answers_where() -> None:
    listened = invoke("listen", "--sim", "mixed-generations", "--seconds", "20").stdout
    scanned = invoke("scan", "--sim", "mixed-generations?clu=0").stdout
    for text in (listened, " ".join(scanned.split())):
        flat = " ".join(text.split())
        assert ("first generation" in flat or "first-generation" in flat) and "5-8" in flat
