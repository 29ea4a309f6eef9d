"""Every manual case of the rules, through the command line, in every language: the same ids,
severities and exit codes as in English, the texts in that language, the answers given in its
words."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from clu_doctor import i18n
from clu_doctor.engine import AnswerSource, Case, ValueKind, load_rulebook
from tests.commands.helpers import invoke

ENGLISH = load_rulebook(language="en")
CASES = [
    pytest.param(case, id=f"{tree.id}: {case.name}")
    for tree in ENGLISH.trees
    for case in tree.cases
]


def _findings(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    def walk(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for item in items:
            yield item
            yield from walk(item.get("consequences", []))

    return walk(document["findings"])


def _verdicts(document: dict[str, Any]) -> list[tuple[str, str]]:
    return sorted((item["id"], item["severity"]) for item in _findings(document))


def _flags(case: Case, language: str) -> list[str]:
    """The case's answers as -o flags, each choice in the language's own word."""
    rulebook = load_rulebook(language=language)
    flags = []
    for key, raw in case.observe.items():
        spec = rulebook.vocabulary.spec(str(key))
        value = rulebook.vocabulary.parse(str(key), raw, AnswerSource.FLAG).value
        word = str(value)
        if spec.kind is ValueKind.CHOICE and value in spec.value_names:
            word = spec.values[spec.value_names.index(str(value))].shown
        flags += ["-o", f"{key}={word}"]
    return flags


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("language", i18n.TRANSLATED)
def test_each_manual_case_reads_the_same_in_every_language(case: Case, language: str) -> None:
    english = invoke("diagnose", "--no-input", "--json", *_flags(case, "en"))
    translated = invoke(
        "diagnose", "--lang", language, "--no-input", "--json", *_flags(case, language)
    )
    assert translated.stderr == ""
    assert translated.code == english.code
    ours, theirs = translated.json(), english.json()
    assert ours["language"] == language and theirs["language"] == "en"
    assert ours["status"] == theirs["status"]
    assert _verdicts(ours) == _verdicts(theirs)
    assert ours["untranslated"] == {}
    rulebook = load_rulebook(language=language)
    for item, original in zip(_findings(ours), _findings(theirs), strict=True):
        finding = rulebook.general(rulebook.findings[item["id"]])
        if "{" not in rulebook.findings[item["id"]].title:
            assert item["title"] in (finding.title, finding.partial_title)
        assert item["remedy"][0] != original["remedy"][0] or language == "en"
        assert item["manual"].count("§") == original["manual"].count("§")


@pytest.mark.parametrize("language", i18n.TRANSLATED)
def test_the_text_report_reads_in_the_language(language: str) -> None:
    result = invoke(
        "--lang",
        language,
        "diagnose",
        "--no-input",
        "-o",
        "clu.power_led=off",
        "-o",
        "clu.status_led=off",
    )
    assert result.code == 2
    rulebook = load_rulebook(language=language)
    assert rulebook.findings["CLU-PWR-01"].title in result.stdout
    for english in ("Summary", "What to do:", "Result:", "nothing wrong found"):
        assert english not in result.stdout, english
    assert "CLU-PWR-01" in result.stdout and "CRITICAL" in result.stdout


def test_the_language_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLU_DOCTOR_LANG", raising=False)
    monkeypatch.setenv("LANG", "fi_FI.UTF-8")
    finnish = invoke("diagnose", "--no-input", "--json", "-o", "clu.power_led=pois")
    assert finnish.json()["language"] == "fi"
    monkeypatch.setenv("CLU_DOCTOR_LANG", "sv")
    assert invoke("diagnose", "--no-input", "--json").json()["language"] == "sv"
    assert invoke("diagnose", "--no-input", "--json", "--lang=en").json()["language"] == "en"


def test_a_language_it_does_not_speak_is_one_line_and_exit_3() -> None:
    result = invoke("diagnose", "--lang", "de", "--no-input")
    assert result.code == 3
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "--lang: 'de' is not a language clu-doctor speaks" in result.stderr
    missing = invoke("diagnose", "--lang")
    assert missing.code == 3 and "--lang needs a value" in missing.stderr


def test_an_english_word_still_answers_in_another_language() -> None:
    result = invoke("--lang", "nb", "diagnose", "--no-input", "--json", "-o", "clu.power_led=off")
    assert result.json()["observations"][0]["value"] == "off"


def test_a_finding_shown_in_english_says_so_in_the_trace(tmp_path: Any) -> None:
    import shutil

    from clu_doctor import pofile

    rules = tmp_path / "rules"
    shutil.copytree(ENGLISH.source, rules)
    path = rules / "locale" / "nb.po"
    catalogue = pofile.read(path)
    for entry in catalogue.entries:
        if entry.msgctxt == "finding CLU-PWR-01 title":
            entry.flags.append("fuzzy")
    path.write_text(pofile.format_catalogue(catalogue.header, catalogue.entries), "utf-8")
    args = ("--lang", "nb", "diagnose", "--rules", str(rules), "--no-input")
    answers = ("-o", "clu.power_led=av", "-o", "clu.status_led=av")
    text = invoke(*args, *answers, "--why")
    assert text.code == 2
    assert ENGLISH.findings["CLU-PWR-01"].title in text.stdout  # English, not a crash
    assert "⇒ CLU-PWR-01 (" in text.stdout
    document = invoke(*args, *answers, "--json").json()
    assert document["untranslated"] == {"CLU-PWR-01": "stale"}


def test_the_check_table_keeps_its_columns_with_longer_headings(tmp_path: Any) -> None:
    from tests.commands.helpers import site_file

    site = site_file(tmp_path, "garage", 12)
    result = invoke("--lang", "nb", "check", "--sim", "cable-break", "--site", str(site))
    assert result.code == 2
    lines = result.stdout.splitlines()
    heading = next(line for line in lines if line.lstrip().startswith("adr "))
    silent = next(line for line in lines if line.lstrip().startswith("7 "))
    # the answering column: its heading and a silent station's NEI start at the same place
    assert silent.index("NEI") == heading.index("svarer")
    # the timeouts column, right-aligned under its (longer) Norwegian heading
    tokens = list(re.finditer(r"\S+", silent))
    assert tokens[7].end() == heading.index("tidsavbrudd") + len("tidsavbrudd")
    assert "Funn" in result.stdout


def test_the_history_reads_in_the_language_with_its_columns_in_line(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLU_DOCTOR_STATE_DIR", str(tmp_path / "state"))
    assert invoke("check", "--sim", "cable-break").code == 2
    result = invoke("--lang", "sv", "history", "--sim", "cable-break")
    assert result.code == 0
    lines = result.stdout.splitlines()
    assert "1 kontroll," in lines[0] and "äldst först" in lines[0]
    heading = next(line for line in lines if line.startswith("startad (UTC)"))
    row = next(line for line in lines if "BUS-BREAK-01" in line)
    # right-aligned under a heading longer than the English one (varaktighet, 11 > 9)
    duration = re.search(r"\d+\.\d s", row)
    assert duration is not None
    assert duration.end() == heading.index("varaktighet") + len("varaktighet")
    assert row.index("BUS-BREAK-01") == heading.index("fynd")


def test_an_answers_file_in_finnish_from_the_finnish_template(tmp_path: Any) -> None:
    template = invoke("--lang", "fi", "rules", "observations", "--template")
    assert template.code == 0
    assert "# off (pimeä) | steady (palaa) | flashing (vilkkuu) | unknown" in template.stdout
    answers = tmp_path / "vastaukset.yaml"
    answers.write_text(
        template.stdout.replace("clu.power_led: unknown", "clu.power_led: pimeä").replace(
            "clu.status_led: unknown", "clu.status_led: pimeä"
        ),
        "utf-8",
    )
    result = invoke("--lang", "fi", "diagnose", "--answers", str(answers), "--no-input", "--json")
    assert result.code == 2
    assert result.json()["findings"][0]["id"] == "CLU-PWR-01"
