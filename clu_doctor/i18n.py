"""The language a person reads: which one, and the command line's own messages in it.

clu-doctor speaks English, Norwegian (bokmål), Swedish and Finnish, the four languages of the
CLU MK1 manual. The language is, in this order: ``--lang``, else ``CLU_DOCTOR_LANG``, else the
locale (``LC_ALL``, ``LC_MESSAGES``, ``LANG``, then ``LANGUAGE`` as gettext reads them), else
English. A locale in none of the four languages means English, never an error; a ``--lang`` or
``CLU_DOCTOR_LANG`` the tool does not know is the user's mistake and says so.

The command line's messages are marked in the code with :func:`_` (:func:`ngettext` when they
count something, :func:`N_` for module constants translated where they are shown) and
translated by the gettext catalogue ``clu_doctor/locale/<lang>.po``. The rule texts (questions,
findings, steps) have a catalogue of their own beside the rules; see
:mod:`clu_doctor.engine.texts`. A message without a translation stays English.

Only a run in another language reads a catalogue: an English run pays nothing. The catalogues
are parsed when the package is built and shipped beside it, keyed on their contents (see
:func:`_catalogue`), so a run in another language reads them as fast as the rulebook.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Mapping
from pathlib import Path

from clu_doctor.errors import UsageError

ENGLISH = "en"
#: Every language, by its code, with its name in itself.
LANGUAGES: Mapping[str, str] = {
    "en": "English",
    "nb": "norsk bokmål",
    "sv": "svenska",
    "fi": "suomi",
}
#: Every language but English: the ones with catalogues.
TRANSLATED = tuple(code for code in LANGUAGES if code != ENGLISH)
#: Locale languages that read best in one of ours (Norwegian without a written standard, and
#: nynorsk, read bokmål well; ``no`` is the old code for Norwegian).
_SAME_AS = {"no": "nb", "nn": "nb"}
#: The environment variable that chooses the language when ``--lang`` does not.
ENV = "CLU_DOCTOR_LANG"
MESSAGES_DIR = Path(__file__).resolve().parent / "locale"


def _code(text: str) -> str | None:
    """``nb`` from ``nb``, ``nb_NO``, ``nb-NO``, ``nb_NO.UTF-8@euro`` or ``NB``; ``None``
    when the language is not one of ours."""
    base = text.strip().split(".")[0].split("@")[0].replace("-", "_").split("_")[0].lower()
    base = _SAME_AS.get(base, base)
    return base if base in LANGUAGES else None


def parse_language(text: str, *, what: str = "--lang") -> str:
    """The language code ``text`` names; a name the tool does not know raises
    :class:`UsageError` naming ``what`` and the languages it knows."""
    code = _code(text)
    if code is None:
        known = ", ".join(f"{c} ({name})" for c, name in LANGUAGES.items())
        raise UsageError(
            f"{what}: {text.strip()!r} is not a language clu-doctor speaks",
            f"use one of: {known}",
        )
    return code


def from_locale(environ: Mapping[str, str]) -> str:
    """The language of the locale, as gettext would pick it; English when it is none of ours."""
    locale = next((environ[v] for v in ("LC_ALL", "LC_MESSAGES", "LANG") if environ.get(v)), "")
    if not locale or locale.split(".")[0] in ("C", "POSIX"):
        return ENGLISH  # gettext ignores LANGUAGE under the C locale, and so do we
    for part in environ.get("LANGUAGE", "").split(":"):
        code = _code(part) if part else None
        if code is not None:
            return code
    return _code(locale) or ENGLISH


def choose(flag: str | None, environ: Mapping[str, str] | None = None) -> str:
    """The language of this run: ``flag`` (``--lang``), else ``CLU_DOCTOR_LANG``, else the
    locale, else English."""
    env = os.environ if environ is None else environ
    if flag:
        return parse_language(flag)
    if env.get(ENV, "").strip():
        return parse_language(env[ENV], what=ENV)
    return from_locale(env)


# --- the command line's messages ---------------------------------------------------------------


class _Run:
    """The run's language and its messages (one per process, as gettext's)."""

    language = ENGLISH


_run = _Run()
_messages: dict[str, str] = {}
_plurals: dict[str, tuple[str, ...]] = {}


def language() -> str:
    """The language texts are shown in (``en`` until :func:`activate` says otherwise)."""
    return _run.language


def activate(code: str) -> None:
    """Show this run's messages in ``code`` (``en``, ``nb``, ``sv`` or ``fi``).

    A catalogue that cannot be read leaves the messages in English (the rules' own check,
    ``clu-doctor rules check``, names what is wrong with it)."""
    _run.language = code
    _messages.clear()
    _plurals.clear()
    if code == ENGLISH:
        return
    messages, plurals = _catalogue(code)
    _messages.update(messages)
    _plurals.update(plurals)


#: The shape of the kept messages (see :func:`_catalogue`); a change misses every kept file.
_FORMAT = 1
_Messages = tuple[dict[str, str], dict[str, tuple[str, ...]]]


def _catalogue(code: str) -> _Messages:
    """The translated messages of ``code``'s catalogue, by ``msgid``: as parsed when the
    package was built, else as kept in the user's cache by an earlier run, else parsed now
    (and kept), each keyed on the catalogue's contents. Empty when it cannot be read."""
    from clu_doctor import keep, resources

    try:
        data = (MESSAGES_DIR / f"{code}.po").read_bytes()
    except OSError:
        return {}, {}
    key = (_FORMAT, zlib.crc32(data))
    what = "messages cache"
    kept = keep.read(resources.shipped_messages(code), key, shipped=True, what=what)
    if kept is not None:
        return kept  # type: ignore[no-any-return]
    mine = keep.user_file(f"messages-{code}.pickle")
    kept = keep.read(mine, key, what=what) if mine is not None else None
    if kept is not None:
        return kept  # type: ignore[no-any-return]
    from clu_doctor.errors import FileProblemError

    try:
        parsed = parse_messages(data, str(MESSAGES_DIR / f"{code}.po"))
    except FileProblemError:
        return {}, {}
    if mine is not None:
        keep.write(mine, key, parsed, what=what)
    return parsed


