"""The bit-level line model: what a UART makes of a waveform, and the noise model."""

from __future__ import annotations

import pytest

from clu_doctor.bus.settings import LineSettings
from clu_doctor.sim.line import (
    BREAK,
    FRAMING,
    NO_ERROR,
    PARITY,
    Receiver,
    RxChar,
    RxPolicy,
    Transmission,
    Wire,
    byte_error_probability,
)

E8 = LineSettings(38400, 8, "E", 1)
N8 = LineSettings(38400, 8, "N", 1)
REQUEST = b":0103002E0005C9\r\n"  # abl-protocol.md example 1a


def sent(*txs: tuple[float, bytes, LineSettings, bool]) -> Wire:
    wire = Wire()
    for source, (start, data, settings, inverted) in enumerate(txs, start=1):
        wire.add(Transmission(wire.next_seq(), source, start, data, settings, inverted))
    return wire


def receive(wire: Wire, settings: LineSettings, *, inverted: bool = False) -> list[RxChar]:
    sources = {tx.source for tx in wire.txs}
    return Receiver(wire, 99, sources, settings, inverted=inverted).decode_until(1.0)


def test_matching_settings_receive_an_exact_copy_at_the_physical_time() -> None:
    wire = sent((0.001, REQUEST, E8, False))
    chars = receive(wire, E8)
    assert bytes(c.value for c in chars) == REQUEST
    assert all(c.error == NO_ERROR for c in chars)
    # The last character is complete in the middle of its stop bit: 17 characters of 11 bits.
    assert chars[-1].end == pytest.approx(0.001 + (16 * 11 + 10.5) / 38400)


def test_8e1_read_as_8n1_turns_even_parity_characters_into_framing_errors() -> None:
    # The receiver samples the parity bit where it expects the stop bit: a 0 there (a byte
    # with an even number of ones) is a framing error, delivered by Linux as NUL.
    chars = receive(sent((0.0, REQUEST, E8, False)), N8)
    expected = bytes(b if bin(b).count("1") % 2 else 0 for b in REQUEST)
    assert RxPolicy().deliver(chars) == expected
    assert {c.error for c in chars if c.value != 0} <= {NO_ERROR, FRAMING}


def test_a_slower_receiver_sees_fewer_characters_and_no_frame() -> None:
    chars = receive(sent((0.0, REQUEST, E8, False)), LineSettings(9600, 8, "N", 1))
    assert 0 < len(chars) < len(REQUEST) // 2
    assert b":" not in RxPolicy().deliver(chars)


def test_a_faster_receiver_sees_more_characters_mostly_errors() -> None:
    chars = receive(sent((0.0, REQUEST, E8, False)), LineSettings(115200, 8, "E", 1))
    assert len(chars) > len(REQUEST)
    assert sum(c.error != NO_ERROR for c in chars) > len(chars) // 2


def test_inverted_polarity_yields_garbage() -> None:
    chars = receive(sent((0.001, REQUEST, E8, False)), E8, inverted=True)
    delivered = RxPolicy().deliver(chars)
    assert delivered != REQUEST and b":01" not in delivered
    assert any(c.error != NO_ERROR for c in chars)


def test_two_inversions_cancel() -> None:
    chars = receive(sent((0.001, REQUEST, E8, True)), E8, inverted=True)
    assert bytes(c.value for c in chars) == REQUEST


def test_identical_frames_sent_in_step_merge_into_one_clean_frame() -> None:
    # The AND of two identical bit patterns is the pattern itself.
    chars = receive(sent((0.001, REQUEST, E8, False), (0.001, REQUEST, E8, False)), E8)
    assert bytes(c.value for c in chars) == REQUEST


def test_overlapping_different_frames_are_garbled() -> None:
    other = b">0103105000325732324D313030303132333435A0\r\n"
    offset = 0.3 / 38400  # a third of a bit apart
    chars = receive(sent((0.001, REQUEST, E8, False), (0.001 + offset, other, E8, False)), E8)
    delivered = RxPolicy().deliver(chars)
    assert REQUEST not in delivered and other not in delivered
    assert any(c.error in (PARITY, FRAMING) for c in chars)


