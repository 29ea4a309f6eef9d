"""Waiting for a CLU that is still starting, through a real pseudo-terminal.

The wait is shortened by the answer itself: powered up 148 s ago leaves 2 s of the manual's
150 s. The test waits for what the person would see (the prompts, the countdown's last line),
never for a duration. When to come back comes from the engine (``Diagnosis.wait_s``).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pexpect

from tests.commands.helpers import REPO

STARTING = (
    "-o", "clu.power_led=steady", "-o", "clu.status_led=flashing",
    "-o", "usb.red_led=off", "-o", "usb.green_led=off",
)  # fmt: skip


def command() -> list[str]:
    return ["-m", "clu_doctor"]


def spawn(*args: str) -> pexpect.spawn:
    env = {**os.environ, "TERM": "xterm", "NO_COLOR": "1", "COLUMNS": "100"}
    return pexpect.spawn(
        sys.executable,
        [*command(), "diagnose", *args],
        cwd=str(REPO),
        env=env,
        encoding="utf-8",
        timeout=90,  # generous: a loaded CI machine starts Python slowly
        dimensions=(40, 100),
    )


def answer(child: pexpect.spawn, prompt: str, reply: str) -> None:
    child.expect_exact(prompt)
    child.sendline(reply)


def test_the_countdown_runs_and_the_leds_are_asked_again() -> None:
    child = spawn(*STARTING, "-o", "clu.uptime_s=148")
    answer(child, "Can you look at the CloudCharge portal for this CLU now?", "2")
    child.expect_exact("The result can change in 2 s.")
    assert "USB-WAIT-01" in child.before  # the result so far, on the terminal, before the offer
    answer(child, "Wait here, then look again? [Y/n] ", "")
    child.expect_exact("Waiting: 2 s left (Ctrl-C stops)")
    child.expect_exact("Waited 2 s.")
    child.expect_exact("Look again.")
    answer(child, "Before: 2 steady. Enter keeps it.", "")  # the CLU's red LED
    answer(child, "Before: 3 flashing. Enter keeps it.", "")  # its green LED
    answer(child, "red LED on the CLU's USB interface", "flashing")
    answer(child, "green LED on the CLU's USB interface", "flashing")
    answer(child, "does charging start?", "yes")
    child.expect_exact("USB-OK-01")
    child.expect(pexpect.EOF)
    transcript = child.before
    child.close()
    assert child.exitstatus == 0
    assert "Traceback" not in transcript
    assert "USB-WAIT-01" not in transcript  # after waiting: only the new result
    assert "Can you look at the CloudCharge portal" not in transcript  # skipped: not again


def test_ctrl_c_during_the_countdown_exits_130_cleanly() -> None:
    child = spawn(*STARTING, "-o", "clu.uptime_s=60")
    answer(child, "Can you look at the CloudCharge portal for this CLU now?", "2")
    answer(child, "Wait here, then look again? [Y/n] ", "y")
    child.expect_exact("left (Ctrl-C stops)")
    child.sendintr()
    child.expect(pexpect.EOF)
    text = child.before
    child.close()
    assert child.exitstatus == 130
    assert "Traceback" not in text
    assert "Look again" not in text


def test_without_a_terminal_nothing_is_offered() -> None:
    proc = subprocess.run(
        [sys.executable, *command(), "diagnose", *STARTING, "-o", "clu.uptime_s=60"],
        input="y\n",
        capture_output=True,
        text=True,
        timeout=90,
        cwd=REPO,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert "Traceback" not in proc.stderr
    assert "Wait here" not in proc.stderr and "Waiting" not in proc.stderr
    assert "USB-WAIT-01" in proc.stdout
