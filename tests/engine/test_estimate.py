"""How many questions are left: read from the trees, bounded by what a real session asks."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from clu_doctor.engine import AnswerSource, Observation, ValueKind, load_rulebook
from clu_doctor.engine.estimate import Estimate, questions_left
from tests.engine.rulesets import RulesFactory

RULEBOOK = load_rulebook()


def left(rulebook: object, answers: dict[str, Observation]) -> Estimate:
    return questions_left(rulebook.trees, rulebook.vocabulary, answers)  # type: ignore[attr-defined]


def test_the_lamp_asks_one_or_two_questions(make_rules: RulesFactory) -> None:
    from clu_doctor.engine import load_rulebook as load

    lamp = load(make_rules())
    assert left(lamp, {}) == Estimate(1.5, 1, 2)  # green ends it; red asks the age as well
    red = {"lamp.colour": lamp.vocabulary.parse("lamp.colour", "red", AnswerSource.FLAG)}
    assert left(lamp, red) == Estimate(1.0, 1, 1)
    assert left(lamp, red).exact
    aged = {**red, "lamp.age_s": lamp.vocabulary.parse("lamp.age_s", "2m", AnswerSource.FLAG)}
    assert left(lamp, aged) == Estimate(0.0, 0, 0)


def test_total_rounds_half_up() -> None:
    assert Estimate(2.5, 1, 4).total(2) == 5
    assert Estimate(2.49, 1, 4).total(2) == 4


def test_an_empty_questionnaire_starts_with_a_fair_guess() -> None:
    estimate = left(RULEBOOK, {})
    assert estimate.fewest == 3  # no LED lit: the power, then the portal's first question
    assert estimate.fewest < estimate.mean < estimate.most


@settings(max_examples=25)  # each example walks the trees a few thousand times
@given(st.data())
def test_a_session_asks_within_the_estimate(data: st.DataObject) -> None:
    """Whatever is answered, the number of questions still asked lies within the bounds
    every estimate on the way gave (each answer a value, as the estimate counts them)."""
    answers: dict[str, Observation] = {}
    estimates = [left(RULEBOOK, answers)]
    while (spec := RULEBOOK.next_question(answers)) is not None:
        if spec.kind is ValueKind.CHOICE:
            raw: object = data.draw(st.sampled_from(spec.value_names))
        else:
            raw = data.draw(st.sampled_from(["0", "149", "150", "3h"]))
        answers[spec.key] = RULEBOOK.vocabulary.parse(spec.key, raw, AnswerSource.QUESTIONNAIRE)
        estimates.append(left(RULEBOOK, answers))
    asked = len(estimates) - 1
    for at, estimate in enumerate(estimates):
        assert estimate.fewest <= asked - at <= estimate.most
        assert estimate.fewest <= estimate.mean <= estimate.most


def test_dont_know_everywhere_stays_within_the_bounds() -> None:
    answers: dict[str, Observation] = {}
    first = left(RULEBOOK, answers)
    asked = 0
    while (spec := RULEBOOK.next_question(answers)) is not None:
        answers[spec.key] = RULEBOOK.vocabulary.parse(spec.key, "?", AnswerSource.QUESTIONNAIRE)
        asked += 1
    assert first.fewest <= asked <= first.most
