"""How output should look: styled for a terminal, plain and stable when piped, and the words
and colours every renderer shows for a severity (:data:`LOOKS`).

Rich is imported only when something is actually rendered for a terminal, so machine-output
paths (``--json``, Nagios, piped text) stay fast.
"""

from __future__ import annotations

import io
import os
import re
import sys
from collections.abc import Mapping
from types import MappingProxyType
from typing import IO, TYPE_CHECKING, NamedTuple

from clu_doctor.i18n import N_
from clu_doctor.severity import Severity

if TYPE_CHECKING:
    from rich.console import Console  # rich: text output only (JSON runs never load it)

#: Width of plain output when piped (unless ``$COLUMNS`` says otherwise): fixed so that output
#: is byte-for-byte stable.
PLAIN_WIDTH = 100
#: The narrowest and the widest output rendered, whatever the terminal.
MIN_WIDTH, MAX_WIDTH = 40, 140


#: Compiled on first use (by the re module's cache): only styled output needs it.
_TRAILING_BLANKS = r"\s+((?:\x1b\[[0-9;]*m)*)$"


class Look(NamedTuple):
    """How one severity is shown. The renderers only look it up; the severity itself is
    decided before them (by the rules, the site's thresholds, or the bus command's status).

    (A named tuple, as :class:`OutputMode`: every run imports this module, and a dataclass
    costs a compile of its methods at import, about as long as the rest of the module.)"""

    #: As the overall status of a result, in monitoring terms (``info`` is OK).
    status: str
    #: As the severity of one finding or verdict in a list.
    word: str
    #: As a finding in a diagnosis or the rule list, where ``unknown`` means "undecided: look
    #: at X" rather than "could not check" (in English: the text report shows it through
    #: :func:`clu_doctor.i18n._`; ``status`` and ``word`` are monitoring terms, never
    #: translated).
    label: str
    #: Its colour on a terminal.
    colour: str

    @property
    def style(self) -> str:
        """Its style where it heads a line: the colour, bold."""
        return f"bold {self.colour}"


#: Every severity's words and colour: the one table the renderers share.
LOOKS: Mapping[Severity, Look] = MappingProxyType(
    {
        Severity.OK: Look("OK", "OK", N_("OK"), "green"),
        Severity.INFO: Look("OK", "INFO", N_("INFO"), "cyan"),
        Severity.WARNING: Look("WARNING", "WARNING", N_("WARNING"), "yellow"),
        Severity.CRITICAL: Look("CRITICAL", "CRITICAL", N_("CRITICAL"), "red"),
        Severity.UNKNOWN: Look("UNKNOWN", "UNKNOWN", N_("UNDECIDED"), "magenta"),
    }
)


def is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class OutputMode(NamedTuple):
    """Whether to style output (colour, boxes, progress) and how wide to render it."""

    styled: bool
    width: int

    @classmethod
    def for_stream(cls, stream: IO[str] | None = None) -> OutputMode:
        """Styled on a terminal (unless ``TERM=dumb``), plain when piped. The width is
        ``$COLUMNS`` when set (as for ``COLUMNS=80 clu-doctor diagnose | less``), else the
        terminal's, else :data:`PLAIN_WIDTH`; always between 40 and 140 columns."""
        stream = stream if stream is not None else sys.stdout
        columns = _columns_from_environment()
        if not is_terminal(stream) or os.environ.get("TERM") == "dumb":
            return cls(styled=False, width=columns or PLAIN_WIDTH)
        if columns is None:
            try:
                columns = os.get_terminal_size(stream.fileno()).columns
            except (OSError, ValueError):
                columns = PLAIN_WIDTH
        return cls(styled=True, width=_clamp(columns))


def _columns_from_environment() -> int | None:
    text = os.environ.get("COLUMNS", "").strip()
    return _clamp(int(text)) if text.isdigit() and int(text) > 0 else None


def _clamp(columns: int) -> int:
    return max(MIN_WIDTH, min(columns, MAX_WIDTH))


def make_console(mode: OutputMode, file: IO[str]) -> Console:
    """A rich Console writing to ``file`` with colour only in styled mode (NO_COLOR respected)."""
    from rich.console import Console  # rich: text output only (JSON runs never load it)

    return Console(
        file=file,
        width=mode.width,
        force_terminal=mode.styled,
        no_color=not mode.styled or "NO_COLOR" in os.environ,
        highlight=False,
        emoji=False,
        soft_wrap=False,
    )


def render_to_string(mode: OutputMode, *renderables: object) -> str:
    """Render rich renderables to a string (styled or plain) without touching the real streams."""
    buffer = io.StringIO()
    console = make_console(mode, buffer)
    for renderable in renderables:
        console.print(renderable)
    # Rich pads lines to the full width; trailing blanks (also those before a line's closing
    # style codes) only make output unstable.
    return "\n".join(
        re.sub(_TRAILING_BLANKS, r"\1", line.rstrip()) for line in buffer.getvalue().split("\n")
    )
