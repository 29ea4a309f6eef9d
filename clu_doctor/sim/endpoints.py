"""Where a client reaches the simulated site: a pty, a TCP socket, and :func:`serve` for both.

Each endpoint is one thread that pumps bytes between its transport and an
:class:`~clu_doctor.sim.site.Adapter`: what the client writes goes on the simulated wire at the
moment it arrives, and every character the adapter receives is handed to the client at the
moment its last bit has arrived. To keep that moment accurate the pump sleeps until just before
it (``select`` with a timeout) and then spins the last ``SPIN_S`` yielding the GIL, so a reply
lands within a fraction of a millisecond of its physical time.

* **pty** (Linux, macOS): ``os.openpty()``; the client opens the slave path like a serial
  port. The pump reads the line settings the client put on the slave (termios: speed, data
  bits, parity, stop bits) every time it moves data, so a client at the wrong baud rate or
  parity gets exactly the garbage a real UART would deliver, and its INPCK/IGNPAR/PARMRK/
  IGNBRK/ISTRIP flags decide how characters with errors reach it.
* **TCP** on 127.0.0.1 only (``socket://127.0.0.1:PORT``), one client at a time; a second
  connection is reset at once so the client sees the port as busy. TCP carries no line
  settings: the adapter uses the scenario's fixed adapter settings, else the bus's.

:func:`serve` runs both on one site (two adapters side by side on the bus) and returns a
:class:`SimServer` with their addresses and a ``stop()``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import socket
import struct
import sys
import termios
import threading
import time
import tty
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from clu_doctor.bus.settings import LineSettings
from clu_doctor.sim.line import RxPolicy
from clu_doctor.sim.scenario import AdapterEnd, Scenario, load_scenario
from clu_doctor.sim.site import Adapter, SimSite

#: The last stretch before a due time is spun (yielding the GIL), not slept: ``time.sleep``
#: and ``select`` overshoot by 50-100 us on Linux, more under load.
SPIN_S = 0.0003
#: Longest a pump sleeps with nothing due, so the site keeps advancing (CLU traffic).
IDLE_WAKE_S = 0.01
LOCALHOST = "127.0.0.1"

Clock = Callable[[], float]


def sleep_until(deadline: float, clock: Clock = time.monotonic, spin: float = SPIN_S) -> None:
    """Sleep until ``clock() >= deadline``: a coarse sleep, then a short spin that yields."""
    while True:
        remaining = deadline - clock()
        if remaining <= 0:
            return
        if remaining > spin:
            time.sleep(remaining - spin)
        else:
            time.sleep(0)  # releases the GIL, so client threads in this process keep running


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


# --- the pump ----------------------------------------------------------------------------------


class _Endpoint:
    """A thread that moves bytes between a transport and an adapter until stopped."""

    name = "endpoint"

    def __init__(self, site: SimSite, adapter: Adapter) -> None:
        self.site = site
        self.adapter = adapter
        self.clock = site.clock
        self._stop = threading.Event()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        self._thread = threading.Thread(target=self._guarded, name=f"sim-{self.name}", daemon=True)
        self.error: BaseException | None = None

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread and close everything; safe to call twice."""
        self._stop.set()
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)
        self._close()
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._wake_r = self._wake_w = -1

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _guarded(self) -> None:
        try:
            self._run()
        except BaseException as error:  # pragma: no cover - reported through .error
            self.error = error
            print(f"clu-doctor sim: {self.name} endpoint stopped: {error!r}", file=sys.stderr)

    def _run(self) -> None:
        while not self._stop.is_set():
            due = self.adapter.next_arrival()
            now = self.clock()
            wait = IDLE_WAKE_S if due is None else min(IDLE_WAKE_S, due - now)
            readable = self._wait(max(0.0, wait - SPIN_S))
            if self._stop.is_set():
                break
            if readable:
                self._receive()
            elif due is not None and due - self.clock() <= SPIN_S:
                sleep_until(due, self.clock)
            out = self.adapter.read(self.clock(), *self._client_settings())
            if out:
                self._send(out)

    def _wait(self, timeout: float) -> bool:
        """Block up to ``timeout`` for client input; True if there is some."""
        fds = [self._wake_r, *self._inputs()]
        ready, _, _ = select.select(fds, [], [], timeout)
        if self._wake_r in ready:
            with contextlib.suppress(OSError):
                os.read(self._wake_r, 64)
        return any(fd != self._wake_r for fd in ready)

    # -- per transport ----------------------------------------------------------------------

    def _inputs(self) -> list[int]:
        raise NotImplementedError

    def _receive(self) -> None:
        raise NotImplementedError

    def _send(self, data: bytes) -> None:
        raise NotImplementedError

    def _client_settings(self) -> tuple[LineSettings | None, RxPolicy | None]:
        return None, None

    def _close(self) -> None:
        raise NotImplementedError


