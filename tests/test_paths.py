"""Where the history and the rulebook cache go: the environment first, else platformdirs."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs
import pytest

from clu_doctor import paths


def test_the_environment_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLU_DOCTOR_STATE_DIR", "~/state")
    monkeypatch.setenv("CLU_DOCTOR_CACHE_DIR", "/srv/cache")
    assert paths.state_dir() == Path.home() / "state"
    assert paths.cache_dir() == Path("/srv/cache")


def test_otherwise_platformdirs_decides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLU_DOCTOR_STATE_DIR", raising=False)
    monkeypatch.delenv("CLU_DOCTOR_CACHE_DIR", raising=False)
    assert paths.state_dir() == platformdirs.user_state_path("clu-doctor", appauthor=False)
    assert paths.cache_dir() == platformdirs.user_cache_path("clu-doctor", appauthor=False)


@pytest.mark.parametrize(
    ("home", "xdg"),
    [
        ("/home/tech", None),
        ("/home/tech", "/var/cache/tech"),
        ("/home/tech", "relative/cache"),  # not absolute: XDG says ignore it
        ("relative-home", None),
        ("", "/x"),
        ("/", ""),
    ],
)
def test_the_quick_linux_answer_is_platformdirs_answer(
    monkeypatch: pytest.MonkeyPatch, home: str, xdg: str | None
) -> None:
    """The cache directory is worked out without importing platformdirs where it is plain
    XDG (it is on every run's start-up path); where it is, it must be the same answer."""
    monkeypatch.delenv("CLU_DOCTOR_CACHE_DIR", raising=False)
    monkeypatch.setenv("HOME", home)
    if xdg is None:
        monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_CACHE_HOME", xdg)
    try:
        expected = platformdirs.user_cache_path("clu-doctor", appauthor=False)
    except RuntimeError:  # platformdirs cannot name a home at all
        expected = None
    quick = paths._xdg_cache_dir(dict(os.environ))
    if quick is not None:
        assert sys.platform.startswith("linux")
        assert quick == expected
