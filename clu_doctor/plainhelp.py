"""The help pages as typer draws them, drawn without rich: for a help read through a pipe.

``clu-doctor check --help`` is drawn by typer with rich: panels of options in tables. On a
terminal that is colour and bold; through a pipe (``| less``, a file, a test) rich draws the
very same characters without a single escape code, and importing rich's drawing code and
laying out the tables is most of what such a help costs (about half again the time of
importing the toolkit). This module lays the page out as rich does (the same words in the
same cells, wrapped at the same places, in the same rounded boxes) in plain Python, so that
a help that is not shown on a terminal never imports rich. ``tests/test_plain_help.py``
holds every help page of the command line, in every language and at many widths, and
generated ones besides, to be byte for byte what typer and rich draw.

It is used only where it is sure to draw the same page: stdout not a terminal and nothing
in the environment that makes rich draw for one (``FORCE_COLOR``, ``TTY_COMPATIBLE``...), a
UTF-8 stdout (else rich draws ASCII boxes), POSIX, a sane width, and texts with nothing rich
would interpret (markup tags, emoji codes, escape codes, tabs) or measure specially (wide or
combining characters). Anything else, and typer draws the page as always.

The layout follows rich's ``Padding``, ``Align``, ``Panel``, ``Table`` (column widths:
measure, collapse, expand), ``Columns`` and ``Text`` (word wrap, fold and ellipsis), and
typer's ``rich_format_help`` (which panels, in which order, with which cells).
"""

from __future__ import annotations

import builtins
import inspect
import itertools
import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from math import ceil
from typing import Any, NamedTuple

from clu_doctor.cells import break_points, cell_len, collapse_widths, ratio_reduce

_REQUIRED_SHORT = "*"
_RANGE = " [{}]"
#: Environment variables under which rich (or typer) may draw differently than plainly.
_RICH_ENVIRONMENT = (
    "FORCE_COLOR",
    "PY_COLORS",
    "GITHUB_ACTIONS",
    "TTY_COMPATIBLE",
    "TTY_INTERACTIVE",
    "TERMINAL_WIDTH",
    "_TYPER_FORCE_DISABLE_TERMINAL",
    "TYPER_USE_RICH",
    "JUPYTER_COLUMNS",
    "JUPYTER_LINES",
)
#: Widths the layout has been compared with rich's at (tests/test_plain_help.py).
MIN_WIDTH, MAX_WIDTH = 30, 400
#: The releases of rich and typer the layout has been compared with (tests/test_plain_help.py,
#: run under each): with any other, typer draws the help. rich 13 counts the cell padding of
#: a table's edge columns in their width, and trims the spaces off an unwrapped line's end.
RICH_RELEASES = ("13.9.4", "15.0.0")
TYPER_RELEASES = ("0.27.2", "0.28.0")

#: Characters rich measures as one cell each (its own table of them, rich.cells), and "\n".
_ONE_CELL = frozenset(
    chr(code)
    for low, high in ((0x20, 0x7E), (0xA0, 0xAC), (0xAE, 0x2FF), (0x370, 0x482))
    for code in range(low, high + 1)
) | {"\n"}
#: What rich's markup would take for a tag (rich.markup.RE_TAGS), an escaped bracket or an
#: emoji code (":smile:").
_INTERPRETED = re.compile(r"((\\*)\[([a-z#/@][^[]*?)])|\\\[|:\S*?:")
_TRAILING_SPACE = re.compile(r"\s+$")


class Unplain(Exception):
    """The page holds something this module does not draw as rich would."""


# --- where it applies --------------------------------------------------------------------------


def page_width(environ: Mapping[str, str] | None = None, stream: Any = None) -> int | None:
    """The width rich would draw a help page at on ``stream`` (stdout), when it would draw it
    without a single escape code and this module draws the same; None otherwise."""
    env = os.environ if environ is None else environ
    out = sys.stdout if stream is None else stream
    if os.name != "posix" or any(name in env for name in _RICH_ENVIRONMENT):
        return None
    try:
        if out.isatty():
            return None
    except (AttributeError, ValueError):
        return None
    encoding = (getattr(out, "encoding", "utf-8") or "utf-8").lower()
    if not encoding.startswith("utf") or hasattr(builtins, "get_ipython"):  # ASCII, Jupyter
        return None
    width = _console_width(env)
    if not MIN_WIDTH <= width <= MAX_WIDTH or _releases() is None:
        return None
    return width


