#!/usr/bin/env python3
"""How fast the passive listener analyses traffic, and how well it attributes answers and errors.

**Throughput.** A saturated bus at 115200 baud 8E1 (10 473 characters a second, the fastest
setting clu-doctor tries) is synthesised: the CLU polling 16 ABL controllers back to back (status
reads, an identity read and an Icmax write now and then, 1 ms turnarounds), delivered in chunks
the way a USB adapter hands them over (a chunk every 2 ms). The figure is seconds of bus time
analysed per second of processing, i.e. a multiple of real time at 115200 baud (target >= 50,
so a Raspberry Pi, several times slower than a desktop, keeps up). Measured for the analyser
alone, with a live-table snapshot every 200 ms of bus time, for a replay of the same traffic
from a recording file (JSON parsing included), for Modbus RTU at 115200 8N1, and for the
simulator's own healthy-16 site (38400 baud, about a quarter busy: a realistic load).

**Attribution.** Each byte of the synthesised traffic is corrupted with probability p (one
random bit flipped) as the listener's receiver would see it. Ground truth per exchange whose
request arrived intact: an answer if the reply arrived intact, a corrupt answer otherwise.
"Answers right" and "corruptions right" are the fractions of those the analyser charged to the
right address (per address, counted); "misattributed" counts anomalies it charged to an address
that had none (e.g. a request whose start character was destroyed, read as noise after the
previous exchange). "Duplicate verdicts" must stay 0: no character error rate up to 1e-3 may
look like a duplicate address.

Usage: python benchmarks/listen.py [--seconds N] [--runs N]
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from clu_doctor.bus.codecs import get_codec
from clu_doctor.bus.errors import FrameError
from clu_doctor.bus.frames import (
    WRITE_MULTIPLE_REGISTERS,
    Direction,
    Frame,
    ReadRequest,
    build_read_reply,
)
from clu_doctor.bus.listen.analyser import TrafficAnalyser
from clu_doctor.bus.listen.recording import Recorder, replay
from clu_doctor.bus.listen.report import ListenReport
from clu_doctor.bus.listen.verdicts import derive_verdicts
from clu_doctor.bus.profile import load_profile
from clu_doctor.bus.settings import LineSettings

TARGET = 50.0
FAST_ASCII = LineSettings(115200, 8, "E", 1)
FAST_RTU = LineSettings(115200, 8, "N", 1)
CHUNK_S = 0.002  # a USB adapter hands over what it has every couple of milliseconds
TURNAROUND_S = 0.001
GAP_S = 0.001
ABL = load_profile("defa-erange")

Chunk = tuple[float, bytes]


@dataclass
class Exchange:
    address: int
    request: tuple[int, int]  # (start, end) byte offsets in the stream
    reply: tuple[int, int]


def synthesise(
    framing: str, settings: LineSettings, seconds: float
) -> tuple[bytes, list[float], list[Exchange]]:
    """A saturated bus: the byte stream, each byte's arrival time, and the exchanges in it."""
    codec = get_codec(framing)
    rng = random.Random(1)
    stream = bytearray()
    times: list[float] = []
    exchanges: list[Exchange] = []
    t = 0.0
    char = settings.char_time
    cycle = 0

    def put(data: bytes, gap: float) -> tuple[int, int]:
        nonlocal t
        t += gap
        start = len(stream)
        for _ in data:
            t += char
            times.append(t)
        stream.extend(data)
        return start, len(stream)

    while t < seconds:
        cycle += 1
        for address in range(1, 17):
            if cycle % 30 == address % 30:
                request = ReadRequest(address, 0x0050, 8)
                text = (b"2W22M1DF2301%02d" % address)[:14]
                registers = (
                    0x5000,
                    *(int.from_bytes(text[i : i + 2], "big") for i in range(0, 14, 2)),
                )
                reply = build_read_reply(request, registers)
                frame = request.to_frame()
            elif cycle % 30 == (address + 7) % 30:
                data = (0x0014).to_bytes(2, "big") + b"\x00\x01\x02" + (0x010A).to_bytes(2, "big")
                frame = Frame(address, WRITE_MULTIPLE_REGISTERS, data, Direction.REQUEST)
                reply = Frame(address, WRITE_MULTIPLE_REGISTERS, data[:4], Direction.REPLY)
            else:
                request = ReadRequest(address, 0x002E, 5)
                state = rng.choice((0xA1, 0xB1, 0xB2, 0xC2))
                reply = build_read_reply(request, (0x2E00 | state, 0x810B, 160, 159, 161))
                frame = request.to_frame()
            sent = put(codec.encode(frame), GAP_S)
            answered = put(codec.encode(reply), TURNAROUND_S)
            exchanges.append(Exchange(address, sent, answered))
    return bytes(stream), times, exchanges


