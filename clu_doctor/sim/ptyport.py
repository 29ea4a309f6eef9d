"""The simulated site behind a pseudo-terminal (Linux, macOS): :class:`PtyEndpoint`.

The client opens the slave path like a serial port. The pump reads the line settings the
client put on the slave (termios: speed, data bits, parity, stop bits) every time it moves
data, so a client at the wrong baud rate or parity gets exactly the garbage a real UART would
deliver, and its INPCK/IGNPAR/PARMRK/IGNBRK/ISTRIP flags decide how characters with errors reach
it. POSIX only (termios); the TCP endpoint and the ``sim://`` handler work everywhere.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import os
import sys
import termios
import tty
from typing import Any

from clu_doctor.bus.settings import LineSettings
from clu_doctor.sim.line import RxPolicy
from clu_doctor.sim.pump import Endpoint
from clu_doctor.sim.simulator import Adapter, SimSite

# --- termios ---------------------------------------------------------------------------------

_SPEEDS: dict[int, int] = {}
for _rate in (
    50, 75, 110, 134, 150, 200, 300, 600, 1200, 1800, 2400, 4800, 9600, 19200, 38400, 57600,
    115200, 230400, 460800, 500000, 576000, 921600, 1000000, 1152000, 1500000, 2000000,
):  # fmt: skip
    _constant = getattr(termios, f"B{_rate}", None)
    if isinstance(_constant, int):
        _SPEEDS[_constant] = _rate
_SIZES = {termios.CS5: 5, termios.CS6: 6, termios.CS7: 7, termios.CS8: 8}
_CONSTANTS = {rate: constant for constant, rate in _SPEEDS.items()}


def settings_from_termios(
    attrs: list[Any],
    fallback: LineSettings | None = None,
    *,
    pty_drops_parity: bool = sys.platform.startswith("linux"),
) -> tuple[LineSettings | None, RxPolicy]:
    """The line settings and error policy a termios attribute list (``tcgetattr``) asks for.

    ``None`` settings: a speed this table does not know (custom rates) or B0 (hang up).

    Linux's pty driver clears PARENB and forces CS8 whatever the client sets, so on a Linux pty
    only the speed, the stop bits and the input flags are the client's. There the parity is
    taken from INPCK (which clients that check parity, such as libmodbus, set together with
    PARENB; PARODD survives and tells odd from even) and otherwise, like the data bits, from
    ``fallback`` (the bus's settings): a pyserial client at the wrong parity is only caught
    through the ``sim://`` handler, which sees its settings directly.
    """
    iflag, _oflag, cflag, _lflag, ispeed, ospeed = (int(x) for x in attrs[:6])
    policy = RxPolicy(
        check_parity=bool(iflag & termios.INPCK),
        ignore_errors=bool(iflag & termios.IGNPAR),
        mark_errors=bool(iflag & termios.PARMRK),
        ignore_break=bool(iflag & termios.IGNBRK),
        strip=bool(iflag & termios.ISTRIP),
    )
    baud = _SPEEDS.get(ospeed) or _SPEEDS.get(ispeed)
    if not baud:
        return None, policy
    odd = "O" if cflag & termios.PARODD else "E"
    if not pty_drops_parity:
        parity = odd if cflag & termios.PARENB else "N"
        bytesize = _SIZES.get(cflag & termios.CSIZE, 8)
    else:
        parity = odd if iflag & termios.INPCK else (fallback.parity if fallback else "N")
        bytesize = fallback.bytesize if fallback else 8
    stopbits = 2.0 if cflag & termios.CSTOPB else 1.0
    return LineSettings(baud, bytesize, parity, stopbits), policy


def apply_settings_to_termios(fd: int, settings: LineSettings) -> None:
    """Put ``settings`` on a tty (raw mode), so a client that sets nothing starts matched."""
    attrs = termios.tcgetattr(fd)
    cflag = attrs[2] & ~(termios.CSIZE | termios.PARENB | termios.PARODD | termios.CSTOPB)
    cflag |= {5: termios.CS5, 6: termios.CS6, 7: termios.CS7, 8: termios.CS8}[settings.bytesize]
    if settings.parity != "N":
        cflag |= termios.PARENB | (termios.PARODD if settings.parity == "O" else 0)
    if float(settings.stopbits) >= 2:
        cflag |= termios.CSTOPB
    attrs[2] = cflag | termios.CLOCAL | termios.CREAD
    speed = _CONSTANTS.get(settings.baudrate)
    if speed is not None:
        attrs[4] = attrs[5] = speed
    termios.tcsetattr(fd, termios.TCSANOW, attrs)


class PtyEndpoint(Endpoint):
    """The site behind a pseudo-terminal; :attr:`path` is what the client opens."""

    name = "pty"

    def __init__(self, site: SimSite, adapter: Adapter | None = None) -> None:
        super().__init__(site, adapter or site.adapter)
        self.master, self._slave = os.openpty()
        tty.setraw(self._slave)
        apply_settings_to_termios(self._slave, self.adapter.settings)
        os.set_blocking(self.master, False)
        self.path = os.ttyname(self._slave)
        self._policy = RxPolicy()
        self._fallback = self.adapter.settings
        #: The parity the client's last request implies, where the kernel hides its termios
        #: parity (see :meth:`_client_settings`).
        self._spoken_parity: str | None = None
        self._client_settings()  # sets the IXANY marker

    def _client_settings(self) -> tuple[LineSettings | None, RxPolicy | None]:
        try:
            attrs = termios.tcgetattr(self._slave)
        except termios.error:
            return None, None
        if not attrs[0] & termios.IXANY:
            self._mark(attrs)
        settings, self._policy = settings_from_termios(attrs, self._fallback)
        hidden = sys.platform.startswith("linux") and not attrs[0] & termios.INPCK
        if settings is not None and hidden and self._spoken_parity is not None:
            # Linux hides the client's parity: take the one its protocol implies (a mixed site
            # of both ABL generations: the first's text requests go at 8N1)
            settings = dataclasses.replace(settings, parity=self._spoken_parity)
        return settings, self._policy

    def _listen_to(self, data: bytes) -> None:
        """Note the parity the client's request implies: a first-generation EVCC text request
        (``!``) is sent at 8N1; any other frame start (a Modbus ASCII ``:``) goes back to the
        bus's own setting, as before anything was said."""
        start = data.lstrip()[:1]
        if start == b"!":
            self._spoken_parity = "N"
        elif start:
            self._spoken_parity = None

    def _mark(self, attrs: list[Any]) -> None:
        """Set IXANY on the slave: harmless with IXON off, and cleared by every client.

        Linux's pty driver silently drops PARENB and CSIZE, and recent kernels then fail a
        client's tcsetattr with EINVAL when nothing else changed -- which is every second open
        of the pty at 8E1 (pyserial asks for the same settings again). Keeping a flag set
        that every client clears makes each client's tcsetattr a real change.
        """
        attrs[0] |= termios.IXANY
        with contextlib.suppress(termios.error):
            termios.tcsetattr(self._slave, termios.TCSANOW, attrs)

    def _inputs(self) -> list[int]:
        return [self.master]

    def _receive(self) -> None:
        try:
            data = os.read(self.master, 4096)
        except BlockingIOError:
            return
        except OSError as error:
            if error.errno == errno.EIO:  # no client: nothing to read
                return
            raise
        if data:
            self._listen_to(data)
            settings, policy = self._client_settings()
            self.adapter.configure(settings, policy)
            self.adapter.write(data, self.clock.now(), settings)

    def _send(self, data: bytes) -> None:
        # A client that is not reading fills the tty buffer: the rest is dropped, as on hardware.
        with contextlib.suppress(OSError):
            os.write(self.master, data)

    def _close(self) -> None:
        for fd in (self.master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)
        self.master = self._slave = -1
