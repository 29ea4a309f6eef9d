"""The bus's answers as observations: how controller states become ``station.state``."""

from __future__ import annotations

import pytest

from clu_doctor.bus.profile import load_profile
from clu_doctor.probing import classify_states
from clu_doctor.site.model import Site, Station

PROFILE = load_profile("defa-erange")
SITE = Site(
    name="t",
    chain=tuple(Station(a, "UNO", (f"XAXXY{a:02d}",), f"Bay {a}") for a in range(1, 5)),
)


@pytest.mark.parametrize(
    ("states", "value"),
    [
        ({1: "A1", 2: "C2", 3: "C3"}, "normal"),  # C3 (reduced current) is info, not a fault
        ({1: "A1", 2: "E1"}, "unusual"),  # production test mode: the profile says warning
        ({1: "E3", 2: "E1"}, "bus-idle"),
        ({1: "E0", 2: "E2"}, "setup"),
        ({1: "E2", 2: "F4"}, "upstream-timeout"),
        ({1: "F4", 2: "F1"}, "fault"),
    ],
)
def test_the_worst_state_counts(states: dict[int, str], value: str) -> None:
    assert classify_states(states, PROFILE, SITE)[0] == value


def test_the_evidence_names_each_station_that_needs_attention() -> None:
    value, lines = classify_states({1: "A1", 2: "E1", 4: "F4"}, PROFILE, SITE)
    assert value == "upstream-timeout"
    assert lines == [
        "address 2 (XAXXY02): state E1, production test mode",
        "address 4 (XAXXY04): state F4, communication timeout to the bus master (the CLU)",
    ]
    assert classify_states({1: "A1", 2: "C2"}, PROFILE, None)[1] == [
        "2 controller(s) report A, B or C states"
    ]
