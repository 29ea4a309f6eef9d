"""The gettext catalogue reader and writer: what Poedit and msgmerge write reads back."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clu_doctor import pofile
from clu_doctor.errors import FileProblemError
from clu_doctor.pofile import Entry

SAMPLE = r"""# a comment
msgid ""
msgstr ""
"Language: nb\n"
"Plural-Forms: nplurals=2; plural=(n != 1);\n"

#. a question to the technician
#: observations.yaml:15
msgctxt "observation clu.power_led question"
msgid "What does the red LED on the CLU main unit show?"
msgstr "Hva viser den røde LED-en?"

#, fuzzy
#| msgid "old text"
msgctxt "finding X title"
msgid ""
"new "
"text"
msgstr "gammel tekst"

msgid "{count} fault"
msgid_plural "{count} faults"
msgstr[0] "{count} feil"
msgstr[1] "{count} feil"

#~ msgid "gone"
#~ msgstr "borte"

msgid "a \"quoted\" word\tand a tab"
msgstr "et \"sitert\" ord"
"""


def test_a_catalogue_reads_its_header_entries_flags_and_plurals() -> None:
    catalogue = pofile.parse(SAMPLE, "nb.po")
    assert catalogue.header["Language"] == "nb"
    first, fuzzy, plural, quoted = catalogue.entries
    assert first.msgctxt == "observation clu.power_led question"
    assert first.msgstr == "Hva viser den røde LED-en?"
    assert first.comments == ["a question to the technician"]
    assert first.locations == ["observations.yaml:15"]
    assert first.translated
    assert fuzzy.msgid == "new text" and fuzzy.fuzzy and fuzzy.previous == "old text"
    assert not fuzzy.translated  # a fuzzy translation is never used
    assert plural.msgid_plural == "{count} faults"
    assert plural.plurals == ["{count} feil", "{count} feil"]
    assert quoted.msgid == 'a "quoted" word\tand a tab'
    assert "gone" not in {entry.msgid for entry in catalogue}  # obsolete entries are skipped


def test_a_malformed_line_names_its_file_and_line() -> None:
    with pytest.raises(FileProblemError) as caught:
        pofile.parse('msgid "a"\nmsgstr "b"\nbogus "c"\n', "nb.po")
    assert str(caught.value.problems[0]).startswith("nb.po:3")


def test_an_unreadable_catalogue_is_one_problem(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(FileProblemError) as caught:
        pofile.read(tmp_path / "missing.po")
    assert "cannot read the catalogue" in str(caught.value.problems[0])


texts = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\r")
    | st.sampled_from(["\n", "\t", '"', "\\", " "]),
    max_size=200,
)


@given(
    st.lists(
        st.tuples(st.none() | texts.filter(bool), texts.filter(bool), texts, st.booleans()),
        max_size=6,
        unique_by=lambda t: (t[0], t[1]),
    )
)
def test_what_is_written_reads_back_the_same(
    items: list[tuple[str | None, str, str, bool]],
) -> None:
    entries = [
        Entry(msgid, msgstr=msgstr, msgctxt=context, flags=["fuzzy"] if fuzzy else [])
        for context, msgid, msgstr, fuzzy in items
    ]
    text = pofile.format_catalogue({"Language": "fi"}, entries, "a title")
    catalogue = pofile.parse(text)
    assert catalogue.header == {"Language": "fi"}
    assert [(e.msgctxt, e.msgid, e.msgstr, e.fuzzy) for e in catalogue] == [
        (e.msgctxt, e.msgid, e.msgstr, e.fuzzy) for e in entries
    ]
