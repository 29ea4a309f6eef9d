"""Where the bundled data lives: decision trees, device profiles, simulator scenarios.

In an installed wheel the top-level ``rules/`` directory is packaged as ``clu_doctor/rules``. In a
source checkout (editable install, or running from the repository) it is the ``rules/`` directory
next to the package. Profiles and scenarios always live inside the package.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def rules_dir() -> Path:
    """The bundled rules directory (observation vocabulary, trees and their cases)."""
    packaged = _PACKAGE_DIR / "rules"
    if packaged.is_dir():
        return packaged
    return _PACKAGE_DIR.parent / "rules"


def profiles_dir() -> Path:
    """The bundled device profiles (``*.yaml``)."""
    return _PACKAGE_DIR / "bus" / "profiles"


def scenarios_dir() -> Path:
    """The bundled simulator scenarios (``*.yaml``)."""
    return _PACKAGE_DIR / "sim" / "scenarios"
