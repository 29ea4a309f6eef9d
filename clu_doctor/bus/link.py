"""The serial link: one open port, safe read requests, passive receiving.

:class:`Link` opens a port by device name or pyserial URL (``/dev/ttyUSB0``, ``COM3``,
``socket://host:port``, ``spy://...``, ``loop://`` and any scheme registered in
``serial.protocol_handler_packages``, such as the simulator's ``sim://``), configures it from a
:class:`~clu_doctor.bus.settings.LineSettings`, and turns every failure into the
:mod:`clu_doctor.bus.errors` family, split by who is at fault.

**Safety.** The CLU is the bus master; clu-doctor must never write to a charge controller or
broadcast. The link enforces that: :meth:`Link._transmit` is the one and only place that writes
to the serial object. It decodes the exact bytes it is about to send with the link's codec and
refuses (:class:`~clu_doctor.bus.errors.TransmitRefused`) anything that is not one canonical
read request (function 0x03 or 0x04) to an address in 1..247. Everything that transmits goes
through it; :meth:`Link.receive` never transmits.

**Timing.** Every timeout runs on the link's :class:`~clu_doctor.clock.Clock` (the host's
monotonic clock unless the process chose a virtual one). Before each transmission the link
waits until the line has been quiet for the inter-frame gap (at least t3.5) and refuses to
transmit into traffic that does not stop. ``elapsed`` in a :class:`ReadResult` runs from the
moment the OS reports the request sent (after ``flush``) to the arrival of the reply's last
byte as the host sees it, so it includes the adapter's latency.

**Local echo.** 2-wire adapters often hand back the bytes they send. ``echo="auto"`` drops an
exact copy of the request if one arrives first; ``"on"`` expects one (a missing echo means the
adapter did not transmit, a different one means a collision); ``"off"`` takes the stream as it
comes. In every mode a frame shaped like a request is never taken for the answer.

**Other traffic.** Request-shaped frames in the answer window are skipped (a request is never an
answer) and named in the NoAnswer hint, since they mean another master is polling. A
reply-shaped frame from another address is *not* skipped: with one master on the bus it can only
be a second master's exchange or a misbehaving device, so it is reported as UnexpectedAnswer.
The quiet-line check before each transmission is a minimal listen-before-talk; the probes should
listen longer before they start talking at all.

**One idea, one file.** Everything between the process and one serial port: opening it (and
telling the user's mistakes apart: missing, busy, no permission, wrong settings), the one
write path that refuses anything but a read, and receiving on the link's clock. The safety
rule is only provable if that write path has no second copy elsewhere.
"""

from __future__ import annotations

import errno
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import replace
from typing import Any, Protocol

from clu_doctor.bus.codecs import Codec, get_codec
from clu_doctor.bus.codecs.ascii import REQUEST_START
from clu_doctor.bus.codecs.events import Decoded, DecodeEvent, Garbage
from clu_doctor.bus.errors import (
    BusError,
    ChecksumError,
    CorruptAnswer,
    FrameError,
    MalformedFrame,
    NoAnswer,
    PortBusy,
    PortConfigError,
    PortError,
    PortNotFound,
    PortPermissionDenied,
    PortVanished,
    TransmitRefused,
    UnexpectedAnswer,
    WrongAddress,
)
from clu_doctor.bus.frames import (
    BROADCAST_ADDRESS,
    MAX_ADDRESS,
    READ_FUNCTIONS,
    Direction,
    Frame,
    ReadRequest,
    infer_direction,
    parse_read_reply,
)
from clu_doctor.bus.settings import LineSettings
from clu_doctor.clock import Clock, Timeout, current
from clu_doctor.records import record

ECHO_MODES = ("auto", "on", "off")

#: How long one blocking read may wait before the link looks at its own deadline again.
POLL_INTERVAL = 0.02
#: Within the last poll interval before a deadline the link polls this often instead of
#: blocking, so a timeout ends on time rather than up to a poll interval late.
FINE_POLL = 0.001
#: Silence after the last received byte that lets the decoder settle what it holds. Longer than
#: the 16 ms latency timer of common USB adapters, so a frame split into USB packets stays whole.
SETTLE_AFTER = 0.05
#: A write that cannot finish in this time means the adapter stopped taking data.
WRITE_TIMEOUT = 2.0
#: Bytes of :attr:`Link.stray` kept: a few of the longest frames.
STRAY_KEPT = 2048

