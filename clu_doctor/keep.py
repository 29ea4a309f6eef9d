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
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast

from clu_doctor import debuglog

T = TypeVar("T")


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


def parsed(
    path: str | Path,
    text: str,
    parse: Callable[[], T],
    *,
    kind: str,
    code: Sequence[str],
    worth_keeping: Callable[[T], bool] = lambda _parsed: True,
) -> T:
    """What ``parse()`` makes of the file ``path`` whose text is ``text``, kept in the user's
    cache as ``<kind>-<tag>.pickle`` for the next run that reads the same text.

    A check every few minutes reads the same site file and device profile; parsing them takes
    PyYAML, whose import alone costs more than the rest of reading them. The key is the text
    and name of the file, the tool's and Python's versions, and the files named in ``code``
    (the modules that read and hold it: their sizes and times, so that a checkout being edited
    without a version change misses). What ``parse`` raises (a file with problems) is never
    kept, and ``worth_keeping`` may refuse a result whose validity depends on more than the
    text (a site naming a profile file, whose existence is part of the check)."""
    import sys
    import zlib

    from clu_doctor import __version__

    source = str(path)
    kept: Path | None = None
    modules: tuple[tuple[int, int], ...] = ()
    try:
        tag = zlib.crc32(str(Path(path).resolve()).encode())
        modules = tuple((info.st_size, info.st_mtime_ns) for info in map(os.stat, code))
        kept = user_file(f"{kind}-{tag:08x}.pickle")
    except (OSError, RuntimeError) as error:  # an unreadable working directory, no module file
        debuglog.note(f"{kind} cache off: {error}")
    if kept is None:
        return parse()
    content = (len(text), zlib.crc32(text.encode("utf-8", "surrogatepass")))
    key = (_PARSED_FORMAT, __version__, sys.version_info[:2], modules, source, content)
    result = read(kept, key, what=f"{kind} cache")
    if result is not None:
        return cast(T, result)
    result = parse()
    if worth_keeping(result):
        write(kept, key, result, what=f"{kind} cache")
    return result


#: Bumped when what :func:`parsed` keeps changes in a way the modules' files do not show.
_PARSED_FORMAT = 1
