"""The machine's serial ports, with known USB-RS485 adapter chips recognised by USB VID:PID.

``clu-doctor ports`` uses this to answer "which one is my adapter?". A known chip is no proof of
an RS-485 transceiver (the same chips sit in USB-TTL cables and Arduinos), but almost every
USB-RS485 adapter a technician carries uses one of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

from clu_doctor.records import record

#: USB VID:PID -> chip, from the Linux kernel's USB-serial drivers (drivers/usb/serial/
#: ftdi_sio_ids.h, ch341.c, cp210x.c, pl2303.h) and WCH's own ch343ser driver table.
KNOWN_CHIPS: Mapping[tuple[int, int], str] = MappingProxyType(
    {
        (0x0403, 0x6001): "FTDI FT232R",
        (0x0403, 0x6010): "FTDI FT2232",
        (0x0403, 0x6011): "FTDI FT4232H",
        (0x0403, 0x6014): "FTDI FT232H",
        (0x0403, 0x6015): "FTDI FT-X (FT230X/FT231X/FT234XD)",
        (0x1A86, 0x7523): "WCH CH340",
        (0x1A86, 0x7522): "WCH CH340",
        (0x1A86, 0x5523): "WCH CH341",
        (0x1A86, 0x55D2): "WCH CH342",
        (0x1A86, 0x55D3): "WCH CH343",
        (0x1A86, 0x55D4): "WCH CH9102",
        (0x10C4, 0xEA60): "Silicon Labs CP210x (CP2102/CP2104)",
        (0x10C4, 0xEA63): "Silicon Labs CP210x (CP2102N)",
        (0x10C4, 0xEA70): "Silicon Labs CP2105",
        (0x10C4, 0xEA7A): "Silicon Labs CP2105",
        (0x10C4, 0xEA7B): "Silicon Labs CP2108",
        (0x067B, 0x2303): "Prolific PL2303",
        (0x067B, 0x23A3): "Prolific PL2303GC",
        (0x067B, 0x23B3): "Prolific PL2303GB",
        (0x067B, 0x23C3): "Prolific PL2303GT",
        (0x067B, 0x23D3): "Prolific PL2303GL",
        (0x067B, 0x23E3): "Prolific PL2303GE",
        (0x067B, 0x23F3): "Prolific PL2303GS",
    }
)


@record
class SerialPortInfo:
    """One serial port of this machine."""

    device: str
    description: str
    hwid: str
    vid: int | None = None
    pid: int | None = None
    serial_number: str | None = None
    manufacturer: str | None = None
    product: str | None = None
    location: str | None = None
    #: The USB-serial chip, if its VID:PID is a known USB-RS485 adapter chip.
    chip: str | None = None

    @property
    def usb_id(self) -> str | None:
        """``0403:6001`` style, or ``None`` for a port that is not on USB."""
        if self.vid is None or self.pid is None:
            return None
        return f"{self.vid:04X}:{self.pid:04X}"

    @property
    def mentions_rs485(self) -> bool:
        """The adapter calls itself RS-485 (e.g. FTDI's ``USB-RS485`` cables)."""
        text = " ".join(filter(None, (self.description, self.product, self.manufacturer)))
        return "485" in text

    @property
    def likely_adapter(self) -> bool:
        """A known adapter chip, or a port that says it is RS-485."""
        return self.chip is not None or self.mentions_rs485


def chip_for(vid: int | None, pid: int | None) -> str | None:
    """The known adapter chip with this USB VID:PID, if any."""
    if vid is None or pid is None:
        return None
    return KNOWN_CHIPS.get((vid, pid))


#: What a port without USB information is, told plainly (pyserial says "n/a").
NOT_USB = "not a USB device (a built-in or virtual serial port)"

#: Said when no port has a known adapter chip or calls itself RS-485.
NO_ADAPTER = "no known USB-RS485 adapter is connected"
NO_ADAPTER_CHECKS = (
    "plug the adapter in (on Linux it appears as /dev/ttyUSB0 or /dev/ttyACM0, and 'dmesg' "
    "shows it arrive); if it is plugged in, try another USB socket or cable, and see whether "
    "'lsusb' lists it; an adapter with a chip not known here can still work: use its port by "
    "name"
)


def no_adapter_advice(ports: Iterable[SerialPortInfo]) -> str | None:
    """What to check when none of ``ports`` looks like a USB-RS485 adapter; ``None`` when one
    does."""
    if any(port.likely_adapter for port in ports):
        return None
    return f"{NO_ADAPTER}: {NO_ADAPTER_CHECKS}"


def classify(info: Any) -> SerialPortInfo:
    """A :class:`SerialPortInfo` from pyserial's ``ListPortInfo``."""
    vid = info.vid if isinstance(info.vid, int) else None
    pid = info.pid if isinstance(info.pid, int) else None
    description = info.description if info.description not in (None, "n/a") else ""
    if not description and vid is None and str(info.hwid) in ("n/a", "", "None"):
        description = NOT_USB
    return SerialPortInfo(
        device=str(info.device),
        description=description,
        hwid=str(info.hwid),
        vid=vid,
        pid=pid,
        serial_number=info.serial_number,
        manufacturer=info.manufacturer,
        product=info.product,
        location=info.location,
        chip=chip_for(vid, pid),
    )


def sort_ports(ports: Iterable[SerialPortInfo]) -> list[SerialPortInfo]:
    """Likely adapters first, then by device name."""
    return sorted(ports, key=lambda port: (not port.likely_adapter, port.device))


def list_ports(*, include_links: bool = False) -> list[SerialPortInfo]:
    """This machine's serial ports, likely RS-485 adapters first."""
    from serial.tools import list_ports as pyserial_list_ports  # 10 ms, only to list ports

    return sort_ports(classify(info) for info in pyserial_list_ports.comports(include_links))