class PtyEndpoint(_Endpoint):
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
        self._client_settings()  # sets the IXANY marker

    def _client_settings(self) -> tuple[LineSettings | None, RxPolicy | None]:
        try:
            attrs = termios.tcgetattr(self._slave)
        except termios.error:
            return None, None
        if not attrs[0] & termios.IXANY:
            self._mark(attrs)
        settings, self._policy = settings_from_termios(attrs, self._fallback)
        return settings, self._policy

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
            settings, policy = self._client_settings()
            self.adapter.configure(settings, policy)
            self.adapter.write(data, self.clock(), settings)

    def _send(self, data: bytes) -> None:
        # A client that is not reading fills the tty buffer: the rest is dropped, as on hardware.
        with contextlib.suppress(OSError):
            os.write(self.master, data)

    def _close(self) -> None:
        for fd in (self.master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)
        self.master = self._slave = -1


class TcpEndpoint(_Endpoint):
    """The site behind ``socket://127.0.0.1:PORT``, one client at a time."""

    name = "tcp"

    def __init__(self, site: SimSite, adapter: Adapter | None = None, port: int = 0) -> None:
        super().__init__(site, adapter or site.adapter)
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((LOCALHOST, port))
        except OSError:
            listener.close()
            raise
        listener.listen(4)
        listener.setblocking(False)
        self._listener = listener
        self.port = listener.getsockname()[1]
        self.url = f"socket://{LOCALHOST}:{self.port}"
        self._client: socket.socket | None = None
        self.refused = 0

    def _inputs(self) -> list[int]:
        fds = [self._listener.fileno()]
        if self._client is not None:
            fds.append(self._client.fileno())
        return fds

    def _receive(self) -> None:
        ready, _, _ = select.select(self._inputs(), [], [], 0)
        if self._listener.fileno() in ready:
            self._accept()
        client = self._client
        if client is not None and client.fileno() in ready:
            try:
                data = client.recv(4096)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                data = b""
            if not data:
                self._drop_client()
                return
            self.adapter.write(data, self.clock())

    def _accept(self) -> None:
        try:
            conn, _ = self._listener.accept()
        except BlockingIOError:
            return
        if self._client is not None:
            # Busy: reset the connection at once (SO_LINGER 0 sends RST, not FIN).
            self.refused += 1
            with contextlib.suppress(OSError):
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()
            return
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.settimeout(2.0)
        self._client = conn
        self.adapter.read(self.clock())  # a new client starts with an empty receive buffer

    def _drop_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(OSError):
                client.close()

    def _send(self, data: bytes) -> None:
        client = self._client
        if client is None:
            return  # nobody connected: the bytes are lost, as on an unread port
        try:
            client.sendall(data)
        except OSError:
            self._drop_client()

    def _close(self) -> None:
        self._drop_client()
        with contextlib.suppress(OSError):
            self._listener.close()


# --- serve -------------------------------------------------------------------------------------


@dataclass
class SimServer:
    """A running simulated site with its endpoints. ``stop()`` ends it (or use ``with``)."""

    site: SimSite
    endpoints: list[_Endpoint] = field(default_factory=list)
    pty: str | None = None
    url: str | None = None

    @property
    def addresses(self) -> dict[str, str]:
        """``{"pty": "/dev/pts/N", "tcp": "socket://127.0.0.1:PORT"}`` (those running)."""
        found = {}
        if self.pty:
            found["pty"] = self.pty
        if self.url:
            found["tcp"] = self.url
        return found

    def stop(self) -> None:
        for endpoint in self.endpoints:
            endpoint.stop()

    @property
    def running(self) -> bool:
        return any(endpoint.running for endpoint in self.endpoints)

    def wait(self, timeout: float | None = None) -> None:
        """Block until stopped (Ctrl-C in the caller raises KeyboardInterrupt as usual)."""
        end = None if timeout is None else time.monotonic() + timeout
        while self.running and (end is None or time.monotonic() < end):
            time.sleep(0.1 if end is None else max(0.0, min(0.1, end - time.monotonic())))

    def __enter__(self) -> SimServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def serve(
    scenario: Scenario | str | Path,
    *,
    pty: bool = True,
    tcp: bool = True,
    port: int = 0,
    wire_time: bool = True,
    time_scale: float = 1.0,
    seed: int = 0,
    adapter_at: AdapterEnd | None = None,
    clu: bool | None = None,
) -> SimServer:
    """Start a simulated site behind a pty and/or a TCP port; returns at once.

    ``scenario`` is a :class:`Scenario`, a bundled name or a YAML path. ``adapter_at`` moves
    the technician's adapters (``clu`` or ``end``); ``clu=False`` unplugs the CLU (the
    "CLU disconnected" mode for active probing). The two endpoints are two adapters on the
    same bus. Raises ``OSError`` if the port cannot be bound.
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    scenario = scenario.with_changes(adapter_at=adapter_at, clu_present=clu)
    site = SimSite(scenario, wire_time=wire_time, time_scale=time_scale, seed=seed)
    server = SimServer(site)
    try:
        if pty:
            pty_endpoint = PtyEndpoint(site, site.adapter)
            server.endpoints.append(pty_endpoint)
            server.pty = pty_endpoint.path
        if tcp:
            adapter = site.add_adapter("tcp") if pty else site.adapter
            tcp_endpoint = TcpEndpoint(site, adapter, port)
            server.endpoints.append(tcp_endpoint)
            server.url = tcp_endpoint.url
    except BaseException:
        server.stop()
        raise
    for endpoint in server.endpoints:
        endpoint.start()
    return server
