"""``clu-doctor listen`` on real ports, as a user meets their errors: a pty without kernel RS-485,
a port another program holds, one without permission, an adapter unplugged mid-listen. Real
ptys and processes, so on the wall clock; the same commands on the simulator run in-process in
tests/commands/test_bus.py.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import tty
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

from clu_doctor.bus.link import Link
from clu_doctor.bus.profile import load_profile
from clu_doctor.clock import VirtualClock
from clu_doctor.sim import serve
from clu_doctor.sim.line import Transmission
from clu_doctor.sim.scenario_reader import load_scenario
from clu_doctor.sim.simulator import SimSite
from clu_doctor.sim.site_plan import site_for
from tests.commands.helpers import REPO, Outcome, invoke, one_line_error


def test_kernel_rs485_mode_on_a_port_without_it_is_one_line() -> None:
    with serve("healthy-16", tcp=False, time_scale=4) as server:
        assert server.pty is not None
        result = invoke("listen", "--port", server.pty, "--rs485", "--seconds", "1")
    one_line_error(result, "RS-485", "without --rs485")


def test_busy_port() -> None:
    profile = load_profile("defa-erange")
    with serve("healthy-16", tcp=False) as server:
        assert server.pty is not None
        with Link.open(server.pty, profile.line, profile.framing):
            result = invoke("listen", "--port", server.pty, "--seconds", "1")
    line = one_line_error(result, server.pty)
    assert "in use" in line


def test_permission_denied_as_an_unprivileged_user(tmp_path: Path) -> None:
    with serve("healthy-16", tcp=False) as server:
        assert server.pty is not None
        os.chmod(server.pty, 0o600)
        command = [
            sys.executable,
            "-m",
            "clu_doctor",
            "listen",
            "--port",
            server.pty,
            "--seconds",
            "1",
        ]
        if os.geteuid() == 0:
            setpriv = shutil.which("setpriv")
            assert setpriv, "util-linux setpriv is needed to drop root for this test"
            command = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", *command]
        env = {**os.environ, "HOME": str(tmp_path), "CLU_DOCTOR_NO_CACHE": "1"}
        proc = subprocess.run(
            command, capture_output=True, text=True, env=env, timeout=60, cwd=REPO
        )
    result = Outcome(proc.returncode, proc.stdout, proc.stderr)
    one_line_error(result, "permission denied", "dialout")


def test_adapter_unplugged_mid_listen() -> None:
    server = serve("healthy-16", tcp=False)
    try:
        assert server.pty is not None
        proc = subprocess.Popen(
            [sys.executable, "-m", "clu_doctor", "listen", "--port", server.pty, "--seconds", "30"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        time.sleep(2.0)  # let it open the port and hear some traffic
    finally:
        server.stop()  # the pty's master side goes away: the adapter is gone
    try:
        _, stderr = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        raise
    result = Outcome(proc.returncode, "", stderr)
    one_line_error(result, server.pty)


# --- the first ABL generation through a kernel tty ------------------------------------------


def test_a_first_generation_site_through_a_pty_scan_and_listen() -> None:
    """EVCC V2.x controllers in their text protocol at 38400 8N1, through a real tty: the
    scan reads all eight (identity: the firmware), and the listen decodes the CLU's polls
    once the line-setting search has found the other generation's setting."""
    with serve("healthy-evcc1-8", tcp=False, clu=False) as server:
        assert server.pty is not None
        scanned = invoke("scan", "--port", server.pty, "--addresses", "1-8", "--json")
    document = scanned.json()
    assert scanned.code == document["exit_code"] == 0, scanned.stdout[-2000:]
    assert document["scan"]["answered"] == list(range(1, 9))
    identities = {a["identity"]["text"] for a in document["scan"]["addresses"] if a["identity"]}
    assert all(text.startswith("EVCC V2.") for text in identities)
    with serve("healthy-evcc1-8", tcp=False) as server:
        assert server.pty is not None
        heard = invoke("listen", "--port", server.pty, "--seconds", "6", "--json")
    listened = heard.json()
    assert heard.code == listened["exit_code"] == 0, heard.stdout[-2000:]
    assert listened["report"]["framing"] == "evcc1"


