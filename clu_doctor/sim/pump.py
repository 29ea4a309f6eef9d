"""The pump that moves bytes between a simulated site and one outside endpoint, on time.

It waits for the next due moment (``select`` with a timeout), then spins the last ``SPIN_S``
yielding the GIL, so a reply leaves when the wire model says it does.
"""

from __future__ import annotations

import contextlib
import select
import socket
import sys
import threading
import time
from collections.abc import Callable

from clu_doctor.bus.settings import LineSettings
from clu_doctor.sim.line import RxPolicy
from clu_doctor.sim.simulator import Adapter, SimSite

#: The last stretch before a due time is spun (yielding the GIL), not slept: ``time.sleep``
#: and ``select`` overshoot by 50-100 us on Linux, more under load.
SPIN_S = 0.0003


#: Longest a pump sleeps with nothing due, so the site keeps advancing (CLU traffic).
IDLE_WAKE_S = 0.01


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


class Endpoint:
    """A thread that moves bytes between a transport and an adapter until stopped."""

    name = "endpoint"

    def __init__(self, site: SimSite, adapter: Adapter) -> None:
        self.site = site
        self.adapter = adapter
        self.clock = site.clock
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
