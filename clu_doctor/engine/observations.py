"""The observation vocabulary and the answers given against it.

An *observation* is one fact about the site (``clu.power_led = off``). The vocabulary, read
from ``rules/observations.yaml``, says which observations exist, which values each takes and
how to ask for it. Every answer records where it came from (a flag, an answers file, the
questionnaire, a probe, or the default ``unknown``) so the why-trace can show it.

"I don't know" is always a legal answer; its canonical value is :data:`UNKNOWN`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping
from enum import Enum
from pathlib import Path
from typing import Any, NamedTuple

from clu_doctor.errors import FileProblemError, Location, Problem, UsageError
from clu_doctor.i18n import _
from clu_doctor.suggest import did_you_mean
from clu_doctor.yamlio import YamlMap, describe_type, load_yaml_file

UNKNOWN = "unknown"
"""The canonical "don't know" value, legal for every observation."""

DONT_KNOW_WORDS = frozenset({"unknown", "?", "dont-know"})
"""Every spelling of "don't know", after :func:`normalise_word`."""

Value = str | int | float
"""A parsed observation value: a choice name, a number, or :data:`UNKNOWN`."""


class ValueKind(str, Enum):
    CHOICE = "choice"
    NUMBER = "number"


class SpecSource(str, Enum):
    """Who can supply an observation: a person (``ask``) or a bus probe (``probe``)."""

    ASK = "ask"
    PROBE = "probe"


class AnswerSource(str, Enum):
    """Where one answer came from, as shown in the why-trace."""

    FLAG = "flag"
    ANSWERS_FILE = "answers-file"
    QUESTIONNAIRE = "questionnaire"
    PROBE = "probe"
    DEFAULT = "default"


class ObservationError(UsageError):
    """An answer that does not fit the vocabulary: unknown key or value out of range."""

    def __init__(self, key: str, message: str, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.key = key


def normalise_word(raw: str) -> str:
    """Fold an answer for comparison: case, curly quotes, apostrophes, spaces, underscores.

    ``"Don't know"``, ``"dont_know"`` and ``"DONT-KNOW"`` all become ``"dont-know"``.
    """
    text = raw.strip().lower().replace("\u2019", "'").replace("'", "")
    return re.sub(r"[\s_]+", "-", text)


_DURATION = re.compile(
    r"(?:(?P<d>\d+(?:\.\d+)?)d)?(?:(?P<h>\d+(?:\.\d+)?)h)?"
    r"(?:(?P<m>\d+(?:\.\d+)?)m(?:in)?)?(?:(?P<s>\d+(?:\.\d+)?)s)?"
)
_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(raw: str) -> float | None:
    """Seconds in ``90``, ``90s``, ``5m``, ``2h``, ``1h30m``, ``2d``; ``None`` if not a duration."""
    text = re.sub(r"\s+", "", raw.lower())
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    match = _DURATION.fullmatch(text)
    if match is None or not any(match.groupdict().values()):
        return None
    return sum(float(part) * _SECONDS[unit] for unit, part in match.groupdict().items() if part)


def _tidy_number(value: float) -> int | float:
    return int(value) if value.is_integer() else value


class ValueSpec(NamedTuple):
    """One allowed value of a choice observation, with what it means to the person answering."""

    name: str
    help: str
    #: The word shown for it in the questionnaire, in the rulebook's language (the name when
    #: empty: English, or no translation).
    label: str = ""

    @property
    def shown(self) -> str:
        return self.label or self.name

    def to_dict(self) -> dict[str, str]:
        out = {"name": self.name, "help": self.help}
        if self.label:
            out["label"] = self.label
        return out


class ObservationSpec(NamedTuple):
    """One entry of the vocabulary: what can be observed, and how to ask for it."""

    key: str
    kind: ValueKind
    source: SpecSource
    question: str
    help: str
    values: tuple[ValueSpec, ...] = ()
    aliases: Mapping[str, str] = {}
    unit: str | None = None
    minimum: float | None = None
    location: Location = Location("")
    #: For ``source: probe``: the probe (declared under ``probes:``) that supplies the value.
    probe: str | None = None
    #: For ``source: ask``: the question group (declared under ``groups:``) it belongs to.
    group: str | None = None

    @property
    def value_names(self) -> tuple[str, ...]:
        """The canonical values, without ``unknown``."""
        return tuple(v.name for v in self.values)

    def expected(self) -> str:
        """What a valid answer looks like, for error messages and prompts."""
        if self.kind is ValueKind.CHOICE:
            words = ", ".join([*(value.shown for value in self.values), UNKNOWN])
            return _("one of: {words}").format(words=words)
        low = "" if self.minimum is None else f" ≥ {_tidy_number(self.minimum)}"
        if self.unit == "s":
            text = _("a number of seconds") + low
            text += ", " + _("or a duration like 90s, 5m, 2h, 1h30m")
        elif self.unit:
            text = _("a number of {unit}").format(unit=self.unit) + low
        else:
            text = _("a number") + low
        return text + ", " + _("or unknown")

    def parse(self, raw: Any) -> Value:
        """Turn raw input (text from a flag or prompt, or a YAML/JSON scalar) into a value.

        Raises :class:`ObservationError` naming the key and what was expected.
        """
        if isinstance(raw, str) and (
            normalise_word(raw) in DONT_KNOW_WORDS
            or self.aliases.get(normalise_word(raw)) == UNKNOWN
        ):
            return UNKNOWN
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            raise ObservationError(
                self.key,
                f"{self.key}: "
                + _("no value given (expected {what})").format(what=self.expected()),
            )
        if self.kind is ValueKind.CHOICE:
            return self._parse_choice(raw)
        return self._parse_number(raw)

    def _parse_choice(self, raw: Any) -> str:
        if isinstance(raw, bool) and {"yes", "no"} <= set(self.value_names):
            return "yes" if raw else "no"
        if isinstance(raw, str):
            word = normalise_word(raw)
            if word in self.value_names:
                return word
            if word in self.aliases:
                return self.aliases[word]
            shown = repr(raw.strip())
        else:
            shown = _describe(raw)
        hint = None
        if self.aliases:
            hint = _("also accepted: {words}").format(words=", ".join(sorted(self.aliases)))
        raise ObservationError(
            self.key,
            f"{self.key}: "
            + _("{answer} is not a known value (expected {what})").format(
                answer=shown, what=self.expected()
            ),
            hint,
        )

    def _parse_number(self, raw: Any) -> int | float:
        number: float | None = None
        if isinstance(raw, (int, float)) and not isinstance(raw, bool):
            number = float(raw)
        elif isinstance(raw, str):
            number = parse_duration(raw) if self.unit == "s" else _plain_float(raw)
        shown = repr(raw.strip()) if isinstance(raw, str) else _describe(raw)
        if number is None or not math.isfinite(number):
            raise ObservationError(
                self.key,
                f"{self.key}: "
                + _("{answer} is not understood (expected {what})").format(
                    answer=shown, what=self.expected()
                ),
            )
        if self.minimum is not None and number < self.minimum:
            raise ObservationError(
                self.key,
                f"{self.key}: "
                + _("{answer} is below the minimum {minimum} (expected {what})").format(
                    answer=shown, minimum=_tidy_number(self.minimum), what=self.expected()
                ),
            )
        return _tidy_number(number)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "type": self.kind.value,
            "source": self.source.value,
            "question": self.question,
            "help": self.help,
            "values": [v.to_dict() for v in self.values],
            "aliases": dict(self.aliases),
            "unit": self.unit,
            "min": None if self.minimum is None else _tidy_number(self.minimum),
            "probe": self.probe,
            "group": self.group,
        }


def _describe(value: Any) -> str:
    return describe_type(value)


def _plain_float(raw: str) -> float | None:
    try:
        return float(raw.strip())
    except ValueError:
        return None


class ProbeSpec(NamedTuple):
    """A bus probe a finding can name as its confirmation (``confirm_with``)."""

    name: str
    help: str


class GroupSpec(NamedTuple):
    """Questions asked together after every other question, which a person may skip as one
    (e.g. what the CloudCharge portal shows, for a technician who cannot log in on site)."""

    name: str
    title: str
    #: Asked before the group's first question: may the person answer these now?
    question: str
    help: str


class FactSpec(NamedTuple):
    """A fact a text may name (``{station}``): what it is, and the words used when no
    observation supplies it (so every text reads well without it)."""

    name: str
    help: str
    default: str
    location: Location = Location("")

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "help": self.help, "default": self.default}


#: A fact named in a text: ``{name}``, lower-case words joined by ``_``.
PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")


def placeholders(text: str) -> list[str]:
    """The fact names ``text`` refers to, in order."""
    return PLACEHOLDER.findall(text)


def stray_braces(text: str) -> bool:
    """True when ``text`` has a brace that is not part of a ``{fact}``."""
    return "{" in PLACEHOLDER.sub("", text) or "}" in PLACEHOLDER.sub("", text)


def fill(text: str, facts: Mapping[str, str], defaults: Mapping[str, FactSpec]) -> str:
    """``text`` with each ``{fact}`` replaced: from ``facts``, else the fact's default words."""
    if "{" not in text:
        return text

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in facts:
            words = facts[name]
        else:
            spec = defaults.get(name)
            words = spec.default if spec is not None else match.group(0)
        before = text[: match.start()].rstrip(" ")
        if not before or before.endswith((".", ":", "!", "?", "\n")):
            words = words[:1].upper() + words[1:]  # a fact that starts a sentence
        return words

    return PLACEHOLDER.sub(value, text)