HINT_PORTS = (
    "check the adapter is plugged in, and that this is its name among the machine's serial ports"
)
HINT_DIALOUT = (
    "add your user to the 'dialout' group: sudo usermod -aG dialout $USER, "
    "then log out and back in (or run: newgrp dialout)"
)
HINT_BUSY = (
    "another program holds the port: ModemManager (sudo systemctl stop ModemManager), "
    "a second clu-doctor, a terminal program, or the CLU software; "
    "'fuser -v PORT' shows which on Linux"
)
HINT_BUSY_WINDOWS = (
    "on Windows 'access is denied' means another program has the port open "
    "(a terminal program, the CLU software or a second clu-doctor): close it and retry"
)
HINT_VANISHED = (
    "the adapter disappeared while in use: check the USB cable and plug it back in "
    "('dmesg' shows USB disconnects on Linux)"
)
HINT_SOCKET = "nothing accepts connections there: is the simulator, ser2net or the gateway running?"
_SOCKET_BUSY = (
    "the port is in use by another program (the server reset the connection before sending "
    "anything)"
)
HINT_SOCKET_BUSY = (
    "a serial server (ser2net, a gateway, the simulator) serves one client at a time: close "
    "the other program connected to it, or wait until it is done"
)
HINT_RS485 = (
    "this adapter's driver cannot switch to kernel RS-485 mode; most USB-RS485 adapters switch "
    "direction by themselves, so try again without kernel RS-485 mode"
)


class SerialPort(Protocol):
    """The part of a pyserial ``Serial`` object the link uses."""

    @property
    def in_waiting(self) -> int: ...

    def read(self, size: int = 1) -> bytes: ...

    def write(self, data: bytes) -> int | None: ...

    def flush(self) -> None: ...

    def reset_input_buffer(self) -> None: ...

    def close(self) -> None: ...


@record
class ReadResult:
    """A successful read: the registers and the evidence behind them."""

    request: ReadRequest
    registers: tuple[int, ...]
    frame: Frame
    #: The reply exactly as it came off the wire.
    raw: bytes
    #: Seconds from the end of the request to the arrival of the reply's last byte.
    elapsed: float
    #: Corrupt or stray bytes seen in the answer window before the reply.
    garbage: tuple[Garbage, ...] = ()
    #: Valid frames in the answer window that were not an answer (requests, other traffic).
    skipped: tuple[Decoded, ...] = ()
    #: True if the adapter echoed the request back (a 2-wire adapter's local echo).
    echoed: bool = False
    #: Bytes that arrived after the reply in the same reads (a second device answering the
    #: same address, a late duplicate): read off the port but not part of the answer. Bytes
    #: still in flight when the answer was complete stay in the port for ``receive``.
    trailing: bytes = b""
    #: Seconds from the request to the first byte of the answer as the host got it (the
    #: adapter's latency included): what tells a silent address from a slow one.
    first_byte: float | None = None


# --- error mapping ---------------------------------------------------------------------------

_TERMIOS_ERRORS: tuple[type[Exception], ...]
try:  # pyserial lets termios.error (not an OSError) escape from tcsetattr
    import termios

    _TERMIOS_ERRORS = (termios.error,)
except ImportError:  # pragma: no cover - Windows
    _TERMIOS_ERRORS = ()

_OPEN_ERRORS: tuple[type[Exception], ...] = (
    ValueError,
    OSError,
    NotImplementedError,
    *_TERMIOS_ERRORS,
)

#: Linux major numbers of UNIX98 pty slaves (/dev/pts/N).
_PTY_MAJORS = range(136, 144)


def is_pseudo_terminal(port: str) -> bool:
    """True if ``port`` names a pseudo-terminal slave (a pty made by socat or the simulator)."""
    if "://" in port or os.name != "posix":
        return False
    try:
        device = os.stat(port).st_rdev
    except OSError:
        return False
    # Linux: by major number (a udev symlink such as socat's link= still counts); elsewhere by
    # name (/dev/ttysNNN on macOS).
    linux_pty = sys.platform.startswith("linux") and os.major(device) in _PTY_MAJORS
    return linux_pty or os.path.realpath(port).startswith(("/dev/pts/", "/dev/ttys"))