def parse_messages(data: bytes, path: str) -> _Messages:
    """The translated messages of the catalogue ``data`` (read from ``path``); raises
    :class:`~clu_doctor.errors.FileProblemError` when it cannot be read."""
    from clu_doctor import pofile
    from clu_doctor.errors import FileProblemError, Location

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise FileProblemError.at(Location(path), f"cannot read the catalogue: {error}") from None
    catalogue = pofile.parse(text, path)
    messages: dict[str, str] = {}
    plurals: dict[str, tuple[str, ...]] = {}
    for entry in catalogue:
        if not entry.translated or entry.msgctxt is not None:
            continue
        if entry.msgid_plural is None:
            messages[entry.msgid] = entry.msgstr
        else:
            plurals[entry.msgid] = tuple(entry.plurals)
    return messages, plurals


def build_shipped_messages(folder: Path) -> list[Path]:
    """Parse every language's catalogue and write each to ``folder`` as shipped with the
    package (see :func:`_catalogue`); raise if one cannot be read. Returns the files written."""
    from clu_doctor import keep, resources

    written = []
    for code in TRANSLATED:
        path = MESSAGES_DIR / f"{code}.po"
        if not path.is_file():
            continue
        data = path.read_bytes()
        parsed = parse_messages(data, str(path))
        destination = folder / resources.SHIPPED_MESSAGES.format(language=code)
        keep.store(destination, (_FORMAT, zlib.crc32(data)), parsed)
        destination.chmod(0o644)  # installed with the package: readable by every user
        written.append(destination)
    return written


def _(message: str) -> str:
    """``message`` in this run's language (as written when it has no translation)."""
    if _run.language == ENGLISH:
        return message
    return _messages.get(message) or message


def ngettext(singular: str, plural: str, count: int) -> str:
    """The form of a counted message for ``count`` (every language here has two: one, and
    any other number)."""
    forms = _plurals.get(singular) if _run.language != ENGLISH else None
    index = 0 if count == 1 else 1
    if forms and len(forms) > index and forms[index]:
        return forms[index]
    return singular if index == 0 else plural


def counted(singular: str, plural: str, count: int, **facts: object) -> str:
    """:func:`ngettext` with ``{count}`` (and any other ``{name}``) filled in."""
    return ngettext(singular, plural, count).format(count=count, **facts)


def error_words() -> tuple[str, str]:
    """ "error" and "hint" as an error line shows them (see ``errors.error_line``)."""
    return (_("error"), _("hint"))


def N_(message: str) -> str:
    """Marks ``message`` for translation where it is defined (a module constant) and leaves it
    English there; the code that shows it passes it through :func:`_`."""
    return message