_RELEASES: list[tuple[str, str] | None] = []


def _releases() -> tuple[str, str] | None:
    """The releases of rich and typer installed, when they are ones the layout was compared
    with: rich's by its one ``rich-<release>.dist-info`` beside it (``importlib.metadata``
    takes longer to import than drawing the page)."""
    if not _RELEASES:
        _RELEASES.append(_find_releases())
    return _RELEASES[0]


def _find_releases() -> tuple[str, str] | None:
    import importlib.util  # loaded with the command line already

    import typer

    typer_release = getattr(typer, "__version__", "")
    rich = importlib.util.find_spec("rich")  # where it is, without importing it
    if typer_release not in TYPER_RELEASES or rich is None or not rich.origin:
        return None
    where = os.path.dirname(os.path.dirname(os.path.abspath(rich.origin)))
    try:
        with os.scandir(where) as entries:
            found = [
                entry.name[len("rich-") : -len(".dist-info")]
                for entry in entries
                if entry.name.startswith("rich-") and entry.name.endswith(".dist-info")
            ]
    except OSError:
        return None
    if len(found) != 1 or found[0] not in RICH_RELEASES:
        return None
    return found[0], typer_release


def _rich_13() -> bool:
    releases = _releases()
    if releases is None:
        raise Unplain("a release of rich or typer the layout was not compared with")
    return releases[0].startswith("13.")


def _console_width(env: Mapping[str, str]) -> int:
    """rich's ``Console().width`` where it is not a terminal: ``COLUMNS``, else the first of
    stdin, stdout and stderr that is a terminal, else 80."""
    columns = env.get("COLUMNS")
    if columns is not None and columns.isdigit():
        return int(columns)
    width = 0
    for descriptor in (0, 1, 2):
        try:
            width = os.get_terminal_size(descriptor).columns
        except (AttributeError, ValueError, OSError):
            continue
        break
    return width or 80


# --- rich's layout, for plain text ---------------------------------------------------------------


class _Options(NamedTuple):
    width: int
    justify: str | None = None
    overflow: str | None = None
    no_wrap: bool | None = None


class _Text(NamedTuple):
    """rich's ``Text``: words wrapped to the width, or folded, or cut with an ellipsis."""

    plain: str
    overflow: str | None = None
    no_wrap: bool | None = None


class _Padding(NamedTuple):
    inner: Any
    top: int
    right: int
    bottom: int
    left: int


class _Align(NamedTuple):
    """rich's ``Align(..., pad=False)``, to the left."""

    inner: Any


class _Group(NamedTuple):
    parts: Sequence[Any]


class _Columns(NamedTuple):
    """rich's ``Columns``: items side by side while they fit, else below each other."""

    items: Sequence[_Text]


class _Column(NamedTuple):
    number: int
    cells: list[Any]
    width: int | None = None
    ratio: int | None = None
    no_wrap: bool = False
    justify: str = "left"
    overflow: str = "ellipsis"


class _Table(NamedTuple):
    """rich's ``Table`` without a box or a header, as typer and ``Columns`` make them."""

    columns: list[_Column]
    rows: int
    expand: bool
    collapse_padding: bool = False


class _Panel(NamedTuple):
    inner: Any
    title: str


def _measure(item: Any, options: _Options) -> tuple[int, int]:
    """rich's ``Measurement.get``: the least and the most width ``item`` can use."""
    most = options.width
    if most < 1:
        return (0, 0)
    if isinstance(item, _Text):
        lines = item.plain.splitlines()
        longest = max(map(cell_len, lines)) if lines else 0
        words = item.plain.split()
        least = max(map(cell_len, words)) if words else longest
        low, high = least, longest
    elif isinstance(item, _Padding):
        extra = item.left + item.right
        if most - extra < 1:
            low = high = most
        else:
            inner_low, inner_high = _measure(item.inner, options)
            low, high = inner_low + extra, min(inner_high + extra, most)
            low = min(low, most)
    elif isinstance(item, _Group):
        if not item.parts:
            low = high = 0
        else:
            sizes = [_measure(part, options) for part in item.parts]
            low, high = max(size[0] for size in sizes), max(size[1] for size in sizes)
    elif isinstance(item, _Columns):
        return (0, most)
    else:
        raise Unplain(f"cannot measure {type(item).__name__}")
    low, high = _normalize(low, high)
    low, high = min(low, most), min(high, most)
    if high < 1:
        return (0, 0)
    return _normalize(low, high)


