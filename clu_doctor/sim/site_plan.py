"""The site description a technician would carry for a simulated site.

``--sim SCENARIO`` stands for a real site, and a real site comes with its plan: the chain in
BUS IN -> BUS OUT order and the address each outlet's label promises. The plan says what
*should* be; the scenario's faults (a controller left at the factory address, a cut cable)
say what *is*. So a station's planned address comes from its label (``XAXXY09`` -> 9), not
from the address its controller actually answers on.
"""

from __future__ import annotations

import re

from clu_doctor.sim.scenario import Scenario
from clu_doctor.site.model import DEFAULT_LABEL_PREFIX, Meters, Model, Site, Station, label_for

_LABEL = re.compile(rf"^{DEFAULT_LABEL_PREFIX}(\d\d)$")


def _planned_address(label: str, actual: int) -> int:
    match = _LABEL.match(label)
    return int(match.group(1)) if match else actual


def _model(name: str, outlets: int) -> Model:
    if outlets == 2 or "DUO" in name.upper():
        return "DUO"
    return "IQ" if "IQ" in name.upper() else "UNO"


def site_for(scenario: Scenario) -> Site | None:
    """The plan of a charge-point scenario; ``None`` for a meter bus (no charge points).

    A site of first-generation stations only is read with profile ``defa-evcc1``; a mixed
    site with the bus's (``defa-erange``), whose listener reads the first generation's frames
    with the other profile (a station's generation is not part of a site file)."""
    if not scenario.stations or any(s.kind == "meter" for s in scenario.stations):
        return None
    first_generation = scenario.bus.framing == "evcc1"
    chain = []
    for station in scenario.stations:
        labels = tuple(c.label for c in station.controllers)
        first = station.controllers[0]
        address = _planned_address(first.label, first.address)
        model = _model(station.model, len(station.controllers))
        if model == "DUO" and len(labels) == 1:
            # a DUO box with one controller on the bus (the other one dead or not fitted):
            # the plan still has both outlets, the second on the next address
            labels += (label_for(DEFAULT_LABEL_PREFIX, address + 1),)
        chain.append(Station(address=address, model=model, labels=labels, name=station.label))
    return Site(
        name=scenario.name,
        profile="defa-evcc1" if first_generation else "defa-erange",
        chain=tuple(chain),
        framing=scenario.bus.framing,
        line_settings=scenario.bus.settings,
        adapter_at=scenario.adapter.at,
        clu="connected" if scenario.clu.present else "disconnected",
        cable_m=scenario.bus.cable_m,
        meters=Meters(present=False),
        path=scenario.source,
    )
