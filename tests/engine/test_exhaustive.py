"""Whatever a technician answers, the bundled rules decide something and say what to do.

Exhaustive over the four LEDs and three uptimes (768 combinations), then property-based over
arbitrary subsets of the whole vocabulary.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clu_doctor.engine import (
    UNKNOWN,
    AnswerSource,
    Diagnosis,
    Observation,
    ObservationSpec,
    Severity,
    SpecSource,
    ValueKind,
    load_rulebook,
)
from clu_doctor.engine.diagnosis import overall_status
from clu_doctor.engine.model import dependencies

RULEBOOK = load_rulebook()
LEDS = ["clu.power_led", "clu.status_led", "usb.red_led", "usb.green_led"]
LED_VALUES = ["off", "steady", "flashing", UNKNOWN]
UPTIMES: list[int | str] = [60, 600, UNKNOWN]


def check_sound(diagnosis: Diagnosis) -> None:
    """What a user must always get: a decision or an explicit 'look at X', and a valid status."""
    found = diagnosis.all_findings()
    assert found, "no finding at all"
    assert diagnosis.status is overall_status([f.severity for f in found])
    assert len(diagnosis.traces) == len(RULEBOOK.trees)
    for trace in diagnosis.traces:
        assert trace.steps
        assert (
            trace.outcome == f"finding:{trace.finding}"
            if trace.finding
            else (trace.outcome == "end" or trace.outcome.startswith("see:"))
        )
    for item in found:
        assert item.finding.remedy
        if item.severity is Severity.UNKNOWN:
            assert item.finding.look_at
    ids = [item.id for item in found]
    assert len(ids) == len(set(ids)), "a finding is listed twice"
    faults = [f for f in found if f.severity in (Severity.WARNING, Severity.CRITICAL)]
    for item in found:
        if item.severity is not Severity.OK:
            continue
        needs = dependencies(RULEBOOK.layers, item.finding.layer)
        against = [f.id for f in faults if f.finding.layer in needs]
        # An OK claim beside a fault it depends on is at most a scoped one.
        assert not against or (item.partial and item.title != item.finding.title), (
            item.id,
            against,
        )
    # Nothing is called fine (a summary's "nothing wrong found") that a fault of the run
    # stands in the way of, or that the tree looking at it could not judge.
    held = dict(diagnosis.held_back)
    assert not diagnosis.fine_layers & held.keys()
    for layer in diagnosis.fine_layers:
        needs = dependencies(RULEBOOK.layers, layer)
        assert not [f.id for f in faults if f.finding.layer in needs], layer
    assert set(held.values()) <= set(ids)
    roots = {root.id for root in diagnosis.findings}
    for item in found:
        if item.consequence_of is not None:
            assert item.consequence_of in ids and item.id not in roots


def observations(values: dict[str, object]) -> dict[str, Observation]:
    return {
        key: RULEBOOK.vocabulary.parse(key, raw, AnswerSource.ANSWERS_FILE)
        for key, raw in values.items()
    }


@pytest.mark.parametrize("uptime", UPTIMES, ids=lambda u: f"uptime={u}")
def test_every_led_combination_gives_a_sound_diagnosis(uptime: int | str) -> None:
    statuses = set()
    wait_s = set()
    for combination in itertools.product(LED_VALUES, repeat=len(LEDS)):
        answers: dict[str, object] = dict(zip(LEDS, combination, strict=True))
        answers["clu.uptime_s"] = uptime
        diagnosis = RULEBOOK.diagnose(observations(answers))
        check_sound(diagnosis)
        statuses.add(diagnosis.status)
        if diagnosis.wait_s is not None:
            wait_s.add(diagnosis.wait_s)
            assert diagnosis.status is not Severity.OK, "waiting is never fine"
    # A spread of verdicts, not one constant answer; waiting (unknown, with the seconds to
    # wait) only during start-up.
    assert {Severity.OK, Severity.UNKNOWN, Severity.WARNING, Severity.CRITICAL} <= statuses
    assert (wait_s == {90.0}) == (uptime == 60), wait_s


def test_power_before_everything_for_every_dark_clu() -> None:
    for red, green, uptime in itertools.product(LED_VALUES, LED_VALUES, UPTIMES):
        answers = {
            "clu.power_led": "off",
            "clu.status_led": "off",
            "usb.red_led": red,
            "usb.green_led": green,
            "clu.uptime_s": uptime,
        }
        diagnosis = RULEBOOK.diagnose(observations(answers))
        assert diagnosis.findings[0].id == "CLU-PWR-01"
        assert [f.id for f in diagnosis.findings] == ["CLU-PWR-01"], "USB shown as a 2nd fault"


def value_strategy(spec: ObservationSpec) -> st.SearchStrategy[object]:
    if spec.kind is ValueKind.CHOICE:
        return st.sampled_from([*spec.value_names, UNKNOWN])
    low = spec.minimum if spec.minimum is not None else -1e9
    return st.one_of(
        st.just(UNKNOWN),
        st.integers(min_value=int(low), max_value=10**7),
        st.floats(min_value=low, max_value=1e7, allow_nan=False),
    )


ANSWER_SETS = st.fixed_dictionaries(
    {},
    optional={spec.key: value_strategy(spec) for spec in RULEBOOK.vocabulary},
)


@given(ANSWER_SETS)
def test_any_answer_set_gives_a_sound_diagnosis(answers: dict[str, object]) -> None:
    diagnosis = RULEBOOK.diagnose(observations(answers))
    check_sound(diagnosis)
    given_keys = {o.key for o in diagnosis.observations if o.source is not AnswerSource.DEFAULT}
    assert given_keys == set(answers)


@given(ANSWER_SETS)
def test_next_question_never_asks_what_is_answered(answers: dict[str, object]) -> None:
    given_answers = observations(answers)
    spec = RULEBOOK.next_question(given_answers)
    if spec is None:
        # Every tree is decided: diagnosing must not need a default for an askable question
        # (only probe observations, which no person is asked for, may default to unknown).
        diagnosis = RULEBOOK.diagnose(given_answers)
        defaults = [o for o in diagnosis.observations if o.source is AnswerSource.DEFAULT]
        assert all(RULEBOOK.vocabulary.spec(o.key).source is SpecSource.PROBE for o in defaults)
    else:
        assert spec.key not in given_answers
