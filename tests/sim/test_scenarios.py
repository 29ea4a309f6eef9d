"""Every bundled scenario through the ``sim://`` handler, showing what a technician would find.

Probing tests unplug the CLU (``clu=False``, the "CLU disconnected" mode the domain notes
require for active probing) and switch wire time off so that replies come at once; listening
tests keep the CLU, because its traffic is what they are about. Everything runs in-process on
the test's virtual clock; tests/live/test_sim_scenarios.py runs scenarios through a real pty and
a TCP socket.
"""

from __future__ import annotations

from collections import Counter

from clu_doctor.bus.codecs.events import Decoded, Garbage
from clu_doctor.bus.frames import Direction, ReadRequest, parse_read_reply
from clu_doctor.bus.settings import LineSettings
from clu_doctor.clock import VirtualClock
from tests.sim.client import ABL, METER, Client, collisions, probe


def site(
    scenario: str, *, framing: str = "ascii", settings: LineSettings = ABL, **options: object
) -> Client:
    """A client on an in-process simulated site; ``options`` are ``sim://`` URL options
    (``wire_time`` off unless given, as for the served sites of the live tests)."""
    options.setdefault("wire_time", False)
    query = "&".join(
        f"{name}={int(value) if isinstance(value, bool) else value}"
        for name, value in options.items()
    )
    return Client(f"sim://{scenario}?{query}", framing, settings)


def heard_frames(client: Client, seconds: float) -> list[Decoded]:
    return [e for e in client.decode(client.collect(seconds)) if isinstance(e, Decoded)]


def test_healthy_16_every_address_answers_with_its_own_serial() -> None:
    with site("healthy-16", clu=False) as client:
        found = probe(client, range(1, 17))
    assert all(found.values())
    assert len(set(found.values())) == 16


def test_healthy_16_the_clu_is_heard_polling_and_every_poll_is_answered() -> None:
    with site("healthy-16") as client:
        frames = heard_frames(client, 2.0)
    requests = [f for f in frames if f.frame.direction is Direction.REQUEST]
    replies = [f for f in frames if f.frame.direction is Direction.REPLY]
    assert {f.frame.address for f in requests} == set(range(1, 17))
    assert {f.frame.address for f in replies} == set(range(1, 17))


def test_healthy_duo_8_sixteen_controllers_in_eight_stations() -> None:
    with site("healthy-duo-8", clu=False) as client:
        found = probe(client, range(1, 17))
    assert all(found.values()) and len(set(found.values())) == 16
    assert all(text is not None and text.startswith("2W22D1") for text in found.values())


def test_duplicate_address_collisions_and_a_missing_address() -> None:
    with site("duplicate-address", clu=False, seed=4) as client:
        outcomes = collisions(client, 1)
        assert client.read(9, 0x0050, 8) is None
    assert outcomes["garbled"] > 0 and outcomes["two clean replies"] > 0
    assert outcomes["one reply"] == 0


def test_cable_break_seen_from_the_clu_end() -> None:
    with site("cable-break", clu=False) as client:
        found = probe(client, range(1, 13))
    assert [a for a, text in found.items() if text] == [1, 2, 3, 4, 5, 6]


def test_cable_break_seen_from_the_far_end_no_clu_and_the_far_side() -> None:
    with site("cable-break", at="end") as client:
        assert client.collect(1.0) == b""  # the CLU is on the other side of the break
    with site("cable-break", clu=False, at="end") as client:
        found = probe(client, range(1, 13))
    assert [a for a, text in found.items() if text] == [7, 8, 9, 10, 11, 12]


def test_unpowered_station_is_the_only_silent_one() -> None:
    with site("unpowered-station", clu=False) as client:
        found = probe(client, range(1, 9))
    assert [a for a, text in found.items() if not text] == [4]


def test_long_unterminated_some_exchanges_fail() -> None:
    request = ReadRequest(3, 0x002E, 5)
    good = bad = 0
    with site("long-unterminated", clu=False, seed=2) as client:
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


def test_ab_swapped_the_clu_end_reaches_only_the_first_four() -> None:
    with site("ab-swapped", clu=False) as client:
        found = probe(client, range(1, 9))
    assert [a for a, text in found.items() if text] == [1, 2, 3, 4]


def test_ab_swapped_the_far_end_hears_the_clu_as_garbage() -> None:
    with site("ab-swapped", at="end") as client:
        events = client.decode(client.collect(2.0))
    assert any(isinstance(e, Garbage) for e in events)
    assert not any(
        isinstance(e, Decoded) and e.frame.direction is Direction.REQUEST for e in events
    )


def test_wrong_adapter_settings_nothing_decodes() -> None:
    with site("wrong-adapter-settings") as client:
        heard = client.collect(1.0)
        assert heard and not any(isinstance(e, Decoded) for e in client.decode(heard))
    with site("wrong-adapter-settings", clu=False) as client:
        assert probe(client, [1, 2]) == {1: None, 2: None}


def test_clu_usb_dead_silence_but_the_stations_answer() -> None:
    with site("clu-usb-dead") as client:
        assert client.collect(1.2) == b""
        found = probe(client, range(1, 9))
    assert all(found.values())


def test_clu_booting_silent_until_150_seconds_pass(clock: VirtualClock) -> None:
    with site("clu-booting", wire_time=True) as client:
        started = clock.now()
        assert client.collect(149.0) == b""
        first: Decoded | None = None
        heard = bytearray()
        while first is None and clock.now() - started < 2000:
            heard += client.collect(10.0)
            first = next((e for e in client.decode(bytes(heard)) if isinstance(e, Decoded)), None)
        assert client.serial.site.time >= 150.0
    assert first is not None and first.frame.describe() == "read 0x0050 x8 from 1"


def test_station_f4_probe_and_the_clus_poll_list() -> None:
    with site("station-f4", clu=False) as client:
        assert client.read(7, 0x0004, 1) == (0x04F4,)
        status = client.read(7, 0x002E, 5)
        flags = client.read(7, 0x0006, 2)
    assert status is not None and status[0] == 0x2EF4
    assert flags is not None and flags[1] & 0x0200
    with site("station-f4") as client:
        polled = {
            f.frame.address
            for f in heard_frames(client, 3.0)
            if f.frame.direction is Direction.REQUEST
        }
    assert 8 in polled and 7 not in polled


def test_meter_bus_duplicate_one_clean_meter_one_collision() -> None:
    with site("meter-bus-duplicate", framing="rtu", settings=METER, clu=False, seed=1) as client:
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
