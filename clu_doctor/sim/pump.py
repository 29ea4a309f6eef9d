"""The pump that moves bytes between a simulated site and one outside endpoint, on time.

It waits for the next due moment (``select`` with a timeout), then spins the last ``SPIN_S``
yielding the GIL, so a reply leaves when the wire model says it does. An endpoint talks to real
file descriptors that other programs read on their own time, so it and its site run on the
system clock (:data:`~clu_doctor.clock.SYSTEM`), never on a virtual one.
"""

from __future__ import annotations

import contextlib
import select
import socket
import sys
import threading

from clu_doctor.bus.settings import LineSettings
from clu_doctor.clock import SPIN_S, SYSTEM
from clu_doctor.sim.line import RxPolicy
from clu_doctor.sim.simulator import Adapter, SimSite

#: Longest a pump sleeps with nothing due, so the site keeps advancing (CLU traffic).
IDLE_WAKE_S = 0.01


class Endpoint:
    """A thread that moves bytes between a transport and an adapter until stopped."""

    name = "endpoint"

    def __init__(self, site: SimSite, adapter: Adapter) -> None:
        if site.clock is not SYSTEM:
            raise ValueError(
                "an endpoint serves real file descriptors: its site must run on the system clock"
            )
        self.site = site
        self.adapter = adapter
        self.clock = SYSTEM
        self._stop = threading.Event()
        # A socket pair, not a pipe: select() takes only sockets on Windows.
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_w.setblocking(False)
        self._thread = threading.Thread(target=self._guarded, name=f"sim-{self.name}", daemon=True)
        self.error: BaseException | None = None

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread and close everything; safe to call twice."""
        self._stop.set()
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)
        self._close()
        for end in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                end.close()

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
            now = self.clock.now()
            wait = IDLE_WAKE_S if due is None else min(IDLE_WAKE_S, due - now)
            readable = self._wait(max(0.0, wait - SPIN_S))
            if self._stop.is_set():
                break
            if readable:
                self._receive()
            elif due is not None and due - self.clock.now() <= SPIN_S:
                self.clock.sleep_until(due)
            out = self.adapter.read(self.clock.now(), *self._client_settings())
            if out:
                self._send(out)

    def _wait(self, timeout: float) -> bool:
        """Block up to ``timeout`` for client input; True if there is some."""
        wake = self._wake_r.fileno()
        ready, _, _ = select.select([wake, *self._inputs()], [], [], timeout)
        if wake in ready:
            with contextlib.suppress(OSError):
                self._wake_r.recv(64)
        return any(fd != wake for fd in ready)

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
