"""Waiting on the terminal: offer to wait until the result can change, then count down.

A diagnosis that cannot be decided yet (the CLU still starting) says how many seconds until
it can (``Diagnosis.wait_s``). On a terminal the technician is offered to wait here rather
than come back: a countdown on stderr, on the process's clock (a test's virtual clock makes
it instant), which Ctrl-C ends like any other moment of the run (exit 130). What to do after
the wait (ask again, listen again) is the command's business.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from clu_doctor import clock
from clu_doctor.ui.questionnaire import QUIT, Quit

YES = frozenset({"", "y", "yes", "1"})
NO = frozenset({"n", "no", "2"})


def duration_text(seconds: float, *, up: bool = True) -> str:
    """``45 s``, ``2:30 min``, in whole seconds: rounded up by default (a countdown never
    shows 0 before the time is up), else to the nearest."""
    whole = max(0, math.ceil(seconds - 1e-9) if up else round(seconds))
    if whole < 60:
        return f"{whole} s"
    return f"{whole // 60}:{whole % 60:02d} min"


def offer_wait(seconds: float, read_line: Callable[[], str], write: Callable[[str], None]) -> bool:
    """Ask whether to wait ``seconds`` here and look again; Enter means yes, ``q`` leaves."""
    write(f"\nThe result can change in {duration_text(seconds)}.\n")
    while True:
        write("Wait here, then look again? [Y/n] ")
        word = read_line().strip().lower()
        if word in QUIT:
            raise Quit
        if word in YES:
            return True
        if word in NO:
            return False
        write("  Type y to wait (or just Enter), n to stop here, q to quit.\n")


def count_down(
    seconds: float, write: Callable[[str], None], on: clock.Clock | None = None
) -> float:
    """Wait ``seconds`` on the clock, showing the time left once a second; returns the
    seconds actually waited. Ctrl-C raises ``KeyboardInterrupt`` as usual, after ending
    the countdown's line so that the next message starts on a clean one."""
    timer = on or clock.current()
    start = timer.now()
    deadline = start + seconds
    try:
        while (left := deadline - timer.now()) > 0:
            write(f"\r  Waiting: {duration_text(left)} left (Ctrl-C stops)   ")
            # to the next whole second of the countdown, so the display ticks evenly
            step = left - math.floor(left - 1e-9) if left > 1 else left
            timer.sleep_until(timer.now() + step)
    except KeyboardInterrupt:
        write("\n")
        raise
    waited = timer.now() - start
    write(f"\r  Waited {duration_text(waited, up=False)}.{' ' * 24}\n")
    return waited