def test_a_mixed_site_through_a_pty_has_no_false_duplicate() -> None:
    """Both generations on one bus, heard through a real tty at the second generation's 8E1:
    the CLU's 8N1 poll to address 5 lands inside address 4's answer window, as framing
    errors. It is the master moving on to a first-generation station, not a second answer:
    no duplicate is suspected, and what was heard of the first generation is counted apart.
    However the host's reads fell (a read late enough to hold 4's answer and the poll after
    it, as the first read after opening often is, hides the CLU's pause), not one exchange
    is counted as answered twice."""
    with serve("mixed-generations", tcp=False) as server:
        assert server.pty is not None
        heard = invoke("listen", "--port", server.pty, "--seconds", "6", "--json")
    document = heard.json()
    assert heard.code == document["exit_code"] == 0, heard.stdout[-3000:]
    assert "BUS-DUP-02" not in {finding["id"] for finding in document["findings"]}
    report = document["report"]
    assert report["settings"] == "38400 8E1"
    assert report["bus"]["other_generation"] > 0
    doubled = {a["address"]: a["doubled"] for a in report["addresses"]}
    assert doubled == dict.fromkeys((1, 2, 3, 4, 9, 10, 11, 12), 0)


def test_a_mixed_site_scanned_through_a_pty_finds_a_fault_on_each_side() -> None:
    """Through a real tty the second read at 8N1 reaches the first generation (the pty takes
    the parity its text requests imply): both faults, each generation named at its address."""
    with serve("mixed-generations-faults", tcp=False, clu=False) as server:
        assert server.pty is not None
        scanned = invoke("scan", "--port", server.pty, "--addresses", "1-12", "--json")
    document = scanned.json()
    assert scanned.code == document["exit_code"] == 2, scanned.stdout[-2000:]
    generation = {
        a["address"]: a["generation"] for a in document["scan"]["addresses"] if a["answered"]
    }
    assert {a for a, g in generation.items() if g == 1} == {5, 6, 7, 8}
    assert 11 not in generation  # the unpowered second-generation station
    assert "STATION-FAULT-01" in {f["id"] for f in document["findings"]}


#: The new scenarios of both generations: the exit code and the problems every command finds.
GENERATION_SITES = {
    "healthy-evcc1-8": (0, set()),
    "mixed-generations": (0, set()),
    "mixed-generations-faults": (2, {"BUS-STATION-01", "STATION-FAULT-01"}),
}


def _problems(document: dict[str, object]) -> set[str]:
    findings = document["findings"]
    assert isinstance(findings, list)
    return {f["id"] for f in findings if f["severity"] not in ("ok", "info")}