def _normalize(low: int, high: int) -> tuple[int, int]:
    low = min(max(0, low), high)
    return (max(0, low), max(0, low, high))


def _render(item: Any, options: _Options) -> list[str]:
    """The lines ``item`` draws at ``options`` (rich's ``Console.render``, split in lines)."""
    if options.width < 1:
        return []
    if isinstance(item, _Text):
        return _text_lines(item, options)
    if isinstance(item, _Padding):
        width = options.width
        inner = _render_lines(item.inner, options._replace(width=width - item.left - item.right))
        blank = [" " * width] * item.top
        after = [" " * width] * item.bottom
        return [*blank, *(" " * item.left + line + " " * item.right for line in inner), *after]
    if isinstance(item, _Align):
        width = _measure(item.inner, options)[1]
        lines = _render(item.inner, options._replace(width=min(width, options.width)))
        shape = max(map(cell_len, lines), default=0)
        return [line.ljust(shape) for line in lines]
    if isinstance(item, _Group):
        return [line for part in item.parts for line in _render(part, options)]
    if isinstance(item, _Columns):
        return _columns_lines(item, options)
    if isinstance(item, _Table):
        return _table_lines(item, options)
    if isinstance(item, _Panel):
        return _panel_lines(item, options)
    raise Unplain(f"cannot draw {type(item).__name__}")


def _render_lines(item: Any, options: _Options) -> list[str]:
    """rich's ``Console.render_lines(..., pad=True)``: every line cut or padded to the width."""
    width = max(options.width, 0)
    return [_fit(line, width) for line in _render(item, options)]


def _fit(line: str, width: int) -> str:
    return line[:width] if len(line) > width else line.ljust(width)


def _text_lines(text: _Text, options: _Options) -> list[str]:
    """rich's ``Text.__rich_console__`` and ``Text.wrap``."""
    justify = options.justify or "default"
    overflow = text.overflow or options.overflow or "fold"
    if text.no_wrap is not None:
        no_wrap = text.no_wrap
    else:
        no_wrap = options.no_wrap if options.no_wrap is not None else False
    width = options.width
    lines: list[str] = []
    for line in text.plain.split("\n"):
        if no_wrap:
            pieces = [_rstrip_end(line, width)] if _rich_13() else [line]
        else:
            pieces = _divide(line, break_points(line, width, fold=overflow == "fold"))
            pieces = [_rstrip_end(piece, width) for piece in pieces]
        if justify == "left":
            pieces = [_truncate(piece, width, overflow, pad=True) for piece in pieces]
        elif justify != "default":
            raise Unplain(f"justify {justify}")
        lines.extend(_truncate(piece, width, overflow) for piece in pieces)
    return lines


def _divide(text: str, offsets: Sequence[int]) -> list[str]:
    if not offsets:
        return [text]
    edges = [0, *offsets, len(text)]
    return [text[start:end] for start, end in itertools.pairwise(edges)]


def _rstrip_end(text: str, size: int) -> str:
    if len(text) > size:
        match = _TRAILING_SPACE.search(text)
        if match is not None:
            return text[: len(text) - min(len(match.group(0)), len(text) - size)]
    return text


def _truncate(text: str, width: int, overflow: str | None, *, pad: bool = False) -> str:
    method = overflow or "fold"
    if method == "ignore":
        return text
    length = cell_len(text)
    if length > width:
        if method == "ellipsis":
            return _set_size(text, width - 1) + "…"
        return _set_size(text, width)
    if pad and length < width:
        return text + " " * (width - length)
    return text


