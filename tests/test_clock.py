"""The clock: a virtual one that only moves when slept on, the system one, and timeouts over
either. Nothing here measures real time."""

from __future__ import annotations

import threading

import pytest
import serial

from clu_doctor.clock import SYSTEM, Clock, Timeout, VirtualClock, current, use
from clu_doctor.sim import register_url_handler


def test_a_virtual_clock_stands_still_until_slept_on() -> None:
    clock = VirtualClock(start=10.0)
    assert clock.now() == clock.now() == 10.0
    clock.sleep(0.25)
    assert clock.now() == 10.25
    clock.sleep_until(12.0)
    assert clock.now() == 12.0


def test_every_sleep_moves_a_virtual_clock_on_by_at_least_its_minimum_step() -> None:
    """So a loop waiting for something due "now" cannot spin forever."""
    clock = VirtualClock(min_step=0.001)
    clock.sleep(0)
    clock.sleep(-5)
    assert clock.now() == pytest.approx(0.002)
    clock.sleep_until(0.0)  # already past
    assert clock.now() == pytest.approx(0.003)
    with pytest.raises(ValueError):
        VirtualClock(min_step=0)


def test_a_virtual_clock_is_moved_by_hand_but_never_back() -> None:
    clock = VirtualClock()
    assert clock.advance(1.5) == 1.5
    assert clock.advance_to(1.0) == 1.5  # the past stays past
    assert clock.advance_to(4.0) == 4.0
    with pytest.raises(ValueError, match="does not go back"):
        clock.advance(-1.0)


def test_the_system_clock_is_monotonic_and_a_past_deadline_returns() -> None:
    first = SYSTEM.now()
    SYSTEM.sleep_until(first - 1.0)
    SYSTEM.sleep(0)
    assert SYSTEM.now() >= first


def test_use_sets_the_running_clock_for_a_block_and_threads_keep_the_system_clock(
    clock: VirtualClock,
) -> None:
    assert current() is clock  # tests/conftest.py put this test on a virtual clock
    other = VirtualClock()
    seen: list[Clock] = []
    with use(other):
        assert current() is other
        thread = threading.Thread(target=lambda: seen.append(current()))
        thread.start()
        thread.join()
    assert current() is clock
    assert seen == [SYSTEM]


def test_a_timeout_runs_on_its_clock() -> None:
    clock = VirtualClock()
    timeout = Timeout(2.0, clock)
    assert not timeout.expired() and timeout.time_left() == 2.0
    clock.sleep(1.5)
    assert timeout.time_left() == pytest.approx(0.5) and timeout.elapsed() == pytest.approx(1.5)
    clock.sleep(0.5)
    assert timeout.expired() and timeout.time_left() == 0.0
    timeout.restart(1.0)
    assert not timeout.expired() and timeout.deadline == pytest.approx(3.0)


def test_a_timeout_can_run_from_an_earlier_moment_and_none_never_expires() -> None:
    clock = VirtualClock(start=5.0)
    assert Timeout(1.0, clock, start=3.0).expired()
    forever = Timeout(None, clock)
    clock.advance(1e9)
    assert not forever.expired() and forever.time_left() is None
    assert Timeout(0, clock).expired()


def test_a_timeout_takes_the_running_clock(clock: VirtualClock) -> None:
    timeout = Timeout(1.0)
    assert timeout.clock is clock
    clock.advance(1.0)
    assert timeout.expired()


def test_a_sim_port_read_ends_on_a_clock_that_only_moves_when_slept_on(
    clock: VirtualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The adapter may say the next arrival is due "now" (characters waiting that deliver
    nothing); the read still sleeps, so its timeout passes and it returns."""
    register_url_handler()
    port = serial.serial_for_url("sim://clu-usb-dead?wire_time=0", timeout=0.02)
    try:
        monkeypatch.setattr(port.adapter, "next_arrival", clock.now)
        started = clock.now()
        assert port.read(1) == b""
        assert clock.now() - started >= 0.02
    finally:
        port.close()
