"""Build hook: the wheel ships the bundled rulebook already validated.

Reading and validating the YAML trees takes longer than importing the command line's toolkit,
so a first run (a new user, an upgrade, a cron job under another HOME) would pay for it. The
wheel therefore carries ``clu_doctor/rulebook.pickle``, built here from the rules it ships and
keyed on their contents (``clu_doctor.engine.cache``); a build with invalid rules or a failing
tree case fails. An editable install gets the file in the source tree, where it stands for the
rules only until one of them is edited (then the per-user cache takes over).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SHIPPED = "clu_doctor/rulebook.pickle"


class RulebookHook(BuildHookInterface):  # type: ignore[misc]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        root = Path(self.root)
        sys.path.insert(0, str(root))
        try:
            from clu_doctor.engine.rulebook import build_shipped
        finally:
            sys.path.remove(str(root))
        if version == "editable":
            build_shipped(root / SHIPPED, root / "rules")
            return
        out = Path(tempfile.mkdtemp(prefix="clu-doctor-rulebook-")) / "rulebook.pickle"
        build_shipped(out, root / "rules")
        build_data["force_include"][str(out)] = SHIPPED