_ERRNO_IN_TEXT = re.compile(r"\[Errno (\d+)\]|^\((\d+), ")
_MISSING = {errno.ENOENT, errno.ENODEV, errno.ENXIO}
_DENIED = {errno.EACCES, errno.EPERM}
_BUSY = {errno.EBUSY, errno.EAGAIN, errno.EWOULDBLOCK}
_UNREACHABLE = {
    errno.ECONNREFUSED,
    errno.EHOSTUNREACH,
    errno.ENETUNREACH,
    errno.ETIMEDOUT,
}
_GONE = {
    errno.EIO,
    errno.ENXIO,
    errno.ENODEV,
    errno.ENOENT,
    errno.EBADF,
    errno.EPIPE,
    errno.ECONNRESET,
    errno.ECONNABORTED,
    errno.ESHUTDOWN,
}


def _errno_of(error: BaseException) -> int | None:
    """The OS error number behind ``error``: its own, a chained one, or one quoted in its text."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        number = getattr(current, "errno", None)
        if isinstance(number, int):
            return number
        match = _ERRNO_IN_TEXT.search(str(current))
        if match:
            return int(match.group(1) or match.group(2))
        current = current.__cause__ or current.__context__
    return None


def _text_of(error: BaseException) -> str:
    text = str(error)
    return text if text else type(error).__name__


def classify_open_error(
    port: str, error: BaseException, *, platform: str = sys.platform
) -> PortError:
    """The :class:`PortError` for a failure while creating, configuring or opening ``port``."""
    text = _text_of(error)
    lowered = text.lower()
    number = _errno_of(error)
    if "rs485" in lowered:
        return PortConfigError(port, f"cannot use kernel RS-485 mode ({text})", HINT_RS485)
    if "exclusively lock" in lowered or number == errno.EBUSY:
        return PortBusy(port, "the port is in use by another program", HINT_BUSY)
    if "://" in port and number == errno.ECONNRESET:  # a serial server turning a client away
        return PortBusy(port, _SOCKET_BUSY, HINT_SOCKET_BUSY)
    if platform == "win32" and ("access is denied" in lowered or "permissionerror" in lowered):
        return PortBusy(port, "the port is in use by another program", HINT_BUSY_WINDOWS)
    if number in _DENIED or "permission denied" in lowered or "permissionerror" in lowered:
        return PortPermissionDenied(port, "permission denied", HINT_DIALOUT)
    if number in _UNREACHABLE or "connection refused" in lowered:
        return PortNotFound(port, f"cannot connect ({text})", HINT_SOCKET)
    if "protocol" in lowered and "not known" in lowered:
        return PortNotFound(
            port,
            "unknown URL scheme (known: a device name, socket://, rfc2217://, spy://, loop://, "
            "and schemes registered with pyserial such as the simulator's sim://)",
            HINT_PORTS,
        )
    if "expected a string in the form" in lowered:
        return PortNotFound(port, f"not a valid port URL ({text})", HINT_PORTS)
    if number == errno.ENOTTY or "inappropriate ioctl" in lowered:
        return PortNotFound(port, "this is not a serial port", HINT_PORTS)
    if (
        number in _MISSING
        or "filenotfounderror" in lowered
        or "no such file" in lowered
        or "cannot find" in lowered
    ):
        return PortNotFound(port, "no such port", HINT_PORTS)
    if (
        isinstance(error, (ValueError, *_TERMIOS_ERRORS))
        or "could not configure port" in lowered
        or number == errno.EINVAL
    ):
        return PortConfigError(
            port,
            f"the port cannot take these line settings ({text})",
            "check that the adapter supports this baud rate, parity and stop bits",
        )
    if "could not open port" in lowered:
        return PortNotFound(port, f"cannot open the port ({text})", HINT_PORTS)
    if number in _BUSY:
        return PortBusy(port, "the port is in use by another program", HINT_BUSY)
    return PortError(port, f"cannot open the port ({text})")


def classify_io_error(port: str, error: BaseException, action: str) -> PortError:
    """The :class:`PortError` for a failure while reading or writing an open ``port``."""
    text = _text_of(error)
    lowered = text.lower()
    number = _errno_of(error)
    if (
        "returned no data" in lowered
        or "disconnected" in lowered
        or "write timeout" in lowered
        or number in _GONE
    ):
        return PortVanished(
            port, f"the port stopped working while {action} ({text})", HINT_VANISHED
        )
    return PortError(port, f"{action} failed ({text})")


# --- the link -----------------------------------------------------------------------------------


class _EchoFilter:
    """Recognises the adapter's copy of the request at the start of the received stream."""

    def __init__(self, sent: bytes, mode: str) -> None:
        self._sent = sent
        self._matched = 0
        self.done = mode == "off"
        self.echoed = False
        self.mismatched = False

    def feed(self, chunk: bytes) -> bytes:
        """The part of ``chunk`` that is not echo, once that is known."""
        if self.done:
            return chunk
        sent, i = self._sent, 0
        while i < len(chunk) and self._matched < len(sent) and chunk[i] == sent[self._matched]:
            i += 1
            self._matched += 1
        if self._matched == len(sent):
            self.done = self.echoed = True
            return chunk[i:]
        if i == len(chunk):
            return b""  # all echo so far: wait for more
        self.done = self.mismatched = True
        return sent[: self._matched] + chunk[i:]

    def flush(self) -> bytes:
        """Give back a partial echo that never completed."""
        if self.done:
            return b""
        self.done = True
        if self._matched:
            self.mismatched = True
        return self._sent[: self._matched]


