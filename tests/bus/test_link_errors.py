"""How pyserial and OS failures map to the PortError family, from the exceptions pyserial raises.

The messages below are the ones pyserial 3.5 builds (serialposix.py, serialwin32.py,
protocol_socket.py); the real-port tests in test_link_ports.py provoke most of them for real.
"""

from __future__ import annotations

import errno
import termios

import pytest
import serial

from clu_doctor.bus.errors import (
    PortBusy,
    PortConfigError,
    PortError,
    PortNotFound,
    PortPermissionDenied,
    PortVanished,
)
from clu_doctor.bus.link import classify_io_error, classify_open_error
from clu_doctor.commands.options import flag_hints


def chained(outer: BaseException, inner: BaseException) -> BaseException:
    """``outer`` raised while handling ``inner``, as pyserial does."""
    outer.__context__ = inner
    return outer


OPEN_CASES = [
    # posix open() of a missing device
    (
        serial.SerialException(
            errno.ENOENT,
            "could not open port /dev/ttyUSB9: [Errno 2] No such file or directory: '/dev/ttyUSB9'",
        ),
        "posix",
        PortNotFound,
        "clu-doctor ports",
    ),
    # posix open() without permission (not in the dialout group)
    (
        serial.SerialException(
            errno.EACCES,
            "could not open port /dev/ttyUSB0: [Errno 13] Permission denied: '/dev/ttyUSB0'",
        ),
        "posix",
        PortPermissionDenied,
        "sudo usermod -aG dialout $USER",
    ),
    # EPERM, as some kernels report for a locked-down device node
    (
        serial.SerialException(errno.EPERM, "could not open port /dev/ttyS0: [Errno 1] ..."),
        "posix",
        PortPermissionDenied,
        "dialout",
    ),
    # exclusive=True and another process holds the flock
    (
        serial.SerialException(
            errno.EAGAIN,
            "Could not exclusively lock port /dev/ttyUSB0: [Errno 11] Resource temporarily unavailable",
        ),
        "posix",
        PortBusy,
        "ModemManager",
    ),
    # a driver that refuses a second open outright
    (
        serial.SerialException(
            errno.EBUSY, "could not open port /dev/ttyACM0: [Errno 16] Device or resource busy"
        ),
        "posix",
        PortBusy,
        "CLU software",
    ),
    # Windows: no such COM port
    (
        serial.SerialException(
            "could not open port 'COM9': FileNotFoundError(2, 'The system cannot find the file "
            "specified.', None, 2)"
        ),
        "win32",
        PortNotFound,
        "clu-doctor ports",
    ),
    # Windows: 'access is denied' means another program has the port open
    (
        serial.SerialException(
            "could not open port 'COM3': PermissionError(13, 'Access is denied.', None, 5)"
        ),
        "win32",
        PortBusy,
        "another program has the port open",
    ),
    # a device node without hardware behind it
    (
        serial.SerialException(
            errno.ENXIO, "could not open port /dev/ttyS4: [Errno 6] No such device or address"
        ),
        "posix",
        PortNotFound,
        "clu-doctor ports",
    ),
    # a regular file or /dev/null given as the port: termios refuses it
    (
        chained(
            serial.SerialException(
                "Could not configure port: (25, 'Inappropriate ioctl for device')"
            ),
            OSError(errno.ENOTTY, "Inappropriate ioctl for device"),
        ),
        "posix",
        PortNotFound,
        "clu-doctor ports",
    ),
    # kernel RS-485 mode on an adapter whose driver lacks TIOCSRS485
    (
        ValueError("Failed to set RS485 mode: [Errno 25] Inappropriate ioctl for device"),
        "posix",
        PortConfigError,
        "without --rs485",
    ),
    # a baud rate the driver rejects
    (ValueError("Invalid baud rate: 12345"), "posix", PortConfigError, "baud rate"),
    # tcsetattr refuses the settings; pyserial lets termios.error through unwrapped
    (termios.error(22, "Invalid argument"), "posix", PortConfigError, "baud rate"),
    # termios rejects the settings on an existing port
    (
        serial.SerialException("Could not configure port: (22, 'Invalid argument')"),
        "posix",
        PortConfigError,
        "baud rate",
    ),
    # socket:// with nothing listening
    (
        chained(
            serial.SerialException(
                "Could not open port socket://127.0.0.1:5020: [Errno 111] Connection refused"
            ),
            ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"),
        ),
        "posix",
        PortNotFound,
        "simulator",
    ),
    # a URL scheme nobody registered
    (ValueError("invalid URL, protocol 'sim' not known"), "posix", PortNotFound, "ports"),
    # a malformed socket:// URL
    (
        serial.SerialException(
            'expected a string in the form "socket://<host>:<port>[?logging={debug|info|warning|error}]": '
            "not starting with socket:// ('sockt')"
        ),
        "posix",
        PortNotFound,
        "ports",
    ),
]


@pytest.mark.parametrize(("error", "platform", "expected", "hint"), OPEN_CASES)
def test_open_errors_map_by_who_is_at_fault(
    error: BaseException, platform: str, expected: type[PortError], hint: str
) -> None:
    """The hint is checked as a user reads it: the command line puts its flag names into the
    bus layer's hints (the bus layer names none)."""
    mapped = classify_open_error("PORT", error, platform=platform)
    assert type(mapped) is expected
    assert mapped.port == "PORT"
    assert str(mapped).startswith("PORT: ")
    assert mapped.hint and " --" not in mapped.hint
    with pytest.raises(PortError) as told, flag_hints():
        raise mapped
    assert told.value.hint and hint in told.value.hint


IO_CASES = [
    # Linux, USB adapter unplugged: select says readable, read returns nothing
    (
        serial.SerialException(
            "device reports readiness to read but returned no data "
            "(device disconnected or multiple access on port?)"
        ),
        PortVanished,
    ),
    # read() after the tty hung up (pty master closed, USB device gone)
    (
        chained(
            serial.SerialException("read failed: [Errno 5] Input/output error"),
            OSError(errno.EIO, "Input/output error"),
        ),
        PortVanished,
    ),
    # in_waiting's ioctl on a vanished device (pyserial does not wrap it)
    (OSError(errno.ENXIO, "No such device or address"), PortVanished),
    (OSError(errno.ENODEV, "No such device"), PortVanished),
    # write() to a vanished device
    (serial.SerialException("write failed: [Errno 5] Input/output error"), PortVanished),
    # socket:// peer went away
    (serial.SerialException("socket disconnected"), PortVanished),
    # the adapter stopped taking data
    (serial.SerialTimeoutException("Write timeout"), PortVanished),
    # something nobody foresaw stays a plain PortError with pyserial's words
    (serial.SerialException("something odd"), PortError),
]


@pytest.mark.parametrize(("error", "expected"), IO_CASES)
def test_io_errors_map_to_vanished_or_port_error(
    error: BaseException, expected: type[PortError]
) -> None:
    mapped = classify_io_error("/dev/ttyUSB0", error, "reading")
    assert type(mapped) is expected
    assert "while reading" in str(mapped) or "reading failed" in str(mapped)
    if expected is PortVanished:
        assert mapped.hint and "plug it back in" in mapped.hint
