"""A hard upper bound on a block of work, port opening included.

An unattended check must never hang: a USB adapter that stops answering can block ``open()``
inside the kernel, a ``socket://`` port can wait on an unreachable host, and a bus that babbles
can keep a probe busy. :func:`deadline` interrupts the block wherever it is, by raising
:class:`DeadlineExpired` in the main thread when the time is up: on POSIX from a ``SIGALRM``
timer (which also breaks a blocking system call), elsewhere from a watchdog thread through
:func:`_thread.interrupt_main` (which takes effect at the next Python instruction).

:class:`DeadlineExpired` derives from :class:`BaseException`, like :class:`KeyboardInterrupt`,
so that no ``except Exception`` on the way can swallow it; ``with`` blocks and ``finally``
clauses still run, so ports are closed on the way out.

The deadline runs on the wall clock (:func:`time.monotonic` and the OS timer), never on
:mod:`clu_doctor.clock`: it must stop a block that hangs in the kernel, whatever the bus waits on.
"""

from __future__ import annotations

import _thread
import contextlib
import signal
import threading
import time
from collections.abc import Iterator
from types import FrameType


class DeadlineExpired(BaseException):
    """The time given to :func:`deadline` ran out."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"deadline of {seconds:g} s expired")
        self.seconds = seconds


class Deadline:
    """How much of the time is left (for waits inside the block that have their own limit)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = time.monotonic()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @property
    def remaining(self) -> float:
        return max(0.0, self.seconds - self.elapsed)


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[Deadline]:
    """Run the block for at most ``seconds``; then raise :class:`DeadlineExpired` inside it.

    Must be entered from the main thread (signals are delivered there). Not re-entrant: one
    deadline at a time.
    """
    if seconds <= 0:
        raise ValueError(f"a deadline must be positive, not {seconds}")
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("deadline() must be used from the main thread")
    state = Deadline(seconds)
    if hasattr(signal, "setitimer"):
        with _alarm(seconds):
            yield state
    else:  # pragma: no cover - Windows
        with _watchdog(seconds):
            yield state


@contextlib.contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    def expire(signum: int, frame: FrameType | None) -> None:
        raise DeadlineExpired(seconds)

    previous = signal.signal(signal.SIGALRM, expire)
    outer_delay, outer_interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    armed = time.monotonic()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer_delay > 0:  # someone else's alarm (a test runner's timeout): give it back
            left = outer_delay - (time.monotonic() - armed)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-3), outer_interval)


@contextlib.contextmanager
def _watchdog(seconds: float) -> Iterator[None]:  # pragma: no cover - Windows
    fired = threading.Event()
    done = threading.Event()

    def watch() -> None:
        if not done.wait(seconds):
            fired.set()
            _thread.interrupt_main()

    thread = threading.Thread(target=watch, name="clu-doctor-deadline", daemon=True)
    thread.start()
    try:
        yield
    except KeyboardInterrupt:
        if fired.is_set():
            raise DeadlineExpired(seconds) from None
        raise
    finally:
        done.set()
