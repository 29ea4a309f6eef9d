"""Showing probe progress on stderr: a bar (and a live table when listening) for a person.

Progress is human chatter, so it goes to stderr, and only when stdout is a terminal too (a
result redirected to a file or a pipe means a script is running us, and scripts want no bars).
Everything is drawn in one transient live display, so the final result prints cleanly.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from clu_doctor.report.console import OutputMode, is_terminal, make_console

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.progress import TaskID

    from clu_doctor.bus.listen.report import ListenReport
    from clu_doctor.site.model import Site


def watching() -> bool:
    """Is a person watching this run? (stdout and stderr are both terminals)."""
    return is_terminal(sys.stdout) and is_terminal(sys.stderr)


class TerminalEvents:
    """:class:`clu_doctor.probing.ProbeEvents` drawn on stderr; a context manager.

    ``table=True`` adds the per-address listen table under the bar, redrawn from the
    analyser's snapshot a few times a second.
    """

    def __init__(self, *, table: bool = False, site: Site | None = None) -> None:
        # rich only once progress is drawn (a terminal on stderr): piped runs never load it
        from rich.live import Live
        from rich.progress import (
            BarColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeRemainingColumn,
        )

        self._mode = OutputMode.for_stream(sys.stderr)
        self._console = make_console(self._mode, sys.stderr)
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TimeRemainingColumn(),
            console=self._console,
        )
        self._live = Live(self, console=self._console, refresh_per_second=4, transient=True)
        self._task: TaskID | None = None
        self._table = table
        self._site = site
        self._snapshot: Callable[[], ListenReport] | None = None

    def __rich__(self) -> RenderableType:
        from rich.console import Group  # drawn: rich is loaded already

        parts: list[RenderableType] = [self._progress]
        if self._table and self._snapshot is not None:
            from clu_doctor.report.probes import listen_table  # only the listen commands draw it

            parts.append(listen_table(self._snapshot(), self._mode, self._site))
        return Group(*parts)

    def stage(self, message: str, seconds: float | None) -> None:
        self._finish_task()
        if not self._live.is_started:
            self._live.start()
        self._task = self._progress.add_task(message, total=seconds)

    def progress(self, done: float, total: float) -> None:
        if self._task is not None and total > 0:
            self._progress.update(self._task, completed=done, total=total)

    def stage_done(self, summary: str) -> None:
        self._finish_task()
        self._snapshot = None
        # Stop redrawing between stages: a question may be asked on this terminal next.
        if self._live.is_started:
            self._live.stop()
        self._console.print(f"[dim]{summary}[/dim]", highlight=False)

    def watch(self, snapshot: Callable[[], ListenReport]) -> None:
        self._snapshot = snapshot

    def close(self) -> None:
        self._finish_task()
        if self._live.is_started:
            self._live.stop()

    def _finish_task(self) -> None:
        if self._task is not None:
            self._progress.remove_task(self._task)
            self._task = None

    def __enter__(self) -> TerminalEvents:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def terminal_events(
    stack: contextlib.ExitStack, *, table: bool = False, site: Site | None = None
) -> TerminalEvents | None:
    """Progress (and, for listening, a live table) on stderr when a person watches, entered
    on ``stack``; ``None`` in scripts, cron and pipes."""
    if not watching():
        return None
    return stack.enter_context(TerminalEvents(table=table, site=site))
