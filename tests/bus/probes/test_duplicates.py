"""Duplicate-address detection on the simulated site and under noise, on the virtual clock.

False positives are bugs: the healthy sites, the noise sweep (byte error rates 1e-4 and 1e-3,
fixed seeds) and the 250 m unterminated bus must never give a duplicate verdict. The sites run
in-process behind ``sim://`` without wire time, where both replies to one request come back in
the same read: the probe then finds the second one in ``ReadResult.trailing``, so these tests
do not listen for a tail (``tail_s=0``); one test runs with wire time and the tail window.
Through a pty and against pymodbus devices: tests/live/test_probes_live.py and
tests/live/test_duplicates_pymodbus.py.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clu_doctor.bus.codecs import get_codec
from clu_doctor.bus.frames import ReadRequest, build_read_reply
from clu_doctor.bus.link import Link
from clu_doctor.bus.probes.duplicates import (
    DuplicateResult,
    describe,
    describe_address,
    find_duplicates,
)
from clu_doctor.bus.profile import DeviceProfile, RegisterBlock, Timing, load_profile
from clu_doctor.resources import scenarios_dir
from clu_doctor.sim import register_url_handler

# The simulated controllers answer within 3 +/- 1 ms (the replaced one in duplicate-address
# within 10 +/- 6 ms); the bundled 300 ms floor is for real hardware.
PROFILE = dataclasses.replace(load_profile("defa-erange"), timing=Timing(0.001, 0.003, 0.05))


@pytest.fixture(autouse=True, scope="module")
def _sim_urls() -> None:
    register_url_handler()


@pytest.fixture
def check() -> Iterator[Any]:
    """``check(url, addresses, **options)`` -> DuplicateResult."""
    links: list[Link] = []

    def run(
        url: str, addresses: Any = range(1, 17), profile: DeviceProfile = PROFILE, **options: Any
    ) -> DuplicateResult:
        link = Link.open(url, profile.line, profile.framing)
        links.append(link)
        options.setdefault("force", True)  # the CLU is unplugged in every URL here
        options.setdefault("tail_s", 0.0)
        return find_duplicates(link, profile, addresses, **options)

    yield run
    for link in links:
        link.close()


def no_duplicate(result: DuplicateResult) -> None:
    assert result.confirmed == () and result.suspected == (), describe(result)
    assert result.verdict in ("none", "noisy")
    assert all(a.next_step is None for a in result.addresses)


def noisy_scenario(tmp_path: Path, error_rate: float) -> str:
    """healthy-16 with an ambient byte error rate (bus.extra_byte_error)."""
    text = (scenarios_dir() / "healthy-16.yaml").read_text(encoding="utf-8")
    marker = "  termination: both\n"
    assert marker in text
    path = tmp_path / f"healthy-16-noise-{error_rate}.yaml"
    path.write_text(text.replace(marker, f"{marker}  extra_byte_error: {error_rate}\n"))
    return f"sim://{path}"


# --- the duplicate-address scenario -------------------------------------------------------------


def test_duplicate_address_is_confirmed_at_1_with_both_serials(check: Any) -> None:
    result = check("sim://duplicate-address?wire_time=0&clu=0&seed=4", reads=20)
    assert result.verdict == "confirmed"
    assert result.confirmed == (1,)
    assert result.suspected == ()
    assert result.silent == (9,)  # the replaced controller's own address
    one = result.get(1)
    assert one is not None
    assert {i.identity.serial for i in one.identities} == {"DF230101", "AB190042"}
    assert one.reasons[0] == "identities"
    assert "corrupt_rate" in one.reasons  # most replies collide
    assert one.corrupt > one.ok
    assert one.p_value is not None and one.p_value < 1e-6
    assert one.evidence[0].startswith("2 identities answer address 1")
    assert "DF230101" in one.evidence[0] and "AB190042" in one.evidence[0]
    assert one.next_step is not None and "Switch off half of the stations" in one.next_step
    assert "address 1" in one.next_step
    assert result.background.verdict == "clean"
    assert result.background.corrupt == 0
    data = json.loads(json.dumps(result.to_dict()))
    assert data["confirmed"] == [1]
    assert {i["serial"] for i in data["addresses"][0]["identities"]} == {"DF230101", "AB190042"}


def test_describe_shows_both_identities_and_the_next_step(check: Any) -> None:
    """What scan and diagnose print as BUS-DUP-01's evidence: the remedy says to find the two
    controllers by the serial numbers in it, so both serials (with device type and counts) and
    the next step must be there, not just the reason codes."""
    result = check("sim://duplicate-address?wire_time=0&clu=0&seed=4", reads=20)
    one = result.get(1)
    assert one is not None
    lines = describe(result)
    assert lines[0] == "address 1: duplicate confirmed; 2 identities seen"
    counts = {s.identity.serial: s.count + s.doubled for s in one.identities}
    for serial in ("DF230101", "AB190042"):
        shown = [line for line in lines if f"serial {serial}" in line]
        assert len(shown) == 1, lines
        assert shown[0].startswith(f"address 1 answered as device type 2W22M1, serial {serial}: ")
        assert f": {counts[serial]} replies" in shown[0]
    second = next(s for s in one.identities if s.doubled)
    assert f"({second.doubled} as a second reply to the same request)" in "\n".join(lines)
    assert any(line.startswith("15 of 20 replies at address 1 were corrupt") for line in lines)
    assert lines[-1 if not result.silent else -2] == f"next step: {one.next_step}"
    assert not any("(identities, corrupt_rate)" in line for line in lines)  # no reason codes
    assert not any(line.startswith("address 2") for line in lines)  # clean addresses: nothing


def test_describe_an_address_with_no_identity_and_blank_serials(check: Any) -> None:
    result = check("sim://duplicate-address?wire_time=0&clu=0&seed=4", [1, 2, 3], reads=12)
    one = result.get(1)
    assert one is not None
    blank = dataclasses.replace(
        one.identities[0],
        identity=dataclasses.replace(one.identities[0].identity, serial="        "),
        count=1,
        doubled=0,
    )
    garbled = dataclasses.replace(
        one, verdict="suspected", reasons=("corrupt_rate",), identities=(), evidence=("x",)
    )
    twins = dataclasses.replace(
        one, verdict="suspected", reasons=("doubled",), identities=(blank,), evidence=()
    )
    assert describe_address(garbled)[:2] == [
        f"address 1: duplicate suspected; no clean reply in {one.reads} reads to read an "
        "identity from",
        "x",
    ]
    assert describe_address(twins)[:2] == [
        "address 1: duplicate suspected; one identity seen",
        "address 1 answered as device type 2W22M1, serial (blank): 1 reply",
    ]
    assert describe_address(twins)[-1].startswith("next step: Switch off half of the stations")
    assert describe_address(result.get(2)) == []  # type: ignore[arg-type]


def test_the_tail_window_catches_the_late_second_reply_with_wire_time(check: Any) -> None:
    result = check("sim://duplicate-address?clu=0&seed=1", [1, 2, 3], reads=12, tail_s=None)
    one = result.get(1)
    assert one is not None and one.verdict == "confirmed"
    assert one.doubled > 0
    assert {i.identity.serial for i in one.identities} == {"DF230101", "AB190042"}
    assert result.get(2).verdict == result.get(3).verdict == "none"


def test_the_meter_bus_duplicate_over_rtu(check: Any) -> None:
    meter = dataclasses.replace(
        load_profile("modbus-meter"),
        identity=RegisterBlock(3, 16, 4, "ascii-string", "serial number"),
        timing=PROFILE.timing,
    )
    result = check("sim://meter-bus-duplicate?wire_time=0&clu=0", [1, 2], profile=meter)
    assert result.verdict in ("suspected", "confirmed")
    one = result.get(1)
    assert one is not None and one.verdict != "none"
    assert {i.identity.text for i in one.identities} <= {"EM100001", "EM100003"}
    assert result.get(2).verdict == "none"


def test_two_clusters_of_reply_times_alone_make_a_duplicate_suspected(fake_bus: Any) -> None:
    # A synthetic case for the timing rule on its own: at address 1 two controllers with the
    # same blank identity block take turns answering, one after 5 ms, the other after 200 ms.
    # No collision, no second reply, one identity: only the reply times tell.
    codec = get_codec("ascii")
    turns = itertools.count()

    def respond(raw: bytes) -> bytes:
        request = ReadRequest.from_frame(codec.decode(raw))
        slow = request.address == 1 and next(turns) % 2 == 1
        bus.turnaround = 0.200 if slow else 0.005
        serial = [0x2020] * 7 if request.address == 1 else [0x3030] * 6 + [0x3030 + request.address]
        return codec.encode(build_read_reply(request, [0x5000, *serial]))

    bus = fake_bus(responder=respond)
    bundled = load_profile("defa-erange")  # its 300 ms floor covers the 200 ms replies
    with Link.open(bus.url, bundled.line, bundled.framing) as link:
        result = find_duplicates(link, bundled, [1, 2, 3], reads=12, tail_s=0.0, force=True)
    one = result.get(1)
    assert one is not None and one.verdict == "suspected", describe(result)
    assert one.reasons == ("timing",)
    assert one.clusters is not None and one.clusters.first[2] == one.clusters.second[2] == 6
    assert "two clusters" in one.evidence[0]
    assert [a.verdict for a in result.addresses] == ["suspected", "none", "none"]


def test_identical_twin_replies_make_a_duplicate_suspected(fake_bus: Any) -> None:
    # Two controllers with the same identity block (e.g. blank serials) at address 1, the
    # second answering after the first has finished: every request gets two identical replies.
    codec = get_codec("ascii")

    def respond(raw: bytes) -> bytes:
        request = ReadRequest.from_frame(codec.decode(raw))
        reply = codec.encode(
            build_read_reply(request, [0x5000, *[0x2020] * 6, 0x3030 + request.address])
        )
        return reply * 2 if request.address == 1 else reply

    bus = fake_bus(responder=respond, turnaround=0.003)
    with Link.open(bus.url, PROFILE.line, PROFILE.framing) as link:
        result = find_duplicates(link, PROFILE, [1, 2, 3], reads=4, tail_s=0.0, force=True)
    one = result.get(1)
    assert one is not None and one.verdict == "suspected", describe(result)
    assert one.reasons == ("doubled",)
    assert one.doubled == 4
    assert len(one.identities) == 1 and one.identities[0].doubled == 4
    assert [a.verdict for a in result.addresses] == ["suspected", "none", "none"]


# --- no false positives -------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", ["healthy-16", "healthy-duo-8"])
def test_healthy_sites_have_no_duplicate(check: Any, scenario: str) -> None:
    result = check(f"sim://{scenario}?wire_time=0&clu=0", reads=20)
    no_duplicate(result)
    assert result.verdict == "none"
    assert result.background.verdict == "clean"
    assert all(len(a.identities) == 1 and a.ok == a.reads for a in result.addresses)


@pytest.mark.parametrize(("error_rate", "seed"), [(1e-4, 11), (1e-3, 11), (1e-3, 12)])
def test_noise_up_to_1e3_never_gives_a_duplicate(
    check: Any, tmp_path: Path, error_rate: float, seed: int
) -> None:
    url = noisy_scenario(tmp_path, error_rate) + f"?wire_time=0&clu=0&seed={seed}"
    result = check(url, reads=30)
    no_duplicate(result)
    assert all(len(a.identities) == 1 for a in result.addresses)
    if error_rate >= 1e-3:
        # A sweep that tests something: at 1e-3 per byte, some of the 16 x 30 exchanges
        # (17 + 43 characters each) fail.
        assert sum(a.corrupt + a.no_answer for a in result.addresses) > 0


def test_a_long_unterminated_bus_is_noisy_not_a_duplicate(check: Any) -> None:
    result = check("sim://long-unterminated?wire_time=0&clu=0&seed=2", range(1, 9), reads=12)
    no_duplicate(result)
    assert result.verdict == "noisy"
    assert result.background.verdict == "noisy"
    rate = result.background.rate
    assert rate is not None and rate > 0.1
    assert any("noisy bus" in line for line in describe(result))


def test_silent_addresses_are_not_read_forever(check: Any) -> None:
    result = check("sim://unpowered-station?wire_time=0&clu=0", [3, 4], reads=10, give_up_after=2)
    four = result.get(4)
    assert four is not None and four.reads == 2 and four.no_answer == 2
    assert result.silent == (4,)
    assert result.get(3).reads == 10


def test_bad_arguments(check: Any) -> None:
    with pytest.raises(ValueError):
        check("sim://healthy-16?wire_time=0&clu=0", [1], reads=0)
