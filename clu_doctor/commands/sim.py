"""``clu-doctor sim`` and ``clu-doctor ports``: the simulated site and the machine's serial ports."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Attached once the simulator and port listing are wired (see below)."""
