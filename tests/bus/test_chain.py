"""End-of-bus analysis: every answered set on small chains, and every single physical fault."""

from __future__ import annotations

import itertools
import json
from collections.abc import Collection, Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clu_doctor.bus.chain import CHAIN_VERDICTS, ChainResult, analyse_chain

Chain = list[tuple[int, ...]]


def chain_of(*sizes: int) -> Chain:
    """Stations with 1 (UNO) or 2 (DUO) consecutive addresses from 1."""
    chain: Chain = []
    address = 1
    for size in sizes:
        chain.append(tuple(range(address, address + size)))
        address += size
    return chain


SHAPES = [chain_of(*sizes) for n in range(1, 6) for sizes in itertools.product((1, 2), repeat=n)]


def reachable_positions(n: int, adapter_at: str, break_after: int | None) -> set[int]:
    """Positions (1..n) the adapter reaches with the cable cut between ``break_after`` and the
    next position (0 = at the CLU's terminal block)."""
    if break_after is None:
        return set(range(1, n + 1))
    if adapter_at == "clu":
        return set(range(1, break_after + 1))
    return set(range(break_after + 1, n + 1))


def answered_for(chain: Chain, positions: set[int], unpowered: Collection[int] = ()) -> set[int]:
    return {a for p in positions - set(unpowered) for a in chain[p - 1]}


# --- physical faults: the analysis must point at them ----------------------------------------------


@pytest.mark.parametrize("adapter_at", ["clu", "end"])
@pytest.mark.parametrize("chain", SHAPES, ids=lambda c: "-".join(str(len(s)) for s in c))
def test_a_single_cable_break_is_localised_to_its_segment(chain: Chain, adapter_at: str) -> None:
    n = len(chain)
    for cut in range(n + 1):  # cut between position `cut` and `cut + 1`
        result = analyse_chain(
            chain, adapter_at, answered_for(chain, reachable_positions(n, adapter_at, cut))
        )
        reached = reachable_positions(n, adapter_at, cut)
        lost = n - len(reached)
        if lost == 0:
            assert result.verdict == "ok"
            assert result.segment is None
        elif lost == n:
            assert result.verdict == "none"
            assert result.segment == ((0, 1) if adapter_at == "clu" else (n, n + 1))
        else:
            assert result.verdict == ("break" if lost >= 2 else "farthest")
            assert result.segment == (cut, cut + 1)
            assert result.isolated == ()
            silent = [a for p in range(1, n + 1) if p not in reached for a in chain[p - 1]]
            assert list(result.beyond) == silent


@pytest.mark.parametrize("adapter_at", ["clu", "end"])
@pytest.mark.parametrize("chain", SHAPES, ids=lambda c: "-".join(str(len(s)) for s in c))
def test_a_single_unpowered_station_is_told_from_a_break(chain: Chain, adapter_at: str) -> None:
    n = len(chain)
    farthest = n if adapter_at == "clu" else 1
    for dead in range(1, n + 1):
        result = analyse_chain(chain, adapter_at, answered_for(chain, set(range(1, n + 1)), {dead}))
        if n == 1:
            assert result.verdict == "none"
        elif dead == farthest:
            assert result.verdict == "farthest"
            assert result.beyond == chain[dead - 1]
            assert dead in result.segment  # type: ignore[operator]
        else:
            assert result.verdict == "station"
            assert result.isolated == chain[dead - 1]
            assert result.segment is None


def test_one_silent_outlet_of_a_duo_is_a_station_fault_even_at_the_far_end() -> None:
    chain = chain_of(1, 1, 2)
    result = analyse_chain(chain, "clu", {1, 2, 3})
    assert result.verdict == "station"
    assert result.isolated == (4,)
    assert result.positions[2].state == "partial"


def test_a_break_with_an_unpowered_station_before_it() -> None:
    chain = chain_of(*[1] * 12)
    answered = {1, 2, 3, 5, 6}
    result = analyse_chain(chain, "clu", answered)
    assert result.verdict == "break"
    assert result.segment == (6, 7)
    assert result.segment_addresses == ((6,), (7,))
    assert result.isolated == (4,)
    assert result.beyond == tuple(range(7, 13))
    assert any("address 4 silent" in line for line in result.evidence)


