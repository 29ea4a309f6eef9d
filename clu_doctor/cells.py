"""How many terminal cells a text takes, and where rich breaks a line to fit a width.

Plain output is laid out as rich lays out the same text on a terminal, without importing
rich: the piped diagnosis (:mod:`clu_doctor.report.blocks`) and the piped help
(:mod:`clu_doctor.plainhelp`) both wrap words here.
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
