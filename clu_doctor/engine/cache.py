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
version misses that cache and re-validates.

The cache is best-effort and never fails a command: a directory that cannot be created, read
or written (a read-only home, ``CLU_DOCTOR_CACHE_DIR=/dev/null``, a full disk, no home at all)
means the rules are loaded from the YAML, and only ``--debug`` says why.

Only files this user owns and nobody else can write are unpickled.

Environment: ``CLU_DOCTOR_NO_CACHE=1`` turns it off; ``CLU_DOCTOR_CACHE_DIR`` moves it
(default: the platform's user cache directory, see :mod:`clu_doctor.paths`).
"""

from __future__ import annotations

import contextlib
import os
import sys
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from clu_doctor import __version__, debuglog
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


def cache_file(rules: Path) -> Path | None:
    """Where the cache for the rules directory ``rules`` lives, or None when disabled (or
    when no cache directory can be named at all)."""
    if os.environ.get("CLU_DOCTOR_NO_CACHE"):
        return None
    from clu_doctor.paths import cache_dir  # platformdirs, only when the cache is on

    try:
        folder = cache_dir()
        tag = zlib.crc32(str(rules.resolve()).encode())
    except (OSError, RuntimeError, KeyError) as error:  # no home directory, an unreadable cwd
        debuglog.note(f"rulebook cache off: no cache directory ({error})")
        return None
    return folder / f"rulebook-{tag:08x}.pickle"


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


def _trusted(path: Path) -> bool:
    if os.name != "posix":
        return True
    info = path.stat()
    return info.st_uid == os.geteuid() and not info.st_mode & 0o022


def read(path: Path, key: tuple[Any, ...], *, shipped: bool = False) -> Any | None:
    """The payload stored under ``key``, or None (missing, stale, foreign or damaged).
    ``shipped``: a file installed with the package, as trusted as its code."""
    try:
        if not shipped and not _trusted(path):
            return None
        with path.open("rb") as stream:
            stored_key, payload = _unpickler()(stream)
    except FileNotFoundError:
        return None
    except Exception as error:  # any damage just means "not cached"
        debuglog.note(f"rulebook cache {path} not read: {error}")
        return None
    return payload if stored_key == key else None


def _unpickler() -> Any:
    """``pickle.load``, from the C module itself where there is one: every run reads the
    rulebook, and ``pickle.py`` (with ``struct``) costs more to import than the read."""
    try:
        from _pickle import load  # start-up: CPython's unpickler without pickle.py
    except ImportError:  # another Python
        from pickle import load  # start-up: only when a cache file is read
    return load


def write(path: Path, key: tuple[Any, ...], payload: Any) -> None:
    """Store ``payload`` under ``key`` (see :func:`store`); gives up without a word (but for
    ``--debug``) if the cache cannot be written, whatever the reason."""
    try:
        store(path, key, payload)
    except Exception as error:  # a cache is an optimisation: nothing about it may fail a run
        debuglog.note(f"rulebook cache {path} not written: {error}")


def store(path: Path, key: tuple[Any, ...], payload: Any) -> None:
    """Write ``payload`` under ``key`` to ``path``, atomically, readable by its owner only;
    raises what the file system raises."""
    import pickle  # only when a cache file is read or written

    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with temporary.open("wb") as stream:
            os.chmod(temporary, 0o600)
            # Protocol 5: read by every Python this package supports (3.8 and later).
            pickle.dump((key, payload), stream, protocol=5)
        os.replace(temporary, path)
    except BaseException:
        # A read-only file system or a path through a file refuses the clean-up too.
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
        raise
