"""Line settings: parsing what technicians type, and the wire-time arithmetic the link relies on."""

from __future__ import annotations

import pytest

from clu_doctor.bus.settings import LineSettings


@pytest.mark.parametrize(
    "text", ["38400 8E1", "38400,8,E,1", "38400-8E1", "38400 8e1", " 38400 8 E 1 "]
)
def test_common_spellings_parse_alike(text: str) -> None:
    assert LineSettings.parse(text) == LineSettings(38400, 8, "E", 1.0)


@pytest.mark.parametrize("text", ["", "38400", "38400 9E1", "38400 8X1", "fast"])
def test_nonsense_is_rejected_with_an_example(text: str) -> None:
    with pytest.raises(ValueError, match=r"expected e\.g\. '38400 8E1'"):
        LineSettings.parse(text)


def test_abl_timing_matches_the_air_times_in_the_abl_document() -> None:
    # abl-protocol.md §1/§4: 11 bits per character at 38400 Bd; a 17-character request takes
    # 4.9 ms and a 31-character status reply 8.9 ms on the wire.
    abl = LineSettings.parse("38400 8E1")
    assert abl.bits_per_char == 11
    assert round(abl.wire_time(17) * 1000, 1) == 4.9
    assert round(abl.wire_time(31) * 1000, 1) == 8.9


def test_t35_is_fixed_above_19200_baud_and_proportional_below() -> None:
    # Modbus over Serial Line V1.02 §2.5.1.1: fixed 1.75 ms / 750 us above 19200 Bd.
    assert LineSettings.parse("38400 8E1").t35 == 0.00175
    assert LineSettings.parse("38400 8E1").t15 == 0.00075
    meter = LineSettings.parse("9600 8N1")
    assert meter.t35 == pytest.approx(3.5 * 10 / 9600)
    assert meter.t15 == pytest.approx(1.5 * 10 / 9600)


def test_text_form_round_trips() -> None:
    for text in ("38400 8E1", "9600 8N1", "19200 8O2", "9600 7E1.5"):
        assert str(LineSettings.parse(text)) == text
