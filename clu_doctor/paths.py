"""Where clu-doctor keeps files of its own: the sites' history (state) and the rulebook cache.

Each has an environment variable that wins (``CLU_DOCTOR_STATE_DIR``, ``CLU_DOCTOR_CACHE_DIR``);
otherwise the platform's convention, from :mod:`platformdirs`:

=========  ==========================================  ======================================
           state (history)                             cache (rulebook)
=========  ==========================================  ======================================
Linux      ``$XDG_STATE_HOME/clu-doctor``,             ``$XDG_CACHE_HOME/clu-doctor``,
           else ``~/.local/state/clu-doctor``          else ``~/.cache/clu-doctor``
macOS      ``~/Library/Application Support/clu-doctor``  ``~/Library/Caches/clu-doctor``
Windows    ``%LOCALAPPDATA%\\clu-doctor``                ``%LOCALAPPDATA%\\clu-doctor\\Cache``
=========  ==========================================  ======================================

Nothing here creates a directory or touches the disk.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

APP = "clu-doctor"
ENV_STATE_DIR = "CLU_DOCTOR_STATE_DIR"
ENV_CACHE_DIR = "CLU_DOCTOR_CACHE_DIR"


def state_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where the sites' histories live: ``$CLU_DOCTOR_STATE_DIR``, else the platform's user
    state directory."""
    env = os.environ if environ is None else environ
    if env.get(ENV_STATE_DIR):
        return Path(env[ENV_STATE_DIR]).expanduser()
    import platformdirs  # 4 ms: only when no directory is given

    return platformdirs.user_state_path(APP, appauthor=False)


def cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where the validated rulebook is cached: ``$CLU_DOCTOR_CACHE_DIR``, else the platform's
    user cache directory."""
    env = os.environ if environ is None else environ
    if env.get(ENV_CACHE_DIR):
        return Path(env[ENV_CACHE_DIR]).expanduser()
    simple = _xdg_cache_dir(env)
    if simple is not None:
        return simple
    import platformdirs  # 4 ms (it loads tempfile): only where the simple case does not hold

    return platformdirs.user_cache_path(APP, appauthor=False)


def _xdg_cache_dir(env: Mapping[str, str]) -> Path | None:
    """The cache directory on Linux in the plain case, without importing platformdirs.

    Every diagnosis reads the rulebook cache, so this is on the start-up path, where importing
    platformdirs costs about 5 % of the whole run. With an absolute ``HOME`` and an absolute or
    unset ``XDG_CACHE_HOME`` the answer is the XDG one, exactly as platformdirs gives it
    (``tests/test_paths.py`` compares the two); anything else is platformdirs' to decide.
    """
    if not sys.platform.startswith("linux"):
        return None
    home, xdg = env.get("HOME", ""), env.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(home) or (xdg and not os.path.isabs(xdg)):
        return None
    return Path(xdg or os.path.join(home, ".cache"), APP)
