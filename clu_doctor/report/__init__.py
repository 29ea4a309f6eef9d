"""Renderers: diagnoses, rule books and bus results into text, JSON and Markdown.

Every renderer returns a string and never prints; the CLI decides where it goes. Text
renderers take an :class:`~clu_doctor.report.console.OutputMode` (styled for a terminal, plain
and fixed-width when piped). JSON documents share one envelope (:func:`envelope`).

Modules: ``console`` (styled or plain, the words and colours of a severity), ``layout`` (what a
person reads first: areas, problems first, the first step, short evidence), ``diagnosis``,
``check``, ``nagios``, ``prometheus``, ``summary`` (the check's shared lines), ``blocks`` (text laid
out plain without rich, or through rich on a terminal), ``rules`` (the
rule book and ``explain``), ``history``, ``probes`` (listen and scan), ``listings``.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import TYPE_CHECKING, Any

from clu_doctor import __version__

if TYPE_CHECKING:
    from rich.console import RenderableType  # rich: text output only (JSON runs never load it)

#: Bumped when a JSON document changes incompatibly (a field removed or its meaning changed).
SCHEMA_VERSION = 1


class CheckFormat(str, Enum):
    """The output formats of ``clu-doctor check`` (here, not in :mod:`.check`, so that the
    command line can offer them without importing the renderers)."""

    TEXT = "text"
    JSON = "json"
    NAGIOS = "nagios"
    PROMETHEUS = "prometheus"


class Format(str, Enum):
    """Output formats of commands that print a result."""

    TEXT = "text"
    JSON = "json"


def envelope(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """Wrap a JSON document: what it is, its schema version, the tool that made it, and the
    language of its texts (ids, keys and values are English in every language)."""
    from clu_doctor.i18n import language

    return {
        "schema": f"clu-doctor/{kind}",
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "clu-doctor", "version": __version__},
        "language": language(),
        **body,
    }


def to_json(document: dict[str, Any]) -> str:
    """Stable JSON text: two-space indent, keys in insertion order, UTF-8 kept readable."""
    import json  # start-up: only the JSON output needs it

    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def list_grid(rows: Sequence[tuple[str, str]]) -> RenderableType:
    """Marker and text in two columns, so that wrapped text keeps its indent."""
    from clu_doctor.report.blocks import list_block  # the one definition of the layout

    return list_block(rows).rich()
