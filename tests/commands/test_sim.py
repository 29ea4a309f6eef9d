"""``clu-doctor sim`` and ``clu-doctor ports`` as a user runs them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

from clu_doctor.bus.link import Link
from clu_doctor.bus.profile import load_profile
from clu_doctor.sim import list_scenarios
from tests.commands.helpers import REPO, invoke


def test_list_names_every_bundled_scenario_with_a_description() -> None:
    result = invoke("sim", "--list")
    assert result.code == 0
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == [name for name, _ in list_scenarios()]
    assert all(len(line.split(None, 1)) == 2 for line in lines)
    document = invoke("sim", "--list", "--json").json()
    assert {s["name"] for s in document["scenarios"]} >= {"healthy-16", "cable-break"}


def test_unknown_scenario_is_one_line_with_the_choices() -> None:
    result = invoke("sim", "no-such-site")
    assert result.code == 3
    line = result.stderr.strip()
    assert "\n" not in line and "no-such-site" in line and "healthy-16" in line


def test_no_scenario_is_a_usage_error() -> None:
    result = invoke("sim")
    assert result.code == 3
    assert "--list" in result.stderr


def test_serves_a_pty_a_client_can_read_until_interrupted() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "clu_doctor", "sim", "healthy-16", "--no-clu", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "NO_COLOR": "1"},
    )
    try:
        assert proc.stdout is not None
        text = ""
        while not text.startswith("{") or not text.rstrip("\n").endswith("\n}"):
            line = proc.stdout.readline()
            assert line, "the simulator ended before printing its ports"
            text += line
        addresses = json.loads(text)["addresses"]
        assert addresses["tcp"].startswith("socket://127.0.0.1:")
        profile = load_profile("defa-erange")
        with Link.open(addresses["pty"], profile.line, profile.framing, timeout=5.0) as link:
            request = profile.identity_request(3)
            result = link.read_registers(request.address, request.start, request.count)
        assert profile.decode_identity(result.registers).serial == "DF230103"
    finally:
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert "simulator stopped" in stderr
    assert "Traceback" not in stderr


def test_ports_lists_as_text_and_json() -> None:
    text = invoke("ports")
    assert text.code == 0
    document = invoke("ports", "--json").json()
    assert document["schema"] == "clu-doctor/ports"
    assert isinstance(document["ports"], list)
    for port in document["ports"]:
        assert port["device"] in text.stdout
