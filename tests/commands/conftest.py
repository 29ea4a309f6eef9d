"""Fixtures for the command tests, which run the real command line in-process."""

from __future__ import annotations

from typing import Any

import pytest

from clu_doctor.sim import protocol_sim
from clu_doctor.sim.simulator import SimSite


@pytest.fixture
def sim_sites(monkeypatch: pytest.MonkeyPatch) -> list[SimSite]:
    """Every simulated site a command opens through ``sim://`` while the test runs, so the test
    can look at the far side of the wire afterwards (what the adapter put on the bus)."""
    opened: list[SimSite] = []
    real = protocol_sim.SimSite

    def record(*args: Any, **kwargs: Any) -> SimSite:
        site = real(*args, **kwargs)
        opened.append(site)
        return site

    monkeypatch.setattr(protocol_sim, "SimSite", record)
    return opened
