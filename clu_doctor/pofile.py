"""Reading and writing gettext catalogues (``.po`` and ``.pot`` files).

The translations of clu-doctor are standard gettext catalogues, so that a translator works in
Poedit, Weblate or a text editor without reading Python. Two domains, each kept beside what it
translates: ``rules/locale/<lang>.po`` for the rule texts (each entry's ``msgctxt`` names the
text it translates, e.g. ``finding CLU-PWR-01 title``) and ``clu_doctor/locale/<lang>.po`` for
the command line's own messages (``msgid`` alone, as gettext does).

This module reads and writes the subset of the format those files use: comments (``#.``,
``#:``, ``#,`` flags, ``#|`` previous msgid), ``msgctxt``, ``msgid``, ``msgid_plural``,
``msgstr`` and ``msgstr[N]``, strings split over lines, and the C escapes. Obsolete entries
(``#~``) are skipped. It is small and has no dependency, because a run in Norwegian reads a
catalogue on start-up (and ``rules check`` reads all of them).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import field
from pathlib import Path

from clu_doctor.errors import FileProblemError, Location
from clu_doctor.records import record

_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "r": "\r"}
_UNESCAPE = re.compile(r"\\(.)")


@record(frozen=False)
class Entry:
    """One message of a catalogue: the English ``msgid`` and its translation."""

    msgid: str
    msgstr: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    #: ``msgstr[0]``, ``msgstr[1]``... of a plural message.
    plurals: list[str] = field(default_factory=list)
    #: For the translator (``#.``): what the text is and where it is shown.
    comments: list[str] = field(default_factory=list)
    #: Where the text comes from (``#:``): ``file:line``.
    locations: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    #: The msgid this translation was made for, when the source changed since (``#|``).
    previous: str | None = None
    line: int = 0

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.msgctxt, self.msgid)

    @property
    def fuzzy(self) -> bool:
        return "fuzzy" in self.flags

    @property
    def translated(self) -> bool:
        """Translated, and not marked as needing a look (``fuzzy``)."""
        if self.fuzzy:
            return False
        if self.msgid_plural is not None:
            return bool(self.plurals) and all(self.plurals)
        return bool(self.msgstr)


@record(frozen=False)
class Catalogue:
    """A whole ``.po`` file: its header fields and its entries, in file order."""

    entries: list[Entry] = field(default_factory=list)
    header: dict[str, str] = field(default_factory=dict)
    path: str = ""

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries)

    def by_key(self) -> dict[tuple[str | None, str], Entry]:
        return {entry.key: entry for entry in self.entries}

    def by_context(self) -> dict[str, Entry]:
        return {entry.msgctxt: entry for entry in self.entries if entry.msgctxt is not None}


def _unquote(text: str, path: str, line: int) -> str:
    text = text.strip()
    if len(text) < 2 or not (text.startswith('"') and text.endswith('"')):
        raise FileProblemError.at(
            Location(path, line), f"{text!r} is not a quoted string", expected='"text"'
        )
    return _UNESCAPE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(1)), text[1:-1])


def parse(text: str, path: str = "<catalogue>") -> Catalogue:
    """A catalogue from the text of a ``.po`` file; a malformed line raises
    :class:`FileProblemError` at its ``file:line``."""
    catalogue = Catalogue(path=path)
    entry = Entry("")
    started = False
    field_name: str | None = None
    index = 0

    def finish() -> None:
        nonlocal entry, started, field_name
        if started:
            if entry.msgid == "" and entry.msgctxt is None:
                catalogue.header = _header(entry.msgstr)
            else:
                catalogue.entries.append(entry)
        entry = Entry("")
        started = False
        field_name = None

    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#~"):
            continue  # an obsolete entry: kept in the file for the translator, never used
        if line.startswith("#"):
            if started and field_name is not None:
                finish()
            _comment(entry, line)
            continue
        if line.startswith('"'):
            if field_name is None:
                raise FileProblemError.at(
                    Location(path, number), "a string outside any msgid or msgstr"
                )
            _append(entry, field_name, index, _unquote(line, path, number))
            continue
        keyword, _, rest = line.partition(" ")
        match = re.fullmatch(r"msgstr\[(\d+)\]", keyword)
        if keyword in ("msgctxt", "msgid") and started and field_name not in (None, "msgctxt"):
            finish()
        if keyword == "msgctxt" or (keyword == "msgid" and not started):
            entry.line = number
        if match:
            field_name, index = "plural", int(match.group(1))
        elif keyword in ("msgctxt", "msgid", "msgid_plural", "msgstr"):
            field_name = keyword
        else:
            raise FileProblemError.at(
                Location(path, number),
                f"unknown keyword {keyword!r}",
                expected="msgctxt, msgid, msgid_plural or msgstr",
            )
        started = True
        _append(entry, field_name, index, _unquote(rest, path, number), first=True)
    finish()
    return catalogue


def _comment(entry: Entry, line: str) -> None:
    kind, text = line[:2], line[2:].strip()
    if kind == "#.":
        entry.comments.append(text)
    elif kind == "#:":
        entry.locations.extend(text.split())
    elif kind == "#,":
        entry.flags.extend(flag.strip() for flag in text.split(",") if flag.strip())
    elif kind == "#|":
        keyword, _, rest = text.partition(" ")
        if keyword == "msgid":
            entry.previous = _unquote(rest, "", 0)
        elif text.startswith('"') and entry.previous is not None:
            entry.previous += _unquote(text, "", 0)


def _append(entry: Entry, name: str, index: int, value: str, *, first: bool = False) -> None:
    if name == "msgctxt":
        entry.msgctxt = value if first else (entry.msgctxt or "") + value
    elif name == "msgid":
        entry.msgid = value if first else entry.msgid + value
    elif name == "msgid_plural":
        entry.msgid_plural = value if first else (entry.msgid_plural or "") + value
    elif name == "msgstr":
        entry.msgstr = value if first else entry.msgstr + value
    else:
        while len(entry.plurals) <= index:
            entry.plurals.append("")
        entry.plurals[index] = value if first else entry.plurals[index] + value


def _header(text: str) -> dict[str, str]:
    fields = {}
    for line in text.splitlines():
        name, sep, value = line.partition(":")
        if sep:
            fields[name.strip()] = value.strip()
    return fields


def read(path: Path | str) -> Catalogue:
    """The catalogue in ``path``; an unreadable or malformed file raises
    :class:`FileProblemError`."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise FileProblemError.at(
            Location(str(path)), f"cannot read the catalogue: {reason}"
        ) from None
    return parse(text, str(path))


