"""The rule texts a person reads, one by one, and the rulebook in another language.

Every text of the rules that a technician or an operator reads — questions, their help, the
answers' meanings and the words a person may type, finding titles, causes, steps, verify and
escalate lines, layer and tree titles, the notes of the why-trace — has a *context*: a short
name that says which text it is (``finding CLU-PWR-01 remedy 2``, ``observation
clu.power_led words off``). The gettext catalogue ``rules/locale/<lang>.po`` holds one entry
per context: the English text it translates (``msgid``) and the translation (``msgstr``).

So a translation is *missing* when its context has no translated entry, and *stale* when the
entry was made for another English text (the rules changed since) or is marked ``fuzzy``. A
missing or stale text stays English in the run, and the why-trace says so; a translation that
drops or invents a ``{fact}`` is not used either (``rules check`` reports it).

The words a person types for a choice (``av``, ``på``, ``blinker``) are one entry per value:
a comma-separated list, the first of which is the word shown in the questionnaire. They are
accepted beside the English words, never instead of them; a word that would mean two
different answers of the same question is left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from clu_doctor import resources
from clu_doctor.engine.model import Finding, Layer, LayerSpec, Node, Tree
from clu_doctor.engine.observations import (
    DONT_KNOW_WORDS,
    UNKNOWN,
    FactSpec,
    GroupSpec,
    ObservationSpec,
    ProbeSpec,
    ValueKind,
    ValueSpec,
    Vocabulary,
    normalise_word,
    placeholders,
)

if TYPE_CHECKING:
    from clu_doctor.engine.rulebook import Rulebook
    from clu_doctor.pofile import Catalogue

LOCALE_DIR = resources.RULES_LOCALE_DIR
#: The template the catalogues are made from (``scripts/update-translations`` writes it).
TEMPLATE = "rules.pot"
#: The context of the words that mean "don't know", for every question.
DONT_KNOW_CONTEXT = "answer dont-know words"
DONT_KNOW_SOURCE = "don't know, dont know, unknown, ?"


class RuleText(NamedTuple):
    """One text of the rules: which it is, its English words, where it is written, and a
    word for the translator on what it is."""

    context: str
    source: str
    location: str
    comment: str


def _at(path: str, line: int) -> str:
    return f"{path}:{line}" if path and line else path


def rule_texts(rulebook: Rulebook) -> list[RuleText]:
    """Every text of ``rulebook`` that a person reads, in the order of the files."""
    texts: list[RuleText] = []

    def add(context: str, source: str | None, location: str, comment: str) -> None:
        if source:
            texts.append(RuleText(context, " ".join(source.split()), location, comment))

    vocabulary = rulebook.vocabulary
    add(DONT_KNOW_CONTEXT, DONT_KNOW_SOURCE, "", _WORDS_COMMENT + " They mean: don't know.")
    for spec in vocabulary:
        where = _at(spec.location.path, spec.location.line)
        name = f"observation {spec.key}"
        add(f"{name} question", spec.question, where, "a question to the technician")
        add(f"{name} help", spec.help, where, "help shown with the question")
        for value in spec.values:
            add(f"{name} value {value.name}", value.help, where, f"what '{value.name}' means")
            add(f"{name} words {value.name}", _words(spec, value.name), where, _WORDS_COMMENT)
    for group in vocabulary.groups.values():
        add(f"group {group.name} title", group.title, "", "a group of questions, by name")
        add(f"group {group.name} question", group.question, "", "asked before the group")
        add(f"group {group.name} help", group.help, "", "help shown with the group")
    for fact in vocabulary.facts.values():
        where = _at(fact.location.path, fact.location.line)
        add(f"fact {fact.name} default", fact.default, where, _FACT_COMMENT)
    for probe in vocabulary.probes.values():
        add(f"probe {probe.name} help", probe.help, "", "what a bus or site probe does")
    for spec_layer in rulebook.layers.values():
        where = _at(spec_layer.where.path, spec_layer.where.line)
        add(f"layer {spec_layer.layer.value} title", spec_layer.title, where, "a layer, by name")
    for tree in rulebook.trees:
        where = _at(tree.where.path, tree.where.line)
        add(f"tree {tree.id} title", tree.title, where, "")
        add(f"tree {tree.id} manual", tree.manual, where, _MANUAL_COMMENT)
        for node in tree.nodes.values():
            where = _at(node.where.path, node.where.line)
            add(f"node {tree.id} {node.name} note", node.note, where, _NOTE_COMMENT)
        for finding in tree.findings.values():
            where = _at(finding.where.path, finding.where.line)
            for key, text in finding.texts().items():
                part = key.replace(".", " ")
                comment = _FINDING_COMMENT[key.split(".")[0]]
                add(f"finding {finding.id} {part}", text, where, comment)
            add(f"finding {finding.id} manual", finding.manual, where, _MANUAL_COMMENT)
    return texts


_WORDS_COMMENT = (
    "Words a technician may type for this answer, separated by commas; the first is the one "
    "shown. Keep them short and lower-case."
)
_FACT_COMMENT = "Stands in a text for a fact that is not known; must read well mid-sentence."
_MANUAL_COMMENT = (
    "Where the manual (or the ABL document) covers this: keep every section number (§17) and "
    "name (ABL EVCC2/3, defa-erange) exactly; translate the section names and notes."
)
_NOTE_COMMENT = "Shown in the why-trace: why this question is asked here."
_FINDING_COMMENT = {
    "title": "A finding's title: what is wrong (or fine), as a heading.",
    "cause": "A finding's cause: why it happens.",
    "remedy": "One numbered step of the remedy, for the technician to do.",
    "verify": "What to expect once the remedy worked.",
    "escalate": "When to call DEFA support.",
    "partial_title": "The title when it holds only for what was observed.",
}


def _words(spec: ObservationSpec, value: str) -> str:
    """The English words for ``value``: its name, then every alias that means it."""
    aliases = [alias for alias, target in spec.aliases.items() if target == value]
    return ", ".join([value, *aliases])


def split_words(text: str) -> list[str]:
    """The typed words of a words entry, folded as answers are (see ``normalise_word``)."""
    return [normalise_word(word) for word in text.split(",") if word.strip()]


# --- checking a catalogue ----------------------------------------------------------------------


class State(str, Enum):
    TRANSLATED = "translated"
    MISSING = "missing"
    STALE = "stale"
    BROKEN = "broken"


class Check(NamedTuple):
    """How one text stands in one language, and what the translator should know."""

    text: RuleText
    state: State
    translation: str = ""
    reason: str = ""


def check(texts: Iterable[RuleText], catalogue: Catalogue | None) -> list[Check]:
    """Each text's state in ``catalogue`` (``None``: no catalogue, everything missing)."""
    entries = catalogue.by_context() if catalogue is not None else {}
    out = []
    for text in texts:
        entry = entries.get(text.context)
        if entry is None or not entry.msgstr:
            out.append(Check(text, State.MISSING))
        elif " ".join(entry.msgid.split()) != text.source:
            out.append(Check(text, State.STALE, entry.msgstr, "the English text changed since"))
        elif entry.fuzzy:
            out.append(Check(text, State.STALE, entry.msgstr, "marked fuzzy"))
        else:
            reason = _broken(text, entry.msgstr)
            state = State.BROKEN if reason else State.TRANSLATED
            out.append(Check(text, state, entry.msgstr, reason))
    return out