def chunked(stream: bytes, times: list[float]) -> list[Chunk]:
    """Cut the stream where a USB adapter would: every CHUNK_S of arrival time."""
    chunks: list[Chunk] = []
    start = 0
    boundary = CHUNK_S
    for i, when in enumerate(times):
        if when > boundary:
            if i > start:
                chunks.append((round(times[i - 1], 6), stream[start:i]))
                start = i
            boundary = (when // CHUNK_S + 1) * CHUNK_S
    if start < len(stream):
        chunks.append((round(times[-1], 6), stream[start:]))
    return chunks


def analyse(
    chunks: list[Chunk],
    framing: str,
    settings: LineSettings,
    *,
    snapshot_every: float | None = None,
    on_exchange: Callable[[int, str], None] | None = None,
) -> ListenReport:
    analyser = TrafficAnalyser(framing, settings, ABL, on_exchange=on_exchange)
    analyser.start(0.0)
    next_snapshot = snapshot_every
    for t, data in chunks:
        analyser.feed(t, data)
        if next_snapshot is not None and t >= next_snapshot:
            analyser.snapshot()
            next_snapshot = t + (snapshot_every or 0.0)
    return analyser.finish(chunks[-1][0] + 1.0 if chunks else 0.0)


def best_of(runs: int, work: Callable[[], object]) -> float:
    """Seconds of the fastest of ``runs`` (the least disturbed by the rest of the machine)."""
    timings = []
    for _ in range(runs):
        begin = time.perf_counter()
        work()
        timings.append(time.perf_counter() - begin)
    return min(timings)


def simulator_chunks(seconds: float) -> list[Chunk]:
    """The simulator's healthy-16 site as an adapter at the CLU end hears it (virtual clock)."""
    from clu_doctor.clock import VirtualClock
    from clu_doctor.sim.scenario_reader import load_scenario
    from clu_doctor.sim.simulator import SimSite

    clock = VirtualClock()
    site = SimSite(load_scenario("healthy-16"), seed=1, clock=clock)
    chunks = []
    for tick in range(1, int(seconds / CHUNK_S) + 1):
        now = clock.advance_to(round(tick * CHUNK_S, 6))
        data = site.adapter_read(now)
        if data:
            chunks.append((now, data))
    return chunks


# --- attribution ------------------------------------------------------------------------------


def corrupt(stream: bytes, rate: float, seed: int) -> tuple[bytes, set[int]]:
    """Flip one random bit in each byte with probability ``rate``; returns the damaged offsets."""
    rng = random.Random(seed)
    out = bytearray(stream)
    damaged = set()
    i = -1
    log_keep = None if rate <= 0 else math.log1p(-rate)
    while log_keep is not None:
        # jump straight to the next damaged byte (geometric gaps): fast at small rates
        i += 1 + int(math.log(1.0 - rng.random()) / log_keep)
        if i >= len(out):
            break
        out[i] ^= 1 << rng.randrange(8)
        damaged.add(i)
    return bytes(out), damaged


@dataclass
class Attribution:
    rate: float
    answers: int
    answers_right: int
    corruptions: int
    corruptions_right: int
    misattributed: int
    duplicate_verdicts: int


def attribution(
    framing: str,
    settings: LineSettings,
    stream: bytes,
    times: list[float],
    exchanges: list[Exchange],
    rate: float,
    seed: int,
) -> Attribution:
    damaged_stream, damaged = corrupt(stream, rate, seed)
    codec = get_codec(framing)

    def intact(span: tuple[int, int]) -> bool:
        """The frame arrived as sent, or damaged in a way that changes nothing (hex in lower
        case: ABL's ASCII frames read the same)."""
        if not any(i in damaged for i in range(*span)):
            return True
        try:
            return codec.decode(damaged_stream[span[0] : span[1]]) == codec.decode(
                stream[span[0] : span[1]]
            )
        except FrameError:
            return False

    truth_answers: Counter[int] = Counter()
    truth_corrupt: Counter[int] = Counter()
    for exchange in exchanges:
        if not intact(exchange.request):
            continue  # the listener never sees this request: nothing to attribute
        if intact(exchange.reply):
            truth_answers[exchange.address] += 1
        else:
            truth_corrupt[exchange.address] += 1
    report = analyse(chunked(damaged_stream, times), framing, settings)
    answers_right = corruptions_right = misattributed = 0
    for entry in report.addresses:
        answers_right += min(entry.answers, truth_answers[entry.address])
        corruptions_right += min(entry.anomalies, truth_corrupt[entry.address])
        misattributed += max(0, entry.anomalies - truth_corrupt[entry.address])
    duplicates = sum(1 for v in derive_verdicts(report) if v.key == "bus.duplicate_address")
    return Attribution(
        rate,
        sum(truth_answers.values()),
        answers_right,
        sum(truth_corrupt.values()),
        corruptions_right,
        misattributed,
        duplicates,
    )


# --- main -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=120.0, help="bus seconds to synthesise")
    parser.add_argument("--runs", type=int, default=3, help="timing runs (the best is kept)")
    args = parser.parse_args(argv)

    ascii_stream, ascii_times, ascii_exchanges = synthesise("ascii", FAST_ASCII, args.seconds)
    ascii_chunks = chunked(ascii_stream, ascii_times)
    rtu_stream, rtu_times, rtu_exchanges = synthesise("rtu", FAST_RTU, args.seconds)
    rtu_chunks = chunked(rtu_stream, rtu_times)
    sim_seconds = min(args.seconds, 60.0)
    sim = simulator_chunks(sim_seconds)
    busy = len(ascii_stream) / (args.seconds / FAST_ASCII.char_time)

    rows: list[tuple[str, float, int, float]] = []  # name, bus seconds, bytes, processing s
    rows.append(("ASCII 115200 8E1, analyser", args.seconds, len(ascii_stream),
                 best_of(args.runs, lambda: analyse(ascii_chunks, "ascii", FAST_ASCII))))  # fmt: skip
    rows.append(("ASCII 115200 8E1, + snapshot / 200 ms", args.seconds, len(ascii_stream),
                 best_of(args.runs, lambda: analyse(ascii_chunks, "ascii", FAST_ASCII, snapshot_every=0.2))))  # fmt: skip
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "bench.cdr")
        with Recorder.create(
            path, port="bench", settings=FAST_ASCII, framing="ascii", profile="defa-erange"
        ) as recorder:
            for t, data in ascii_chunks:
                recorder.record(t, data)
        size = os.path.getsize(path)
        rows.append(("ASCII 115200 8E1, replay of a recording", args.seconds, len(ascii_stream),
                     best_of(args.runs, lambda: replay(path))))  # fmt: skip
    rows.append(("RTU 115200 8N1, analyser", args.seconds, len(rtu_stream),
                 best_of(args.runs, lambda: analyse(rtu_chunks, "rtu", FAST_RTU))))  # fmt: skip
    rows.append(("simulator healthy-16, 38400 8E1", sim_seconds, sum(len(d) for _, d in sim),
                 best_of(args.runs, lambda: analyse(sim, "ascii", LineSettings(38400, 8, "E", 1)))))  # fmt: skip

    print(f"Throughput (Python {sys.version.split()[0]}; best of {args.runs} runs)")
    print(f"  synthesised bus: {args.seconds:.0f} s, {100 * busy:.0f} % of line capacity, "
          f"{len(ascii_chunks)} chunks; recording file {size / 1e6:.1f} MB")  # fmt: skip
    print(f"  {'traffic':42} {'bus s':>6} {'bytes':>10} {'cpu s':>7} {'x real time':>12}")
    failed = False
    for name, bus_seconds, nbytes, cpu in rows:
        multiple = bus_seconds / cpu
        mark = "" if multiple >= TARGET else "  < target"
        failed |= bool(mark) and "115200" in name
        print(f"  {name:42} {bus_seconds:6.0f} {nbytes:10d} {cpu:7.3f} {multiple:11.0f}x{mark}")
    print(f"  target: >= {TARGET:.0f}x real time at 115200 baud")
    print()

    print("Attribution under injected character errors (synthesised traffic, 3 seeds each)")
    print(f"  {'framing':8} {'p':>7} {'answers':>8} {'right':>7} {'corrupt':>8} {'right':>7} "
          f"{'misattr.':>9} {'dup. verdicts':>14}")  # fmt: skip
    for framing, settings, stream, times, exchanges in (
        ("ascii", FAST_ASCII, ascii_stream, ascii_times, ascii_exchanges),
        ("rtu", FAST_RTU, rtu_stream, rtu_times, rtu_exchanges),
    ):
        for rate in (0.0, 1e-4, 1e-3):
            results = [
                attribution(framing, settings, stream, times, exchanges, rate, seed)
                for seed in (1, 2, 3)
            ]
            answers = sum(r.answers for r in results)
            corruptions = sum(r.corruptions for r in results)
            right_answers = sum(r.answers_right for r in results) / answers if answers else 1.0
            right_corrupt = (
                sum(r.corruptions_right for r in results) / corruptions if corruptions else 1.0
            )
            mis = statistics.mean(r.misattributed for r in results)
            duplicates = sum(r.duplicate_verdicts for r in results)
            failed |= duplicates > 0
            print(f"  {framing:8} {rate:7.0e} {answers // 3:8d} {100 * right_answers:6.2f}% "
                  f"{corruptions // 3:8d} {100 * right_corrupt:6.2f}% {mis:9.1f} {duplicates:14d}")  # fmt: skip
    print("  (answers/corrupt: per run; right: share charged to the right address;")
    print("   misattr.: anomalies charged to an address that had none, per run)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
