"""The probes through a real pty: the path a technician's tool takes, on the wall clock.

The same probes run in-process on the virtual clock in tests/bus/probes/.
"""

from __future__ import annotations

import dataclasses

import pytest

from clu_doctor.bus.chain import analyse_chain
from clu_doctor.bus.link import Link
from clu_doctor.bus.probes.base import BusBusy
from clu_doctor.bus.probes.duplicates import find_duplicates
from clu_doctor.bus.probes.scan import ScanResult, scan
from clu_doctor.bus.profile import Timing, load_profile
from clu_doctor.sim.endpoints import serve

# The simulated controllers answer within 3 +/- 1 ms; the bundled 300 ms floor is for real
# hardware and would only make silent addresses slow here.
PROFILE = dataclasses.replace(load_profile("defa-erange"), timing=Timing(0.001, 0.003, 0.05))
TWELVE = tuple(range(1, 13))
# time_scale=10 turns the CLU's 1 s poll cycle into 0.1 s, so half a second of listening
# covers five cycles.
IDLE_S, MAX_WAIT_S = 0.5, 1.5


def serials(result: ScanResult) -> dict[int, str | None]:
    return {r.address: r.identity.serial for r in result.results if r.identity}


def test_a_scan_through_a_pty_finds_the_same_stations() -> None:
    server = serve("cable-break", tcp=False, wire_time=False, clu=False, adapter_at="end")
    try:
        assert server.pty is not None
        with Link.open(server.pty, PROFILE.line, PROFILE.framing) as link:
            result = scan(
                link, PROFILE, TWELVE, expected=TWELVE, retries=0, listen_s=0.2, listen_max_s=0.5
            )
        assert result.answered == tuple(range(7, 13))
        assert serials(result)[7] == "DF230107"
        assert analyse_chain(TWELVE, "end", set(result.answered)).segment == (6, 7)
    finally:
        server.stop()


def test_through_a_pty_a_polling_clu_gets_nothing_either() -> None:
    server = serve("healthy-16", tcp=False, wire_time=False, time_scale=10)
    try:
        assert server.pty is not None
        with Link.open(server.pty, PROFILE.line, PROFILE.framing) as link:
            with pytest.raises(BusBusy):
                scan(link, PROFILE, range(1, 17), listen_s=IDLE_S, listen_max_s=MAX_WAIT_S)
            assert link.bytes_sent == 0
        assert server.site.adapter.bytes_sent == 0
    finally:
        server.stop()


def test_a_duplicate_through_a_pty() -> None:
    server = serve("duplicate-address", tcp=False, wire_time=False, clu=False, seed=5)
    try:
        assert server.pty is not None
        with Link.open(server.pty, PROFILE.line, PROFILE.framing) as link:
            result = find_duplicates(link, PROFILE, [1, 2, 9], reads=20, tail_s=0.0, force=True)
        assert result.confirmed == (1,)
        assert result.silent == (9,)
    finally:
        server.stop()
