"""Every bundled scenario, through a real endpoint, showing what a technician would find.

Probing tests unplug the CLU (``clu=False``, the "CLU disconnected" mode the domain notes
require for active probing) and switch wire time off so that replies come at once; listening
tests keep the CLU and real time, because its traffic is what they are about.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

from clu_doctor.bus.codecs.events import Decoded, Garbage
from clu_doctor.bus.frames import Direction, ReadRequest, parse_read_reply
from clu_doctor.sim.endpoints import SimServer
from tests.sim.client import METER, Client, identity

Served = Callable[..., SimServer]


def probe(client: Client, addresses: range | list[int]) -> dict[int, str | None]:
    """Each address's identity (type + serial), or None if it did not answer."""
    found: dict[int, str | None] = {}
    for address in addresses:
        registers = client.read(address, 0x0050, 8)
        found[address] = identity(registers) if registers else None
    return found


def heard_frames(client: Client, seconds: float) -> list[Decoded]:
    return [e for e in client.decode(client.collect(seconds)) if isinstance(e, Decoded)]


def test_healthy_16_every_address_answers_with_its_own_serial(served: Served) -> None:
    server = served("healthy-16", clu=False, pty=False)
    with Client(server.addresses["tcp"]) as client:
        found = probe(client, range(1, 17))
    assert all(found.values())
    assert len(set(found.values())) == 16


def test_healthy_16_the_clu_is_heard_polling_and_every_poll_is_answered(served: Served) -> None:
    server = served("healthy-16", tcp=False, time_scale=2)
    with Client(server.addresses["pty"]) as client:
        frames = heard_frames(client, 1.0)
    requests = [f for f in frames if f.frame.direction is Direction.REQUEST]
    replies = [f for f in frames if f.frame.direction is Direction.REPLY]
    assert {f.frame.address for f in requests} == set(range(1, 17))
    assert {f.frame.address for f in replies} == set(range(1, 17))


def test_healthy_duo_8_sixteen_controllers_in_eight_stations(served: Served) -> None:
    server = served("healthy-duo-8", clu=False, tcp=False)
    with Client(server.addresses["pty"]) as client:
        found = probe(client, range(1, 17))
    assert all(found.values()) and len(set(found.values())) == 16
    assert all(text is not None and text.startswith("2W22D1") for text in found.values())


def test_duplicate_address_collisions_and_a_missing_address(served: Served) -> None:
    server = served("duplicate-address", clu=False, tcp=False, seed=4)
    outcomes: Counter[str] = Counter()
    with Client(server.addresses["pty"]) as client:
        for _ in range(20):
            exchange = client.request(1, 0x002E, 5, wait=2.0)  # something always comes back
            if len(exchange.replies) == 2 and not exchange.garbage:
                outcomes["two clean replies"] += 1
            elif exchange.garbage:
                outcomes["garbled"] += 1
            else:
                outcomes["one reply"] += 1
        assert client.read(9, 0x0050, 8) is None
    assert outcomes["garbled"] > 0 and outcomes["two clean replies"] > 0
    assert outcomes["one reply"] == 0


def test_cable_break_seen_from_the_clu_end(served: Served) -> None:
    server = served("cable-break", clu=False, tcp=False)
    with Client(server.addresses["pty"]) as client:
        found = probe(client, range(1, 13))
    assert [a for a, text in found.items() if text] == [1, 2, 3, 4, 5, 6]


def test_cable_break_seen_from_the_far_end_no_clu_and_the_far_side(served: Served) -> None:
    server = served("cable-break", pty=False, adapter_at="end")
    with Client(server.addresses["tcp"]) as client:
        assert client.collect(1.0) == b""  # the CLU is on the other side of the break
    server.stop()
    server = served("cable-break", clu=False, pty=False, adapter_at="end")
    with Client(server.addresses["tcp"]) as client:
        found = probe(client, range(1, 13))
    assert [a for a, text in found.items() if text] == [7, 8, 9, 10, 11, 12]


def test_unpowered_station_is_the_only_silent_one(served: Served) -> None:
    server = served("unpowered-station", clu=False, pty=False)
    with Client(server.addresses["tcp"]) as client:
        found = probe(client, range(1, 9))
    assert [a for a, text in found.items() if not text] == [4]


