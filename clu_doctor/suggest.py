""" "Did you mean ...?" for mistyped keys, values, node names and finding ids."""

from __future__ import annotations

from collections.abc import Iterable


def close_matches(word: str, candidates: Iterable[str]) -> list[str]:
    """Up to three candidates that look like a mistyped ``word``, best first.

    Only the clear winners: 'LAMP-OK-02' suggests 'LAMP-OK-01', not every LAMP-* id. A bare
    last segment also matches its dotted key ('power_led' suggests 'clu.power_led').
    """
    import difflib  # only on the error path: keeps start-up lean

    pool = list(candidates)
    scored = sorted(
        ((difflib.SequenceMatcher(None, word, c).ratio(), c) for c in pool),
        key=lambda pair: -pair[0],
    )
    best = scored[0][0] if scored else 0.0
    found = [c for ratio, c in scored if ratio >= max(0.6, best - 0.1)]
    found += [c for c in pool if c not in found and c.endswith("." + word)]
    return found[:3]


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` or an empty string when nothing is close."""
    matches = close_matches(word, candidates)
    if not matches:
        return ""
    return "; did you mean " + " or ".join(repr(m) for m in matches) + "?"
