"""The rule engine: load and validate the YAML decision trees, walk them, explain the result.

Knows nothing of serial ports or terminals (never imports typer, rich or serial), so loading the
rules stays cheap for the CLI. Typical use::

    rulebook = load_rulebook()                      # bundled rules, validated
    answers = load_answers("answers.yaml", rulebook.vocabulary)
    answers |= {o.key: o for o in [parse_assignment("clu.power_led=off", rulebook.vocabulary)]}
    while (spec := rulebook.next_question(answers)) is not None:
        ...  # ask spec.question, then answers[spec.key] = rulebook.vocabulary.parse(...)
    diagnosis = rulebook.diagnose(answers)          # diagnosis.status, .findings, .traces
"""

from clu_doctor.engine.diagnosis import Diagnosis, ReportedFinding, TraceStep, TreeTrace
from clu_doctor.engine.model import Case, Finding, Layer, LayerSpec, Tree, Wait
from clu_doctor.engine.observations import (
    UNKNOWN,
    AnswerSource,
    FactSpec,
    GroupSpec,
    Observation,
    ObservationError,
    ObservationSpec,
    ProbeSpec,
    SpecSource,
    ValueKind,
    ValueSpec,
    Vocabulary,
    load_answers,
    parse_assignment,
    parse_duration,
)
from clu_doctor.engine.rulebook import Rulebook, load_rulebook
from clu_doctor.severity import Severity

__all__ = [
    "UNKNOWN",
    "AnswerSource",
    "Case",
    "Diagnosis",
    "FactSpec",
    "Finding",
    "GroupSpec",
    "Layer",
    "LayerSpec",
    "Observation",
    "ObservationError",
    "ObservationSpec",
    "ProbeSpec",
    "ReportedFinding",
    "Rulebook",
    "Severity",
    "SpecSource",
    "TraceStep",
    "Tree",
    "TreeTrace",
    "ValueKind",
    "ValueSpec",
    "Vocabulary",
    "Wait",
    "load_answers",
    "load_rulebook",
    "parse_assignment",
    "parse_duration",
]
