"""Tests that must run on the wall clock: real ptys, TCP sockets, subprocesses, terminals, and
third-party peers (mbpoll, socat, pymodbus). Everything under ``tests/live`` is marked ``live``;
``pytest -m 'not live'`` runs the rest of the suite, which is all on a virtual clock."""

from __future__ import annotations

import pytest

from tests.bus.conftest import linked_ptys, pty, pty_device
from tests.sim.conftest import _sim_urls, served

__all__ = ["_sim_urls", "linked_ptys", "pty", "pty_device", "served"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/live/" in item.nodeid or item.nodeid.startswith("live/"):
            item.add_marker(pytest.mark.live)
