"""A per-user cache of the validated bundled rulebook, so a diagnosis starts fast.

Reading and validating the YAML costs more than importing typer itself (the YAML library
alone is about as much again), while the CLI's budget is 1.5x ``import typer, rich``. So the
bundled rulebook, once validated, is pickled to the user's cache directory, keyed by a
checksum of every rule file and the shape of every record. Any change to a rule file, the
engine's records or the Python version misses the cache and re-validates. The cache is
best-effort: every failure to read or write it falls back to loading the YAML.

Only files this user owns and nobody else can write are unpickled.

Environment: ``CLU_DOCTOR_NO_CACHE=1`` turns it off; ``CLU_DOCTOR_CACHE_DIR`` moves it
(default ``$XDG_CACHE_HOME/clu-doctor`` or ``~/.cache/clu-doctor``).
"""

from __future__ import annotations

import os
import sys
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from clu_doctor import __version__
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
    """Where the cache for the rules directory ``rules`` lives, or None when disabled."""
    if os.environ.get("CLU_DOCTOR_NO_CACHE"):
        return None
    base = os.environ.get("CLU_DOCTOR_CACHE_DIR")
    if base:
        folder = Path(base)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        folder = (Path(xdg) if xdg else Path.home() / ".cache") / "clu-doctor"
    tag = zlib.crc32(str(rules.resolve()).encode())
    return folder / f"rulebook-{tag:08x}.pickle"


def fingerprint(files: Sequence[Path]) -> tuple[Any, ...]:
    """Everything a cached rulebook depends on: file contents, record shapes, versions."""
    contents = tuple((str(f), zlib.crc32(f.read_bytes())) for f in files)
    shapes = tuple(record._fields for record in _RECORDS)
    return (FORMAT, __version__, sys.version_info[:2], shapes, contents)


def _trusted(path: Path) -> bool:
    if os.name != "posix":
        return True
    info = path.stat()
    return info.st_uid == os.geteuid() and not info.st_mode & 0o022


def read(path: Path, key: tuple[Any, ...]) -> Any | None:
    """The payload stored under ``key``, or None (missing, stale, foreign or damaged)."""
    try:
        if not _trusted(path):
            return None
        import pickle  # only when a cache file is read or written

        with path.open("rb") as stream:
            stored_key, payload = pickle.load(stream)
    except Exception:  # any damage just means "not cached"
        return None
    return payload if stored_key == key else None


def write(path: Path, key: tuple[Any, ...], payload: Any) -> None:
    """Store ``payload`` under ``key``; silently gives up if the cache is not writable."""
    import pickle  # only when a cache file is read or written

    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with temporary.open("wb") as stream:
            os.chmod(temporary, 0o600)
            pickle.dump((key, payload), stream, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, path)
    except OSError:
        temporary.unlink(missing_ok=True)
