"""A check stopped from outside: SIGTERM (systemd stopping the unit, a monitoring engine's
timeout, ``kill``) or SIGINT (Ctrl-C).

A monitoring plugin that dies without a word leaves the operator with "exit 143, no output".
Instead, while :func:`signals_as_interrupts` is active, SIGTERM raises :class:`Interrupted` in
the main thread, and Ctrl-C's :class:`KeyboardInterrupt` is treated alike: the check closes
the port on the way out (``with`` blocks and ``finally`` clauses run), then says UNKNOWN in
the format asked for and records it, like any check that could not check.

:class:`Interrupted` derives from :class:`BaseException`, like :class:`KeyboardInterrupt`, so
no ``except Exception`` on the way swallows it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from types import FrameType

from clu_doctor.exitcodes import ExitCode


class Interrupted(BaseException):
    """The check was stopped by a signal."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.name = signal.Signals(signum).name
        super().__init__(f"stopped by {self.name}")

    @property
    def exit_code(self) -> ExitCode:
        """130 for Ctrl-C (the shell's convention); 3 UNKNOWN for SIGTERM, which is how a
        monitoring system or a service manager stops a check."""
        return ExitCode.INTERRUPTED if self.signum == signal.SIGINT else ExitCode.UNKNOWN


def as_interrupted(error: BaseException) -> Interrupted | None:
    """``error`` as an :class:`Interrupted`, if it is one or a Ctrl-C; else ``None``."""
    if isinstance(error, Interrupted):
        return error
    if isinstance(error, KeyboardInterrupt):
        return Interrupted(signal.SIGINT)
    return None


@contextlib.contextmanager
def signals_as_interrupts() -> Iterator[None]:
    """SIGTERM raises :class:`Interrupted` in the block (SIGINT keeps raising
    KeyboardInterrupt). Only from the main thread; elsewhere it does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: FrameType | None) -> None:
        raise Interrupted(signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def second_signal_ends_at_once(code: int) -> Iterator[None]:
    """While the interrupted check reports and records, a second SIGINT or SIGTERM ends the
    process at once with ``code`` (no traceback, no half-written line after it)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def leave(signum: int, frame: FrameType | None) -> None:
        os._exit(code)

    previous = {number: signal.signal(number, leave) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def unwrapped(error: BaseException) -> BaseException:
    """What a signal raised, when Python handed it on as another exception: on 3.10 and 3.11,
    one raised while a class is being created (a module imported in the middle of a check)
    comes out as "RuntimeError: Error calling __set_name__", the signal's exception (Ctrl-C,
    SIGTERM, the check's deadline) as its cause. Any other error as it is."""
    from clu_doctor.monitoring.deadline import DeadlineExpired

    cause = error.__cause__
    if isinstance(error, RuntimeError) and isinstance(
        cause, (KeyboardInterrupt, Interrupted, DeadlineExpired)
    ):
        return cause
    return error
