"""Bus verdicts that hold under noise and overlapping replies, on sites of our own.

Two controllers on one address whose answers overlap, at several turnaround spreads, with and
without noise: found every time, by listening (the CLU polls) and by the scan with its
duplicate check (the CLU off the bus), and never called silent. A healthy bus with the same
noise: never a duplicate. A dead station under the same noise: silent every time. Each case
runs over a few seeds on the virtual clock and asserts counts; benchmarks/verdicts.py runs the
same over a hundred seeds and prints the recall and false-alarm figures.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from clu_doctor.bus.chain import Chain
from clu_doctor.bus.link import Link
from clu_doctor.bus.listen.verdicts import Verdict, derive_verdicts
from clu_doctor.bus.probes.duplicates import find_duplicates
from clu_doctor.bus.probes.scan import scan
from clu_doctor.bus.profile import load_profile
from clu_doctor.sim import register_url_handler
from tests.bus.listen.support import simulate
from tests.scenarios.sites import chain_site, write

PROFILE = load_profile("defa-erange")  # as it ships: the scan learns the bus's own timing
SEEDS = (1, 2)
LISTEN_S = 15.0
#: (rightful controller, second controller): turnaround and jitter in ms. Every pair overlaps
#: (the identity answer lasts 12.3 ms, the status answer 8.9 ms at 38400 8E1).
SPREADS = [((3, 1), (3, 1)), ((3, 1), (6, 3)), ((3, 1), (10, 6))]
NOISE = [0.0, 1e-3]
CHAIN = Chain.of(range(1, 9))


@pytest.fixture(autouse=True, scope="module")
def _sim_urls() -> None:
    register_url_handler()


def by_key(verdicts: list[Verdict]) -> dict[str, Verdict]:
    return {verdict.key: verdict for verdict in verdicts}


# --- listening while the CLU polls ------------------------------------------------------------


@pytest.mark.parametrize("noise", NOISE)
@pytest.mark.parametrize(("first", "second"), SPREADS)
def test_overlapping_duplicates_are_heard_at_every_spread(
    tmp_path: Path, first: tuple[float, float], second: tuple[float, float], noise: float
) -> None:
    site = write(tmp_path, "dup", chain_site(duplicate=5, first=first, second=second, noise=noise))
    found = 0
    for seed in SEEDS:
        verdicts = by_key(derive_verdicts(simulate(str(site), LISTEN_S, seed=seed, chain=CHAIN)))
        duplicate = verdicts.get("bus.duplicate_address")
        found += duplicate is not None and duplicate.addresses == (5,)
        silent = verdicts.get("bus.silent_addresses")
        assert silent is None or 5 not in silent.addresses
    assert found == len(SEEDS)


def test_a_healthy_noisy_bus_never_suspects_a_duplicate(tmp_path: Path) -> None:
    site = write(tmp_path, "noisy", chain_site(noise=1e-3))
    for seed in (*SEEDS, 3, 4):
        verdicts = by_key(derive_verdicts(simulate(str(site), LISTEN_S, seed=seed, chain=CHAIN)))
        assert "bus.duplicate_address" not in verdicts, seed
        assert "bus.silent_addresses" not in verdicts, seed


@pytest.mark.parametrize("noise", [1e-4, 1e-3])
def test_a_dead_station_stays_silent_under_noise(tmp_path: Path, noise: float) -> None:
    """The CLU's polls of the dead station and its retries are garbled now and then; they are
    the master's own frames, never the station's answer."""
    site = write(tmp_path, "dead", chain_site(dead=(4,), noise=noise))
    for seed in (*SEEDS, 9):
        report = simulate(str(site), 30.0, seed=seed, chain=CHAIN)
        verdicts = by_key(derive_verdicts(report))
        silent = verdicts.get("bus.silent_addresses")
        assert silent is not None and silent.addresses == (4,), seed
        four = report.address(4)
        assert four is not None and four.answers == 0 and four.corrupt <= 1


# --- the scan and the duplicate check, the CLU off the bus -------------------------------------


def read_site(site: Path, seed: int) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """(answered, garbled, duplicates) of a scan of 1-8 (the site's plan: silent ones read
    three times) and the duplicate check after it."""
    with Link.open(f"sim://{site}?seed={seed}", PROFILE.line, PROFILE.framing) as link:
        scanned = scan(link, PROFILE, range(1, 9), expected=range(1, 9), listen_s=0.2)
        checked = find_duplicates(link, PROFILE, scanned.present, reads=12, lbt=scanned.lbt)
    return scanned.answered, scanned.garbled, checked.duplicates


@pytest.mark.parametrize("noise", NOISE)
@pytest.mark.parametrize(("first", "second"), SPREADS)
def test_the_scan_finds_overlapping_duplicates_and_never_calls_them_silent(
    tmp_path: Path, first: tuple[float, float], second: tuple[float, float], noise: float
) -> None:
    text = chain_site(duplicate=5, first=first, second=second, noise=noise, clu=False)
    site = write(tmp_path, "dup-off", text)
    found = 0
    for seed in SEEDS:
        answered, garbled, duplicates = read_site(site, seed)
        assert 5 in answered or 5 in garbled, seed  # there, one way or the other
        assert set(answered) | set(garbled) == set(range(1, 9)), seed
        found += duplicates == (5,)
    assert found == len(SEEDS)


def test_the_scan_of_a_healthy_noisy_bus_finds_no_duplicate(tmp_path: Path) -> None:
    site = write(tmp_path, "noisy-off", chain_site(noise=1e-3, clu=False))
    for seed in (*SEEDS, 3, 4):
        answered, garbled, duplicates = read_site(site, seed)
        assert answered == tuple(range(1, 9)) and garbled == () and duplicates == (), seed


def test_the_scan_finds_a_dead_station_silent_under_noise(tmp_path: Path) -> None:
    site = write(tmp_path, "dead-off", chain_site(dead=(4,), noise=1e-3, clu=False))
    for seed in SEEDS:
        answered, garbled, duplicates = read_site(site, seed)
        assert answered == (1, 2, 3, 5, 6, 7, 8) and garbled == () and duplicates == (), seed


def test_answers_garbled_in_step_beyond_their_start_are_still_garbled(tmp_path: Path) -> None:
    """Two controllers answering at the same moment: with this seed not even the '>' of a
    reply survives the collision in some reads. Bytes came back all the same: garbled, not
    silent."""
    site = write(
        tmp_path, "in-step", chain_site(duplicate=5, first=(3, 1), second=(3, 1), clu=False)
    )
    with Link.open(f"sim://{site}?seed=25", PROFILE.line, PROFILE.framing) as link:
        scanned = scan(link, PROFILE, range(1, 9), expected=range(1, 9), listen_s=0.2)
    five = scanned.get(5)
    assert five is not None and not five.answered
    assert any(a.outcome == "no_answer" and a.reply for a in five.attempts)  # start unreadable
    assert scanned.garbled == (5,) and 5 not in scanned.silent
