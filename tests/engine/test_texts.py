"""The rule texts in another language: what is used, what stays English, and why."""

from __future__ import annotations

import shutil
from pathlib import Path

from clu_doctor.engine import AnswerSource, Rulebook, load_rulebook
from clu_doctor.engine.rulebook import in_language
from clu_doctor.engine.texts import (
    DONT_KNOW_CONTEXT,
    State,
    check,
    rule_texts,
    untranslated_findings,
)
from clu_doctor.pofile import Catalogue, Entry


def _english() -> Rulebook:
    return load_rulebook(language="en")


def _source(context: str) -> str:
    return next(t.source for t in rule_texts(_english()) if t.context == context)


def _catalogue(*entries: Entry) -> Catalogue:
    return Catalogue(list(entries))


def test_every_text_a_person_reads_has_a_context_of_its_own() -> None:
    texts = rule_texts(_english())
    contexts = [t.context for t in texts]
    assert len(contexts) == len(set(contexts))
    kinds = {context.split(" ")[0] for context in contexts}
    assert kinds >= {"observation", "finding", "layer", "tree", "node", "fact", "group", "probe"}
    finding = {c for c in contexts if c.startswith("finding CLU-PWR-01 ")}
    assert {"finding CLU-PWR-01 title", "finding CLU-PWR-01 cause"} <= finding
    assert "finding CLU-PWR-01 remedy 0" in finding
    assert "finding CLU-PWR-01 manual" in finding


def test_a_translation_is_used_and_the_logic_stays_the_same() -> None:
    title = "finding CLU-PWR-01 title"
    catalogue = _catalogue(
        Entry(_source(title), "CLU-en har ikke strøm", msgctxt=title),
        Entry(
            _source("observation clu.power_led words off"),
            "av, mørk",
            msgctxt=("observation clu.power_led words off"),
        ),
        Entry(_source(DONT_KNOW_CONTEXT), "vet ikke, usikker", msgctxt=DONT_KNOW_CONTEXT),
    )
    english = _english()
    norsk = in_language(english, "nb", catalogue)
    assert norsk.findings["CLU-PWR-01"].title == "CLU-en har ikke strøm"
    assert norsk.findings["CLU-PWR-01"].severity is english.findings["CLU-PWR-01"].severity
    assert norsk.findings["CLU-PWR-01"].cause == english.findings["CLU-PWR-01"].cause
    spec = norsk.vocabulary.spec("clu.power_led")
    assert spec.values[0].shown == "av"
    parse = norsk.vocabulary.parse
    assert parse("clu.power_led", "Av", AnswerSource.FLAG).value == "off"
    assert parse("clu.power_led", "off", AnswerSource.FLAG).value == "off"  # English still works
    assert parse("clu.power_led", "vet ikke", AnswerSource.FLAG).value == "unknown"
    assert parse("clu.uptime_s", "usikker", AnswerSource.FLAG).value == "unknown"
    # what the catalogue lacks stays English, and the rulebook says so
    assert untranslated_findings(norsk)["CLU-PWR-01"] == "missing"  # its cause is not there


def test_a_translation_made_for_other_english_is_stale_and_not_used() -> None:
    title = "finding CLU-PWR-01 title"
    catalogue = _catalogue(Entry("The CLU is dead", "CLU-en er død", msgctxt=title))
    (result,) = [c for c in check(rule_texts(_english()), catalogue) if c.text.context == title]
    assert result.state is State.STALE
    norsk = in_language(_english(), "nb", catalogue)
    assert norsk.findings["CLU-PWR-01"].title == _english().findings["CLU-PWR-01"].title
    assert norsk.untranslated[title] == "stale"


def test_a_fuzzy_translation_is_stale() -> None:
    title = "finding CLU-PWR-01 title"
    catalogue = _catalogue(Entry(_source(title), "kanskje", msgctxt=title, flags=["fuzzy"]))
    (result,) = [c for c in check(rule_texts(_english()), catalogue) if c.text.context == title]
    assert result.state is State.STALE


def test_a_translation_that_loses_a_fact_is_broken_and_not_used() -> None:
    with_fact = next(t for t in rule_texts(_english()) if "{" in t.source)
    catalogue = _catalogue(Entry(with_fact.source, "uten fakta", msgctxt=with_fact.context))
    (result,) = check([with_fact], catalogue)
    assert result.state is State.BROKEN
    assert "{" in result.reason
    norsk = in_language(_english(), "nb", catalogue)
    assert norsk.untranslated[with_fact.context] == "broken"


def test_a_typed_word_that_would_mean_two_answers_is_left_out() -> None:
    words = "observation clu.power_led words"
    catalogue = _catalogue(
        Entry(_source(f"{words} off"), "lys", msgctxt=f"{words} off"),
        Entry(_source(f"{words} steady"), "lys, fast", msgctxt=f"{words} steady"),
        Entry(_source(f"{words} flashing"), "on", msgctxt=f"{words} flashing"),  # English: steady
    )
    spec = in_language(_english(), "nb", catalogue).vocabulary.spec("clu.power_led")
    assert spec.aliases["lys"] == "off"  # the first answer that claims it keeps it
    assert spec.aliases["fast"] == "steady"
    assert spec.aliases["on"] == "steady"  # an English word keeps its English meaning


def test_the_bundled_catalogues_translate_every_text() -> None:
    for language in ("nb", "sv", "fi"):
        rulebook = load_rulebook(language=language)
        assert rulebook.language == language
        assert dict(rulebook.untranslated) == {}, language


def test_a_catalogue_that_cannot_be_read_leaves_the_rules_english(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(_english().source, rules)
    (rules / "locale" / "nb.po").write_text('msgid "a"\nnonsense\n', "utf-8")
    rulebook = load_rulebook(rules, language="nb")
    assert rulebook.findings["CLU-PWR-01"].title == _english().findings["CLU-PWR-01"].title
    assert untranslated_findings(rulebook)["CLU-PWR-01"] == "missing"


def test_rules_of_ones_own_without_catalogues_use_the_bundled_ones(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(_english().source, rules)
    shutil.rmtree(rules / "locale")
    mine = load_rulebook(rules, language="sv")
    assert (
        mine.findings["CLU-PWR-01"].title
        == load_rulebook(language="sv").findings["CLU-PWR-01"].title
    )
