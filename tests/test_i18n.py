"""Which language a run speaks, and the command line's messages in it."""

from __future__ import annotations

import pytest

from clu_doctor import i18n
from clu_doctor.errors import UsageError


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