def _set_size(text: str, total: int) -> str:
    return text + " " * (total - len(text)) if len(text) < total else text[:total]


def _panel_lines(panel: _Panel, options: _Options) -> list[str]:
    """rich's ``Panel`` (rounded box, title on the left, padding (0, 1), full width)."""
    width = options.width
    title = " " + panel.title.replace("\n", " ") + " "
    child = min(options.width - 2, max(width - 2, len(title) + 2))
    width = child + 2
    inner = _Padding(panel.inner, 0, 1, 0, 1)
    lines = _render_lines(inner, options._replace(width=child))
    if width <= 4:
        top = "╭" + "─" * (width - 2) + "╮"
    else:
        room = width - 4
        shown = title[:room]
        top = "╭─" + shown + "─" * (room - len(shown)) + "─╮"
    return [top, *("│" + line + "│" for line in lines), "╰" + "─" * (width - 2) + "╯"]


def _column_padding(table: _Table, index: int) -> tuple[int, int]:
    """The (left, right) padding of a column's cells: (0, 1) around, none at the edges."""
    left, right = 1, 1
    if table.collapse_padding and index > 0:
        left = max(0, left - right)
    if index == 0:
        left = 0
    if index == len(table.columns) - 1:
        right = 0
    return left, right


def _padding_width(table: _Table, index: int) -> int:
    left, right = 1, 1
    if _rich_13():
        if table.collapse_padding and index > 0:
            left = max(0, left - right)
        return left + right
    if table.collapse_padding:
        left = 0
        right = abs(left - right)
    if index == 0:
        left = 0
    if index == len(table.columns) - 1:
        right = 0
    return left + right


def _cell(table: _Table, column: _Column, row: int) -> _Padding:
    left, right = _column_padding(table, column.number)
    return _Padding(column.cells[row], 0, right, 0, left)


def _measure_column(table: _Table, options: _Options, column: _Column) -> tuple[int, int]:
    most = options.width
    if most < 1:
        return (0, 0)
    padding = _padding_width(table, column.number)
    if column.width is not None:
        return (min(column.width + padding, most), min(column.width + padding, most))
    sizes = [_measure(_cell(table, column, row), options) for row in range(table.rows)]
    low = max((size[0] for size in sizes), default=1)
    high = max((size[1] for size in sizes), default=most)
    return (min(low, most), min(high, most))


def _column_widths(table: _Table, options: _Options) -> list[int]:
    """rich's ``Table._calculate_column_widths``."""
    most = options.width
    columns = table.columns
    ranges = [_measure_column(table, options, column) for column in columns]
    widths = [high or 1 for _low, high in ranges]
    if table.expand:
        ratios = [column.ratio or 0 for column in columns if column.ratio is not None]
        if any(ratios):
            fixed = [
                0 if column.ratio is not None else high
                for (_low, high), column in zip(ranges, columns, strict=True)
            ]
            minimums = [
                (column.width or 1) + _padding_width(table, column.number)
                for column in columns
                if column.ratio is not None
            ]
            flexible = iter(_ratio_distribute(most - sum(fixed), ratios, minimums))
            for index, column in enumerate(columns):
                if column.ratio is not None:
                    widths[index] = fixed[index] + next(flexible)
    total = sum(widths)
    if total > most:
        wrapable = [column.width is None and not column.no_wrap for column in columns]
        widths = collapse_widths(widths, wrapable, most)
        total = sum(widths)
        if total > most:
            widths = ratio_reduce(total - most, [1] * len(widths), widths, widths)
            total = sum(widths)
        widths = [
            _measure_column(table, options._replace(width=width), column)[1] or 0
            for width, column in zip(widths, columns, strict=True)
        ]
    if total < most and table.expand:
        extra = _ratio_distribute(most - total, widths)
        widths = [width + add for width, add in zip(widths, extra, strict=True)]
    return widths


