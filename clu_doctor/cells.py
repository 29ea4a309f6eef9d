"""How many terminal cells a text takes, where rich breaks a line to fit a width, and how it
narrows a table's columns to fit.

Plain output is laid out as rich lays out the same text on a terminal, without importing
rich: the piped diagnosis (:mod:`clu_doctor.report.blocks`) and the piped help
(:mod:`clu_doctor.plainhelp`) both wrap words and narrow columns here.
"""

from __future__ import annotations

import re
import unicodedata

#: A word and the blanks around it, as rich's ``divide_line`` takes them (compiled on first
#: use, by the re module's cache).
_WORD = r"\s*\S+\s*"


def _char_cells(char: str) -> int:
    if char.isascii():
        return 1 if char.isprintable() else 0
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def cell_len(text: str) -> int:
    """How many terminal cells ``text`` takes."""
    if text.isascii():
        return len(text)
    return sum(_char_cells(char) for char in text)


def chop(text: str, width: int) -> list[str]:
    """``text`` cut into pieces of at most ``width`` cells."""
    pieces: list[str] = []
    start, size = 0, 0
    for index, char in enumerate(text):
        cells = _char_cells(char)
        if size + cells > width and index > start:
            pieces.append(text[start:index])
            start, size = index, 0
        size += cells
    if size or start < len(text):
        pieces.append(text[start:])
    return pieces


def fit(text: str, width: int) -> str:
    """``text`` cut to ``width`` cells."""
    out, size = [], 0
    for char in text:
        cells = _char_cells(char)
        if size + cells > width:
            break
        out.append(char)
        size += cells
    return "".join(out) + " " * (width - size)


def break_points(text: str, width: int, fold: bool) -> list[int]:
    """Where rich breaks one line of ``text`` to fit ``width`` (its ``divide_line``)."""
    breaks: list[int] = []
    offset = 0
    for match in re.finditer(_WORD, text):
        start, word = match.start(), match.group(0)
        length = cell_len(word.rstrip())
        if width - offset >= length:
            offset += cell_len(word)
        elif length > width:
            if fold:
                pieces = chop(word, width)
                for number, piece in enumerate(pieces, 1):
                    if start:
                        breaks.append(start)
                    if number == len(pieces):
                        offset = cell_len(piece)
                    else:
                        start += len(piece)
            else:
                if start:
                    breaks.append(start)
                offset = cell_len(word)
        elif offset and start:
            breaks.append(start)
            offset = cell_len(word)
    return breaks


def collapse_widths(widths: list[int], wrapable: list[bool], most: int) -> list[int]:
    """rich's ``Table._collapse_widths``: shrink the widest wrapping columns first, until
    the widths add up to ``most`` (the plain report's grids and the plain help's tables)."""
    total = sum(widths)
    excess = total - most
    if any(wrapable):
        while total and excess > 0:
            widest = max(w for w, wrap in zip(widths, wrapable, strict=True) if wrap)
            second = max(
                w if wrap and w != widest else 0 for w, wrap in zip(widths, wrapable, strict=True)
            )
            difference = widest - second
            ratios = [
                1 if (w == widest and wrap) else 0 for w, wrap in zip(widths, wrapable, strict=True)
            ]
            if not any(ratios) or not difference:
                break
            bounds = [min(excess, difference)] * len(widths)
            widths = ratio_reduce(excess, ratios, bounds, widths)
            total = sum(widths)
            excess = total - most
    return widths


def ratio_reduce(
    total: int, ratios: list[int], maximums: list[int], values: list[int]
) -> list[int]:
    """rich's ``_ratio.ratio_reduce``: take ``total`` away from ``values`` in proportion."""
    ratios = [ratio if bound else 0 for ratio, bound in zip(ratios, maximums, strict=True)]
    total_ratio = sum(ratios)
    if not total_ratio:
        return values[:]
    remaining = total
    result = []
    for ratio, bound, value in zip(ratios, maximums, values, strict=True):
        if ratio and total_ratio > 0:
            distributed = min(bound, round(ratio * remaining / total_ratio))
            result.append(value - distributed)
            remaining -= distributed
            total_ratio -= ratio
        else:
            result.append(value)
    return result
