"""Atomic file writes for node_exporter's textfile collector (and anything else that reads files
another process is writing).

node_exporter reads every ``*.prom`` file in its ``--collector.textfile.directory`` whenever it
is scraped, without any locking. A file written in place can be read half-written, and a check
killed mid-write would leave it so. :func:`write_atomic` writes a hidden temporary file in the
same directory (``.NAME.PID.XXXX.tmp``: not ``*.prom``, so never collected), flushes it to disk,
and renames it over ``NAME`` in one step (``os.replace``): a reader sees either the previous
complete file or the new complete file, never a mixture. Temporary files left behind by a
writer that was killed are removed by the next write once their process is gone.
"""

from __future__ import annotations

import contextlib
import os
import re
import unicodedata
from pathlib import Path

from clu_doctor.errors import CluDoctorError

#: Bytes per ``write`` call (the tests slow one writer down between chunks).
CHUNK = 1 << 16
_HINT_DIR = (
    "point --textfile-dir at node_exporter's --collector.textfile.directory, and make it "
    "writable for the user the check runs as"
)


#: Letters NFKD does not take apart (Norwegian and Danish site names are common here).
_SPELL_OUT = str.maketrans(
    {"ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "ß": "ss", "đ": "d", "ł": "l"}
)


class TextfileError(CluDoctorError):
    """The metrics file could not be written (missing directory, permissions, full disk)."""


def site_slug(site: str) -> str:
    """A file-name-safe form of a site name: ``Solsiden borettslag, garage B`` ->
    ``solsiden_borettslag_garage_b`` (lower case ASCII letters, digits and ``_``)."""
    spelled = site.translate(_SPELL_OUT)
    ascii_text = unicodedata.normalize("NFKD", spelled).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")
    return slug or "site"


def textfile_name(site: str) -> str:
    """The metrics file of one site: ``clu_doctor_<slug>.prom``."""
    return f"clu_doctor_{site_slug(site)}.prom"


def _write_chunk(fd: int, data: memoryview) -> int:
    return os.write(fd, data)


def _write_all(fd: int, payload: bytes) -> None:
    view = memoryview(payload)
    while view:
        written = _write_chunk(fd, view[:CHUNK])
        view = view[written:]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    except OSError:
        return True
    return True


def remove_stale(directory: Path, name: str) -> list[Path]:
    """Remove ``.NAME.PID.*.tmp`` files whose writer no longer runs (POSIX only); return them."""
    if os.name != "posix":  # os.kill(pid, 0) is not a harmless probe on Windows
        return []
    pattern = re.compile(rf"^\.{re.escape(name)}\.(\d+)\.[^.]+\.tmp$")
    removed = []
    try:
        entries = list(directory.iterdir())
    except OSError:
        return []
    for entry in entries:
        match = pattern.match(entry.name)
        if not match:
            continue
        pid = int(match.group(1))
        if pid == os.getpid() or _pid_alive(pid):
            continue
        with contextlib.suppress(OSError):
            entry.unlink()
            removed.append(entry)
    return removed


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX; a no-op where directories cannot be opened)."""
    if os.name != "posix":
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def check_directory(directory: str | Path) -> None:
    """Raise :class:`TextfileError` unless ``directory`` exists and is a directory (so a check
    can refuse a wrong ``--textfile-dir`` before it spends its time on the bus)."""
    folder = Path(directory)
    if not folder.exists():
        raise TextfileError(f"textfile directory {folder} does not exist", _HINT_DIR)
    if not folder.is_dir():
        raise TextfileError(f"textfile directory {folder} is not a directory", _HINT_DIR)


def write_atomic(directory: str | Path, name: str, text: str) -> Path:
    """Replace ``directory/name`` with ``text`` (UTF-8) in one step; return the file's path.

    The file is left readable by everyone (mode 0644): node_exporter usually runs as another
    user, and metrics are not secret. Raises :class:`TextfileError` with a hint when the
    directory is missing, not a directory, or not writable, or the disk is full.
    """
    folder = Path(directory)
    if not name or name.startswith(".") or "/" in name or os.sep in name:
        raise ValueError(f"not a plain file name: {name!r}")
    target = folder / name
    check_directory(folder)
    remove_stale(folder, name)
    payload = text.encode("utf-8")
    temporary: str | None = None
    import tempfile  # start-up: only when a file is written (it brings random and shutil)

    try:
        fd, temporary = tempfile.mkstemp(
            prefix=f".{name}.{os.getpid()}.", suffix=".tmp", dir=folder
        )
        try:
            _write_all(fd, payload)
            if hasattr(os, "fchmod"):
                os.fchmod(fd, 0o644)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, target)
        temporary = None
    except PermissionError:
        raise TextfileError(
            f"cannot write {target}: permission denied",
            f"let the user the check runs as write to {folder} (e.g. a group both share), or "
            "choose another --textfile-dir",
        ) from None
    except OSError as error:
        reason = error.strerror or str(error)
        raise TextfileError(f"cannot write {target}: {reason}", _HINT_DIR) from None
    finally:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
    _fsync_directory(folder)
    return target