def test_the_cable_break_scenario_from_both_ends() -> None:
    chain = chain_of(*[1] * 12)
    from_clu = analyse_chain(chain, "clu", set(range(1, 7)))
    from_end = analyse_chain(chain, "end", set(range(7, 13)))
    for result in (from_clu, from_end):
        assert result.verdict == "break"
        assert result.segment == (6, 7)
    assert from_clu.beyond == tuple(range(7, 13))
    assert from_end.beyond == tuple(range(1, 7))
    assert "position 6 (address 6) and position 7 (address 7)" in from_clu.evidence[0]


def test_addresses_outside_the_chain_are_listed() -> None:
    result = analyse_chain([1, 2, 3], "clu", {1, 2, 3, 17, 40})
    assert result.verdict == "ok"
    assert result.extra == (17, 40)


def test_plain_integers_and_address_tuples_mean_the_same() -> None:
    assert analyse_chain([1, 2, 3], "end", {3}) == analyse_chain([(1,), (2,), (3,)], "end", {3})


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        analyse_chain([], "clu", set())
    with pytest.raises(ValueError):
        analyse_chain([1], "middle", set())
    with pytest.raises(ValueError):
        analyse_chain([()], "clu", set())


def test_to_dict_is_json() -> None:
    result = analyse_chain(chain_of(1, 2, 1), "end", {4})
    data = json.loads(json.dumps(result.to_dict()))
    assert data["verdict"] == "break"
    assert data["segment"] == [2, 3]
    assert data["segment_addresses"] == [[2, 3], [4]]
    assert [p["state"] for p in data["positions"]] == ["silent", "silent", "ok"]


# --- every answered set: the invariants ------------------------------------------------------------


def check_invariants(
    chain: Sequence[tuple[int, ...]], adapter_at: str, result: ChainResult
) -> None:
    n = len(chain)
    assert result.verdict in CHAIN_VERDICTS
    everything = [a for station in chain for a in station]
    assert sorted(result.reachable + result.silent) == sorted(everything)
    order = list(range(1, n + 1)) if adapter_at == "clu" else list(range(n, 0, -1))
    reached = [p for p in order if result.positions[p - 1].reachable]
    if not reached:
        assert result.verdict == "none"
        assert result.beyond == result.silent
        return
    last = order.index(reached[-1])
    beyond_positions = order[last + 1 :]
    assert set(result.beyond) == {a for p in beyond_positions for a in chain[p - 1]}
    assert set(result.isolated) | set(result.beyond) == set(result.silent)
    assert not set(result.isolated) & set(result.beyond)
    expected = (
        "break"
        if len(beyond_positions) >= 2
        else "farthest"
        if beyond_positions
        else "station"
        if result.isolated
        else "ok"
    )
    assert result.verdict == expected
    if beyond_positions:
        assert result.segment is not None
        low, high = result.segment
        assert high == low + 1
        assert {low, high} == {reached[-1], beyond_positions[0]}
    else:
        assert result.segment is None


@pytest.mark.parametrize("adapter_at", ["clu", "end"])
@pytest.mark.parametrize("chain", SHAPES, ids=lambda c: "-".join(str(len(s)) for s in c))
def test_every_answered_set_keeps_the_invariants(chain: Chain, adapter_at: str) -> None:
    addresses = [a for station in chain for a in station]
    for bits in itertools.product((False, True), repeat=len(addresses)):
        answered = {a for a, on in zip(addresses, bits, strict=True) if on}
        check_invariants(chain, adapter_at, analyse_chain(chain, adapter_at, answered))


@given(
    sizes=st.lists(st.sampled_from((1, 2)), min_size=1, max_size=12),
    adapter_at=st.sampled_from(("clu", "end")),
    data=st.data(),
)
def test_larger_chains_keep_the_invariants(
    sizes: list[int], adapter_at: str, data: st.DataObject
) -> None:
    chain = chain_of(*sizes)
    addresses = [a for station in chain for a in station]
    answered = data.draw(st.sets(st.sampled_from(addresses)))
    check_invariants(chain, adapter_at, analyse_chain(chain, adapter_at, answered))
