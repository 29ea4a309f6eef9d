"""Third-party programs some tests drive as peers (mbpoll, socat, promtool).

On a fresh machine with only Python, such a test is skipped with the program's name and the
command that installs it, so the README's test command passes there. ``CLU_DOCTOR_REQUIRE_PEERS=1``
(set by ``.ci/run`` after installing every peer) turns a missing program into a failure, so CI
runs every one of them. Tests that need a peer are marked ``peer``: ``pytest -m peer`` runs
just those.
"""

from __future__ import annotations

import os
import shutil

import pytest

REQUIRE_ENV = "CLU_DOCTOR_REQUIRE_PEERS"

#: Each peer and how a Debian or Ubuntu machine (and Raspberry Pi OS) gets it.
INSTALL: dict[str, str] = {
    "mbpoll": "sudo apt-get install mbpoll",
    "socat": "sudo apt-get install socat",
    "promtool": "sudo apt-get install prometheus",
}


def required() -> bool:
    """Must every peer be present (CI), rather than skipped when missing?"""
    return os.environ.get(REQUIRE_ENV, "") not in ("", "0")


def peer(tool: str) -> str:
    """The path of ``tool``; skips the test when it is missing (fails under
    ``CLU_DOCTOR_REQUIRE_PEERS=1``)."""
    found = shutil.which(tool)
    if found:
        return found
    message = f"{tool} is not installed ({INSTALL[tool]})"
    if required():
        pytest.fail(f"{message}, and {REQUIRE_ENV}=1 requires it", pytrace=False)
    pytest.skip(f"{message}; {REQUIRE_ENV}=1 makes this a failure")
