"""Which language a run speaks, and the command line's messages in it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from clu_doctor import i18n, pofile, resources
from clu_doctor.errors import FileProblemError, UsageError


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "en"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LANG": "POSIX"}, "en"),
        ({"LANG": "nb_NO.UTF-8"}, "nb"),
        ({"LANG": "nn_NO.UTF-8"}, "nb"),  # nynorsk reads bokmål well
        ({"LANG": "no_NO"}, "nb"),
        ({"LANG": "sv_FI.UTF-8"}, "sv"),  # Swedish as spoken in Finland
        ({"LANG": "fi_FI.UTF-8@euro"}, "fi"),
        ({"LANG": "de_DE.UTF-8"}, "en"),  # a language we do not speak: English, no error
        ({"LANG": "en_GB.UTF-8", "LC_MESSAGES": "sv_SE.UTF-8"}, "sv"),
        ({"LC_MESSAGES": "sv_SE.UTF-8", "LC_ALL": "fi_FI.UTF-8"}, "fi"),
        ({"LANG": "en_US.UTF-8", "LANGUAGE": "de:nb:sv"}, "nb"),
        ({"LANG": "C", "LANGUAGE": "nb"}, "en"),  # gettext ignores LANGUAGE under C
        ({"LANG": "fi_FI.UTF-8", "CLU_DOCTOR_LANG": "sv"}, "sv"),
    ],
)
def test_the_language_follows_the_environment(environ: dict[str, str], expected: str) -> None:
    assert i18n.choose(None, environ) == expected


def test_the_flag_wins_over_the_environment() -> None:
    assert i18n.choose("fi", {"CLU_DOCTOR_LANG": "sv", "LANG": "nb_NO.UTF-8"}) == "fi"
    assert i18n.choose("NB", {}) == "nb"
    assert i18n.choose("sv-SE", {}) == "sv"


@pytest.mark.parametrize(("flag", "environ"), [("xx", {}), (None, {"CLU_DOCTOR_LANG": "de"})])
def test_a_language_the_tool_does_not_speak_is_the_users_mistake(
    flag: str | None, environ: dict[str, str]
) -> None:
    with pytest.raises(UsageError) as caught:
        i18n.choose(flag, environ)
    assert "en (English), nb (norsk bokmål), sv (svenska), fi (suomi)" in str(caught.value.hint)


def test_messages_follow_the_active_language() -> None:
    assert i18n._("What to do:") == "What to do:"
    i18n.activate("nb")
    assert i18n.language() == "nb"
    assert i18n._("What to do:") not in ("", "What to do:")
    assert i18n._("a message nobody marked") == "a message nobody marked"
    i18n.activate("en")
    assert i18n._("What to do:") == "What to do:"


def test_counted_messages_take_the_form_for_the_number() -> None:
    assert i18n.counted("{count} fault", "{count} faults", 1) == "1 fault"
    assert i18n.counted("{count} fault", "{count} faults", 3) == "3 faults"
    i18n.activate("sv")
    one, many = (
        i18n.counted("{count} fault", "{count} faults", 1),
        i18n.counted("{count} fault", "{count} faults", 2),
    )
    assert one.startswith("1 ") and many.startswith("2 ")
    assert "fault" not in one + many


# --- the catalogues, parsed once: shipped with the package, else kept per user ----------------


@pytest.fixture
def catalogues(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private copy of the message catalogues standing in for the bundled ones, nothing
    shipped, a private cache; English again afterwards."""
    copy = tmp_path / "locale"
    shutil.copytree(i18n.MESSAGES_DIR, copy)
    monkeypatch.setattr(i18n, "MESSAGES_DIR", copy)
    monkeypatch.setattr(resources, "shipped_messages", lambda code: tmp_path / f"none-{code}")
    monkeypatch.setenv("CLU_DOCTOR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("CLU_DOCTOR_NO_CACHE", raising=False)
    yield copy
    i18n.activate("en")


def forbid_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object) -> None:
        raise AssertionError("a catalogue was parsed although a kept one stands for it")

    monkeypatch.setattr(pofile, "parse", refuse)


def edit(catalogue: Path, english: str, translation: str) -> None:
    text = catalogue.read_text(encoding="utf-8")
    entry = f'msgid "{english}"\nmsgstr "'
    start = text.index(entry) + len(entry)
    end = text.index('"\n', start)
    catalogue.write_text(text[:start] + translation + text[end:], encoding="utf-8")


def test_the_messages_shipped_with_the_package_are_the_catalogues_own(
    catalogues: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed = {}
    for code in i18n.TRANSLATED:
        i18n.activate(code)
        parsed[code] = (dict(i18n._messages), dict(i18n._plurals))
    shipped = tmp_path / "shipped"
    written = i18n.build_shipped_messages(shipped)
    assert sorted(path.name for path in written) == [
        f"messages-{code}.pickle" for code in sorted(i18n.TRANSLATED)
    ]
    assert all(path.stat().st_mode & 0o777 == 0o644 for path in written)
    monkeypatch.setattr(
        resources, "shipped_messages", lambda code: shipped / f"messages-{code}.pickle"
    )
    forbid_parsing(monkeypatch)
    for code in i18n.TRANSLATED:
        i18n.activate(code)
        assert (dict(i18n._messages), dict(i18n._plurals)) == parsed[code], code
        assert i18n._("What to do:") not in ("", "What to do:")


def test_an_edited_catalogue_is_parsed_again_and_kept(
    catalogues: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = tmp_path / "shipped"
    i18n.build_shipped_messages(shipped)
    monkeypatch.setattr(
        resources, "shipped_messages", lambda code: shipped / f"messages-{code}.pickle"
    )
    edit(catalogues / "nb.po", "What to do:", "Slik gjør du det:")
    i18n.activate("nb")
    assert i18n._("What to do:") == "Slik gjør du det:"
    assert [path.name for path in (tmp_path / "cache").iterdir()] == ["messages-nb.pickle"]
    with monkeypatch.context() as patched:
        forbid_parsing(patched)
        i18n.activate("nb")
        assert i18n._("What to do:") == "Slik gjør du det:"
    edit(catalogues / "nb.po", "What to do:", "Gjør dette:")
    i18n.activate("nb")
    assert i18n._("What to do:") == "Gjør dette:"


def test_a_catalogue_that_cannot_be_read_leaves_the_messages_english(catalogues: Path) -> None:
    (catalogues / "sv.po").write_text('msgid "What to do:"\nnonsense\n', encoding="utf-8")
    i18n.activate("sv")
    assert i18n.language() == "sv"
    assert i18n._("What to do:") == "What to do:"
    (catalogues / "fi.po").write_bytes(b'msgid "x"\nmsgstr "\xff"\n')
    i18n.activate("fi")
    assert i18n._("x") == "x"
    (catalogues / "nb.po").unlink()
    i18n.activate("nb")
    assert i18n._("What to do:") == "What to do:"


def test_a_broken_catalogue_is_never_shipped(catalogues: Path, tmp_path: Path) -> None:
    (catalogues / "sv.po").write_text('msgid "What to do:"\nnonsense\n', encoding="utf-8")
    with pytest.raises(FileProblemError, match=r"sv\.po:2"):
        i18n.build_shipped_messages(tmp_path / "shipped")