class Observation(NamedTuple):
    """One answer: the value, where it came from, and optionally exactly where (``file:line``).

    ``evidence`` holds what a probe saw, one line each for people (``address 9 (XAXXY09):
    0 of 12 polls answered``); findings reached through this observation show it.
    ``addresses`` are the bus addresses the value is about (the silent ones, the doubled one,
    the controllers read); the findings reached through it are about them too. ``facts``
    name what texts may quote (``{station}``: ``XAXXY09``), as the vocabulary declares.
    ``partial`` says the value holds only for part of what the observation speaks about
    (every controller that answered is normal, but not every controller of the site was
    read): an OK finding reached through it claims no more than that.
    """

    key: str
    value: Value
    source: AnswerSource
    detail: str | None = None
    evidence: tuple[str, ...] = ()
    addresses: tuple[int, ...] = ()
    facts: Mapping[str, str] = {}
    partial: bool = False

    @property
    def is_unknown(self) -> bool:
        return self.value == UNKNOWN

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "value": self.value,
            "source": self.source.value,
            "detail": self.detail,
            "evidence": list(self.evidence),
            "addresses": list(self.addresses),
            "facts": dict(self.facts),
            "partial": self.partial,
        }


class Vocabulary:
    """Every observation the trees may ask about, in the order the file declares them, the
    probes that fill some of them, and the facts texts may name."""

    __slots__ = ("facts", "groups", "probes", "specs")

    def __init__(
        self,
        specs: Mapping[str, ObservationSpec],
        probes: Mapping[str, ProbeSpec] | None = None,
        groups: Mapping[str, GroupSpec] | None = None,
        facts: Mapping[str, FactSpec] | None = None,
    ) -> None:
        self.specs: Mapping[str, ObservationSpec] = dict(specs)
        self.probes: Mapping[str, ProbeSpec] = dict(probes or {})
        self.groups: Mapping[str, GroupSpec] = dict(groups or {})
        self.facts: Mapping[str, FactSpec] = dict(facts or {})

    def fill(self, text: str, facts: Mapping[str, str]) -> str:
        """``text`` with its ``{fact}`` names filled from ``facts``, else their defaults."""
        return fill(text, facts, self.facts)

    def question(self, key: str, observations: Mapping[str, Observation]) -> str:
        """The question for ``key`` as a person reads it, with the facts known so far."""
        return self.fill(self.spec(key).question, known_facts(observations.values(), self))

    def __iter__(self) -> Iterator[ObservationSpec]:
        return iter(self.specs.values())

    def __contains__(self, key: object) -> bool:
        return key in self.specs

    def __repr__(self) -> str:
        return f"Vocabulary({', '.join(self.specs)})"

    def spec(self, key: str) -> ObservationSpec:
        """The spec for ``key``; an unknown key raises with the closest known keys."""
        try:
            return self.specs[key]
        except KeyError:
            raise ObservationError(
                key,
                _("unknown observation {key}").format(key=repr(key))
                + did_you_mean(key, self.specs),
                hint=_("known observations: {keys}").format(keys=", ".join(self.specs)),
            ) from None

    def parse(
        self,
        key: str,
        raw: Any,
        source: AnswerSource,
        detail: str | None = None,
    ) -> Observation:
        """Parse one raw answer for ``key`` into an :class:`Observation`."""
        key = key.strip()
        return Observation(key, self.spec(key).parse(raw), source, detail)

    def check(self, observation: Observation) -> None:
        """Raise :class:`ObservationError` unless ``observation`` fits the vocabulary."""
        spec = self.spec(observation.key)
        if observation.value != spec.parse(observation.value):
            raise ObservationError(
                observation.key,
                f"{observation.key}: {observation.value!r} is not a canonical value "
                f"(expected {spec.expected()})",
            )


