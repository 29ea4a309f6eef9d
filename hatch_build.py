"""Build hook: the wheel ships the bundled rulebook already validated, and its translations.

Reading and validating the YAML trees takes longer than importing the command line's toolkit,
so a first run (a new user, an upgrade, a cron job under another HOME) would pay for it. The
wheel therefore carries ``clu_doctor/rulebook.pickle``, built here from the rules it ships and
keyed on their contents (``clu_doctor.engine.cache``); a build with invalid rules or a failing
tree case fails. A run in another language would parse two gettext catalogues and translate
the rulebook (about as long again), so the wheel carries that done too: the rulebook in each
language (``rulebook-<lang>.pickle``, keyed on the rules and the language's catalogue) and the
command line's messages (``messages-<lang>.pickle``, keyed on their catalogue). An editable
install gets the files in the source tree, where each stands for its sources only until one
of them is edited (then the per-user cache takes over).

An editable install also gets its bytecode compiled here, as pip compiles a wheel's when it
installs it. ``PYTHONDONTWRITEBYTECODE=1`` (common in containers and CI) only stops the
interpreter from writing bytecode as it imports; it still reads what is there. Without this, such
an install compiled every module it loaded on every run (a third again of a diagnosis's time);
with it, only the modules edited since the install are compiled, in memory, as before.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

PACKAGE = "clu_doctor"
SHIPPED = f"{PACKAGE}/rulebook.pickle"


class RulebookHook(BuildHookInterface):  # type: ignore[misc]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        root = Path(self.root)
        sys.path.insert(0, str(root))
        try:
            from clu_doctor.engine.rulebook import build_shipped, build_shipped_translations
            from clu_doctor.i18n import build_shipped_messages
        finally:
            sys.path.remove(str(root))
        if version == "editable":
            build_shipped(root / SHIPPED, root / "rules")
            build_shipped_translations(root / PACKAGE, root / "rules")
            build_shipped_messages(root / PACKAGE)
            compile_sources(root / PACKAGE)
            return
        folder = Path(tempfile.mkdtemp(prefix="clu-doctor-rulebook-"))
        out = folder / "rulebook.pickle"
        build_shipped(out, root / "rules")
        build_data["force_include"][str(out)] = SHIPPED
        for built in [
            *build_shipped_translations(folder, root / "rules"),
            *build_shipped_messages(folder),
        ]:
            build_data["force_include"][str(built)] = f"{PACKAGE}/{built.name}"


def compile_sources(package: Path) -> None:
    """The bytecode of every module of ``package``, beside it in ``__pycache__`` (what pip
    does for a wheel at install time; the interpreter checks it against each source file)."""
    import compileall

    if not compileall.compile_dir(str(package), quiet=1):
        raise RuntimeError(f"could not compile {package}")