def test_long_unterminated_some_exchanges_fail(served: Served) -> None:
    server = served("long-unterminated", clu=False, tcp=False, seed=2)
    request = ReadRequest(3, 0x002E, 5)
    good = bad = 0
    with Client(server.addresses["pty"]) as client:
        for _ in range(40):
            exchange = client.request(3, 0x002E, 5)
            replies = [f for f in exchange.replies if f.address == 3 and len(f.data) == 11]
            if replies and not exchange.garbage:
                assert parse_read_reply(request, replies[0])[0] == 0x2EA1
                good += 1
            else:
                bad += 1
    assert good + bad == 40
    # (1 - 0.0154) ** (17 + 31): about half of the exchanges get through.
    assert 10 < good < 30


def test_ab_swapped_the_clu_end_reaches_only_the_first_four(served: Served) -> None:
    server = served("ab-swapped", clu=False, tcp=False)
    with Client(server.addresses["pty"]) as client:
        found = probe(client, range(1, 9))
    assert [a for a, text in found.items() if text] == [1, 2, 3, 4]


def test_ab_swapped_the_far_end_hears_the_clu_as_garbage(served: Served) -> None:
    server = served("ab-swapped", tcp=False, adapter_at="end", time_scale=2)
    with Client(server.addresses["pty"]) as client:
        events = client.decode(client.collect(1.0))
    assert any(isinstance(e, Garbage) for e in events)
    assert not any(
        isinstance(e, Decoded) and e.frame.direction is Direction.REQUEST for e in events
    )


def test_wrong_adapter_settings_nothing_decodes(served: Served) -> None:
    server = served("wrong-adapter-settings", pty=False)
    with Client(server.addresses["tcp"]) as client:
        heard = client.collect(1.0)
        assert heard and not any(isinstance(e, Decoded) for e in client.decode(heard))
    server.stop()
    server = served("wrong-adapter-settings", clu=False, pty=False)
    with Client(server.addresses["tcp"]) as client:
        assert probe(client, [1, 2]) == {1: None, 2: None}


def test_clu_usb_dead_silence_but_the_stations_answer(served: Served) -> None:
    server = served("clu-usb-dead", tcp=False)
    with Client(server.addresses["pty"]) as client:
        assert client.collect(1.2) == b""
        found = probe(client, range(1, 9))
    assert all(found.values())


def test_clu_booting_silent_until_the_compressed_150_seconds_pass(served: Served) -> None:
    # time_scale 100: simulated time is 100 x wall time, so the first wall second is 100 s.
    server = served("clu-booting", tcp=False, time_scale=100, wire_time=True)
    with Client(server.addresses["pty"]) as client:
        started = time.monotonic()
        assert client.collect(0.9) == b""
        first: Decoded | None = None
        heard = bytearray()
        while first is None and time.monotonic() - started < 20:
            heard += client.collect(0.1)
            first = next((e for e in client.decode(bytes(heard)) if isinstance(e, Decoded)), None)
    assert first is not None and first.frame.describe() == "read 0x0050 x8 from 1"
    assert server.site.time >= 150.0


def test_station_f4_probe_and_the_clus_poll_list(served: Served) -> None:
    server = served("station-f4", clu=False, pty=False)
    with Client(server.addresses["tcp"]) as client:
        assert client.read(7, 0x0004, 1) == (0x04F4,)
        status = client.read(7, 0x002E, 5)
        flags = client.read(7, 0x0006, 2)
    assert status is not None and status[0] == 0x2EF4
    assert flags is not None and flags[1] & 0x0200
    server.stop()
    server = served("station-f4", pty=False, time_scale=3)
    with Client(server.addresses["tcp"]) as client:
        polled = {
            f.frame.address
            for f in heard_frames(client, 1.0)
            if f.frame.direction is Direction.REQUEST
        }
    assert 8 in polled and 7 not in polled


def test_meter_bus_duplicate_one_clean_meter_one_collision(served: Served) -> None:
    server = served("meter-bus-duplicate", clu=False, tcp=False, seed=1)
    with Client(server.addresses["pty"], framing="rtu", settings=METER) as client:
        assert client.read(2, 0, 3) == (2299, 2302, 2300)
        outcomes: Counter[str] = Counter()
        for _ in range(12):
            exchange = client.request(1, 0, 2, wait=2.0)
            values = {tuple(f.data[1:]) for f in exchange.replies}
            if exchange.garbage:
                outcomes["garbled"] += 1
            elif len(values) == 2:
                outcomes["both meters"] += 1
            else:
                outcomes["other"] += 1
    assert outcomes["garbled"] > 0 and outcomes["both meters"] > 0
    assert outcomes["other"] == 0
