"""Showing probe progress on stderr: a bar on a terminal, nothing when not watched.

Progress is human chatter, so it goes to stderr, and only when stdout is a terminal too (a
result redirected to a file or a pipe means a script is running us, and scripts want no bars).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from clu_doctor.ui.console import OutputMode, is_terminal, make_console

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID


def watching() -> bool:
    """Is a person watching this run? (stdout and stderr are both terminals)."""
    return is_terminal(sys.stdout) and is_terminal(sys.stderr)


class TerminalEvents:
    """:class:`clu_doctor.probing.ProbeEvents` drawn as a rich progress bar per stage."""

    def __init__(self) -> None:
        from rich.progress import (
            BarColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeRemainingColumn,
        )

        mode = OutputMode.for_stream(sys.stderr)
        self._progress: Progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TimeRemainingColumn(),
            console=make_console(mode, sys.stderr),
            transient=True,
        )
        self._task: TaskID | None = None
        self._console = self._progress.console

    def stage(self, message: str, seconds: float | None) -> None:
        self._finish_task()
        if not self._progress.live.is_started:
            self._progress.start()
        self._task = self._progress.add_task(message, total=seconds)

    def progress(self, done: float, total: float) -> None:
        if self._task is not None and total > 0:
            self._progress.update(self._task, completed=done, total=total)

    def stage_done(self, summary: str) -> None:
        self._finish_task()
        self._console.print(f"[dim]{summary}[/dim]", highlight=False)

    def close(self) -> None:
        self._finish_task()
        if self._progress.live.is_started:
            self._progress.stop()

    def _finish_task(self) -> None:
        if self._task is not None:
            self._progress.remove_task(self._task)
            self._task = None

    def __enter__(self) -> TerminalEvents:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