def test_a_frame_after_another_ends_arrives_clean() -> None:
    first_end = 0.001 + len(REQUEST) * E8.char_time
    chars = receive(sent((0.001, REQUEST, E8, False), (first_end + 0.002, REQUEST, E8, False)), E8)
    assert bytes(c.value for c in chars) == REQUEST * 2


def test_a_receiver_is_blind_while_its_own_node_transmits() -> None:
    wire = sent((0.001, REQUEST, E8, False))
    own = Receiver(wire, 1, {1}, E8)  # node 1 is the sender itself
    assert own.decode_until(1.0) == []


def test_decoding_in_small_steps_gives_the_same_characters() -> None:
    wire = sent(
        (0.0013, REQUEST, E8, False), (0.0031, REQUEST[:5], LineSettings(9600, 8, "N", 1), False)
    )
    whole = Receiver(wire, 99, {1, 2}, E8).decode_until(1.0)
    stepped_rx = Receiver(wire, 99, {1, 2}, E8)
    stepped: list[RxChar] = []
    t = 0.0
    while t < 0.05:
        t += 0.00037
        stepped += stepped_rx.decode_until(t)
    assert stepped == whole


def test_rx_policy_follows_the_linux_tty_rules() -> None:
    chars = [
        RxChar(0x41, NO_ERROR, 0, 0),
        RxChar(0x42, PARITY, 0, 0),
        RxChar(0x43, FRAMING, 0, 0),
        RxChar(0x00, BREAK, 0, 0),
        RxChar(0xFF, NO_ERROR, 0, 0),
    ]
    assert RxPolicy().deliver(chars) == b"AB\x00\x00\xff"  # pyserial: INPCK off
    assert RxPolicy(check_parity=True).deliver(chars) == b"A\x00\x00\x00\xff"
    assert RxPolicy(check_parity=True, ignore_errors=True).deliver(chars) == b"A\x00\xff"
    assert RxPolicy(check_parity=True, mark_errors=True).deliver(chars) == (
        b"A\xff\x00B\xff\x00C\xff\x00\x00\xff\xff"
    )
    assert RxPolicy(ignore_break=True).deliver(chars) == b"AB\x00\xff"
    assert RxPolicy(strip=True).deliver(chars[:1] + chars[4:]) == b"A\x7f"


def test_noise_grows_with_cable_length_and_baud_rate() -> None:
    lengths = [byte_error_probability(m, "none", 38400) for m in (50, 150, 250, 400)]
    assert lengths == sorted(lengths) and lengths[0] < lengths[-1]
    rates = [byte_error_probability(250, "none", b) for b in (9600, 19200, 38400, 57600)]
    assert rates == sorted(rates) and rates[0] < rates[-1]
    assert byte_error_probability(150, "none", 38400) == pytest.approx(0.002)
    assert byte_error_probability(250, "none", 38400) == pytest.approx(0.0154, abs=1e-3)


def test_termination_removes_the_reflections() -> None:
    none = byte_error_probability(250, "none", 38400)
    one = byte_error_probability(250, "clu", 38400)
    assert one == pytest.approx(none / 4)
    assert byte_error_probability(250, "both", 38400) == 0.0
    assert byte_error_probability(250, "both", 38400, extra=0.01) == 0.01
    assert byte_error_probability(10_000, "none", 115200) == 0.5


def test_noise_corrupts_about_the_predicted_share_of_frames() -> None:
    # 300 separate requests with 5 ms gaps; a frame survives if none of its 17 characters is
    # hit: (1 - 0.05) ** 17 = 42 %.
    wire = Wire()
    for n in range(300):
        wire.add(Transmission(wire.next_seq(), 1, n * 0.01, REQUEST, E8, p_error=0.05))
    chars = Receiver(wire, 2, {1}, E8, seed="7").decode_until(10.0)
    intact = RxPolicy(check_parity=True).deliver(chars).count(REQUEST)
    assert 0.30 * 300 < intact < 0.55 * 300


def test_noise_is_the_same_for_the_same_seed() -> None:
    def run(seed: str) -> list[RxChar]:
        wire = Wire()
        wire.add(Transmission(wire.next_seq(), 1, 0.0, REQUEST * 20, E8, p_error=0.05))
        return Receiver(wire, 2, {1}, E8, seed=seed).decode_until(10.0)

    assert run("1") == run("1")
    assert run("1") != run("2")
