"""The bus's statistics: binomial and hypergeometric tails, Fisher's exact test, the trend z."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clu_doctor.bus.stats import binomial_tail, fisher_greater, hypergeometric_tail, trend_z

# --- binomial ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "p"), [(1, 0.5), (10, 0.05), (25, 0.3), (40, 0.9)])
def test_the_binomial_tail_matches_the_sum_of_its_terms(n: int, p: float) -> None:
    for k in range(n + 2):
        exact = sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k, n + 1))
        assert binomial_tail(k, n, p) == pytest.approx(exact, rel=1e-9, abs=1e-300)


def test_the_binomial_tail_at_the_edges() -> None:
    assert binomial_tail(0, 5, 0.1) == 1.0
    assert binomial_tail(3, 5, 0.0) == 0.0
    assert binomial_tail(3, 5, 1.0) == 1.0
    assert 0 < binomial_tail(900, 1000, 0.05) < 1e-300 or binomial_tail(900, 1000, 0.05) == 0.0


# --- hypergeometric and Fisher ----------------------------------------------------------------


def brute_force_tail(k: int, n: int, successes: int, population: int) -> Fraction:
    """P[X >= k] by counting every n-subset of a population with ``successes`` marked items."""
    items = [True] * successes + [False] * (population - successes)
    draws = list(itertools.combinations(range(population), n))
    hits = sum(1 for draw in draws if sum(items[i] for i in draw) >= k)
    return Fraction(hits, len(draws))


@pytest.mark.parametrize("population", [1, 4, 7, 10])
def test_hypergeometric_tail_against_counting(population: int) -> None:
    for successes in range(population + 1):
        for n in range(population + 1):
            for k in range(n + 2):
                exact = brute_force_tail(k, n, successes, population)
                assert hypergeometric_tail(k, n, successes, population) == pytest.approx(
                    float(exact), abs=1e-12
                )


@given(
    population=st.integers(1, 400),
    data=st.data(),
)
def test_hypergeometric_tail_is_a_probability_falling_in_k(
    population: int, data: st.DataObject
) -> None:
    successes = data.draw(st.integers(0, population))
    n = data.draw(st.integers(0, population))
    tails = [hypergeometric_tail(k, n, successes, population) for k in range(n + 2)]
    assert tails[0] == 1.0
    assert tails[-1] == 0.0
    assert all(0.0 <= t <= 1.0 for t in tails)
    assert all(a >= b - 1e-12 for a, b in itertools.pairwise(tails))


def test_the_fisher_test_on_the_numbers_the_probe_meets() -> None:
    # A duplicate: 25 of 30 replies corrupt at one address, none of 420 elsewhere.
    assert hypergeometric_tail(25, 30, 25, 450) < 1e-30
    # Uniform noise: 3 of 30 against 40 of 420 is what chance gives.
    assert hypergeometric_tail(3, 30, 43, 450) > 0.3
    with pytest.raises(ValueError):
        hypergeometric_tail(1, 5, 3, 4)


@pytest.mark.parametrize(("k", "n", "others_k", "others_n"), [
    (12, 12, 0, 6), (3, 10, 5, 50), (0, 4, 2, 9), (5, 5, 5, 5), (2, 7, 0, 0), (1, 3, 9, 9),
])  # fmt: skip
def test_fishers_test_matches_the_hypergeometric_sum(
    k: int, n: int, others_k: int, others_n: int
) -> None:
    total, failures = n + others_n, k + others_k
    exact = sum(
        math.comb(failures, i) * math.comb(total - failures, n - i)
        for i in range(k, min(n, failures) + 1)
    ) / math.comb(total, n)
    assert fisher_greater(k, n, others_k, others_n) == pytest.approx(
        exact if failures else 1.0, rel=1e-9
    )


def test_fishers_test_without_evidence() -> None:
    assert fisher_greater(0, 0, 3, 10) == 1.0  # an empty group
    assert fisher_greater(0, 5, 0, 10) == 1.0  # nothing failed anywhere


# Two independent forms of the same tail, as the listen verdicts and the duplicate probe each
# had before the one in clu_doctor.bus.stats replaced them: the exact one must agree with both.


def comb_by_comb_tail(k: int, n: int, successes: int, population: int) -> float:
    """Every term's binomial coefficients taken afresh, in exact integers."""
    high = min(n, successes)
    tail = sum(
        math.comb(successes, x) * math.comb(population - successes, n - x)
        for x in range(max(k, 0), high + 1)
    )
    return tail / math.comb(population, n)


