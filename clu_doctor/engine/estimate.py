"""How many questions are still to come: the questionnaire's "question 3 of about 6".

The count is read from the trees, not guessed: from the answers so far, every answer the next
question can get is tried in turn (each choice value; for a number, one value from each range
the trees tell apart), and so on to the end of every path. The estimate is the mean number of
questions over those paths, each answer counted as equally likely, with the fewest and the
most. "Don't know" is not tried: most questions get a real answer, and it only ever shortens
a path. Probes are not run for an estimate: an observation a probe would supply counts as not
known, which is also what it gives when the probe cannot tell.

Each state of the answers is counted once. For the bundled rules the first question of an
empty questionnaire costs about 30 ms, each later one less: unnoticed between two answers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import NamedTuple

from clu_doctor.engine import walk
from clu_doctor.engine.model import Tree
from clu_doctor.engine.observations import (
    AnswerSource,
    Observation,
    ObservationSpec,
    Value,
    ValueKind,
    Vocabulary,
)


class Estimate(NamedTuple):
    """Questions still to ask, the next one included."""

    mean: float
    fewest: int
    most: int

    @property
    def exact(self) -> bool:
        """Every path asks the same number of questions."""
        return self.fewest == self.most

    def total(self, asked: int) -> int:
        """The whole questionnaire's length after ``asked`` questions, rounded half up."""
        return asked + math.floor(self.mean + 0.5)


NONE_LEFT = Estimate(0.0, 0, 0)


def questions_left(
    trees: tuple[Tree, ...], vocabulary: Vocabulary, observations: Mapping[str, Observation]
) -> Estimate:
    """How many questions a person will still be asked, given ``observations``."""
    representatives = _number_representatives(trees)
    memo: dict[frozenset[tuple[str, Value]], Estimate] = {}

    def left(hypothetical: dict[str, Observation]) -> Estimate:
        state = frozenset((key, o.value) for key, o in hypothetical.items())
        if state in memo:
            return memo[state]
        spec = walk.next_question(trees, vocabulary, {**observations, **hypothetical})
        if spec is None:
            result = NONE_LEFT
        else:
            outcomes = [
                left({**hypothetical, spec.key: _answer(spec, value)})
                for value in _answers(spec, representatives)
            ]
            result = Estimate(
                1 + sum(o.mean for o in outcomes) / len(outcomes),
                1 + min(o.fewest for o in outcomes),
                1 + max(o.most for o in outcomes),
            )
        memo[state] = result
        return result

    return left({})


def _answer(spec: ObservationSpec, value: Value) -> Observation:
    return Observation(spec.key, value, AnswerSource.QUESTIONNAIRE, "estimate")


def _answers(
    spec: ObservationSpec, representatives: Mapping[str, tuple[float, ...]]
) -> tuple[Value, ...]:
    if spec.kind is ValueKind.CHOICE:
        return spec.value_names
    return representatives.get(spec.key) or (spec.minimum or 0.0,)


def _number_representatives(trees: tuple[Tree, ...]) -> dict[str, tuple[float, ...]]:
    """For each number observation, one value inside each stretch the trees' ranges make."""
    bounds: dict[str, set[float]] = {}
    for tree in trees:
        for node in tree.nodes.values():
            for rng in node.ranges:
                found = bounds.setdefault(node.ask, set())
                found.update(b for b in (rng.start, rng.stop) if b is not None)
    out: dict[str, tuple[float, ...]] = {}
    for key, edges in bounds.items():
        ordered = sorted(edges)
        # below the lowest edge (a range may start at the minimum: then it is the edge itself)
        below = ordered[0] - 1 if ordered[0] > 0 else ordered[0]
        out[key] = tuple(sorted({below, *ordered}))
    return out
