"""Waiting on the terminal: the offer, and a countdown on the clock that Ctrl-C ends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from clu_doctor.clock import VirtualClock
from clu_doctor.ui.questionnaire import Quit
from clu_doctor.ui.waiting import count_down, duration_text, offer_wait


def test_durations_read_as_a_person_says_them() -> None:
    assert duration_text(45) == "45 s"
    assert duration_text(90) == "1:30 min"
    assert duration_text(0.2) == "1 s"  # a countdown shows 0 only when the time is up
    assert duration_text(4.0003, up=False) == "4 s"


def offer(*lines: str) -> tuple[bool, str]:
    feed: Iterator[str] = iter(lines)
    shown: list[str] = []
    return offer_wait(90, lambda: next(feed), shown.append), "".join(shown)


def test_enter_or_yes_waits_and_no_does_not() -> None:
    assert offer("")[0] is True
    assert offer("Y")[0] is True
    assert offer("n")[0] is False


def test_the_offer_says_how_long_and_explains_a_bad_answer() -> None:
    take, text = offer("maybe", "y")
    assert take is True
    assert "The result can change in 1:30 min." in text
    assert "Type y to wait (or just Enter), n to stop here, q to quit." in text


def test_q_at_the_offer_leaves() -> None:
    with pytest.raises(Quit):
        offer("q")


def test_the_countdown_ticks_each_second_on_the_clock() -> None:
    clock = VirtualClock(start=1000.0)
    shown: list[str] = []
    waited = count_down(3, shown.append, clock)
    assert waited == pytest.approx(3.0)
    assert clock.now() == pytest.approx(1003.0)
    assert [line.strip() for line in shown] == [
        "Waiting: 3 s left (Ctrl-C stops)",
        "Waiting: 2 s left (Ctrl-C stops)",
        "Waiting: 1 s left (Ctrl-C stops)",
        "Waited 3 s.",
    ]
    assert all(line.startswith("\r") for line in shown)  # one line, redrawn in place


class _InterruptedClock(VirtualClock):
    """Ctrl-C arrives during the second sleep."""

    def __init__(self) -> None:
        super().__init__()
        self.sleeps = 0

    def sleep_until(self, deadline: float) -> None:
        self.sleeps += 1
        if self.sleeps == 2:
            raise KeyboardInterrupt
        super().sleep_until(deadline)


def test_ctrl_c_during_the_countdown_ends_its_line_and_goes_on_up() -> None:
    shown: list[str] = []
    with pytest.raises(KeyboardInterrupt):
        count_down(90, shown.append, _InterruptedClock())
    assert shown[-1] == "\n"
    assert "Waited" not in "".join(shown)