def _broken(text: RuleText, translation: str) -> str:
    """Why ``translation`` cannot stand for ``text`` (empty when it can)."""
    if sorted(placeholders(translation)) != sorted(placeholders(text.source)):
        want = ", ".join("{" + name + "}" for name in placeholders(text.source)) or "none"
        return f"its facts differ from the English text's ({want})"
    if " words " in text.context and not split_words(translation):
        return "no words"
    return ""


def catalogue_path(rules_root: Path, language: str) -> Path:
    return resources.rules_catalogue(rules_root, language)


# --- the rulebook in another language ----------------------------------------------------------


class Translated(NamedTuple):
    """What :func:`translate` needs of a catalogue: the usable translations by context, and
    the contexts left in English with why (``missing``, ``stale``, ``broken``)."""

    texts: Mapping[str, str]
    untranslated: Mapping[str, str]


def usable(texts: Iterable[RuleText], catalogue: Catalogue | None) -> Translated:
    good: dict[str, str] = {}
    left: dict[str, str] = {}
    for item in check(texts, catalogue):
        if item.state is State.TRANSLATED:
            good[item.text.context] = " ".join(item.translation.split())
        else:
            left[item.text.context] = item.state.value
    return Translated(good, left)


class Translation(NamedTuple):
    """A rulebook's parts with their texts in a language, and the texts left in English (by
    context: ``missing``, ``stale`` or ``broken``)."""

    vocabulary: Vocabulary
    trees: list[Tree]
    layers: dict[Layer, LayerSpec]
    untranslated: dict[str, str]


