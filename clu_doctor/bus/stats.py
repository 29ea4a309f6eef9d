"""The statistics behind the bus's verdicts, written once: tails of the binomial and the
hypergeometric distribution, Fisher's exact test built on the latter, and a trend test.

Both duplicate-address rules use them, each on its own evidence: the passive one
(:mod:`clu_doctor.bus.listen.verdicts`, exchanges heard while listening) and the active one
(:mod:`clu_doctor.bus.probes.duplicates`, identity reads it sent). scipy would do the same
but is far too heavy for a Raspberry Pi field tool, so the few lines live here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def binomial_tail(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p), summed in log space (exact for any n)."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    if p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    log_p, log_q = math.log(p), math.log1p(-p)
    log_n = math.lgamma(n + 1)
    terms = [
        log_n - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * log_p + (n - i) * log_q
        for i in range(k, n + 1)
    ]
    top = max(terms)
    return min(1.0, math.exp(top) * sum(math.exp(t - top) for t in terms))


def hypergeometric_tail(k: int, n: int, successes: int, population: int) -> float:
    """``P[X >= k]`` for ``X`` ~ Hypergeometric(``population``, ``successes``, ``n`` draws).

    Exact: the terms are integers, each found from the one before by a ratio of small
    integers, and only the final quotient is rounded (once, correctly). Summing from the
    shorter side of ``k`` (the complement, when that has fewer terms) keeps an hour's listen
    (thousands of exchanges per address) in milliseconds; binomial coefficients taken one by
    one would need seconds, and log-gamma terms lose digits at such sizes.
    """
    if not 0 <= n <= population or not 0 <= successes <= population:
        raise ValueError("need 0 <= n, successes <= population")
    low = max(0, n + successes - population)
    high = min(n, successes)
    if k <= low:
        return 1.0
    if k > high:
        return 0.0
    total = math.comb(population, n)
    if high - k <= k - low:
        return _terms(k, high, n, successes, population) / total
    return (total - _terms(low, k - 1, n, successes, population)) / total


def _terms(first: int, last: int, n: int, successes: int, population: int) -> int:
    """``sum C(successes, x) C(population - successes, n - x)`` for ``x`` in ``first..last``."""
    failures = population - successes
    term = math.comb(successes, first) * math.comb(failures, n - first)
    tail = term
    for x in range(first, last):
        # C(s, x+1) C(f, n-x-1) = C(s, x) C(f, n-x) (s-x)(n-x) / ((x+1)(f-n+x+1)), exactly.
        term = term * (successes - x) * (n - x) // ((x + 1) * (failures - n + x + 1))
        tail += term
    return tail


def fisher_greater(k: int, n: int, others_k: int, others_n: int) -> float:
    """One-sided Fisher exact test: P(at least ``k`` of the ``k + others_k`` failures fall in a
    group of ``n`` out of ``n + others_n``), i.e. evidence that the first group fails more.

    An empty group, or no failure anywhere, is no evidence at all (1.0).
    """
    if n == 0 or k + others_k == 0:
        return 1.0
    return hypergeometric_tail(k, n, k + others_k, n + others_n)


def trend_z(points: Sequence[tuple[float, int, int]]) -> float:
    """Cochran-Armitage trend z for (score, trials, failures): > 0 when failures grow with score."""
    trials = sum(n for _, n, _ in points)
    failures = sum(e for _, _, e in points)
    if trials == 0 or failures in (0, trials):
        return 0.0
    rate = failures / trials
    mean = sum(x * n for x, n, _ in points) / trials
    statistic = sum(e * (x - mean) for x, _, e in points)
    variance = rate * (1 - rate) * sum(n * (x - mean) ** 2 for x, n, _ in points)
    return statistic / math.sqrt(variance) if variance > 0 else 0.0