def _site_file(scenario: str, path: Path) -> Path:
    """The site file a technician writes from the installation papers: the planned chain."""
    plan = site_for(load_scenario(scenario))
    chain = [
        f"  - {{address: {a}, model: UNO, label: {plan.label_of(a)}}}"
        for a in plan.expected_addresses
    ]
    path.write_text(
        f"name: {scenario}\nprofile: {plan.profile}\nchain:\n" + "\n".join(chain) + "\n",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize("scenario", sorted(GENERATION_SITES))
def test_each_generation_site_through_a_pty_in_every_command(
    scenario: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As a technician would, with the site file of the plan: scan with the CLU off the bus,
    and on a bus of one generation also listen, diagnose and check with the CLU polling - all
    through a kernel tty. (A mixed bus heard passively needs the client's parity, which a
    Linux pty hides from the simulator: tests/commands/test_generations.py runs those through
    sim://, the mixed listen above shows what a tty can; the mixed sites as a real adapter hands
    them over, through a real pty, are in the test after this one.)"""
    monkeypatch.setenv("CLU_DOCTOR_STATE_DIR", str(tmp_path / "state"))
    code, problems = GENERATION_SITES[scenario]
    site = str(_site_file(scenario, tmp_path / "site.yaml"))
    runs = {}
    if not scenario.startswith("mixed"):
        with serve(scenario, tcp=False) as server:
            assert server.pty is not None
            port = server.pty
            runs["listen"] = invoke(
                "listen", "--port", port, "--site", site, "--seconds", "6", "--json"
            )
            runs["diagnose"] = invoke(
                *("diagnose", "--port", port, "--site", site, "--listen-seconds", "6"),
                *("--no-input", "--json"),
            )
            runs["check"] = invoke(
                "check", "--port", port, "--site", site, "--listen-seconds", "6", "--json"
            )
    with serve(scenario, tcp=False, clu=False) as server:
        assert server.pty is not None
        runs["scan"] = invoke("scan", "--port", server.pty, "--site", site, "--json")
    for command, result in runs.items():
        document = result.json()
        assert (command, result.code) == (command, code), result.stdout[-1500:]
        assert (command, _problems(document)) == (command, problems)


class WireTty:
    """A real pty that hands over what a USB-RS485 adapter opened by pyserial (INPCK off) would
    on a simulated site: every frame the simulated CLU and stations put on the wire, exactly as
    sent, once it has ended (the adapter's packet when the line goes quiet).

    Such an adapter passes characters of the other parity through unchanged (n_tty flags nothing
    without INPCK, the 8250 driver does not report the error, a 16550 resynchronises on the next
    start bit), so on a mixed site both generations' frames arrive as intact text. The
    simulator's own pty endpoint renders the other generation as a UART that loses step after a
    framing error and delivers it as NUL, so it cannot show this. The site runs on the wall clock
    in this thread; whatever the client writes is counted (a listener must write nothing).
    """

    def __init__(self, scenario: str) -> None:
        self._clock = VirtualClock()
        self.site = SimSite(load_scenario(scenario), seed=1, clock=self._clock)
        self._sent: list[Transmission] = []
        transmit = self.site.transmit

        def tap(node: int, data: bytes, start: float, cause: str) -> Transmission:
            tx = transmit(node, data, start, cause)
            self._sent.append(tx)
            return tx

        self.site.transmit = tap  # type: ignore[method-assign]
        self.master, self._slave = os.openpty()
        tty.setraw(self._slave)
        os.set_blocking(self.master, False)
        self.path = os.ttyname(self._slave)
        self.written = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        began = time.monotonic()
        while not self._stop.wait(0.002):
            now = self._clock.advance_to(time.monotonic() - began)
            self.site.adapter_read(now)
            due = [tx for tx in self._sent if tx.end <= now]
            self._sent = [tx for tx in self._sent if tx.end > now]
            for tx in sorted(due, key=lambda tx: tx.end):
                with suppress(BlockingIOError):  # nobody reading: the adapter's buffer overflows
                    os.write(self.master, tx.data)
            with suppress(BlockingIOError, OSError):
                self.written += len(os.read(self.master, 4096))

    def __enter__(self) -> WireTty:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        os.close(self.master)
        os.close(self._slave)


@contextmanager
def wire_tty(scenario: str) -> Iterator[WireTty]:
    with WireTty(scenario) as port:
        yield port


#: What a technician reads on each mixed site: the exit code, the problems found (a fault on
#: each side of mixed-generations-faults) and the second generation's answering addresses.
MIXED_SITES = {
    "mixed-generations": (0, set(), "1-4, 9-12"),
    "mixed-generations-faults": (2, {"BUS-STATION-01", "STATION-FAULT-01"}, "1-4, 9-10, 12"),
}


@pytest.mark.parametrize("scenario", sorted(MIXED_SITES))
def test_a_mixed_site_heard_whole_through_a_pty_names_both_generations(
    scenario: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A listen at the profile's 8E1 on a mixed site through a real tty, where the adapter
    passes the first generation's 8N1 frames through whole: the first generation's stations
    5-8 are named as such with what they answered, none is a duplicate, and on the faulty
    site the first-generation station in error (7) and the silent second-generation one (11)
    are both found by listen, diagnose and check with the site file."""
    monkeypatch.setenv("CLU_DOCTOR_STATE_DIR", str(tmp_path / "state"))
    code, problems, second = MIXED_SITES[scenario]
    site = str(_site_file(scenario, tmp_path / "site.yaml"))
    with wire_tty(scenario) as port:
        bare = invoke("listen", "--port", port.path, "--seconds", "6")
        runs = {
            "listen": invoke(
                "listen", "--port", port.path, "--site", site, "--seconds", "6", "--json"
            ),
            "diagnose": invoke(
                *("diagnose", "--port", port.path, "--site", site, "--listen-seconds", "6"),
                *("--no-input", "--json"),
            ),
            "check": invoke(
                "check", "--port", port.path, "--site", site, "--listen-seconds", "6", "--json"
            ),
        }
    assert port.written == 0  # the CLU polls: nothing is ever sent
    text = " ".join(bare.stdout.split())  # the table and its notes, wrapped to the terminal
    assert "first generation (EVCC text protocol) at 5-8" in text, bare.stdout
    assert f"second (EVCC2/3) at {second}" in text
    assert "duplicate" not in text.lower()
    for command, result in runs.items():
        document = result.json()
        assert (command, result.code) == (command, code), result.stdout[-1500:]
        assert (command, _problems(document)) == (command, problems)
        assert "BUS-DUP-02" not in {f["id"] for f in document["findings"]}
    report = runs["listen"].json()["report"]
    assert report["settings"] == "38400 8E1"
    first = {a: g for a, g in report["generations"].items() if g == 1}
    assert sorted(first) == ["5", "6", "7", "8"]
    states = {a["address"]: (a["state"] or {}).get("code") for a in report["addresses"]}
    if scenario == "mixed-generations-faults":
        assert states[7] == "F5"
        eleven = next(a for a in report["addresses"] if a["address"] == 11)
        assert eleven["polls"] and not eleven["answers"]
    else:
        assert states == {1: "A1", 2: "C2", 3: "A1", 4: "B2", 5: "A1", 6: "C2", 7: "A1",
                          8: "B2", 9: "A1", 10: "C2", 11: "A1", 12: "A1"}  # fmt: skip
