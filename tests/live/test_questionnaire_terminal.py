"""The questionnaire through a real pseudo-terminal, as a technician types it."""

from __future__ import annotations

import json
import os
import sys

import pexpect

from tests.commands.helpers import REPO


def spawn(*args: str) -> pexpect.spawn:
    env = {**os.environ, "TERM": "xterm", "NO_COLOR": "1", "COLUMNS": "100"}
    return pexpect.spawn(
        sys.executable,
        ["-m", "clu_doctor", "diagnose", *args],
        cwd=str(REPO),
        env=env,
        encoding="utf-8",
        timeout=90,  # generous: a loaded CI machine starts Python slowly
        dimensions=(40, 100),
    )


def answer(child: pexpect.spawn, question: str, reply: str) -> None:
    child.expect_exact(question)
    child.expect_exact("> ")
    child.sendline(reply)


def finish(child: pexpect.spawn) -> int:
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus is not None
    return child.exitstatus


def test_answering_with_dont_know_and_going_back() -> None:
    child = spawn()
    answer(child, "red LED on the CLU main unit", "1")  # off: a mistake
    answer(child, "green LED on the CLU main unit", "b")
    answer(child, "red LED on the CLU main unit", "steady")
    answer(child, "green LED on the CLU main unit", "3")
    answer(child, "red LED on the CLU's USB interface", "flashing")
    answer(child, "green LED on the CLU's USB interface", "off")
    answer(child, "How long ago was the CLU last powered up?", "10m")
    answer(child, "Can you look at the CloudCharge portal", "skip")  # not checked: no backend
    child.expect_exact("USB-BUS-01")
    child.expect(r"Result: (\x1b\[[0-9;]*m)*CRITICAL")  # styled: bold survives NO_COLOR
    output = child.before
    assert "Traceback" not in output
    assert finish(child) == 2


def test_json_result_goes_to_stdout_while_questions_are_asked() -> None:
    child = spawn("--json", "-o", "clu.power_led=off", "-o", "clu.status_led=off")
    answer(child, "Can you look at the CloudCharge portal", "1")
    answer(child, "heartbeat timeout", "no")
    answer(child, "energy-meter", "?")
    child.expect(pexpect.EOF)
    text = child.before
    child.close()
    assert child.exitstatus == 2
    document = json.loads(text[text.index("{") :])
    assert document["findings"][0]["id"] == "CLU-PWR-01"


def test_ctrl_c_exits_130_without_traceback() -> None:
    child = spawn()
    child.expect_exact("> ")
    child.sendintr()
    child.expect(pexpect.EOF)
    text = child.before
    child.close()
    assert child.exitstatus == 130
    assert "interrupted" in text
    assert "Traceback" not in text


def test_q_leaves_like_ctrl_c() -> None:
    child = spawn()
    answer(child, "red LED on the CLU main unit", "2")
    answer(child, "green LED on the CLU main unit", "q")
    child.expect(pexpect.EOF)
    text = child.before
    child.close()
    assert child.exitstatus == 130
    assert "interrupted" in text
    assert "Traceback" not in text
    assert "Result:" not in text


def test_ctrl_d_aborts_cleanly() -> None:
    child = spawn()
    child.expect_exact("> ")
    child.sendeof()
    child.expect(pexpect.EOF)
    text = child.before
    child.close()
    assert child.exitstatus == 130
    assert "Traceback" not in text


def test_json_output_of_a_full_session_parses() -> None:
    child = spawn("--json", "--no-input")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 3
    assert json.loads(child.before)["status"] == "unknown"


def test_with_a_bus_only_what_the_bus_cannot_tell_is_asked() -> None:
    child = spawn("--sim", "cable-break?time_scale=4", "--listen-seconds", "3")
    answer(child, "does charging start?", "?")
    answer(child, "Can you look at the CloudCharge portal", "2")
    child.expect_exact("BUS-BREAK-01")
    child.expect(pexpect.EOF)
    transcript = child.before
    child.close()
    assert child.exitstatus == 2
    assert "LED on the CLU main unit" not in transcript
    assert "Traceback" not in transcript


def _norwegian(message: str) -> str:
    from clu_doctor import i18n

    i18n.activate("nb")
    try:
        return i18n._(message)
    finally:
        i18n.activate("en")


def test_a_norwegian_technician_answers_in_norwegian() -> None:
    """The whole questionnaire in bokmål, answered with Norwegian words: going back with
    'tilbake', "don't know" as 'vet ikke', the portal skipped with 'nei'."""
    from clu_doctor.engine import load_rulebook

    norsk = load_rulebook(language="nb")

    def question(key: str) -> str:
        return norsk.vocabulary.spec(key).question.split("{")[0][:40]

    child = spawn("--lang", "nb")
    from clu_doctor.ui.questionnaire import INTRO

    child.expect_exact(_norwegian(INTRO)[:30])
    answer(child, question("clu.power_led"), "av")  # a mistake: it is lit
    answer(child, question("clu.status_led"), "tilbake")
    answer(child, question("clu.power_led"), "lyser")
    answer(child, question("clu.status_led"), "blinker")
    answer(child, question("usb.red_led"), "blinker")
    answer(child, question("usb.green_led"), "mørk")
    answer(child, question("clu.uptime_s"), "vet ikke")
    group = norsk.vocabulary.groups["portal"]
    answer(child, group.question[:30], "nei")
    child.expect_exact(norsk.findings["USB-ASK-01"].title[:40])
    child.expect_exact(_norwegian("Result:"))
    transcript = child.before
    status = finish(child)
    assert status == 3  # the time since power-up is left open: undecided, not OK
    assert "Traceback" not in transcript
    for english in ("What to do:", "Summary", "don't know"):
        assert english not in transcript