# --- writing -----------------------------------------------------------------------------------

_WIDTH = 76


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t")
    return '"' + escaped.replace("\n", "\\n") + '"'


def _field(name: str, text: str) -> list[str]:
    """``name "text"``, split over lines as gettext's tools do when it is long."""
    single = f"{name} {_quote(text)}"
    if len(single) <= _WIDTH + 4 and "\n" not in text.rstrip("\n"):
        return [single]
    lines = [f'{name} ""']
    for piece in _pieces(text):
        lines.append(_quote(piece))
    return lines


def _pieces(text: str) -> Iterable[str]:
    """``text`` cut after newlines and at spaces so that each quoted line stays short."""
    for paragraph in re.split(r"(?<=\n)", text):
        if not paragraph:
            continue
        current = ""
        for word in re.split(r"(?<= )", paragraph):
            if current and len(current) + len(word) > _WIDTH:
                yield current
                current = ""
            current += word
        if current:
            yield current


def format_entry(entry: Entry) -> str:
    lines = [f"#. {comment}" for comment in entry.comments]
    if entry.locations:
        lines.append("#: " + " ".join(entry.locations))
    if entry.flags:
        lines.append("#, " + ", ".join(entry.flags))
    if entry.previous is not None:
        lines.extend("#| " + line for line in _field("msgid", entry.previous))
    if entry.msgctxt is not None:
        lines.extend(_field("msgctxt", entry.msgctxt))
    lines.extend(_field("msgid", entry.msgid))
    if entry.msgid_plural is not None:
        lines.extend(_field("msgid_plural", entry.msgid_plural))
        plurals = entry.plurals or ["", ""]
        for index, text in enumerate(plurals):
            lines.extend(_field(f"msgstr[{index}]", text))
    else:
        lines.extend(_field("msgstr", entry.msgstr))
    return "\n".join(lines) + "\n"


def format_catalogue(header: dict[str, str], entries: Sequence[Entry], title: str = "") -> str:
    """The text of a ``.po`` (or ``.pot``) file: a comment, the header entry, the entries."""
    parts = [f"# {line}".rstrip() + "\n" for line in title.splitlines()] if title else []
    header_text = "".join(f"{name}: {value}\n" for name, value in header.items())
    lines = [
        'msgid ""',
        'msgstr ""',
        *(_quote(line) for line in re.split(r"(?<=\n)", header_text) if line),
    ]
    parts.append("\n".join(lines) + "\n")
    return "\n".join(["".join(parts[:-1]) + parts[-1], *map(format_entry, entries)])
