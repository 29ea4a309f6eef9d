"""The ``clu-doctor`` script and ``python -m clu_doctor``: the command line, safe from the first
instant.

This module imports nothing but a few small modules of the standard library, so it is
loaded within a few milliseconds of the interpreter. The command line itself (typer, rich, the
command being run) takes tens of milliseconds more to import, and a Ctrl-C in that time used to
end in a Python traceback. So from the moment this module is imported, until the command line
is loaded, Ctrl-C ends the program at once, with one line and exit 130: nothing has been done
that would need undoing. While a command runs, Ctrl-C is Python's KeyboardInterrupt again, which
the command line turns into its own clean exit 130 (closing ports, saying what was interrupted);
after it, a late Ctrl-C ends quietly.

(Before this module is imported, the Python interpreter is still starting; a Ctrl-C in those
first milliseconds is Python's own business.)

The cycle collector is held off while the command line loads: loading only builds what lives
as long as the process (modules, classes, the command), and collecting among it was a good
part of the start-up. Once the command is built (:func:`clu_doctor.cli.run`) all of that is
frozen (``gc.freeze``: never scanned again) and the collector runs as usual for the command's
own work. At the end, what is left is frozen too rather than scanned once more on the way out
(the interpreter still closes and frees everything as usual; only unreachable cycles are left
to the exit). Together that is about a sixth of a short command's time.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import sys
from types import FrameType
from typing import NoReturn

#: The shell's exit status for "interrupted" (128 + SIGINT).
INTERRUPTED = 130


def _interrupted_while_loading(signum: int, frame: FrameType | None) -> None:
    with contextlib.suppress(OSError, ValueError, AttributeError):  # no stderr: leave all the same
        os.write(sys.stderr.fileno(), b"\nclu-doctor: interrupted\n")
    os._exit(INTERRUPTED)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """Ctrl-C while a command runs: KeyboardInterrupt, which the command cleans up after.

    Except inside the import machinery's clean-up callback, where Python would swallow the
    exception ("Exception ignored in ... _get_module_lock") and the command would run on: there
    the signal is sent again a moment later, once that callback has returned.
    """
    code = frame.f_code if frame is not None else None
    if code is not None and code.co_name == "cb" and "importlib" in code.co_filename:
        import threading  # already loaded by then (the import lock uses it)

        threading.Timer(0.005, os.kill, (os.getpid(), signal.SIGINT)).start()
        return
    raise KeyboardInterrupt


def _leave_quietly(signum: int, frame: FrameType | None) -> None:
    """A Ctrl-C after the command has finished (output flushed, interpreter winding down)."""
    os._exit(INTERRUPTED)


def _on_interrupt(handler: signal.Handlers | object) -> None:
    # ValueError: not the main thread (imported by a test runner's worker): leave it be.
    with contextlib.suppress(ValueError):
        signal.signal(signal.SIGINT, handler)  # type: ignore[arg-type]


# Imported by the console script just before it calls main(): from here on, no traceback.
_on_interrupt(_interrupted_while_loading)


def main() -> NoReturn:
    """Run the command line; exit with its code (130 for Ctrl-C, whenever it comes)."""
    _on_interrupt(_interrupted_while_loading)  # again, for a caller that imported us earlier
    held = gc.isenabled()  # (a caller that turned it off keeps it off)
    gc.disable()  # until the command is built: see the module docstring
    from clu_doctor.cli import main as command_line  # tens of milliseconds, Ctrl-C safe

    _on_interrupt(_interrupt)  # a command cleans up after KeyboardInterrupt
    try:
        command_line(collector_held=held)
    except KeyboardInterrupt:
        try:
            sys.stdout.flush()
            print("\nclu-doctor: interrupted", file=sys.stderr, flush=True)
        except (OSError, ValueError, KeyboardInterrupt):
            pass  # a closed stream or a second Ctrl-C: leave all the same
        os._exit(INTERRUPTED)
    except SystemExit:
        # Done: a Ctrl-C while Python winds down (threads, atexit) has nothing to interrupt.
        _on_interrupt(_leave_quietly)
        gc.freeze()  # no last scan of every object on the way out (see the module docstring)
        raise
    raise SystemExit(0)  # the command line always exits; this only satisfies NoReturn


if __name__ == "__main__":
    main()
