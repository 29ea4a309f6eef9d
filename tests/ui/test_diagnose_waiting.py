"""``diagnose`` on a terminal: wait for a CLU that is still starting, then look again.

In-process on the virtual clock (a 90 s countdown costs nothing), with a stdin that says it is
a terminal. When to come back comes from the engine (``Diagnosis.wait_s``).
"""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Iterator
from typing import Any

from clu_doctor.cli import run
from clu_doctor.clock import VirtualClock, use
from tests.commands.helpers import Outcome

STARTING = (
    "-o", "clu.power_led=steady", "-o", "clu.status_led=flashing",
    "-o", "usb.red_led=off", "-o", "usb.green_led=off",
)  # fmt: skip
SKIP_PORTAL = "2"


class _Terminal(io.StringIO):
    """Typed lines on stdin, as from a terminal."""

    def isatty(self) -> bool:
        return True


def converse(*args: str, lines: list[str]) -> Outcome:
    """Run ``clu-doctor ARGS`` with ``lines`` typed at the terminal."""
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdin
    sys.stdin = _Terminal("".join(f"{line}\n" for line in lines))
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = run(list(args))
    finally:
        sys.stdin = saved
    return Outcome(code, out.getvalue(), err.getvalue())


def observation(document: dict[str, Any], key: str) -> dict[str, Any]:
    return next(o for o in document["observations"] if o["key"] == key)


def ids(document: dict[str, Any]) -> set[str]:
    def walk(findings: list[dict[str, Any]]) -> Iterator[str]:
        for finding in findings:
            yield finding["id"]
            yield from walk(finding["consequences"])

    return set(walk(document["findings"]))


def test_waiting_counts_down_then_asks_the_leds_again(clock: VirtualClock) -> None:
    started = clock.now()
    result = converse(
        "diagnose", *STARTING, "-o", "clu.uptime_s=60", "--json",
        lines=[SKIP_PORTAL, "y", "", "", "3", "flashing", "?"],
    )  # fmt: skip
    assert "Traceback" not in result.stderr
    assert "The result can change in 1:30 min." in result.stderr
    assert "Waiting: 1:30 min left (Ctrl-C stops)" in result.stderr
    assert "Waited 1:30 min." in result.stderr
    assert clock.now() - started >= 90
    # asked again with the earlier answers shown; the portal's skip stays
    assert "Look again. Enter keeps what you answered before" in result.stderr
    assert "Before: 1 off. Enter keeps it." in result.stderr
    assert result.stderr.count("Can you look at the CloudCharge portal") == 1
    document = result.json()  # one document: the result after waiting
    uptime = observation(document, "clu.uptime_s")
    assert uptime["value"] == 150
    assert uptime["detail"] == "60 s when answered, 90 s waited since"
    assert "USB-OK-01" in ids(document) and "USB-WAIT-01" not in ids(document)
    assert result.code == document["exit_code"] == 0


def test_answering_no_keeps_the_waiting_result() -> None:
    result = converse(
        "diagnose", *STARTING, "-o", "clu.uptime_s=60", "--json", lines=[SKIP_PORTAL, "n"]
    )
    document = result.json()
    assert "USB-WAIT-01" in ids(document)
    assert observation(document, "clu.uptime_s")["value"] == 60
    assert "Waiting:" not in result.stderr
    assert result.code == document["exit_code"]


def test_the_text_result_is_printed_once() -> None:
    result = converse(
        "diagnose", *STARTING, "-o", "clu.uptime_s=148",
        lines=[SKIP_PORTAL, "", "", "", "3", "3", "yes"],
    )  # fmt: skip
    assert result.stdout.count("Result:") == 1
    assert "USB-OK-01" in result.stdout and "USB-WAIT-01" not in result.stdout


def test_no_input_never_offers_to_wait() -> None:
    result = converse(
        "diagnose", *STARTING, "-o", "clu.uptime_s=60", "--no-input", "--json", lines=[]
    )
    assert "USB-WAIT-01" in ids(result.json())
    assert result.stderr == ""


def test_q_at_the_offer_leaves_with_130() -> None:
    result = converse("diagnose", *STARTING, "-o", "clu.uptime_s=60", lines=[SKIP_PORTAL, "q"])
    assert result.code == 130
    assert result.stdout == ""
    assert "interrupted" in result.stderr and "Traceback" not in result.stderr


class _CtrlCInTheCountdown(VirtualClock):
    """Ctrl-C arrives during the second second of the countdown (the only sleeps of an
    LED-only run are the countdown's)."""

    def __init__(self) -> None:
        super().__init__()
        self.sleeps = 0

    def sleep_until(self, deadline: float) -> None:
        self.sleeps += 1
        if self.sleeps == 2:
            raise KeyboardInterrupt
        super().sleep_until(deadline)


def test_ctrl_c_during_the_countdown_exits_130_cleanly() -> None:
    with use(_CtrlCInTheCountdown()):
        result = converse(
            "diagnose", *STARTING, "-o", "clu.uptime_s=60", "--json", lines=[SKIP_PORTAL, "y"]
        )
    assert result.code == 130
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert "Waiting: 1:30 min left" in result.stderr


def test_with_a_bus_it_listens_again_to_a_clu_that_kept_running() -> None:
    """The simulated CLU was powered 100 s ago: silent while it starts. After the wait it is
    the same site later, and polls."""
    result = converse(
        "diagnose", "--sim", "clu-booting?uptime=100", "--listen-seconds", "2", "--json",
        lines=["2", "3", "100", SKIP_PORTAL, "y", "?"],
    )  # fmt: skip
    assert "Traceback" not in result.stderr, result.stderr
    document = result.json()
    assert observation(document, "bus.traffic")["value"] == "polling"
    assert "CLU-RUN-01" in ids(document) and "USB-WAIT-01" not in ids(document)
    assert "uptime=" in document["evidence"]["port"]
