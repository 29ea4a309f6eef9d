"""The translation catalogues: complete in every language, in step with the sources, and
merged as msgmerge would when the English changes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from clu_doctor import i18n, pofile
from clu_doctor.catalogues import (
    coverage,
    merge,
    message_texts,
    rule_texts_of,
    template_gaps,
)
from clu_doctor.engine.texts import State
from clu_doctor.pofile import Catalogue, Entry
from tests.commands.helpers import invoke


def test_the_templates_are_those_of_the_sources() -> None:
    """scripts/update-translations was run after the last change to a text."""
    root, texts = rule_texts_of()
    assert template_gaps(root, texts) == []


@pytest.mark.parametrize("language", i18n.TRANSLATED)
def test_every_text_is_translated_in_every_language(language: str) -> None:
    root, texts = rule_texts_of()
    (found,) = [c for c in coverage(root, texts) if c.language == language]
    assert [str(gap) for gap in found.gaps] == []
    assert found.translated > len(texts)  # the rules and the command line's messages


def test_the_messages_marked_in_the_code_are_found() -> None:
    found = {message.msgid for message in message_texts()}
    assert {"What to do:", "Summary", "Verify:", "don't know"} <= found
    plurals = {message.msgid: message.plural for message in message_texts() if message.plural}
    assert plurals["{count} fault"] == "{count} faults"


def test_a_changed_english_text_keeps_its_translation_marked_fuzzy() -> None:
    old = Catalogue(
        [
            Entry("The CLU has no power", "CLU-en har ikke strøm", msgctxt="finding A title"),
            Entry("gone", "borte", msgctxt="finding B title"),
            Entry("Summary", "Sammendrag"),
        ]
    )
    template = [
        Entry("The CLU gets no power", msgctxt="finding A title"),
        Entry("new text", msgctxt="finding C title"),
        Entry("Summary"),
    ]
    merged = {entry.key: entry for entry in merge(template, old)}
    changed = merged[("finding A title", "The CLU gets no power")]
    assert changed.fuzzy and changed.msgstr == "CLU-en har ikke strøm"
    assert changed.previous == "The CLU has no power"
    assert merged[("finding C title", "new text")].msgstr == ""
    assert merged[(None, "Summary")].msgstr == "Sammendrag"
    assert ("finding B title", "gone") not in merged


def _rules_with_catalogues(tmp_path: Path) -> Path:
    root, _texts = rule_texts_of()
    rules = tmp_path / "rules"
    shutil.copytree(root, rules)
    return rules


def test_rules_check_reports_missing_and_stale_texts(tmp_path: Path) -> None:
    rules = _rules_with_catalogues(tmp_path)
    path = rules / "locale" / "sv.po"
    catalogue = pofile.read(path)
    for entry in catalogue.entries:
        if entry.msgctxt == "finding CLU-PWR-01 title":
            entry.msgid = "an English text that has changed since"
        if entry.msgctxt == "finding CLU-PWR-01 cause":
            entry.msgstr = ""
    path.write_text(pofile.format_catalogue(catalogue.header, catalogue.entries), "utf-8")
    result = invoke("rules", "check", str(rules))
    assert result.code == 1, result.stdout  # valid rules; some texts shown in English
    assert "  nb: every text translated" in result.stdout
    assert "  sv: 1 stale, 1 missing (shown in English)" in result.stdout or (
        "  sv: 1 missing, 1 stale (shown in English)" in result.stdout
    )
    assert "finding CLU-PWR-01 title: stale (the English text changed since)" in result.stdout
    assert "finding CLU-PWR-01 cause: missing" in result.stdout
    document = invoke("rules", "check", str(rules), "--json").json()
    stale = document["translations"]["sv"][State.STALE.value]
    assert [item["context"] for item in stale] == ["finding CLU-PWR-01 title"]


def test_rules_of_ones_own_without_catalogues_are_checked_as_english(tmp_path: Path) -> None:
    rules = _rules_with_catalogues(tmp_path)
    shutil.rmtree(rules / "locale")
    result = invoke("rules", "check", str(rules))
    assert result.code == 0
    assert "translated" not in result.stdout


def test_the_bundled_rules_check_counts_every_language() -> None:
    result = invoke("rules", "check")
    assert result.code == 0
    for language in i18n.TRANSLATED:
        assert f"  {language}: every text translated" in result.stdout
