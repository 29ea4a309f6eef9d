"""Time for the bus and the simulator: one clock, real or virtual.

Every wait on the bus side (the link's answer window and quiet-line gap, a listening session,
listen-before-talk, the probes' elapsed times) and every step of the in-process simulator asks
a :class:`Clock` for the time and sleeps on it. Two clocks exist:

* :data:`SYSTEM`: :func:`time.monotonic` and :func:`time.sleep`, for real ports.
* :class:`VirtualClock`: time that moves only when someone sleeps, and then at once. The
  in-process simulator computes every byte's arrival from the clock it is given, so a link and
  a simulated site that share one virtual clock see exactly the exchanges they would see in real
  time, as fast as the CPU allows. A virtual clock is for one thread at a time.

Nobody has to thread a clock through every call: :func:`current` is the running clock, which
:class:`~clu_doctor.bus.link.Link`, the ``sim://`` port and :class:`~clu_doctor.sim.simulator.SimSite`
take when none is given. Production never changes it (it is :data:`SYSTEM`); a test runs the
real command line on a virtual clock with ``with use(VirtualClock()): cli.run([...])``.

What stays on the wall clock on purpose: threads that serve the simulator through a pty or a TCP
socket (their peers are real file descriptors read by other processes), the ``check`` command's
deadline (a ``SIGALRM`` that must fire whatever the code is doing) and SQLite's busy retries
(another process holds the lock for real).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Protocol

#: The last stretch before a deadline that :data:`SYSTEM` spins (yielding the GIL) instead of
#: sleeping: ``time.sleep`` and ``select`` overshoot by 50-100 us on Linux, more under load.
SPIN_S = 0.0003

#: The least a :class:`VirtualClock` moves on any sleep, so that a loop polling "until" a moment
#: always gets there, even when what it waits for is due "now" and a sleep of 0 is asked for.
MIN_STEP_S = 1e-6


class Clock(Protocol):
    """Where time comes from, and how to wait for it."""

    def now(self) -> float:
        """Seconds on this clock (only differences mean something)."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (0 or less: just let others run)."""
        ...

    def sleep_until(self, deadline: float) -> None:
        """Wait until :meth:`now` reaches ``deadline``; always waits a little, even if it has."""
        ...


class SystemClock:
    """The host's monotonic clock; :data:`SYSTEM` is the one instance anyone needs."""

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))

    def sleep_until(self, deadline: float, spin: float = SPIN_S) -> None:
        """A coarse sleep, then a short spin that yields, so the wake-up is on time."""
        time.sleep(0)  # lets other threads run even when the deadline has passed already
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            # The spin's sleep(0) releases the GIL, so client threads in this process keep running.
            time.sleep(remaining - spin if remaining > spin else 0)

    def __repr__(self) -> str:
        return "SYSTEM"


SYSTEM = SystemClock()


class VirtualClock:
    """A clock that stands still until someone sleeps on it; every sleep returns at once.

    Each sleep moves the time on by what was asked, and by at least ``min_step``: a loop that
    waits for something due "now" cannot spin forever on a clock that does not tick by itself.
    :meth:`advance` and :meth:`advance_to` move it by hand.
    """

    def __init__(self, start: float = 0.0, min_step: float = MIN_STEP_S) -> None:
        if min_step <= 0:
            raise ValueError(f"min_step must be positive, not {min_step}")
        self._now = start
        self.min_step = min_step

    def now(self) -> float:
        return self._now

    def sleep(self, seconds: float) -> None:
        self._now += max(seconds, self.min_step)

    def sleep_until(self, deadline: float) -> None:
        self._now = max(deadline, self._now + self.min_step)

    def advance(self, seconds: float) -> float:
        """Move on by ``seconds`` (not below zero); returns the new time."""
        if seconds < 0:
            raise ValueError(f"a clock does not go back ({seconds} s)")
        self._now += seconds
        return self._now

    def advance_to(self, when: float) -> float:
        """Move on to ``when`` (a time already past is left as it is); returns the new time."""
        self._now = max(self._now, when)
        return self._now

    def __repr__(self) -> str:
        return f"VirtualClock(now={self._now:.6f})"


#: The clock of the running context. A context variable, not a global: a thread starts with
#: the default (:data:`SYSTEM`), so a pump thread never picks up a test's virtual clock.
_CURRENT: ContextVar[Clock] = ContextVar("clu_doctor_clock", default=SYSTEM)


def current() -> Clock:
    """The clock of this process: :data:`SYSTEM` unless a :func:`use` block says otherwise."""
    return _CURRENT.get()


@contextmanager
def use(clock: Clock) -> Iterator[Clock]:
    """Make ``clock`` the process's clock for the block (the previous one comes back after)."""
    token = _CURRENT.set(clock)
    try:
        yield clock
    finally:
        _CURRENT.reset(token)


class Timeout:
    """A deadline on a clock, in the manner of pyserial's ``serialutil.Timeout``.

    ``Timeout(None)`` never expires; ``Timeout(0)`` is expired from the start. The clock is
    fixed when the timeout is made (default: :func:`current`); ``start`` is the clock time it
    runs from, if not now (an answer window runs from the moment the request was sent).
    """

    def __init__(
        self, duration: float | None, clock: Clock | None = None, *, start: float | None = None
    ) -> None:
        self.clock = clock or current()
        self.duration = duration
        self.started = 0.0
        self.deadline: float | None = None
        self.restart(duration, start=start)

    def restart(self, duration: float | None, *, start: float | None = None) -> None:
        """Start again from now (or ``start``), for ``duration`` seconds."""
        self.duration = duration
        self.started = self.clock.now() if start is None else start
        self.deadline = None if duration is None else self.started + duration

    def time_left(self) -> float | None:
        """Seconds until the deadline (0 once it has passed), ``None`` if there is none."""
        if self.deadline is None:
            return None
        return max(0.0, self.deadline - self.clock.now())

    def expired(self) -> bool:
        return self.deadline is not None and self.clock.now() >= self.deadline

    def elapsed(self) -> float:
        """Seconds since the timeout was (re)started."""
        return self.clock.now() - self.started
