"""What ``--debug`` adds besides tracebacks: notes on things that went wrong quietly.

Some failures must not change what a command does or prints (a rulebook cache that cannot be
written makes a run slower, nothing else). They say so here, on stderr, only with ``--debug``
(or ``CLU_DOCTOR_DEBUG=1``); the command line switches it on.
"""

from __future__ import annotations

import sys

#: Set by the command line for ``--debug``.
enabled = False


def note(message: str) -> None:
    """``clu-doctor: debug: MESSAGE`` on stderr, with ``--debug`` only."""
    if enabled:
        print(f"clu-doctor: debug: {message}", file=sys.stderr)
