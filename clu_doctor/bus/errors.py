"""Bus errors, split by who is at fault so rules can tell wiring from configuration.

* :class:`PortError` - the computer's side: the port is missing, not permitted, busy, or vanished.
* :class:`NoAnswer` - nothing came back in time (cable, power, address, line settings).
* :class:`CorruptAnswer` - something came back but it is not a valid answer (noise, termination,
  two devices answering at once, wrong framing).
* :class:`DeviceException` - a device answered with a Modbus exception (configuration).
* :class:`TransmitRefused` - the link refused to put a frame on the wire (safety rule).
"""

from __future__ import annotations

from typing import ClassVar

from clu_doctor.errors import CluDoctorError


class BusError(CluDoctorError):
    """Anything that went wrong on or with the bus."""


class PortError(BusError):
    """The serial port itself: the machine's side of the problem."""

    def __init__(self, port: str, message: str, hint: str | None = None) -> None:
        super().__init__(f"{port}: {message}", hint)
        self.port = port


class PortNotFound(PortError):
    """No such device or URL."""


class PortPermissionDenied(PortError):
    """The OS refused access (on Linux usually: not in the ``dialout`` group)."""


class PortBusy(PortError):
    """Another program holds the port."""


class PortVanished(PortError):
    """The adapter disappeared while in use (unplugged mid-run)."""


class PortConfigError(PortError):
    """The port cannot take the requested line settings."""


class TransmitRefused(BusError):
    """The link will not send this frame: only reads, never writes or broadcasts."""


class ExchangeError(BusError):
    """A request/answer exchange with one device failed."""

    def __init__(self, message: str, address: int | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.address = address


class NoAnswer(ExchangeError):
    """No answer arrived within the timeout. ``stray``: bytes that came in the window but
    were no answer (noise, or a late answer to an earlier request colliding with ours)."""

    def __init__(
        self,
        message: str,
        address: int | None = None,
        hint: str | None = None,
        stray: bytes = b"",
    ) -> None:
        super().__init__(message, address, hint)
        self.stray = stray


class CorruptAnswer(ExchangeError):
    """Bytes arrived but they are not a valid answer to the request."""

    def __init__(
        self,
        message: str,
        address: int | None = None,
        raw: bytes = b"",
        hint: str | None = None,
    ) -> None:
        super().__init__(message, address, hint)
        self.raw = raw


class FrameError(CorruptAnswer):
    """A codec could not decode a frame. The codecs raise only subclasses of this."""


class ChecksumError(FrameError):
    """The frame's LRC or CRC does not match its contents."""


class MalformedFrame(FrameError):
    """Bad start character, bad hex, wrong length, missing terminator, ..."""


class UnexpectedAnswer(CorruptAnswer):
    """A well-formed frame that does not answer our request (address, function, length)."""


class WrongAddress(UnexpectedAnswer):
    """A valid reply came back, but from another address than the one asked: whoever sent
    it, it is not the addressed device's answer (``replied_from`` says whose it is)."""

    def __init__(
        self,
        message: str,
        address: int | None = None,
        raw: bytes = b"",
        hint: str | None = None,
        *,
        replied_from: int,
    ) -> None:
        super().__init__(message, address, raw, hint)
        self.replied_from = replied_from


class DeviceException(ExchangeError):
    """The device answered with a Modbus exception code."""

    NAMES: ClassVar[dict[int, str]] = {
        1: "illegal function",
        2: "illegal data address",
        3: "illegal data value",
        4: "device failure",
        5: "acknowledge",
        6: "device busy",
        8: "memory parity error",
        10: "gateway path unavailable",
        11: "gateway target failed to respond",
    }

    def __init__(self, address: int, function: int, code: int) -> None:
        name = self.NAMES.get(code, "unknown exception")
        super().__init__(
            f"address {address}: exception {code} ({name}) to function 0x{function:02X}", address
        )
        self.function = function
        self.code = code
