"""Where a client reaches the simulated site: a pty, a TCP socket, and :func:`serve` for both.

Each endpoint is one thread that pumps bytes between its transport and an
:class:`~clu_doctor.sim.simulator.Adapter`: what the client writes goes on the simulated wire at the
moment it arrives, and every character the adapter receives is handed to the client at the
moment its last bit has arrived. To keep that moment accurate the pump sleeps until just before
it (``select`` with a timeout) and then spins the last ``SPIN_S`` yielding the GIL, so a reply
lands within a fraction of a millisecond of its physical time.

* **pty** (Linux, macOS; :mod:`clu_doctor.sim.ptyport`): the client opens the slave path like a
  serial port, and the pump garbles what it moves according to the line settings the client
  put on it with termios.
* **TCP** on 127.0.0.1 only (``socket://127.0.0.1:PORT``), one client at a time; a second
  connection is reset at once so the client sees the port as busy. TCP carries no line
  settings: the adapter uses the scenario's fixed adapter settings, else the bus's.

:func:`serve` runs both on one site (two adapters side by side on the bus) and returns a
:class:`SimServer` with their addresses and a ``stop()``.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import struct
from dataclasses import field
from pathlib import Path

from clu_doctor.bus.chain import AdapterAt
from clu_doctor.clock import SYSTEM, Timeout
from clu_doctor.records import record
from clu_doctor.sim.pump import Endpoint
from clu_doctor.sim.scenario import Scenario
from clu_doctor.sim.scenario_reader import load_scenario
from clu_doctor.sim.simulator import Adapter, SimSite

LOCALHOST = "127.0.0.1"


class TcpEndpoint(Endpoint):
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
            self.adapter.write(data, self.clock.now())

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
        self.adapter.read(self.clock.now())  # a new client starts with an empty receive buffer

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


@record(frozen=False)
class SimServer:
    """A running simulated site with its endpoints. ``stop()`` ends it (or use ``with``)."""

    site: SimSite
    endpoints: list[Endpoint] = field(default_factory=list)
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
        window = Timeout(timeout, SYSTEM)  # the endpoints' threads run on real time
        while self.running and not window.expired():
            left = window.time_left()
            SYSTEM.sleep(0.1 if left is None else min(0.1, left))

    def __enter__(self) -> SimServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(
    scenario: Scenario | str | Path,
    *,
    pty: bool = os.name == "posix",
    tcp: bool = True,
    port: int = 0,
    wire_time: bool = True,
    time_scale: float = 1.0,
    seed: int = 0,
    adapter_at: AdapterAt | None = None,
    clu: bool | None = None,
) -> SimServer:
    """Start a simulated site behind a pty (POSIX only) and/or a TCP port; returns at once.

    ``scenario`` is a :class:`Scenario`, a bundled name or a YAML path. ``adapter_at`` moves
    the technician's adapters (``clu`` or ``end``); ``clu=False`` unplugs the CLU (the
    "CLU disconnected" mode for active probing). The two endpoints are two adapters on the
    same bus. Raises ``OSError`` if the port cannot be bound.
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    scenario = scenario.with_changes(adapter_at=adapter_at, clu_present=clu)
    site = SimSite(scenario, wire_time=wire_time, time_scale=time_scale, seed=seed, clock=SYSTEM)
    server = SimServer(site)
    try:
        if pty:
            from clu_doctor.sim.ptyport import PtyEndpoint  # POSIX only; TCP serves everywhere

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