def _is_reply_shaped(frame: Frame) -> bool:
    """True for frames that travel device → master (by start character or by shape)."""
    if frame.direction is Direction.REPLY or frame.is_exception:
        return True
    return infer_direction(frame.function, frame.data) is Direction.REPLY


class Link:
    """An open serial port that sends only read requests. Use as a context manager."""

    def __init__(
        self,
        port: str,
        serial_port: SerialPort,
        settings: LineSettings,
        framing: str,
        *,
        timeout: float = 0.5,
        echo: str = "auto",
        clock: Clock | None = None,
    ) -> None:
        """Wrap an already open pyserial-compatible object (:meth:`open` is the usual way in).

        ``clock`` times every wait (default: the process's :func:`~clu_doctor.clock.current`).
        It must be the clock the port keeps time on: a real port's reads block in real time, so
        over one a virtual clock would stand still and no timeout would ever pass.
        """
        if echo not in ECHO_MODES:
            raise ValueError(f"echo must be one of {', '.join(ECHO_MODES)}, not {echo!r}")
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, not {timeout}")
        self.port = port
        self.settings = settings
        self.framing = framing
        self.codec: Codec = get_codec(framing)
        self.timeout = timeout
        self.echo = echo
        #: After the first exchange in ``auto`` mode: did the adapter echo? ``None`` = not known.
        self.echo_detected: bool | None = None
        self.bytes_sent = 0
        self.bytes_received = 0
        #: Bytes thrown away unread before a transmission (late answers, other traffic).
        self.bytes_discarded = 0
        #: The bytes thrown away just before the last transmission (or by the last
        #: :meth:`drain`), kept so a probe can tell whose late answer they were.
        self.stray = b""
        self._serial: SerialPort | None = serial_port
        self.clock = clock or current()
        self._last_activity = self.clock.now()

    # -- opening and closing ----------------------------------------------------------------

    @classmethod
    def open(
        cls,
        port: str,
        settings: LineSettings,
        framing: str,
        *,
        timeout: float = 0.5,
        echo: str = "auto",
        rs485: bool = False,
        exclusive: bool = True,
        handle: Any = None,
        clock: Clock | None = None,
    ) -> Link:
        """Open ``port`` (device name or pyserial URL) with ``settings`` for ``framing``.

        On POSIX the port is locked exclusively, so a second user gets :class:`PortBusy` at once.
        ``rs485`` asks the kernel to drive the transceiver's DE/RE line from RTS, for adapters
        that do not switch direction themselves. ``handle``, an unopened pyserial port object,
        is configured and opened instead of the one pyserial makes for ``port`` (``port`` then
        only names it): how a caller opens a port it has built itself, such as the
        simulator's on a scenario already read. ``clock`` as for the constructor; a simulated
        port runs on the process's clock, so leave it out (or pass that one) for those.
        """
        get_codec(framing)  # unknown framing: ValueError before touching the port
        if echo not in ECHO_MODES:
            raise ValueError(f"echo must be one of {', '.join(ECHO_MODES)}, not {echo!r}")
        import serial  # pyserial (about 4 ms) only once a port is opened

        try:
            if handle is None:
                handle = serial.serial_for_url(port, do_not_open=True)
        except (ValueError, OSError) as error:
            raise classify_open_error(port, error) from error
        try:
            handle.baudrate = settings.baudrate
            handle.bytesize = settings.bytesize
            # A pseudo-terminal has no wire, so parity means nothing there, and recent Linux
            # kernels refuse PARENB on one with EINVAL: open ptys (the simulator's endpoint)
            # without it. Timing still follows ``settings``.
            handle.parity = "N" if is_pseudo_terminal(port) else settings.parity
            stopbits = float(settings.stopbits)
            handle.stopbits = int(stopbits) if stopbits.is_integer() else stopbits
            handle.timeout = POLL_INTERVAL
            handle.write_timeout = WRITE_TIMEOUT
            handle.xonxoff = False
            handle.rtscts = False
            handle.dsrdtr = False
            if exclusive and os.name == "posix":
                handle.exclusive = True
            if rs485:
                import serial.rs485  # only for kernel RS-485 mode

                handle.rs485_mode = serial.rs485.RS485Settings(
                    rts_level_for_tx=True, rts_level_for_rx=False
                )
        except (ValueError, OSError, AttributeError) as error:
            raise classify_open_error(port, error) from error
        try:
            handle.open()
        except _OPEN_ERRORS as error:
            raise classify_open_error(port, error) from error
        link = cls(port, handle, settings, framing, timeout=timeout, echo=echo, clock=clock)
        link._discard_pending()
        return link

    @property
    def is_open(self) -> bool:
        return self._serial is not None

    def close(self) -> None:
        """Close the port. Safe to call twice, and after the adapter vanished."""
        handle, self._serial = self._serial, None
        if handle is not None:
            # an unplugged adapter may fail to close; it is gone either way
            with suppress(OSError, ValueError):
                handle.close()

    def __enter__(self) -> Link:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "open" if self.is_open else "closed"
        return f"<Link {self.port} {self.settings} {self.framing} {state}>"

    # -- low-level I/O --------------------------------------------------------------------

    def _handle(self) -> SerialPort:
        if self._serial is None:
            raise PortError(self.port, "the port is closed")
        return self._serial

    @contextmanager
    def _io(self, action: str) -> Iterator[None]:
        """Map every OS or pyserial failure inside the block to a :class:`PortError`."""
        try:
            yield
        except BusError:
            raise
        except (OSError, ValueError, TypeError, AttributeError) as error:
            # pyserial raises SerialException (an OSError) for most failures, plain OSError from
            # ioctl calls such as in_waiting, and TypeError/AttributeError when an unplugged
            # port's descriptor is already gone.
            if self._refused_at_once(error):
                raise PortBusy(self.port, _SOCKET_BUSY, HINT_SOCKET_BUSY) from error
            raise classify_io_error(self.port, error, action) from error

    def _refused_at_once(self, error: BaseException) -> bool:
        """A network port that resets the connection before a single byte came: a serial
        server turning away a second client (a real port says EBUSY when it is opened)."""
        return (
            "://" in self.port
            and self.bytes_received == 0
            and self.bytes_sent == 0
            and _errno_of(error) == errno.ECONNRESET
        )

    def _read_chunk(self, window: Timeout | None = None) -> bytes:
        """Whatever arrives within one poll interval (at most ``POLL_INTERVAL`` of waiting, and
        never waiting past the end of ``window``)."""
        left = None if window is None else window.time_left()
        if left is not None and left < POLL_INTERVAL:
            return self._read_before(window)
        handle = self._handle()
        with self._io("reading"):
            data = handle.read(1)
            if not data:
                return b""
            # in_waiting is a byte count on real ports but only 0/1 on socket://: read until dry.
            while len(data) < 4096 and (waiting := handle.in_waiting):
                data += handle.read(waiting)
        self.bytes_received += len(data)
        self._last_activity = self.clock.now()
        return bytes(data)

    def _read_before(self, window: Timeout | None) -> bytes:
        """What arrives before ``window`` ends, returned at the first byte: polled every
        ``FINE_POLL``, or every character time if that is shorter (a byte cannot come sooner,
        and when the first one came is what tells a slow device from a silent one)."""
        step = min(FINE_POLL, self.settings.char_time)
        while True:
            data = self._read_pending()
            remaining = 0.0 if window is None else window.time_left()
            if data or remaining is None or remaining <= 0:
                return data
            self.clock.sleep(min(step, remaining))

    def _read_pending(self) -> bytes:
        """What is already in the input buffer, without waiting."""
        handle = self._handle()
        with self._io("reading"):
            waiting = handle.in_waiting
            data = handle.read(waiting) if waiting else b""
        if data:
            self.bytes_received += len(data)
            self._last_activity = self.clock.now()
        return bytes(data)

    def _discard_pending(self) -> int:
        data = self._read_pending()
        self.bytes_discarded += len(data)
        if data:
            self.stray = (self.stray + data)[-STRAY_KEPT:]
        return len(data)

    @property
    def gap(self) -> float:
        """Silence kept before each transmission: t3.5 (at least 1.75 ms above 19200 baud)."""
        return self.settings.t35

    def _wait_for_quiet(self, limit: float) -> None:
        """Wait until the line has been silent for :attr:`gap`; refuse after ``limit`` seconds."""
        give_up = Timeout(limit, self.clock)
        while True:
            self._discard_pending()
            quiet = self.clock.now() - self._last_activity
            if quiet >= self.gap:
                return
            if give_up.expired():
                raise TransmitRefused(
                    f"{self.port}: the line never went quiet for {self.gap * 1000:.1f} ms in "
                    f"{limit:.1f} s: another device is transmitting, so clu-doctor will not",
                    hint="stop or disconnect the bus master (the CLU) before probing, "
                    "or listen passively instead",
                )
            self.clock.sleep(min(self.gap - quiet, POLL_INTERVAL))

    def _vet(self, data: bytes) -> ReadRequest:
        """The read request ``data`` encodes, or :class:`TransmitRefused`."""
        try:
            frame = self.codec.decode(data)
        except FrameError as error:
            raise TransmitRefused(
                f"refusing to transmit bytes that are not exactly one frame: {error}"
            ) from None
        if self.codec.encode(frame) != data:
            raise TransmitRefused("refusing to transmit a frame that is not in canonical form")
        is_request = (
            data[0] == REQUEST_START
            if self.framing == "ascii"
            else infer_direction(frame.function, frame.data) is Direction.REQUEST
        )
        if frame.function not in READ_FUNCTIONS:
            raise TransmitRefused(
                f"refusing to transmit function 0x{frame.function:02X}: clu-doctor only sends "
                "read requests (0x03, 0x04)"
            )
        if not is_request:
            raise TransmitRefused(f"refusing to transmit {frame.describe()}: not a read request")
        if frame.address == BROADCAST_ADDRESS or not 1 <= frame.address <= MAX_ADDRESS:
            raise TransmitRefused(
                f"refusing to transmit to address {frame.address}: clu-doctor never broadcasts "
                f"and only addresses 1..{MAX_ADDRESS}"
            )
        try:
            return ReadRequest.from_frame(frame)
        except MalformedFrame as error:
            raise TransmitRefused(f"refusing to transmit: {error}") from None

    def _transmit(self, data: bytes) -> float:
        """Put one read request on the wire. THE ONLY METHOD THAT WRITES TO THE PORT.

        The bytes are decoded and vetted first: anything but one canonical read request
        (0x03/0x04) to an address in 1..247 raises :class:`TransmitRefused` and nothing is
        written. Returns the monotonic time at which the OS reported the bytes sent.
        """
        self._vet(data)
        handle = self._handle()
        self.stray = b""
        self._wait_for_quiet(max(self.timeout, 10 * self.gap))
        with self._io("writing"):
            handle.write(data)
            handle.flush()
        sent_at = self.clock.now()
        self.bytes_sent += len(data)
        self._last_activity = sent_at
        return sent_at

    # -- public API ----------------------------------------------------------------------

    def read_registers(
        self,
        address: int,
        start: int,
        count: int,
        *,
        function: int = 3,
        timeout: float | None = None,
    ) -> ReadResult:
        """Read ``count`` registers from ``start`` at ``address`` (function 0x03 or 0x04).

        Raises :class:`TransmitRefused` (nothing sent) for another function, a broadcast or an
        address outside 1..247; :class:`NoAnswer`, :class:`CorruptAnswer` subclasses or
        :class:`DeviceException` for what came back; :class:`PortError` subclasses for the port.
        """
        if function not in READ_FUNCTIONS:
            raise TransmitRefused(
                f"refusing to send function 0x{function & 0xFF:02X}: clu-doctor only sends read "
                "requests (0x03, 0x04)"
            )
        if not 1 <= address <= MAX_ADDRESS:
            raise TransmitRefused(
                f"refusing to send to address {address}: clu-doctor never broadcasts and only "
                f"addresses 1..{MAX_ADDRESS}"
            )
        try:
            request = ReadRequest(address, start, count, function)
        except ValueError as error:
            raise TransmitRefused(f"refusing to send a bad read request: {error}") from None
        return self.request(request, timeout=timeout)

    def request(
        self,
        request: ReadRequest,
        *,
        timeout: float | None = None,
        first_byte: float | None = None,
    ) -> ReadResult:
        """Send ``request`` (e.g. from a device profile) and wait for its answer.

        ``timeout``: by then the answer must be complete. ``first_byte``: by then its first
        byte must have come, else :class:`NoAnswer` at once (a silent address costs only the
        longest turnaround, not the longest answer); both count from the request handed to
        the port.
        """
        wait = self.timeout if timeout is None else timeout
        if wait <= 0:
            raise ValueError(f"timeout must be positive, not {wait}")
        if first_byte is not None and first_byte <= 0:
            raise ValueError(f"first_byte must be positive, not {first_byte}")
        try:
            data = self.codec.encode(request.to_frame())
        except (ValueError, OverflowError) as error:
            raise TransmitRefused(f"refusing to send a bad read request: {error}") from None
        sent_at = self._transmit(data)
        return self._await_answer(request, data, sent_at, wait, first_byte)

    def receive(self, duration: float) -> Iterator[tuple[float, bytes]]:
        """Listen for ``duration`` seconds, yielding (clock time, bytes) as they arrive.

        Passive: never transmits. Chunk boundaries follow the adapter, not the frames; feed the
        chunks to a stream decoder (``link.codec.decoder()``) to get frames.
        """
        window = Timeout(duration, self.clock)
        while not window.expired():
            chunk = self._read_chunk(window)
            if chunk:
                yield self._last_activity, chunk

    def drain(self) -> int:
        """Throw away what is waiting in the input buffer; return how many bytes that was
        (and keep them in :attr:`stray`)."""
        self.stray = b""
        return self._discard_pending()

    # -- waiting for the answer -------------------------------------------------------------

    def _await_answer(
        self,
        request: ReadRequest,
        sent: bytes,
        sent_at: float,
        wait: float,
        first_byte: float | None = None,
    ) -> ReadResult:
        decoder = self.codec.decoder()
        # Prime the decoder with our own request: it is what went over the wire, and an RTU
        # decoder then knows the length of the reply it should expect.
        decoder.feed(sent)
        echo = _EchoFilter(sent, self.echo)
        garbage: list[Garbage] = []
        skipped: list[Decoded] = []
        received = bytearray()  # what went into the decoder, to hand back what follows the answer
        window = Timeout(wait, self.clock, start=sent_at)
        # until the answer's first byte: the shorter deadline, if one was given
        begun = Timeout(min(first_byte, wait), self.clock, start=sent_at) if first_byte else None
        first_at: float | None = None
        last_rx: float | None = None
        settled = True

        def settle() -> list[DecodeEvent]:
            """Let the decoder give up on what it holds (and an echo that never completed)."""
            tail = echo.flush()
            received.extend(tail)
            return (decoder.feed(tail, last_rx) if tail else []) + decoder.flush()

        while True:
            now = self.clock.now()
            waiting = begun if begun is not None and first_at is None else window
            over = waiting.expired()
            chunk = b"" if over else self._read_chunk(waiting)
            events: list[DecodeEvent] = []
            if chunk:
                last_rx, settled = self._last_activity, False
                payload = echo.feed(chunk)
                if payload:
                    if first_at is None:
                        first_at = last_rx
                    received.extend(payload)
                    events = decoder.feed(payload, last_rx)
            elif over or (not settled and last_rx is not None and now - last_rx >= SETTLE_AFTER):
                # The line went quiet after the last byte, or the window ended: whatever the
                # decoder still holds is now complete or never will be.
                settled = True
                events = settle()
            result = self._consider(
                events,
                request=request,
                sent_at=sent_at,
                garbage=garbage,
                skipped=skipped,
                echo=echo,
                received=received,
            )
            if result is not None:
                if result.first_byte is None and first_at is not None:
                    result = replace(result, first_byte=max(0.0, first_at - sent_at))
                return result
            if over:
                break
        self._learn_echo(echo)
        began_only = first_at is None and waiting is begun
        waited = waiting.duration if began_only and waiting.duration is not None else wait
        raise self._failure(request, waited, garbage, skipped, echo, began_only)

    def _learn_echo(self, echo: _EchoFilter) -> None:
        if self.echo == "auto" and (echo.echoed or echo.mismatched or self.echo_detected is None):
            self.echo_detected = echo.echoed

    def _consider(
        self,
        events: list[DecodeEvent],
        *,
        request: ReadRequest,
        sent_at: float,
        garbage: list[Garbage],
        skipped: list[Decoded],
        echo: _EchoFilter,
        received: bytes | bytearray = b"",
    ) -> ReadResult | None:
        """Return the answer if ``events`` hold it, raise if they hold a bad one, else ``None``."""
        for event in events:
            if isinstance(event, Garbage):
                garbage.append(event)
                if self._is_corrupted_answer(event, request):
                    self._learn_echo(echo)
                    raise ChecksumError(
                        f"address {request.address}: the answer's checksum is wrong "
                        f"({len(event.raw)} bytes)",
                        request.address,
                        event.raw,
                        hint=_HINT_CORRUPT,
                    )
                continue
            if not _is_reply_shaped(event.frame):
                skipped.append(event)  # our echo, or a request from someone else
                continue
            self._learn_echo(echo)
            try:
                registers = parse_read_reply(request, event.frame)
            except UnexpectedAnswer as error:
                if event.frame.address != request.address:
                    raise WrongAddress(
                        f"{error.message} ({event.frame.describe()})",
                        request.address,
                        event.raw,
                        hint="a device answers this address's requests with another address "
                        "(its address setting, or a DUO outlet set to its twin's), or another "
                        "master is active on the bus",
                        replied_from=event.frame.address,
                    ) from None
                raise UnexpectedAnswer(
                    f"{error.message} ({event.frame.describe()})",
                    request.address,
                    event.raw,
                    hint="another master may be active on the bus, or two devices share an address",
                ) from None
            end = event.end if event.end is not None else self.clock.now()
            at = bytes(received).find(event.raw)
            # the answer's own first byte, not stray bytes before it (when garbage came first)
            began = event.start if garbage and event.start is not None else None
            return ReadResult(
                request=request,
                registers=registers,
                frame=event.frame,
                raw=event.raw,
                elapsed=max(0.0, end - sent_at),
                garbage=tuple(garbage),
                skipped=tuple(skipped),
                echoed=echo.echoed,
                trailing=bytes(received[at + len(event.raw) :]) if at >= 0 else b"",
                first_byte=None if began is None else max(0.0, began - sent_at),
            )
        return None

    def _is_corrupted_answer(self, event: Garbage, request: ReadRequest) -> bool:
        """A checksum failure that is clearly our answer (not a corrupted echo): fail fast."""
        if self.framing == "ascii":
            return (
                event.reason == "checksum"
                and event.address == request.address
                and event.raw[:1] != bytes((REQUEST_START,))
            )
        # RTU: untimed, the decoder cannot tell a corrupted frame from junk, but the link knows
        # the answer it waits for: our address and function, and exactly the reply's length (a
        # request is 8 bytes, a read reply odd-length, so a corrupted echo never matches).
        return (
            event.reason in ("checksum", "malformed")
            and event.raw[:2] == bytes((request.address, request.function))
            and len(event.raw) == 2 + request.reply_data_length + 2
        )

    def _failure(
        self,
        request: ReadRequest,
        wait: float,
        garbage: list[Garbage],
        skipped: list[Decoded],
        echo: _EchoFilter,
        began_only: bool = False,
    ) -> CorruptAnswer | NoAnswer:
        address = request.address
        framey = [g for g in garbage if g.reason != "noise"]
        raw = b"".join(g.raw for g in garbage)
        if framey:
            reasons = sorted({g.reason for g in framey})
            message = (
                f"address {address}: no valid answer within {wait * 1000:.0f} ms, only corrupt "
                f"data ({', '.join(reasons)}; {len(raw)} bytes)"
            )
            if self.echo == "on" and echo.mismatched:
                message += "; the echo of our own request came back different (a collision)"
            error_type: type[CorruptAnswer] = (
                ChecksumError if "checksum" in reasons else MalformedFrame
            )
            return error_type(message, address, raw, hint=_HINT_CORRUPT)
        began = "began " if began_only else ""
        message = f"address {address}: no answer {began}within {wait * 1000:.0f} ms"
        hint = (
            "check the address, that the device is powered, the A/B wiring and the line settings "
            f"({self.settings}, {self.framing})"
        )
        if raw:
            message += f" ({len(raw)} stray bytes)"
        others = [d for d in skipped if d.raw != self.codec.encode(request.to_frame())]
        if others:
            message += f"; {len(others)} frames of other traffic seen"
            hint = "another master is active on the bus (the CLU?): stop it before probing"
        elif self.echo == "on" and not echo.echoed:
            hint = (
                "not even the adapter's echo of the request came back: the adapter may not be "
                "transmitting, or it does not echo (open the link with echo 'auto')"
            )
        return NoAnswer(message, address, hint, stray=raw)


_HINT_CORRUPT = (
    "noise, missing or extra termination, A/B swapped on one station, two devices answering "
    "at once (duplicate address), or wrong line settings"
)