def _ratio_distribute(
    total: int, ratios: list[int], minimums: list[int] | None = None
) -> list[int]:
    """rich's ``_ratio.ratio_distribute``."""
    if minimums:
        ratios = [ratio if least else 0 for ratio, least in zip(ratios, minimums, strict=True)]
    total_ratio = sum(ratios)
    if total_ratio <= 0:
        raise Unplain("no ratio to distribute by")
    remaining = total
    result = []
    for ratio, least in zip(ratios, minimums or [0] * len(ratios), strict=True):
        distributed = (
            max(least, ceil(ratio * remaining / total_ratio)) if total_ratio > 0 else remaining
        )
        result.append(distributed)
        total_ratio -= ratio
        remaining -= distributed
    return result


def _table_lines(table: _Table, options: _Options) -> list[str]:
    """rich's ``Table.__rich_console__`` and ``Table._render`` (no box, no header)."""
    if not table.columns:
        return [""]
    widths = _column_widths(table, options)
    lines: list[str] = []
    for row in range(table.rows):
        cells = []
        for width, column in zip(widths, table.columns, strict=True):
            cell_options = _Options(width, column.justify, column.overflow, column.no_wrap)
            cells.append(_render_lines(_cell(table, column, row), cell_options))
        height = max(1, *(len(cell) for cell in cells))
        for width, cell in zip(widths, cells, strict=True):
            cell.extend([" " * width] * (height - len(cell)))
        lines.extend("".join(cell[number] for cell in cells) for number in range(height))
    return lines


