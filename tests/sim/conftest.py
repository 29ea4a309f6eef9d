"""Fixtures for the simulator tests: running sites behind real endpoints (tests/live uses them).

The virtual clock every other test runs on is the ``clock`` fixture of tests/conftest.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from clu_doctor.sim import register_url_handler

if TYPE_CHECKING:
    from clu_doctor.sim.endpoints import SimServer


@pytest.fixture(autouse=True, scope="session")
def _sim_urls() -> None:
    register_url_handler()


@pytest.fixture
def served() -> Iterator[Callable[..., SimServer]]:
    """Factory: ``served("healthy-16", clu=False, wire_time=False)`` -> a running SimServer."""
    from clu_doctor.sim.endpoints import serve

    servers: list[SimServer] = []

    def start(scenario: Any, **kwargs: Any) -> SimServer:
        kwargs.setdefault("wire_time", False)
        server = serve(scenario, **kwargs)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
    for server in servers:
        assert not server.running, "an endpoint thread did not stop"
        for endpoint in server.endpoints:
            assert endpoint.error is None, f"{endpoint.name} endpoint failed: {endpoint.error!r}"