def known_facts(observations: Iterable[Observation], vocabulary: Vocabulary) -> dict[str, str]:
    """Every fact the observations give; where two give the same fact, the one declared first
    in the vocabulary wins (the order is the same on every run)."""
    order = {key: index for index, key in enumerate(vocabulary.specs)}
    facts: dict[str, str] = {}
    for observation in sorted(observations, key=lambda o: order.get(o.key, len(order))):
        for name, text in observation.facts.items():
            facts.setdefault(name, text)
    return facts


def parse_assignment(
    text: str,
    vocabulary: Vocabulary,
    source: AnswerSource = AnswerSource.FLAG,
) -> Observation:
    """Parse ``KEY=VALUE`` (the ``--observe`` flag) into an observation.

    ``vocabulary`` is the rulebook's (``load_rulebook().vocabulary``): the observations
    module knows no rulebook, so the engine's layers point one way.
    """
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ObservationError(
            key.strip(),
            _("{text} is not an assignment (expected KEY=VALUE, e.g. clu.power_led=off)").format(
                text=repr(text)
            ),
        )
    return vocabulary.parse(key, raw, source, detail=text)


def _flatten(
    node: YamlMap, prefix: str, out: dict[str, tuple[Any, int]], problems: list[Problem], path: str
) -> None:
    for key, value in node.items():
        line = node.line_of(key)
        if not isinstance(key, str):
            problems.append(
                Problem(Location(path, line), f"key {key!r} is not text", "an observation name")
            )
            continue
        dotted = f"{prefix}{key.strip()}"
        if isinstance(value, YamlMap):
            _flatten(value, dotted + ".", out, problems, path)
        elif dotted in out:
            problems.append(
                Problem(
                    Location(path, line),
                    f"{dotted!r} is given twice (first on line {out[dotted][1]})",
                )
            )
        else:
            out[dotted] = (value, line)


