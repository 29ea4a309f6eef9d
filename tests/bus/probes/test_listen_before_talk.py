"""Listen-before-talk: probes stay silent next to a polling CLU and talk only on a quiet bus.

The simulated site runs in-process behind ``sim://``, on the test's virtual clock (the same
through a pty is in tests/live/test_probes_live.py). Whether the probe
sent anything is proven on the far side: the simulator counts every byte its adapter node put
on the wire, and a spy on the serial object records every ``write`` call.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

from clu_doctor.bus.codecs import get_codec
from clu_doctor.bus.frames import ReadRequest, build_read_reply
from clu_doctor.bus.link import Link
from clu_doctor.bus.probes.base import (
    BusBusy,
    LbtResult,
    exchange,
    listen_before_talk,
    require_quiet,
)
from clu_doctor.bus.probes.duplicates import find_duplicates
from clu_doctor.bus.probes.scan import scan
from clu_doctor.bus.profile import DeviceProfile, Timing, load_profile
from clu_doctor.sim import register_url_handler
from tests.bus.fakes import SpySerial, spied_link

# The simulated controllers answer within 3 +/- 1 ms; the bundled profile's 300 ms floor is for
# real hardware and would only make silent addresses slow here.
PROFILE = dataclasses.replace(load_profile("defa-erange"), timing=Timing(0.001, 0.003, 0.05))
# Five seconds of listening cover five of the CLU's 1 s poll cycles (virtual seconds: no real
# time is spent).
IDLE_S, MAX_WAIT_S = 5.0, 15.0


@pytest.fixture(autouse=True, scope="module")
def _sim_urls() -> None:
    register_url_handler()


@pytest.fixture
def spied() -> Iterator[Any]:
    """Factory: ``spied(url)`` -> (link, spy, simulated serial)."""
    opened: list[Link] = []

    def make(url: str, profile: DeviceProfile = PROFILE) -> tuple[Link, SpySerial, Any]:
        link, spy = spied_link(url, profile.line, profile.framing)
        opened.append(link)
        return link, spy, spy.inner

    yield make
    for link in opened:
        link.close()


def assert_nothing_sent(link: Link, spy: SpySerial, handle: Any) -> None:
    assert spy.writes == []
    assert link.bytes_sent == 0
    assert handle.adapter.bytes_sent == 0  # the simulated bus never saw a byte from us


def test_a_polling_clu_makes_the_scan_refuse_and_send_nothing(spied: Any) -> None:
    link, spy, handle = spied("sim://healthy-16?wire_time=0")
    with pytest.raises(BusBusy) as caught:
        scan(link, PROFILE, range(1, 17), listen_s=IDLE_S, listen_max_s=MAX_WAIT_S)
    assert_nothing_sent(link, spy, handle)
    error = caught.value
    assert "CLU seems to be polling" in error.message
    assert "stays passive" in error.message
    assert error.hint is not None and "disconnect" in error.hint and "force" in error.hint
    lbt = error.lbt
    assert lbt is not None and not lbt.quiet
    assert lbt.verdict == "traffic"
    assert lbt.polled == tuple(range(1, 17))
    assert lbt.requests_seen > 0 and lbt.replies_seen > 0
    assert "requests to 1-16" in error.message


def test_a_polling_clu_makes_the_duplicate_check_refuse_and_send_nothing(spied: Any) -> None:
    link, spy, handle = spied("sim://healthy-16?wire_time=0")
    with pytest.raises(BusBusy):
        find_duplicates(link, PROFILE, [1, 2], listen_s=IDLE_S, listen_max_s=MAX_WAIT_S)
    assert_nothing_sent(link, spy, handle)


def test_a_result_that_was_not_quiet_refuses_without_listening_again(spied: Any) -> None:
    link, spy, handle = spied("sim://clu-usb-dead?wire_time=0")
    noisy = LbtResult(False, 1.0, IDLE_S, MAX_WAIT_S, bytes_seen=40, frames_seen=2)
    with pytest.raises(BusBusy):
        scan(link, PROFILE, [1], lbt=noisy)
    assert_nothing_sent(link, spy, handle)


def test_junk_without_frames_is_not_quiet_either(spied: Any) -> None:
    # The adapter is fixed at 9600 8N1 on a 38400 8E1 bus: the CLU's polls arrive as junk.
    link, spy, handle = spied("sim://wrong-adapter-settings?wire_time=0")
    result = listen_before_talk(link, IDLE_S, MAX_WAIT_S)
    assert not result.quiet
    assert result.verdict == "noise"
    assert result.frames_seen == 0 and result.bytes_seen > 0
    assert "no valid frame" in result.describe()
    with pytest.raises(BusBusy):
        require_quiet(link, lbt=result)
    assert_nothing_sent(link, spy, handle)


def test_a_dead_clu_interface_leaves_the_bus_quiet_and_probes_run(spied: Any) -> None:
    link, spy, handle = spied("sim://clu-usb-dead?wire_time=0")
    result = scan(link, PROFILE, range(1, 17), listen_s=IDLE_S, listen_max_s=MAX_WAIT_S)
    assert result.lbt is not None and result.lbt.quiet
    assert result.lbt.verdict == "quiet"
    assert result.lbt.bytes_seen == 0
    assert result.lbt.listened_s >= IDLE_S
    assert result.answered == tuple(range(1, 9))
    assert handle.adapter.bytes_sent == link.bytes_sent == sum(map(len, spy.writes)) > 0


def test_the_explicit_force_flag_skips_listening(spied: Any) -> None:
    link, _, handle = spied("sim://healthy-16?wire_time=0&clu=0")
    result = scan(link, PROFILE, [1, 2], force=True)
    assert result.forced and result.lbt is None
    assert result.answered == (1, 2)
    assert handle.adapter.bytes_sent > 0


def test_one_listen_can_serve_several_probes(spied: Any) -> None:
    link, _, _ = spied("sim://healthy-16?wire_time=0&clu=0")
    lbt = listen_before_talk(link, IDLE_S, MAX_WAIT_S)
    assert lbt.quiet
    assert scan(link, PROFILE, [1], lbt=lbt).lbt is lbt
    assert find_duplicates(link, PROFILE, [1], reads=2, lbt=lbt).lbt is lbt


def test_listen_before_talk_arguments() -> None:
    with pytest.raises(ValueError):
        listen_before_talk(None, 0, 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        listen_before_talk(None, 2, 1)  # type: ignore[arg-type]


def test_to_dict_is_plain_data(spied: Any) -> None:
    link, _, _ = spied("sim://healthy-16?wire_time=0")
    data = listen_before_talk(link, IDLE_S, MAX_WAIT_S).to_dict()
    assert data["verdict"] == "traffic"
    assert data["polled"] == list(range(1, 17))
    assert all(isinstance(s, str) for s in data["samples"])


def test_a_master_that_starts_polling_during_a_probe_stops_it(fake_bus: Any) -> None:
    # The CLU finished booting after the listen: its request to 2 arrives in our answer window.
    codec = get_codec("ascii")
    theirs = codec.encode(ReadRequest(2, 0x002E, 5).to_frame())

    def respond(raw: bytes) -> bytes:
        request = ReadRequest.from_frame(codec.decode(raw))
        return theirs + codec.encode(build_read_reply(request, [0x5000] + [0x2020] * 7))

    bus = fake_bus(responder=respond)
    with Link.open(bus.url, PROFILE.line, "ascii") as link:
        with pytest.raises(BusBusy) as caught:
            exchange(link, ReadRequest(1, 0x0050, 8), "identity", 0.2)
        with pytest.raises(BusBusy):
            scan(link, PROFILE, [1, 2, 3], force=True)
    assert "another master" in caught.value.message
    assert "read 0x002E x5 from 2" in caught.value.message
    assert len(bus.written) == 2  # one request each; the scan stopped at its first answer
