"""One passive listening session: read the port for a while, feed the analyser, never transmit."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

from clu_doctor.bus.listen.analyser import TrafficAnalyser
from clu_doctor.bus.listen.report import ListenReport
from clu_doctor.clock import Clock, Timeout


class Receiver(Protocol):
    """What :func:`listen` needs from a link: :meth:`Link.receive`, which never transmits, and
    the clock the link's timestamps are on."""

    @property
    def clock(self) -> Clock: ...

    def receive(self, duration: float) -> Iterable[tuple[float, bytes]]: ...


class ChunkSink(Protocol):
    """Where raw chunks go besides the analyser (a :class:`~clu_doctor.bus.listen.recording.Recorder`)."""

    def record(self, timestamp: float, data: bytes) -> None: ...

    def tick(self, timestamp: float) -> None: ...


#: How often :func:`listen` takes control back from the link even on a silent line.
TICK_S = 0.2


def listen(
    link: Receiver,
    seconds: float,
    analyser: TrafficAnalyser,
    *,
    on_chunk: Callable[[float, bytes], None] | None = None,
    on_tick: Callable[[float], None] | None = None,
    recorder: ChunkSink | None = None,
    stop: Callable[[], bool] | None = None,
    tick: float = TICK_S,
) -> ListenReport:
    """Listen for ``seconds`` of the link's clock (or until ``stop()`` is true) and return the
    finished report.

    Only :meth:`Link.receive <clu_doctor.bus.link.Link.receive>` is called: nothing is ever
    transmitted. Timestamps go to the analyser (and the recorder) as seconds since listening
    began, rounded to the microsecond, so a replayed recording reproduces the report exactly.
    ``on_chunk(t, data)`` runs after each chunk is analysed; ``on_tick(t)`` at least every
    ``tick`` seconds, silent line or not (a live table redraws from ``analyser.snapshot()``
    there). If the port fails (:class:`~clu_doctor.bus.errors.PortVanished` when the adapter is
    unplugged), or the caller interrupts (KeyboardInterrupt), the analyser is finished and the
    recorder ticked first, so what was collected stays available in ``analyser.snapshot()``;
    then the error propagates unchanged.
    """
    if seconds < 0:
        raise ValueError(f"seconds must not be negative, not {seconds}")
    clock = link.clock
    window = Timeout(seconds, clock)
    t0 = window.started

    def since(when: float) -> float:
        return round(when - t0, 6)

    analyser.start(0.0)
    if recorder is not None:
        recorder.tick(0.0)
    try:
        while True:
            remaining = window.time_left() or 0.0
            if remaining <= 0 or (stop is not None and stop()):
                break
            for timestamp, data in link.receive(min(tick, remaining)):
                t = since(timestamp)
                if recorder is not None:
                    recorder.record(t, data)
                analyser.feed(t, data)
                if on_chunk is not None:
                    on_chunk(t, data)
                if stop is not None and stop():
                    break
            now = since(clock.now())
            analyser.advance(now)
            if recorder is not None:
                recorder.tick(now)
            if on_tick is not None:
                on_tick(now)
    except BaseException:
        end = since(clock.now())
        analyser.finish(end)
        if recorder is not None:
            recorder.tick(end)
        raise
    end = since(clock.now())
    if recorder is not None:
        recorder.tick(end)
    return analyser.finish(end)