def _columns_lines(columns: _Columns, options: _Options) -> list[str]:
    """rich's ``Columns`` (padding (0, 1), not expanded): as many items side by side as fit,
    in rows, laid out by a grid table."""
    items = list(columns.items)
    if not items:
        return []
    most = options.width
    sizes = [_measure(item, options)[1] for item in items]
    count = len(items)

    def placed(count: int) -> Iterator[tuple[int, Any]]:
        yield from zip(sizes, items, strict=True)
        if len(items) % count:
            for _ in range(count - len(items) % count):
                yield 0, None

    while count > 1:
        widths: dict[int, int] = {}
        column = 0
        for size, _item in placed(count):
            widths[column] = max(widths.get(column, 0), size)
            if sum(widths.values()) + (len(widths) - 1) > most:
                count = len(widths) - 1
                break
            column = (column + 1) % count
        else:
            break
    cells = [item if item is not None else _Text("") for _size, item in placed(count)]
    grid_columns = [
        _Column(index, [cells[row + index] for row in range(0, len(cells), count)])
        for index in range(count)
    ]
    grid = _Table(grid_columns, len(cells) // count, expand=False, collapse_padding=True)
    return _table_lines(grid, options)


# --- typer's help page ---------------------------------------------------------------------------


def _rich_text(text: str) -> _Text:
    """typer's ``_make_rich_text`` in rich markup mode, for a text with nothing to interpret."""
    return _Text(_markup(inspect.cleandoc(text)))


def _markup(text: str) -> str:
    """``text`` as rich markup shows it, when that is the text itself."""
    if _INTERPRETED.search(text):
        raise Unplain("a text rich would interpret")
    return _shown(text)


def _shown(text: str) -> str:
    """``text`` as rich shows it (not markup), when every character is one cell wide."""
    if not _ONE_CELL.issuperset(text):
        raise Unplain("a text rich would measure otherwise")
    return text


def page(command: Any, ctx: Any, words: Mapping[str, str], width: int) -> str:
    """The help page of ``command`` as typer draws it through rich at ``width`` without a
    terminal; raises :class:`Unplain` for anything it does not draw the same."""
    from typer.core import TyperArgument, TyperGroup, TyperOption

    if getattr(command, "rich_markup_mode", None) != "rich" or command.deprecated:
        raise Unplain("not rich markup, or deprecated")
    _rich_13()  # a release compared with
    options = _Options(width)
    blocks: list[Any] = [_Padding(_Text(_shown(command.get_usage(ctx))), 1, 1, 1, 1)]
    if command.help:
        blocks.append(_Padding(_Align(_Group(_help_texts(command.help))), 0, 1, 1, 1))
    arguments: dict[str, list[Any]] = {}
    options_by_panel: dict[str, list[Any]] = {}
    for param in command.get_params(ctx):
        if getattr(param, "hidden", False):
            continue
        if isinstance(param, TyperArgument):
            name = getattr(param, "rich_help_panel", None) or words["ARGUMENTS_PANEL_TITLE"]
            arguments.setdefault(name, []).append(param)
        elif isinstance(param, TyperOption):
            name = getattr(param, "rich_help_panel", None) or words["OPTIONS_PANEL_TITLE"]
            options_by_panel.setdefault(name, []).append(param)
    for panels, default in (
        (arguments, words["ARGUMENTS_PANEL_TITLE"]),
        (options_by_panel, words["OPTIONS_PANEL_TITLE"]),
    ):
        for name in [default, *(name for name in panels if name != default)]:
            table = _parameters_table(panels.get(name, []), ctx, words)
            if table is not None:
                blocks.append(_Panel(table, _markup(name)))
    if isinstance(command, TyperGroup):
        blocks.extend(_command_panels(command, ctx, words))
    if command.epilog:
        blocks.append(_Padding(_Align(_rich_text(command.epilog)), 1, 1, 1, 1))
    lines = [line for block in blocks for line in _render(block, options)]
    return "".join(_fit_crop(line, width) + "\n" for line in lines)


def _fit_crop(line: str, width: int) -> str:
    """What ``console.print`` writes of a line: cut to the width, not padded."""
    return line[:width]


def _help_texts(text: str) -> list[_Text]:
    """typer's ``_get_help_text``: the first paragraph as one line, a blank line, the rest."""
    cleaned = inspect.cleandoc(text).partition("\f")[0]
    first, *rest = cleaned.split("\n\n")
    if first.startswith("\b"):
        raise Unplain("a verbatim paragraph")
    texts = [_rich_text(first.replace("\n", " ").strip())]
    if rest:
        texts.extend([_Text(""), _rich_text("\n\n".join(rest))])
    return texts


def _parameters_table(params: Sequence[Any], ctx: Any, words: Mapping[str, str]) -> _Table | None:
    """typer's ``_print_options_panel``, its table."""
    from typer import _click
    from typer.core import TyperArgument, TyperOption

    rows: list[list[Any]] = []
    required: list[str] = []
    for param in params:
        long_names: list[str] = []
        short_names: list[str] = []
        secondary_long: list[str] = []
        secondary_short: list[str] = []
        metavar_name = None
        metavar_type = None
        metavar = param.make_metavar(ctx=ctx)
        if isinstance(param, TyperArgument):
            metavar_name = param.metavar if param.metavar is not None else (param.name or "")
        if isinstance(param, TyperOption):
            metavar_type = metavar
        elif isinstance(param, TyperArgument):
            metavar_type = param.type.get_metavar(param=param, ctx=ctx)
            if metavar_type is None:
                metavar_type = f"<{param.type.name}>"
        for name in param.opts:
            if "--" in name:
                long_names.append(name)
            elif metavar_name:
                short_names.append(metavar_name)
            else:
                short_names.append(name)
        for name in param.secondary_opts:
            if "--" in name:
                secondary_long.append(name)
            elif metavar_name:
                secondary_short.append(metavar_name)
            else:
                secondary_short.append(name)
        types = ""
        if metavar_type and "bool" not in metavar_type.lower():
            types += metavar_type
        if (
            isinstance(param.type, _click.types._NumberRangeBase)
            and isinstance(param, TyperOption)
            and not (param.count and param.type.min == 0 and param.type.max is None)
        ):
            described = param.type._describe_range()
            if described:
                types += _RANGE.format(described)
        required.append(_REQUIRED_SHORT if param.required else "")
        rows.append(
            [
                _Text(_shown(",".join(long_names))),
                _Text(_shown(",".join(short_names))),
                _Text(_shown(",".join(secondary_long))),
                _Text(_shown(",".join(secondary_short))),
                _Text(_shown(types), overflow="fold"),
                _Columns(_parameter_help(param, ctx, words)),
            ]
        )
    if not rows:
        return None
    if any(required):
        rows = [
            [_Text(mark) if mark else _Text(""), *row]
            for mark, row in zip(required, rows, strict=True)
        ]
    count = len(rows[0])
    columns = [_Column(index, [row[index] for row in rows]) for index in range(count)]
    return _Table(columns, len(rows), expand=True)


def _parameter_help(param: Any, ctx: Any, words: Mapping[str, str]) -> list[_Text]:
    """typer's ``_get_parameter_help``: the help, the default and whether it is required."""
    from typer.core import TyperArgument, TyperOption

    envvar = getattr(param, "envvar", None)
    if envvar is None and (
        getattr(param, "allow_from_autoenv", None)
        and getattr(ctx, "auto_envvar_prefix", None) is not None
        and param.name is not None
    ):
        envvar = f"{ctx.auto_envvar_prefix}_{param.name.upper()}"
    if envvar and getattr(param, "show_envvar", None):
        raise Unplain("an environment variable shown")
    items: list[_Text] = []
    help_value = getattr(param, "help", None)
    if help_value:
        paragraphs = help_value.split("\n\n")
        if any(paragraph.startswith("\b") for paragraph in paragraphs):
            raise Unplain("a verbatim paragraph")
        joined = "\n".join(paragraph.replace("\n", " ").strip() for paragraph in paragraphs)
        items.append(_rich_text(joined.strip()))
    if isinstance(param, (TyperOption, TyperArgument)):
        default_value = param._extract_default_help_str(ctx=ctx)
        show_default_is_str = isinstance(param.show_default, str)
        if show_default_is_str or (
            default_value is not None and (param.show_default or ctx.show_default)
        ):
            default = param._get_default_string(
                ctx=ctx, show_default_is_str=show_default_is_str, default_value=default_value
            )
            if default:
                items.append(_Text(_shown(words["DEFAULT_STRING"].format(default))))
    if param.required:
        items.append(_Text(_shown(words["REQUIRED_LONG_STRING"])))
    return items


def _command_panels(group: Any, ctx: Any, words: Mapping[str, str]) -> list[_Panel]:
    """typer's command panels of a group: every visible command, by panel, names aligned."""
    panels: dict[str, list[Any]] = {}
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if command and not command.hidden:
            if command.deprecated:
                raise Unplain("a deprecated command")
            panel = getattr(command, "rich_help_panel", None) or words["COMMANDS_PANEL_TITLE"]
            panels.setdefault(panel, []).append(command)
    longest = max((len(c.name or "") for cs in panels.values() for c in cs), default=0)
    default = words["COMMANDS_PANEL_TITLE"]
    out = []
    for name in [default, *(name for name in panels if name != default)]:
        commands = panels.get(name, [])
        if not commands:
            continue
        names = [_Text(_shown(command.name or "")) for command in commands]
        helps = [_command_help(command.short_help or command.help or "") for command in commands]
        table = _Table(
            [_Column(0, names, width=longest, no_wrap=True), _Column(1, helps, ratio=10)],
            len(commands),
            expand=True,
        )
        out.append(_Panel(table, _markup(name)))
    return out


def _command_help(text: str) -> _Text:
    """typer's ``_make_command_help`` in rich markup mode: the first paragraph as written."""
    first = inspect.cleandoc(text).split("\n\n")[0]
    if first.startswith("\b"):
        raise Unplain("a verbatim paragraph")
    return _rich_text(first.strip())


# --- putting it in place -------------------------------------------------------------------------


def install(command: Any, words: Mapping[str, str], fallback: Callable[[], None]) -> None:
    """Draw the help of ``command`` and of every command below it with :func:`page` where it
    applies; elsewhere typer draws it, after ``fallback()`` (which readies typer's words)."""
    width = page_width()
    if width is None:
        fallback()
        return
    for each in _tree(command):
        each.format_help = _plain_format_help(each, words, width, fallback)


def _tree(command: Any) -> Iterator[Any]:
    yield command
    for child in getattr(command, "commands", {}).values():
        yield from _tree(child)


def _plain_format_help(
    command: Any, words: Mapping[str, str], width: int, fallback: Callable[[], None]
) -> Callable[[Any, Any], None]:
    drawn_by_typer = command.format_help

    def format_help(ctx: Any, formatter: Any) -> None:
        try:
            text = page(command, ctx, words, width)
        except Unplain:
            fallback()
            drawn_by_typer(ctx, formatter)
            return
        sys.stdout.write(text)

    return format_help