def load_answers(path: str | Path, vocabulary: Vocabulary) -> dict[str, Observation]:
    """Read an answers file: a YAML or JSON mapping of observation key to value.

    Nested mappings are flattened (``clu: {power_led: off}`` is ``clu.power_led``). Every
    problem in the file is reported at once, each with its ``file:line``. ``vocabulary`` is
    the rulebook's.
    """
    source = str(path)
    expected = "a YAML or JSON mapping of observation keys to values, e.g. 'clu.power_led: off'"
    try:
        data = load_yaml_file(path)
    except FileProblemError as error:
        raise FileProblemError(
            [Problem(p.location, p.message, p.expected or expected) for p in error.problems],
            error.hint,
        ) from None
    if not isinstance(data, YamlMap):
        raise FileProblemError.at(
            Location(source, getattr(data, "line", 0)),
            f"the answers must be a mapping, found {_describe(data)}",
            expected=expected,
        )
    flat: dict[str, tuple[Any, int]] = {}
    problems: list[Problem] = []
    _flatten(data, "", flat, problems, source)
    answers: dict[str, Observation] = {}
    for key, (raw, line) in flat.items():
        try:
            answers[key] = vocabulary.parse(
                key, raw, AnswerSource.ANSWERS_FILE, detail=f"{source}:{line}"
            )
        except ObservationError as error:
            problems.append(Problem(Location(source, line), error.message))
    if problems:
        problems.sort(key=lambda p: p.location.line)
        raise FileProblemError(problems, hint="fix the answers file, or answer 'unknown'")
    return answers
