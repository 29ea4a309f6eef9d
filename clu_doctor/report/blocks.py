"""Text blocks that lay themselves out as plain text without rich, or become rich renderables.

A diagnosis piped to a file or a pager is plain fixed-width text; importing rich for it
(55 modules) cost more than the rest of the run. So the text renderers build these blocks:
styled on a terminal they become the rich renderables they always were (:meth:`Block.rich`),
and plain they are laid out here, line for line as rich lays out the same renderables with
colour off (``tests/report/test_blocks.py`` renders both ways and compares them).

The blocks are only those the renderers use: a line of styled segments (:class:`Line`), a
string with console markup (:class:`Markup`, as rich reads a plain ``str``), a grid of
columns (:class:`Grid`, rich's ``Table.grid``), a left indent (:class:`Indent`), a stack of
blocks (:class:`Stack`) and a tree with guide lines (:class:`TreeBlock`). Widths are in
terminal cells; text wraps at word boundaries, a word longer than a line is folded (at the
top level) or cut with an ellipsis (in a grid cell), as rich does.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal, NamedTuple

from clu_doctor.cells import break_points, cell_len, collapse_widths, fit, ratio_reduce

if TYPE_CHECKING:
    from rich.console import RenderableType  # rich: styled output only (piped text never loads it)

    from clu_doctor.report.console import OutputMode

#: A piece of text and its style on a terminal (None: unstyled).
Segment = tuple[str, "str | None"]
Overflow = Literal["fold", "ellipsis"]

# Compiled on first use (by the re module's cache): a JSON run imports this module and draws
# no text.
_TAG = r"((\\*)\[([a-z#/@][^[]*?)])"


def wrap(text: str, width: int, overflow: Overflow = "fold") -> list[str]:
    """``text`` wrapped to ``width`` cells, as rich wraps a ``Text`` (trailing blanks kept
    within the width)."""
    lines: list[str] = []
    for raw in text.split("\n"):
        line = raw.expandtabs(8) if "\t" in raw else raw
        cuts = [0, *break_points(line, width, overflow == "fold"), len(line)]
        for begin, end in itertools.pairwise(cuts):
            piece = line[begin:end]
            if cell_len(piece) > width:
                piece = piece.rstrip()
                if cell_len(piece) > width:
                    piece = (
                        fit(piece, width - 1) + "…" if overflow == "ellipsis" else fit(piece, width)
                    )
            lines.append(piece)
    return lines


def markup_to_plain(text: str) -> str:
    """A string as rich shows it without styles: console markup tags (``[bold]``) removed,
    escaped brackets (``\\[``) kept."""
    if "[" not in text:
        return text
    out: list[str] = []
    position = 0
    for match in re.finditer(_TAG, text):
        _full, escapes, tag = match.groups()
        start, end = match.span()
        if start > position:
            out.append(text[position:start])
        if escapes:
            backslashes, escaped = divmod(len(escapes), 2)
            out.append("\\" * backslashes)
            if escaped:
                out.append(f"[{tag}]")
                position = end
                continue
        position = end
    out.append(text[position:])
    return "".join(out).replace("\\[", "[")


# --- blocks -----------------------------------------------------------------------------------


class Block:
    """Something that lays itself out at a width, plain or through rich.

    The blocks are plain classes rather than dataclasses: every diagnosis imports this
    module, and a dataclass costs a compile of each of its methods at import."""

    __slots__ = ()

    def lines(self, width: int, overflow: Overflow = "fold") -> list[str]:
        """The block as plain lines at most ``width`` cells wide (trailing blanks may stay)."""
        raise NotImplementedError

    def measure(self, width: int) -> tuple[int, int]:
        """The narrowest and the widest the block wants to be, within ``width``."""
        raise NotImplementedError

    def rich(self) -> RenderableType:
        """The same block as a rich renderable."""
        raise NotImplementedError


def _measure_text(plain: str, width: int) -> tuple[int, int]:
    rows = plain.splitlines()
    widest = max((cell_len(row) for row in rows), default=0)
    words = plain.split()
    narrowest = max((cell_len(word) for word in words), default=widest)
    return min(narrowest, width), min(widest, width)


class Line(Block):
    """Text (rich's ``Text``): a start in one style, then appended segments; it wraps at the
    block's width."""

    __slots__ = ("segments", "style", "text")

    def __init__(
        self, text: str = "", style: str | None = None, segments: list[Segment] | None = None
    ) -> None:
        self.text, self.style = text, style
        self.segments: list[Segment] = [] if segments is None else segments

    def append(self, text: str, style: str | None = None) -> Line:
        self.segments.append((text, style))
        return self

    @property
    def plain(self) -> str:
        return self.text + "".join(text for text, _ in self.segments)

    def lines(self, width: int, overflow: Overflow = "fold") -> list[str]:
        return wrap(self.plain, width, overflow)

    def measure(self, width: int) -> tuple[int, int]:
        return _measure_text(self.plain, width)

    def rich(self) -> RenderableType:
        from rich.text import Text  # rich: styled output only (piped text never loads it)

        out = Text(self.text, style=self.style or "")
        for text, style in self.segments:
            out.append(text, style=style)
        return out


class Markup(Block):
    """A string as rich reads one: with console markup."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def lines(self, width: int, overflow: Overflow = "fold") -> list[str]:
        return wrap(markup_to_plain(self.text), width, overflow)

    def measure(self, width: int) -> tuple[int, int]:
        return _measure_text(markup_to_plain(self.text), width)

    def rich(self) -> RenderableType:
        return self.text


class Indent(Block):
    """A block moved right by ``left`` cells (rich's ``Padding(block, (0, 0, 0, left))``)."""

    __slots__ = ("block", "left")

    def __init__(self, block: Block, left: int) -> None:
        self.block, self.left = block, left

    def lines(self, width: int, overflow: Overflow = "fold") -> list[str]:
        inner = width - self.left
        if inner < 1:
            return [" " * width]
        return [" " * self.left + line for line in self.block.lines(inner, overflow)]

    def measure(self, width: int) -> tuple[int, int]:
        if width - self.left < 1:
            return width, width
        narrowest, widest = self.block.measure(width - self.left)
        return min(narrowest + self.left, width), min(widest + self.left, width)

    def rich(self) -> RenderableType:
        from rich.padding import Padding  # rich: styled output only (piped text never loads it)

        return Padding(self.block.rich(), (0, 0, 0, self.left))


class Stack(Block):
    """Blocks one under the other (rich's ``Group``)."""

    __slots__ = ("blocks",)

    def __init__(self, blocks: list[Block] | None = None) -> None:
        self.blocks: list[Block] = [] if blocks is None else blocks

    def lines(self, width: int, overflow: Overflow = "fold") -> list[str]:
        return [line for block in self.blocks for line in block.lines(width, overflow)]

    def measure(self, width: int) -> tuple[int, int]:
        sizes = [block.measure(width) for block in self.blocks]
        return max((s[0] for s in sizes), default=0), max((s[1] for s in sizes), default=0)

    def rich(self) -> RenderableType:
        from rich.console import Group  # rich: styled output only (piped text never loads it)

        return Group(*(block.rich() for block in self.blocks))


class Column(NamedTuple):
    """How one column of a :class:`Grid` lays out its cells."""

    no_wrap: bool = False
    justify: Literal["left", "right"] = "left"


class Grid(Block):
    """Columns without borders (rich's ``Table.grid``): ``gap`` blank cells between columns;
    the wrapping columns give way when the row is too wide."""

    __slots__ = ("columns", "gap", "rows")

    def __init__(
        self, columns: Sequence[Column], gap: int = 1, rows: list[list[Block]] | None = None
    ) -> None:
        self.columns, self.gap = columns, gap
        self.rows: list[list[Block]] = [] if rows is None else rows

    def add_row(self, *cells: Block) -> None:
        self.rows.append(list(cells))

    def _pad(self, index: int) -> int:
        return 0 if index == len(self.columns) - 1 else self.gap

    def _measure_column(self, index: int, width: int) -> tuple[int, int]:
        pad = self._pad(index)
        sizes = []
        for row in self.rows:
            cell = row[index]
            if width - pad < 1:
                sizes.append((width, width))
                continue
            narrowest, widest = cell.measure(width - pad)
            sizes.append((min(narrowest + pad, width), min(widest + pad, width)))
        if not sizes:
            return 1, width
        return min(max(s[0] for s in sizes), width), min(max(s[1] for s in sizes), width)

    def _widths(self, width: int) -> list[int]:
        widths = [self._measure_column(i, width)[1] or 1 for i in range(len(self.columns))]
        if sum(widths) > width:
            wrapable = [not column.no_wrap for column in self.columns]
            widths = collapse_widths(widths, wrapable, width)
            if sum(widths) > width:
                widths = ratio_reduce(sum(widths) - width, [1] * len(widths), widths, widths)
            widths = [self._measure_column(i, w)[1] or 0 for i, w in enumerate(widths)]
        return widths

    def measure(self, width: int) -> tuple[int, int]:
        sizes = [self._measure_column(i, width) for i in range(len(self.columns))]
        widest = sum(s[1] for s in sizes)
        narrowest = sum(s[0] for s in sizes)
        return min(narrowest, width), min(widest, width)

    def lines(self, width: int, overflow: Overflow = "fold") -> list[str]:
        if not self.rows:
            return []
        widths = self._widths(width)
        out: list[str] = []
        for row in self.rows:
            cells: list[list[str]] = []
            for index, (cell, cell_width) in enumerate(zip(row, widths, strict=False)):
                inner = cell_width - self._pad(index)
                column = self.columns[index]
                if inner < 1:
                    cells.append([" " * cell_width])
                    continue
                text = _unwrapped(cell, inner) if column.no_wrap else cell.lines(inner, "ellipsis")
                cells.append([_justify(line, inner, column.justify) for line in text])
            height = max(len(lines) for lines in cells)
            for number in range(height):
                out.append(
                    "".join(
                        (lines[number] if number < len(lines) else " " * (w - self._pad(i)))
                        + " " * self._pad(i)
                        for i, (lines, w) in enumerate(zip(cells, widths, strict=False))
                    )
                )
        return out

    def rich(self) -> RenderableType:
        from rich.table import Table  # rich: styled output only (piped text never loads it)

        grid = Table.grid(padding=(0, self.gap))
        for column in self.columns:
            grid.add_column(no_wrap=column.no_wrap, justify=column.justify)
        for row in self.rows:
            grid.add_row(*(cell.rich() for cell in row))
        return grid


def _unwrapped(cell: Block, width: int) -> list[str]:
    """A cell of a column that does not wrap: its lines as written, cut with an ellipsis."""
    if isinstance(cell, (Line, Markup)):
        plain = cell.plain if isinstance(cell, Line) else markup_to_plain(cell.text)
        return [
            line if cell_len(line) <= width else fit(line, width - 1) + "…"
            for line in plain.split("\n")
        ]
    return cell.lines(width, "ellipsis")


def _justify(line: str, width: int, how: str) -> str:
    size = cell_len(line)
    if size >= width:
        return line
    if how == "right":
        return " " * (width - size) + line
    return line + " " * (width - size)


_GUIDES = ("    ", "│   ", "├── ", "└── ")
_SPACE, _CONTINUE, _FORK, _END = range(4)


class TreeBlock(Block):
    """A label with children under it, joined by guide lines (rich's ``Tree``)."""

    __slots__ = ("children", "guide_style", "label")

    def __init__(
        self, label: Block, guide_style: str = "dim", children: list[TreeBlock] | None = None
    ) -> None:
        self.label, self.guide_style = label, guide_style
        self.children: list[TreeBlock] = [] if children is None else children

    def add(self, label: Block) -> TreeBlock:
        child = TreeBlock(label, self.guide_style)
        self.children.append(child)
        return child

    def lines(self, width: int, overflow: Overflow = "fold") -> list[str]:
        out: list[str] = []
        self._draw(out, [], width, overflow)
        return out

    def _draw(self, out: list[str], prefix: list[int], width: int, overflow: Overflow) -> None:
        guides = list(prefix)
        used = 4 * len(guides)
        for number, line in enumerate(self.label.lines(width - used, overflow)):
            out.append("".join(_GUIDES[g] for g in guides) + line)
            if number == 0 and guides:
                guides[-1] = _SPACE if guides[-1] == _END else _CONTINUE
        for index, child in enumerate(self.children):
            last = index == len(self.children) - 1
            child._draw(out, [*guides, _END if last else _FORK], width, overflow)

    def measure(self, width: int) -> tuple[int, int]:
        return self.label.measure(width)

    def rich(self) -> RenderableType:
        from rich.tree import Tree  # rich: styled output only (piped text never loads it)

        def build(node: TreeBlock, into: Tree) -> None:
            for child in node.children:
                build(child, into.add(child.label.rich()))

        root = Tree(self.label.rich(), guide_style=self.guide_style)
        build(self, root)
        return root


def render_plain(width: int, blocks: Sequence[Block]) -> str:
    """Blocks as plain text at ``width`` cells, trailing blanks removed, as the styled path's
    :func:`clu_doctor.report.console.render_to_string` leaves them."""
    return "\n".join(line.rstrip() for block in blocks for line in block.lines(width)) + "\n"


def list_block(rows: Sequence[tuple[str, str]]) -> Grid:
    """Marker and text in two columns, so that wrapped text keeps its indent (the text is
    read as console markup, as rich reads a ``str``)."""
    grid = Grid([Column(no_wrap=True, justify="right"), Column()], gap=1)
    for marker, text in rows:
        grid.add_row(Markup(marker), Markup(text))
    return grid


def render_blocks(mode: OutputMode, blocks: Sequence[Block]) -> str:
    """Blocks for a terminal (through rich) or plain (without importing rich)."""
    if not mode.styled:
        return render_plain(mode.width, blocks)
    from clu_doctor.report.console import render_to_string  # styled: rich is loaded anyway

    return render_to_string(mode, *(block.rich() for block in blocks))
