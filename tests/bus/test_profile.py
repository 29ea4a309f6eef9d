"""Device profiles: the bundled files, decoding recorded frames, and file:line errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from clu_doctor.bus.codecs.ascii import AsciiCodec
from clu_doctor.bus.errors import UnexpectedAnswer
from clu_doctor.bus.frames import ReadRequest, parse_read_reply
from clu_doctor.bus.link import Link
from clu_doctor.bus.profile import (
    IDENTITY_DECODERS,
    SEVERITIES,
    STATUS_DECODERS,
    DeviceProfile,
    ProfileNotFound,
    bundled_profile_names,
    list_profiles,
    load_profile,
)
from clu_doctor.errors import FileProblemError
from clu_doctor.resources import profiles_dir
from tests.bus.fakes import FakeBus, holding, register_devices

ASCII = AsciiCodec()
ERANGE = load_profile("defa-erange")
METER = load_profile("modbus-meter")


def registers_of(reply_text: str, request: ReadRequest) -> tuple[int, ...]:
    """The registers a recorded reply frame (CR LF omitted, as in the notes) carries."""
    return parse_read_reply(request, ASCII.decode(reply_text.encode() + b"\r\n"))


# --- the bundled profiles -------------------------------------------------------------------


def test_bundled_profiles_are_the_three_expected_ones() -> None:
    names = ["defa-erange", "defa-evcc1", "modbus-meter"]
    assert bundled_profile_names() == names
    assert [p.name for p in list_profiles()] == names


@pytest.mark.parametrize("profile", list_profiles(), ids=lambda p: p.name)
def test_every_bundled_profile_is_complete_and_honest(profile: DeviceProfile) -> None:
    assert Path(profile.path).stem == profile.name
    assert Path(profile.path).parent == profiles_dir()
    assert profile.title and profile.description and profile.sources
    assert "--profile FILE" in profile.description
    assert profile.identity.decoder in IDENTITY_DECODERS
    assert profile.status is None or profile.status.decoder in STATUS_DECODERS
    assert all(state.severity in SEVERITIES for state in profile.states.values())
    assert profile.timing.turnaround_floor <= profile.timing.turnaround_typical
    assert profile.timing.turnaround_typical < profile.timing.response_timeout_floor


def test_defa_profile_says_it_is_evidence_not_a_vendor_specification() -> None:
    text = Path(ERANGE.path).read_text(encoding="utf-8")
    assert "not a vendor specification" in text
    assert "not a DEFA specification" in ERANGE.description
    assert any(source.startswith("[ABL]") for source in ERANGE.sources)
    assert any("abl-protocol.md" in source for source in ERANGE.sources)


def test_defa_profile_line_framing_and_addresses() -> None:
    assert (str(ERANGE.line), ERANGE.framing) == ("38400 8E1", "ascii")
    assert ERANGE.addresses == tuple(range(1, 17))


def test_meter_profile_defaults() -> None:
    assert (str(METER.line), METER.framing) == ("9600 8N1", "rtu")
    assert METER.addresses == tuple(range(1, 248))
    assert METER.status is None
    assert METER.status_request(1) is None


def test_defa_state_table_is_abls_table_with_severities() -> None:
    codes = [state.code for state in ERANGE.states.values()]
    assert sorted(codes) == sorted(
        ["A1", "B1", "B2", "C2", "C3", "C4", "E0", "E1", "E2", "E3"]
        + [f"F{d}" for d in "123456789AB"]
    )
    severity = {state.code: state.severity for state in ERANGE.states.values()}
    assert {severity[c] for c in codes if c.startswith("F")} == {"critical"}
    assert severity["E0"] == severity["E2"] == "warning"
    assert {severity[c] for c in ("A1", "B1", "B2", "C2")} == {"ok"}
    assert ERANGE.states[0xF4].meaning == "communication timeout to the bus master (the CLU)"


# --- requests ---------------------------------------------------------------------------------


def test_defa_requests_are_the_documented_frames() -> None:
    # abl-protocol.md worked examples 2a (identity of ID 3) and 1a (status of ID 1).
    assert ASCII.encode(ERANGE.identity_request(3).to_frame()) == b":030300500008A2\r\n"
    status = ERANGE.status_request(1)
    assert status is not None
    assert ASCII.encode(status.to_frame()) == b":0103002E0005C9\r\n"


# --- decoding recorded frames ----------------------------------------------------------------

STATUS = ReadRequest(1, 0x002E, 5)


def test_status_of_real_capture_a1_has_no_currents() -> None:
    # [E526]: state A1, EN1 closed, 10 % duty, currents 0x03E8 = not available.
    status = ERANGE.decode_status(registers_of(">01030A2EA1106403E803E803E8EE", STATUS))
    assert (status.state, status.severity) == ("A1", "ok")
    assert status.meaning == "idle, waiting for a vehicle"
    assert status.currents == (None, None, None)
    assert not status.currents_available
    assert status.duty_percent == 10.0
    assert status.ev_connected is False
    assert status.flags == ("EN1 closed",)
    assert status.raw == (0x2EA1, 0x1064, 0x03E8, 0x03E8, 0x03E8)


def test_status_of_real_capture_b2_has_a_vehicle_connected() -> None:
    # [E526], andig's comment: state B2, EV connected (bit 15 of 0x910B).
    status = ERANGE.decode_status(registers_of(">01030A2EB2910B03E803E803E8B5", STATUS))
    assert (status.state, status.severity, status.ev_connected) == ("B2", "ok", True)
    assert status.duty_percent == 26.7


def test_status_of_real_capture_f4_is_critical() -> None:
    # [E1497]: state F4, upstream (bus master) communication timeout.
    status = ERANGE.decode_status(registers_of(">01030A2EF4106403E803E803E89B", STATUS))
    assert (status.state, status.severity) == ("F4", "critical")
    assert status.ev_connected is None  # the U_CP bit is not valid in E/F states [ABL]


def test_status_of_real_capture_from_address_2() -> None:
    # [E15559]: eMH3 at address 2, state A1.
    request = ReadRequest(2, 0x002E, 5)
    status = ERANGE.decode_status(registers_of(">02030A2EA1114D03E803E803E803", request))
    assert status.state == "A1"
    assert status.duty_percent == 33.3


def test_status_while_charging_has_phase_currents() -> None:
    # worked example 1b (constructed): C2 charging, 16.0 / 15.9 / 16.1 A.
    status = ERANGE.decode_status(registers_of(">01030A2EC2810B00A0009F00A196", STATUS))
    assert (status.state, status.meaning) == ("C2", "charging")
    assert status.currents == (16.0, 15.9, 16.1)
    assert status.currents_available
    assert status.ev_connected is True


def test_status_of_the_pdf_example_with_its_lrc_corrected() -> None:
    # [ABL] p. 3 example with the LRC recomputed (AE, abl-protocol.md "Caution"): state C3.
    status = ERANGE.decode_status(registers_of(">01030A2EC3810A006400640000AE", STATUS))
    assert (status.state, status.severity) == ("C3", "info")
    assert status.currents == (10.0, 10.0, 0.0)


def test_identity_of_the_documented_reply() -> None:
    # worked example 2b: type "2W22M1", serial "00012345".
    registers = registers_of(">0303105000325732324D313030303132333435A0", ReadRequest(3, 0x0050, 8))
    identity = ERANGE.decode_identity(registers)
    assert (identity.device_type, identity.serial) == ("2W22M1", "00012345")
    assert identity.text == "2W22M1 00012345"
    assert identity.raw == registers


def test_unknown_state_code_is_a_warning_not_a_crash() -> None:
    status = ERANGE.decode_status([0x2E42, 0x1064, 1000, 1000, 1000])
    assert (status.state, status.severity) == ("42", "warning")
    assert "unknown state code 0x42" in status.meaning


def test_missing_abl_echo_means_another_register_map() -> None:
    with pytest.raises(UnexpectedAnswer, match="starts with 0x2E"):
        ERANGE.decode_status([0x00A1, 0x1064, 1000, 1000, 1000])
    with pytest.raises(UnexpectedAnswer, match="starts with 0x50"):
        ERANGE.decode_identity([0x0000] * 8)


def test_wrong_number_of_registers_is_unexpected() -> None:
    with pytest.raises(UnexpectedAnswer, match="4 registers"):
        ERANGE.decode_status([0x2EA1, 0, 0, 0])


def test_meter_identity_and_missing_status() -> None:
    # 230.5 V as an IEEE float, high word first: 0x43668000.
    identity = METER.decode_identity([0x4366, 0x8000])
    assert identity.text == "L1 voltage: 230.5"
    with pytest.raises(ValueError, match="no status"):
        METER.decode_status([1])


# --- every decoder, through profile files ----------------------------------------------------

ProfileWriter = Callable[..., Path]


@pytest.fixture
def write_profile(tmp_path: Path) -> ProfileWriter:
    """Write a profile file from the meter profile, with ``replace`` applied to its text."""

    def write(replace: dict[str, str] | None = None, text: str | None = None) -> Path:
        body = text if text is not None else Path(METER.path).read_text(encoding="utf-8")
        for old, new in (replace or {}).items():
            assert old in body, old
            body = body.replace(old, new)
        path = tmp_path / "mine.yaml"
        path.write_text(body, encoding="utf-8")
        return path

    return write


def identity_profile(write: ProfileWriter, decoder: str, count: int) -> DeviceProfile:
    return load_profile(
        write({"  count: 2\n  decoder: float32": f"  count: {count}\n  decoder: {decoder}"})
    )


@pytest.mark.parametrize(
    ("decoder", "registers", "text", "serial"),
    [
        ("uint32", [0x0001, 0xE240], "123456", "123456"),
        ("uint32-swapped", [0xE240, 0x0001], "123456", "123456"),
        ("uint16", [4711], "4711", "4711"),
        ("ascii-string", [0x534E, 0x2D31, 0x3233, 0x0000], "SN-123", "SN-123"),
        ("hex", [0xDEAD, 0x00BE], "DEAD 00BE", "DEAD 00BE"),
    ],
)
def test_identity_decoders(
    write_profile: ProfileWriter, decoder: str, registers: list[int], text: str, serial: str
) -> None:
    profile = identity_profile(write_profile, decoder, len(registers))
    identity = profile.decode_identity(registers)
    assert (identity.text, identity.serial) == (text, serial)


def test_short_state_register_decoder(write_profile: ProfileWriter) -> None:
    # [E1497]: '>01030204F402', the 0x0004 state register of a controller in F4.
    body = (
        Path(ERANGE.path)
        .read_text(encoding="utf-8")
        .replace(
            "  start: 0x002E\n  count: 5\n  decoder: abl-status",
            "  start: 0x0004\n  count: 1\n  decoder: abl-state",
        )
    )
    profile = load_profile(write_profile(text=body))
    status = profile.decode_status(registers_of(">01030204F402", ReadRequest(1, 4, 1)))
    assert (status.state, status.severity, status.currents) == ("F4", "critical", ())


def test_a_profile_is_loaded_by_path_too(write_profile: ProfileWriter) -> None:
    path = write_profile({"name: modbus-meter": "name: my-meter"})
    assert load_profile(path).name == "my-meter"
    assert load_profile(str(path)).path == str(path)


def test_unknown_profile_name_lists_the_bundled_ones() -> None:
    with pytest.raises(ProfileNotFound) as caught:
        load_profile("abb-meter")
    assert "defa-erange, defa-evcc1, modbus-meter" in str(caught.value)
    assert caught.value.hint and "path" in caught.value.hint


# --- errors with file:line --------------------------------------------------------------------


def problems_of(path: Path) -> list[str]:
    with pytest.raises(FileProblemError) as caught:
        load_profile(path)
    return [str(problem) for problem in caught.value.problems]


def line_of(path: Path, needle: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line)


@pytest.mark.parametrize(
    ("old", "new", "needle", "message"),
    [
        ("  decoder: float32", "  decoder: float32\n  scale: 10", "scale:", "unknown key 'scale'"),
        (
            "  decoder: float32",
            "  decoder: eval",
            "decoder: eval",
            "unknown identity decoder 'eval'",
        ),
        ("  count: 2", "  count: 3", "count: 3", "decoder 'float32' reads 2 registers, not 3"),
        ("  function: 4", "  function: 6", "function: 6", "function 6 is not a read"),
        ("line: 9600 8N1", "line: 9600 8X1", "line:", "is not a line setting"),
        ("addresses: 1-247", "addresses: 0-16", "addresses:", "address 0 is outside 1..247"),
        ("addresses: 1-247", "addresses: lots", "addresses:", "addresses is 'lots'"),
        ("framing: rtu", "framing: tcp", "framing:", "framing 'tcp'"),
        ("  count: 2", "  count: 126", "count: 126", "'count' is 126"),
        ("  start: 0x0000", "  start: zero", "start: zero", "'start' is text"),
        ("name: modbus-meter", "name: Modbus Meter", "name:", "name 'Modbus Meter'"),
        (
            "  turnaround_floor_ms: 4",
            "  turnaround_floor_ms: -4",
            "turnaround_floor_ms",
            "a number of milliseconds",
        ),
    ],
)
def test_profile_problems_point_at_their_line(
    write_profile: ProfileWriter, old: str, new: str, needle: str, message: str
) -> None:
    path = write_profile({old: new})
    problems = problems_of(path)
    assert any(
        problem.startswith(f"{path}:{line_of(path, needle)}: ") and message in problem
        for problem in problems
    ), problems


def test_a_mistyped_key_suggests_the_one_meant(write_profile: ProfileWriter) -> None:
    path = write_profile({"  decoder: float32": "  decoder: float32\n  lable: L1"})
    assert any(
        "unknown key 'lable' in identity; did you mean 'label'? (expected one of: " in problem
        for problem in problems_of(path)
    )


def test_missing_required_key_is_named(write_profile: ProfileWriter) -> None:
    path = write_profile({"framing: rtu\n": ""})
    assert any("has no 'framing'" in problem for problem in problems_of(path))


def test_all_problems_are_collected_at_once(write_profile: ProfileWriter) -> None:
    path = write_profile({"framing: rtu": "framing: tcp", "line: 9600 8N1": "line: fast"})
    assert len(problems_of(path)) == 2


def test_bad_states_and_severities(write_profile: ProfileWriter) -> None:
    body = Path(ERANGE.path).read_text(encoding="utf-8")
    body = body.replace("  A1:\n", "  Z9:\n").replace(
        "    meaning: internal error\n    severity: critical",
        "    meaning: internal error\n    severity: doom",
    )
    path = write_profile(text=body)
    problems = problems_of(path)
    assert any(f":{line_of(path, 'Z9:')}: state code 'Z9'" in p for p in problems)
    assert any("severity 'doom'" in p and "ok | info | warning | critical" in p for p in problems)


def test_timing_must_be_ordered(write_profile: ProfileWriter) -> None:
    path = write_profile({"  response_timeout_floor_ms: 300": "  response_timeout_floor_ms: 10"})
    assert any("turnaround_floor_ms <=" in problem for problem in problems_of(path))


def test_duplicate_keys_and_empty_files_are_errors(write_profile: ProfileWriter) -> None:
    path = write_profile({"framing: rtu": "framing: rtu\nframing: ascii"})
    assert any("duplicate key 'framing'" in problem for problem in problems_of(path))
    assert any("empty" in problem for problem in problems_of(write_profile(text="")))
    assert any("a mapping" in problem for problem in problems_of(write_profile(text="- a\n")))


def test_yaml_booleans_and_tags_cannot_smuggle_code(write_profile: ProfileWriter) -> None:
    path = write_profile({"  decoder: float32": "  decoder: !!python/name:os.system"})
    with pytest.raises(FileProblemError, match="not valid YAML"):
        load_profile(path)


# --- a profile driving the link --------------------------------------------------------------


def test_profile_and_link_read_a_station_end_to_end(fake_bus: Callable[..., FakeBus]) -> None:
    station = holding(0x002E, [0x2EF4, 0x1064, 0x03E8, 0x03E8, 0x03E8]) | holding(
        0x0050, [0x5000, 0x3257, 0x3232, 0x4D31, 0x3030, 0x3031, 0x3233, 0x3435]
    )
    bus = fake_bus(responder=register_devices("ascii", {4: station}))
    with Link.open(bus.url, ERANGE.line, ERANGE.framing, timeout=0.3) as link:
        identity = ERANGE.decode_identity(link.request(ERANGE.identity_request(4)).registers)
        status_request = ERANGE.status_request(4)
        assert status_request is not None
        status = ERANGE.decode_status(link.request(status_request).registers)
    assert identity.serial == "00012345"
    assert (status.state, status.severity) == ("F4", "critical")
