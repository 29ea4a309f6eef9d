"""Port listing: known adapter chips recognised from constructed pyserial ListPortInfo objects."""

from __future__ import annotations

import pytest
from serial.tools import list_ports
from serial.tools.list_ports_common import ListPortInfo

from clu_doctor.bus.ports import (
    KNOWN_CHIPS,
    NOT_USB,
    SerialPortInfo,
    chip_for,
    classify,
    no_adapter_advice,
)
from clu_doctor.bus.ports import (
    list_ports as clu_list_ports,
)


def usb_port(
    device: str,
    vid: int,
    pid: int,
    *,
    product: str | None = None,
    manufacturer: str | None = None,
    serial_number: str | None = None,
) -> ListPortInfo:
    """A ListPortInfo as pyserial's Linux backend fills it for a USB-serial adapter."""
    info = ListPortInfo(device, skip_link_detection=True)
    info.vid, info.pid = vid, pid
    info.product, info.manufacturer, info.serial_number = product, manufacturer, serial_number
    info.location = "1-1.2:1.0"
    info.apply_usb_info()
    return info


def plain_port(device: str) -> ListPortInfo:
    """A built-in UART (Raspberry Pi /dev/ttyAMA0, PC /dev/ttyS0): no USB ids."""
    return ListPortInfo(device, skip_link_detection=True)


@pytest.mark.parametrize(
    ("vid", "pid", "chip"),
    [
        (0x0403, 0x6001, "FTDI FT232R"),
        (0x0403, 0x6015, "FTDI FT-X (FT230X/FT231X/FT234XD)"),
        (0x0403, 0x6010, "FTDI FT2232"),
        (0x0403, 0x6011, "FTDI FT4232H"),
        (0x0403, 0x6014, "FTDI FT232H"),
        (0x1A86, 0x7523, "WCH CH340"),
        (0x1A86, 0x5523, "WCH CH341"),
        (0x1A86, 0x55D4, "WCH CH9102"),
        (0x10C4, 0xEA60, "Silicon Labs CP210x (CP2102/CP2104)"),
        (0x10C4, 0xEA70, "Silicon Labs CP2105"),
        (0x067B, 0x2303, "Prolific PL2303"),
    ],
)
def test_known_adapter_chips_are_named(vid: int, pid: int, chip: str) -> None:
    port = classify(usb_port("/dev/ttyUSB0", vid, pid, product="USB Serial"))
    assert port.chip == chip
    assert port.likely_adapter
    assert port.usb_id == f"{vid:04X}:{pid:04X}"


def test_usb_fields_are_carried_over() -> None:
    port = classify(
        usb_port(
            "/dev/ttyUSB0",
            0x0403,
            0x6001,
            product="FT232R USB UART",
            manufacturer="FTDI",
            serial_number="A50285BI",
        )
    )
    assert port == SerialPortInfo(
        device="/dev/ttyUSB0",
        description="FT232R USB UART",
        hwid="USB VID:PID=0403:6001 SER=A50285BI LOCATION=1-1.2:1.0",
        vid=0x0403,
        pid=0x6001,
        serial_number="A50285BI",
        manufacturer="FTDI",
        product="FT232R USB UART",
        location="1-1.2:1.0",
        chip="FTDI FT232R",
    )


def test_unknown_usb_device_has_no_chip() -> None:
    # An Arduino Uno's own USB interface: a serial port, but not an adapter chip we know.
    port = classify(usb_port("/dev/ttyACM0", 0x2341, 0x0043, product="Arduino Uno"))
    assert port.chip is None
    assert not port.likely_adapter
    assert port.usb_id == "2341:0043"


def test_rs485_in_the_product_name_counts_even_with_an_unknown_chip() -> None:
    port = classify(usb_port("/dev/ttyUSB3", 0x1234, 0x5678, product="USB-RS485-WE-1800-BT"))
    assert port.chip is None
    assert port.mentions_rs485 and port.likely_adapter


def test_built_in_uart_has_no_usb_id() -> None:
    port = classify(plain_port("/dev/ttyAMA0"))
    assert (port.vid, port.pid, port.usb_id, port.chip) == (None, None, None, None)
    assert port.description == NOT_USB  # said plainly, not an empty column
    assert not port.likely_adapter


def test_chip_table_has_only_well_formed_ids() -> None:
    assert all(0 < vid <= 0xFFFF and 0 < pid <= 0xFFFF for vid, pid in KNOWN_CHIPS)
    assert chip_for(None, 0x6001) is None
    assert chip_for(0x0403, None) is None


def test_listing_puts_adapters_first(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = [
        plain_port("/dev/ttyS0"),
        usb_port("/dev/ttyACM0", 0x2341, 0x0043, product="Arduino Uno"),
        usb_port("/dev/ttyUSB1", 0x1A86, 0x7523, product="USB Serial"),
        usb_port("/dev/ttyUSB0", 0x0403, 0x6001, product="FT232R USB UART"),
    ]
    monkeypatch.setattr(list_ports, "comports", lambda include_links=False: fake)
    listed = clu_list_ports()
    assert [p.device for p in listed] == [
        "/dev/ttyUSB0",
        "/dev/ttyUSB1",
        "/dev/ttyACM0",
        "/dev/ttyS0",
    ]
    assert [p.chip for p in listed[:2]] == ["FTDI FT232R", "WCH CH340"]


def test_listing_this_machine_returns_plain_dataclasses() -> None:
    # Whatever this machine has (often nothing in CI), each entry is a SerialPortInfo.
    assert all(isinstance(port, SerialPortInfo) for port in clu_list_ports(include_links=True))


def test_no_known_adapter_is_said_with_what_to_check() -> None:
    without = [classify(plain_port("/dev/ttyS0")), classify(usb_port("/dev/ttyACM0", 0x2341, 1))]
    advice = no_adapter_advice(without)
    assert advice is not None
    assert advice.startswith("no known USB-RS485 adapter is connected: plug the adapter in")
    assert "dmesg" in advice and "lsusb" in advice
    with_one = [*without, classify(usb_port("/dev/ttyUSB0", 0x0403, 0x6001))]
    assert no_adapter_advice(with_one) is None
    assert no_adapter_advice([]) is not None