def translate(rulebook: Rulebook, catalogue: Catalogue | None) -> Translation:
    """``rulebook``'s parts with their texts from ``catalogue`` where it has them; ids,
    severities, values and the trees' logic are the same (:mod:`.rulebook` makes the
    rulebook of them)."""
    found = usable(rule_texts(rulebook), catalogue)
    tr = _Translator(found.texts)
    vocabulary = rulebook.vocabulary
    dont_know = [w for w in split_words(tr.get(DONT_KNOW_CONTEXT, "")) if w not in DONT_KNOW_WORDS]
    specs = {key: tr.spec(spec, dont_know) for key, spec in vocabulary.specs.items()}
    groups = {name: tr.group(group) for name, group in vocabulary.groups.items()}
    facts = {name: tr.fact(fact) for name, fact in vocabulary.facts.items()}
    probes = {name: tr.probe(probe) for name, probe in vocabulary.probes.items()}
    return Translation(
        Vocabulary(specs, probes, groups, facts),
        [tr.tree(tree) for tree in rulebook.trees],
        {layer: tr.layer(spec) for layer, spec in rulebook.layers.items()},
        dict(found.untranslated),
    )


class _Translator:
    def __init__(self, texts: Mapping[str, str]) -> None:
        self.texts = texts

    def get(self, context: str, english: str) -> str:
        return self.texts.get(context, english)

    def maybe(self, context: str, english: str | None) -> str | None:
        return None if english is None else self.get(context, english)

    def spec(self, spec: ObservationSpec, dont_know: list[str]) -> ObservationSpec:
        name = f"observation {spec.key}"
        aliases = dict(spec.aliases)
        taken = set(spec.value_names) | set(aliases) | DONT_KNOW_WORDS
        values = []
        for value in spec.values:
            words = split_words(self.texts.get(f"{name} words {value.name}", ""))
            for word in words:
                if word not in taken:
                    aliases[word] = value.name
                    taken.add(word)
            label = words[0] if words else ""
            values.append(
                ValueSpec(value.name, self.get(f"{name} value {value.name}", value.help), label)
            )
        for word in dont_know:
            if word not in taken:
                aliases[word] = UNKNOWN
        return spec._replace(
            question=self.get(f"{name} question", spec.question),
            help=self.get(f"{name} help", spec.help),
            values=tuple(values) if spec.kind is ValueKind.CHOICE else spec.values,
            aliases=aliases,
        )

    def group(self, group: GroupSpec) -> GroupSpec:
        name = f"group {group.name}"
        return group._replace(
            title=self.get(f"{name} title", group.title),
            question=self.get(f"{name} question", group.question),
            help=self.get(f"{name} help", group.help),
        )

    def fact(self, fact: FactSpec) -> FactSpec:
        return fact._replace(default=self.get(f"fact {fact.name} default", fact.default))

    def probe(self, probe: ProbeSpec) -> ProbeSpec:
        return probe._replace(help=self.get(f"probe {probe.name} help", probe.help))

    def layer(self, spec: LayerSpec) -> LayerSpec:
        return spec._replace(title=self.get(f"layer {spec.layer.value} title", spec.title))

    def tree(self, tree: Tree) -> Tree:
        nodes = {name: self.node(tree, node) for name, node in tree.nodes.items()}
        findings = {fid: self.finding(finding) for fid, finding in tree.findings.items()}
        return tree._replace(
            title=self.get(f"tree {tree.id} title", tree.title),
            manual=self.get(f"tree {tree.id} manual", tree.manual),
            nodes=nodes,
            findings=findings,
        )

    def node(self, tree: Tree, node: Node) -> Node:
        return node._replace(note=self.maybe(f"node {tree.id} {node.name} note", node.note))

    def finding(self, finding: Finding) -> Finding:
        name = f"finding {finding.id}"
        return finding._replace(
            title=self.get(f"{name} title", finding.title),
            cause=self.get(f"{name} cause", finding.cause),
            remedy=tuple(
                self.get(f"{name} remedy {i}", step) for i, step in enumerate(finding.remedy)
            ),
            verify=self.maybe(f"{name} verify", finding.verify),
            escalate=self.maybe(f"{name} escalate", finding.escalate),
            partial_title=self.maybe(f"{name} partial_title", finding.partial_title),
            manual=self.get(f"{name} manual", finding.manual),
        )


def untranslated_findings(rulebook: Rulebook) -> dict[str, str]:
    """The findings with a text shown in English in the rulebook's language, each with why
    (see :meth:`Rulebook.untranslated_findings`, which a run calls without importing this
    module)."""
    return rulebook.untranslated_findings()
