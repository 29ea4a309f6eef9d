"""The validated rulebook, kept so that a diagnosis starts fast: shipped in the wheel, and
cached per user.

Reading and validating the YAML costs more than importing typer itself (the YAML library
alone is about as much again), while the CLI's budget is 1.5x ``import typer, rich``. So the
bundled rulebook is validated when the wheel is built and shipped in it (``hatch_build.py``;
an editable install gets one in the source tree), keyed by a checksum of every rule file
relative to the rules directory and the shape of every record: a new user, an upgrade or a
cron job under another HOME starts with it. Rules that differ from it (a source checkout
being edited, ``--rules DIR``) are validated once and pickled to the user's cache directory,
keyed by their contents too; any change to a rule file, the engine's records or the Python
version misses that cache and re-validates. The rulebook in another language is kept the same
way (shipped as ``rulebook-<lang>.pickle``, cached as ``rulebook-<tag>-<lang>.pickle``), keyed
on the language's catalogue as well (see :func:`clu_doctor.engine.rulebook.load_rulebook`).

The cache is best-effort and never fails a command: a directory that cannot be created, read
or written (a read-only home, ``CLU_DOCTOR_CACHE_DIR=/dev/null``, a full disk, no home at all)
means the rules are loaded from the YAML, and only ``--debug`` says why.

Only files this user owns and nobody else can write are unpickled (:mod:`clu_doctor.keep`).

Environment: ``CLU_DOCTOR_NO_CACHE=1`` turns it off; ``CLU_DOCTOR_CACHE_DIR`` moves it
(default: the platform's user cache directory, see :mod:`clu_doctor.paths`).
"""

from __future__ import annotations

import sys
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from clu_doctor import __version__, debuglog, keep
from clu_doctor.engine.model import (
    Case,
    Finding,
    LayerSpec,
    Node,
    NumberRange,
    Target,
    Tree,
    Wait,
)
from clu_doctor.engine.observations import (
    FactSpec,
    GroupSpec,
    ObservationSpec,
    ProbeSpec,
    ValueSpec,
)
from clu_doctor.yamlio import Where

FORMAT = 2
_RECORDS = (
    Where,
    Target,
    NumberRange,
    Node,
    Finding,
    Case,
    Tree,
    ObservationSpec,
    ValueSpec,
    ProbeSpec,
    FactSpec,
    LayerSpec,
    Wait,
    GroupSpec,
)


def cache_file(rules: Path, language: str | None = None) -> Path | None:
    """Where the cache for the rules directory ``rules`` lives (its texts in ``language``,
    else English), or None when disabled (or when no cache directory can be named at all)."""
    try:
        tag = zlib.crc32(str(rules.resolve()).encode())
    except (OSError, RuntimeError) as error:  # an unreadable cwd
        debuglog.note(f"rulebook cache off: {error}")
        return None
    suffix = f"-{language}" if language else ""
    return keep.user_file(f"rulebook-{tag:08x}{suffix}.pickle")


def fingerprint(files: Sequence[Path], root: Path | None = None) -> tuple[Any, ...]:
    """Everything a cached rulebook depends on: file contents, record shapes, versions.

    With ``root``, files under it are named relative to it, so that the key holds wherever the
    rules are (the rulebook shipped in a wheel was built in another directory); the Python
    version is left out then too (the records pickle alike on every supported version).
    """

    def name(file: Path) -> str:
        if root is not None and file.is_relative_to(root):
            return file.relative_to(root).as_posix()
        return str(file)

    contents = tuple((name(f), zlib.crc32(f.read_bytes())) for f in files)
    shapes = tuple(record._fields for record in _RECORDS)
    python = sys.version_info[:2] if root is None else None
    return (FORMAT, __version__, python, shapes, contents)


def read(path: Path, key: tuple[Any, ...], *, shipped: bool = False) -> Any | None:
    """The rulebook kept in ``path`` under ``key``, or None (see :func:`clu_doctor.keep.read`)."""
    return keep.read(path, key, shipped=shipped, what="rulebook cache")


def write(path: Path, key: tuple[Any, ...], payload: Any) -> None:
    """Keep ``payload`` under ``key`` in the user's cache, best-effort (see
    :func:`clu_doctor.keep.write`)."""
    keep.write(path, key, payload, what="rulebook cache")


store = keep.store
