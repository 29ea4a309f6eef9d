"""Where the bundled data lives: decision trees, device profiles, simulator scenarios, the
documentation and the monitoring files (Prometheus alert rules, a Grafana dashboard).

In an installed wheel the top-level ``rules/``, ``docs/`` and ``monitoring/`` directories are
packaged as ``clu_doctor/rules``, ``clu_doctor/docs`` and ``clu_doctor/docs/monitoring``. In a
source checkout (editable install, or running from the repository) they are the directories next
to the package. Profiles and scenarios always live inside the package.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent
#: The file name of the rulebook built with the wheel, inside the package.
SHIPPED_RULEBOOK = "rulebook.pickle"
#: The file names of the rulebook in another language and of the command line's messages,
#: built with the wheel beside it.
SHIPPED_TRANSLATION = "rulebook-{language}.pickle"
SHIPPED_MESSAGES = "messages-{language}.pickle"
#: Where a rules directory keeps its translations (``<lang>.po``, see engine/texts.py).
RULES_LOCALE_DIR = "locale"


def rules_dir() -> Path:
    """The bundled rules directory (observation vocabulary, trees and their cases)."""
    packaged = _PACKAGE_DIR / "rules"
    if packaged.is_dir():
        return packaged
    return _PACKAGE_DIR.parent / "rules"


def rules_catalogue(rules: Path, language: str) -> Path:
    """The gettext catalogue that translates the rules directory ``rules`` into ``language``."""
    return rules / RULES_LOCALE_DIR / f"{language}.po"


def shipped_rulebook() -> Path:
    """The rulebook validated when the wheel was built (see ``hatch_build.py``); it stands for
    the bundled rules only while their files are the ones it was built from."""
    return _PACKAGE_DIR / SHIPPED_RULEBOOK


def shipped_translation(language: str) -> Path:
    """The bundled rules translated into ``language`` when the wheel was built; it stands for
    them only while the rule files and the language's catalogue are the ones it was built
    from."""
    return _PACKAGE_DIR / SHIPPED_TRANSLATION.format(language=language)


def shipped_messages(language: str) -> Path:
    """The command line's messages in ``language``, parsed from their catalogue when the
    wheel was built; they stand for it only while the catalogue is the one they came from."""
    return _PACKAGE_DIR / SHIPPED_MESSAGES.format(language=language)


def profiles_dir() -> Path:
    """The bundled device profiles (``*.yaml``)."""
    return _PACKAGE_DIR / "bus" / "profiles"


def scenarios_dir() -> Path:
    """The bundled simulator scenarios (``*.yaml``)."""
    return _PACKAGE_DIR / "sim" / "scenarios"


def docs_dir() -> Path:
    """The documentation (``*.md``)."""
    packaged = _PACKAGE_DIR / "docs"
    if packaged.is_dir():
        return packaged
    return _PACKAGE_DIR.parent / "docs"


def monitoring_dir() -> Path:
    """The monitoring files: Prometheus alert rules and their tests, a Grafana dashboard."""
    packaged = _PACKAGE_DIR / "docs" / "monitoring"
    if packaged.is_dir():
        return packaged
    return _PACKAGE_DIR.parent / "monitoring"