def log_space_fisher(k: int, n: int, others_k: int, others_n: int) -> float:
    """The same test summed in log space (log-gamma terms, scaled by the largest)."""
    total, failures = n + others_n, k + others_k

    def log_comb(a: int, b: int) -> float:
        return math.lgamma(a + 1) - math.lgamma(b + 1) - math.lgamma(a - b + 1)

    terms = [
        log_comb(failures, i) + log_comb(total - failures, n - i) - log_comb(total, n)
        for i in range(k, min(n, failures) + 1)
        if n - i <= total - failures
    ]
    if not terms:
        return 0.0
    top = max(terms)
    return min(1.0, math.exp(top) * sum(math.exp(x - top) for x in terms))


@st.composite
def probe_tables(draw: st.DrawFn) -> tuple[int, int, int, int]:
    """The duplicate probe's table: up to 200 identity reads at one address (``--reads``),
    the other addresses' replies pooled (tens of addresses)."""
    n = draw(st.integers(1, 200))
    others_n = draw(st.integers(1, 5000))
    return draw(st.integers(0, n)), n, draw(st.integers(0, others_n)), others_n


@st.composite
def listen_tables(draw: st.DrawFn) -> tuple[int, int, int, int]:
    """A listen's table: one address's exchanges against the rest of the bus, up to about an
    hour of 16 stations polled once a second."""
    n = draw(st.integers(1, 4000))
    others_n = draw(st.integers(1, 60000))
    k = draw(st.integers(0, n) | st.integers(0, min(n, 40)))
    others_k = draw(st.integers(0, others_n) | st.integers(0, min(others_n, 400)))
    return k, n, others_k, others_n


@settings(max_examples=300, deadline=None)
@given(probe_tables())
def test_the_exact_tail_matches_the_comb_by_comb_sum_on_the_probes_tables(
    table: tuple[int, int, int, int],
) -> None:
    k, n, others_k, others_n = table
    expected = comb_by_comb_tail(k, n, k + others_k, n + others_n)
    assert fisher_greater(k, n, others_k, others_n) == expected


@settings(max_examples=300, deadline=None)
@given(st.one_of(probe_tables(), listen_tables()))
def test_the_exact_tail_matches_the_log_space_sum_on_the_listens_tables(
    table: tuple[int, int, int, int],
) -> None:
    expected = log_space_fisher(*table)
    assert fisher_greater(*table) == pytest.approx(expected, rel=1e-8, abs=1e-300)


@pytest.mark.parametrize("table", [
    (50, 3600, 2880, 54000), (400, 3600, 2600, 54000), (5, 1200, 60, 18000),
    (3000, 3600, 100, 54000), (150, 200, 40, 49800),
])  # fmt: skip
def test_the_exact_tail_matches_the_log_space_sum_on_an_hours_listen(
    table: tuple[int, int, int, int],
) -> None:
    # About an hour of 16 stations polled once a second: one address against the other 15.
    assert fisher_greater(*table) == pytest.approx(log_space_fisher(*table), rel=1e-8, abs=1e-300)


# --- trend ------------------------------------------------------------------------------------


def test_the_trend_statistic_has_the_sign_of_the_trend() -> None:
    growing = [(1.0, 100, 1), (2.0, 100, 5), (3.0, 100, 10), (4.0, 100, 20)]
    assert trend_z(growing) > 3
    assert trend_z([(x, n, e) for x, n, e in reversed(growing)]) > 3  # scores, not order
    assert trend_z([(x, n, 21 - e) for x, n, e in growing]) < -3
    assert trend_z([(1.0, 100, 0), (2.0, 100, 0)]) == 0.0
