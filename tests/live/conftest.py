"""Tests that must run on the wall clock: real ptys, TCP sockets, subprocesses, terminals, and
third-party peers (socat, mbpoll, pymodbus). Everything under ``tests/live`` is marked ``live``;
``pytest -m 'not live'`` runs the rest of the suite, which is all on a virtual clock."""

from __future__ import annotations

import pytest

from tests.bus.conftest import pty, pty_device, socat_pair
from tests.sim.conftest import _sim_urls, served

__all__ = ["_sim_urls", "pty", "pty_device", "served", "socat_pair"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/live/" in item.nodeid or item.nodeid.startswith("live/"):
            item.add_marker(pytest.mark.live)
