"""Files that keep what is slow to make: a payload pickled under a key, used only while the key
still matches what it was made from.

Two kinds. Files built with the package (the validated rulebook and its translations, the
parsed message catalogues; see ``hatch_build.py``) are as trusted as its code. Files in the
user's cache directory, written by an earlier run, are unpickled only when this user owns
them and nobody else can write them.

Keeping is best-effort and never fails a command: a file that is missing, stale, foreign or
damaged is not used, and one that cannot be written is not written; only ``--debug`` says why.
Nothing here is imported by a run that reads no kept file.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from clu_doctor import debuglog


def user_file(name: str) -> Path | None:
    """``name`` in the user's cache directory, or None when keeping there is turned off
    (``CLU_DOCTOR_NO_CACHE``) or no cache directory can be named at all."""
    if os.environ.get("CLU_DOCTOR_NO_CACHE"):
        return None
    from clu_doctor.paths import cache_dir  # platformdirs, only when the cache is on

    try:
        return cache_dir() / name
    except (OSError, RuntimeError, KeyError) as error:  # no home directory, an unreadable cwd
        debuglog.note(f"cache off: no cache directory ({error})")
        return None


def _trusted(path: Path) -> bool:
    if os.name != "posix":
        return True
    info = path.stat()
    return info.st_uid == os.geteuid() and not info.st_mode & 0o022


def read(path: Path, key: Any, *, shipped: bool = False, what: str = "cache") -> Any | None:
    """The payload stored in ``path`` under ``key``, or None (missing, stale, foreign or
    damaged). ``shipped``: a file installed with the package, as trusted as its code.
    ``what`` names the file in ``--debug``'s notes."""
    try:
        if not shipped and not _trusted(path):
            return None
        with path.open("rb") as stream:
            stored_key, payload = _unpickler()(stream)
    except FileNotFoundError:
        return None
    except Exception as error:  # any damage just means "not kept"
        debuglog.note(f"{what} {path} not read: {error}")
        return None
    return payload if stored_key == key else None


def _unpickler() -> Any:
    """``pickle.load``, from the C module itself where there is one: every run reads a kept
    rulebook, and ``pickle.py`` (with ``struct``) costs more to import than the read."""
    try:
        from _pickle import load  # start-up: CPython's unpickler without pickle.py
    except ImportError:  # another Python
        from pickle import load  # start-up: only when a kept file is read
    return load


def write(path: Path, key: Any, payload: Any, *, what: str = "cache") -> None:
    """Store ``payload`` under ``key`` (see :func:`store`); gives up without a word (but for
    ``--debug``) if the file cannot be written, whatever the reason."""
    try:
        store(path, key, payload)
    except Exception as error:  # keeping is an optimisation: nothing about it may fail a run
        debuglog.note(f"{what} {path} not written: {error}")


def store(path: Path, key: Any, payload: Any) -> None:
    """Write ``payload`` under ``key`` to ``path``, atomically, readable by its owner only;
    raises what the file system raises."""
    import pickle  # only when a kept file is written

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
