"""The simulated site: a DEFA CLU bus with charge controllers, meters, cable and faults.

Scenarios (``clu_doctor/sim/scenarios/*.yaml``) describe sites; :class:`~.site.SimSite` runs
one on a bit-level model of the RS-485 line; endpoints make it reachable as a pty, a TCP port
(:func:`~.endpoints.serve`) or in-process as ``sim://NAME`` through pyserial
(:func:`register_url_handler`). The simulator imports the bus layer's codecs (it speaks the
same frames); the bus layer never imports the simulator.

This package imports its submodules lazily, so ``import clu_doctor.sim`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from clu_doctor.sim.endpoints import SimServer, serve
    from clu_doctor.sim.scenario import Scenario
    from clu_doctor.sim.scenario_reader import list_scenarios, load_scenario
    from clu_doctor.sim.simulator import SimSite

__all__ = [
    "Scenario",
    "SimServer",
    "SimSite",
    "list_scenarios",
    "load_scenario",
    "register_url_handler",
    "serve",
]

_LAZY = {
    "Scenario": "clu_doctor.sim.scenario",
    "list_scenarios": "clu_doctor.sim.scenario_reader",
    "load_scenario": "clu_doctor.sim.scenario_reader",
    "SimSite": "clu_doctor.sim.simulator",
    "SimServer": "clu_doctor.sim.endpoints",
    "serve": "clu_doctor.sim.endpoints",
}


def register_url_handler() -> None:
    """Make ``sim://`` URLs open with ``serial.serial_for_url`` (idempotent)."""
    import serial  # pyserial only when sim:// is registered

    if __name__ not in serial.protocol_handler_packages:
        serial.protocol_handler_packages.append(__name__)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
