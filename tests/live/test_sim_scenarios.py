"""Scenarios through the simulator's real endpoints, one per transport, on the wall clock.

The same checks for every bundled scenario run in-process on a virtual clock in
tests/sim/test_scenarios.py; these show the endpoints' pump threads deliver the same thing
through a kernel tty (collisions, timed to the character) and a TCP socket.
"""

from __future__ import annotations

from collections.abc import Callable

from clu_doctor.sim.endpoints import SimServer
from tests.sim.client import Client, collisions, probe

Served = Callable[..., SimServer]


def test_duplicate_address_collisions_and_a_missing_address_through_a_pty(
    served: Served,
) -> None:
    server = served("duplicate-address", clu=False, tcp=False, seed=4)
    with Client(server.addresses["pty"]) as client:
        outcomes = collisions(client, 1)
        assert client.read(9, 0x0050, 8) is None
    assert outcomes["garbled"] > 0 and outcomes["two clean replies"] > 0
    assert outcomes["one reply"] == 0


def test_unpowered_station_is_the_only_silent_one_through_a_socket(served: Served) -> None:
    server = served("unpowered-station", clu=False, pty=False)
    with Client(server.addresses["tcp"]) as client:
        found = probe(client, range(1, 9))
    assert [a for a, text in found.items() if not text] == [4]
