"""The duplicate probe's own rules: two clusters of reply times, bisection, the adaptive timeout.

Fisher's exact test, which it shares with the listen verdicts, is tested in
tests/bus/test_stats.py."""

from __future__ import annotations

import random

import pytest

from clu_doctor.bus.probes.base import AdaptiveTimeout
from clu_doctor.bus.probes.duplicates import bisect_candidates, next_step, two_clusters
from clu_doctor.bus.settings import LineSettings

CHAR_38400 = LineSettings.parse("38400 8E1").char_time


def test_two_clusters_of_reply_times() -> None:
    rng = random.Random(5)
    fast = [0.014 + rng.uniform(-0.0005, 0.0005) for _ in range(12)]
    slow = [0.030 + rng.uniform(-0.001, 0.001) for _ in range(8)]
    clusters = two_clusters(fast + slow, CHAR_38400)
    assert clusters is not None
    assert clusters.first[2] == 12 and clusters.second[2] == 8
    assert clusters.gap > 0.01


@pytest.mark.parametrize("seed", range(20))
def test_one_device_with_jitter_is_one_cluster(seed: int) -> None:
    rng = random.Random(seed)
    # The simulated controllers: 3 +/- 1 ms turnaround plus 12.3 ms of reply.
    times = [0.0153 + rng.uniform(-0.001, 0.001) for _ in range(30)]
    assert two_clusters(times, CHAR_38400) is None


def test_a_few_outliers_are_not_a_cluster() -> None:
    times = [0.015] * 27 + [0.060, 0.061, 0.062]  # 10 % < the 20 % a cluster needs
    assert two_clusters(times, CHAR_38400) is None
    assert two_clusters([0.015, 0.030] * 4, CHAR_38400) is None  # too few replies to judge


def test_bisection_puts_the_likely_culprits_in_the_switched_off_half() -> None:
    off, on = bisect_candidates(
        ["XAXXY01", "XAXXY02", "XAXXY03", "XAXXY09", "XAXXY10"], {"XAXXY09"}
    )
    assert off == ("XAXXY09", "XAXXY01", "XAXXY02")
    assert on == ("XAXXY03", "XAXXY10")
    assert bisect_candidates([1]) == ((1,), ())
    assert "address 7" in next_step(7)


def test_the_adaptive_timeout() -> None:
    timer = AdaptiveTimeout(floor=0.3, initial=0.6)
    assert timer.value == 0.6  # nothing answered yet
    timer.observe(0.015)
    assert timer.value == 0.3  # fast devices: the floor
    timer.observe(0.4)
    assert timer.value == pytest.approx(1.5 * 0.4 + 0.01)
    timer.observe(5.0)
    assert timer.value == 2.0  # the ceiling
    with pytest.raises(ValueError):
        AdaptiveTimeout(floor=0.3, initial=0.1)
