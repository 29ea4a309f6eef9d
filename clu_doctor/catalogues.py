"""The translation catalogues: made from the sources, kept in step with them, and checked.

Two gettext domains, each beside what it translates:

* ``rules/locale/`` — the rule texts (:mod:`clu_doctor.engine.texts`): ``rules.pot`` and one
  ``<lang>.po`` per language, an entry per text by its context;
* ``clu_doctor/locale/`` — the command line's messages, marked in the code with ``_()``,
  ``ngettext()`` or ``N_()``: ``messages.pot`` and one ``<lang>.po`` per language.

``scripts/update-translations`` rewrites the templates from the sources and merges every
language's catalogue with them as ``msgmerge`` would: translations are kept; one whose English
text changed is kept but marked ``fuzzy`` with the English it was made for (``#|``), so that
the translator sees what changed; texts that are gone are dropped. ``clu-doctor rules check``
and the tests report what is missing, stale or broken in each language (:func:`problems`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

from clu_doctor import i18n, pofile
from clu_doctor.engine.texts import LOCALE_DIR, TEMPLATE, RuleText, State, check, rule_texts
from clu_doctor.pofile import Catalogue, Entry

PACKAGE = Path(__file__).resolve().parent
MESSAGES_TEMPLATE = "messages.pot"
_MARKERS = {"_": 1, "N_": 1, "ngettext": 2, "counted": 2}
_PLURAL_FORMS = "nplurals=2; plural=(n != 1);"


def _header(language: str | None) -> dict[str, str]:
    header = {
        "Project-Id-Version": "clu-doctor",
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "8bit",
        "Plural-Forms": _PLURAL_FORMS,
    }
    if language is not None:
        header["Language"] = language
    return header


# --- the command line's messages ---------------------------------------------------------------


class Message(NamedTuple):
    msgid: str
    plural: str | None
    location: str


def message_texts(package: Path = PACKAGE) -> list[Message]:
    """Every message marked in the package's code, once each, in file and line order."""
    found: dict[tuple[str, str | None], Message] = {}
    root = package.parent
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            count = _MARKERS.get(node.func.id)
            if count is None or len(node.args) < count:
                continue
            args = node.args[:count]
            if not all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args):
                continue
            strings = [str(a.value) for a in args if isinstance(a, ast.Constant)]
            key = (strings[0], strings[1] if count == 2 else None)
            where = f"{path.relative_to(root)}:{node.lineno}"
            if key not in found:
                found[key] = Message(key[0], key[1], where)
    return sorted(found.values(), key=lambda m: _location_order(m.location))


def _location_order(location: str) -> tuple[str, int]:
    path, _, line = location.rpartition(":")
    return (path, int(line))


def message_template(messages: Iterable[Message]) -> list[Entry]:
    return [
        Entry(m.msgid, msgid_plural=m.plural, locations=[m.location], comments=_comment(m.msgid))
        for m in messages
    ]


def _comment(msgid: str) -> list[str]:
    if "{" in msgid:
        return ["Keep every {name} as it is: the program fills it in."]
    return []


# --- the rule texts ----------------------------------------------------------------------------


def rule_template(texts: Iterable[RuleText], root: Path | None = None) -> list[Entry]:
    """The rules' template entries; locations relative to the rules directory ``root``."""
    return [
        Entry(
            t.source,
            msgctxt=t.context,
            locations=[_relative(t.location, root)] if t.location else [],
            comments=[t.comment] if t.comment else [],
        )
        for t in texts
    ]


def _relative(location: str, root: Path | None) -> str:
    if root is None:
        return location
    try:
        return str(Path(location).relative_to(root.resolve()))
    except ValueError:
        return location


# --- merging -----------------------------------------------------------------------------------


def merge(template: Sequence[Entry], existing: Catalogue | None) -> list[Entry]:
    """The template's entries with ``existing``'s translations, as ``msgmerge`` does.

    Rule texts are matched by their context: one whose English changed keeps its translation,
    marked fuzzy with the English it was made for. Messages are matched by their English.
    """
    by_key = existing.by_key() if existing is not None else {}
    by_context = existing.by_context() if existing is not None else {}
    merged = []
    for item in template:
        entry = Entry(
            item.msgid,
            msgctxt=item.msgctxt,
            msgid_plural=item.msgid_plural,
            comments=list(item.comments),
            locations=list(item.locations),
        )
        old = by_key.get(item.key)
        if old is None and item.msgctxt is not None:
            old = by_context.get(item.msgctxt)
        if old is not None:
            entry.msgstr, entry.plurals = old.msgstr, list(old.plurals)
            entry.flags = list(old.flags)
            entry.previous = old.previous
            if old.msgid != item.msgid and (old.msgstr or any(old.plurals)):
                entry.flags = sorted(set(entry.flags) | {"fuzzy"})
                entry.previous = old.previous if old.fuzzy and old.previous else old.msgid
        if entry.msgid_plural is not None and not entry.plurals:
            entry.plurals = ["", ""]
        merged.append(entry)
    return merged


class Domain(NamedTuple):
    """One catalogue family: where its files are and how its template is made."""

    name: str
    folder: Path
    template: str


def domains(rules_root: Path) -> tuple[Domain, Domain]:
    return (
        Domain("rules", rules_root / LOCALE_DIR, TEMPLATE),
        Domain("messages", i18n.MESSAGES_DIR, MESSAGES_TEMPLATE),
    )


def update(rules_root: Path, rulebook_texts: Sequence[RuleText]) -> list[Path]:
    """Rewrite both templates from the sources and merge every language's catalogue with
    them; returns the files written."""
    written = []
    templates = {
        "rules": rule_template(rulebook_texts, rules_root),
        "messages": message_template(message_texts()),
    }
    for domain in domains(rules_root):
        domain.folder.mkdir(parents=True, exist_ok=True)
        entries = templates[domain.name]
        title = f"clu-doctor: the {domain.name} template (scripts/update-translations)"
        path = domain.folder / domain.template
        path.write_text(pofile.format_catalogue(_header(None), entries, title), "utf-8")
        written.append(path)
        for language in i18n.TRANSLATED:
            target = domain.folder / f"{language}.po"
            existing = pofile.read(target) if target.exists() else None
            merged = merge(entries, existing)
            name = i18n.LANGUAGES[language]
            title = f"clu-doctor: the {domain.name} in {name} ({language})"
            target.write_text(pofile.format_catalogue(_header(language), merged, title), "utf-8")
            written.append(target)
    return written


# --- checking ----------------------------------------------------------------------------------


class Gap(NamedTuple):
    """A text shown in English in a language: which, where, and why."""

    language: str
    domain: str
    state: State
    context: str
    source: str
    location: str
    reason: str = ""

    def __str__(self) -> str:
        what = self.context or repr(_short(self.source))
        reason = f" ({self.reason})" if self.reason else ""
        return f"{self.domain}: {what}: {self.state.value}{reason}"


def _short(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def gaps(rules_root: Path, texts: Sequence[RuleText], language: str) -> list[Gap]:
    """Every text missing, stale or broken in ``language``'s catalogues."""
    rules_domain, messages_domain = domains(rules_root)
    found: list[Gap] = []
    catalogue = _read(rules_domain.folder / f"{language}.po")
    for item in check(texts, catalogue):
        if item.state is not State.TRANSLATED:
            found.append(
                Gap(
                    language,
                    "rules",
                    item.state,
                    item.text.context,
                    item.text.source,
                    item.text.location,
                    item.reason,
                )
            )
    template = _read(messages_domain.folder / MESSAGES_TEMPLATE)
    messages = _read(messages_domain.folder / f"{language}.po")
    by_key = messages.by_key() if messages is not None else {}
    for wanted in template or ():
        entry = by_key.get(wanted.key)
        location = wanted.locations[0] if wanted.locations else ""
        state, reason = _message_state(wanted, entry)
        if state is not State.TRANSLATED:
            found.append(Gap(language, "messages", state, "", wanted.msgid, location, reason))
    return found


def _message_state(wanted: Entry, entry: Entry | None) -> tuple[State, str]:
    if entry is None or not (entry.msgstr or any(entry.plurals)):
        return State.MISSING, ""
    if entry.fuzzy:
        return State.STALE, "marked fuzzy"
    if not entry.translated:
        return State.MISSING, "a plural form is empty"
    from clu_doctor.engine.observations import PLACEHOLDER

    want = sorted(PLACEHOLDER.findall(wanted.msgid))
    for text in [entry.msgstr] if entry.msgid_plural is None else entry.plurals:
        if sorted(PLACEHOLDER.findall(text)) != want:
            return State.BROKEN, "its {names} differ from the English text's"
    return State.TRANSLATED, ""


def template_gaps(rules_root: Path, texts: Sequence[RuleText]) -> list[str]:
    """What the templates lack or have too much of, against the sources (run
    ``scripts/update-translations``); empty when they are current."""
    out = []
    rules_domain, messages_domain = domains(rules_root)
    wanted_rules = {(e.msgctxt, e.msgid) for e in rule_template(texts)}
    have_rules = _keys(rules_domain.folder / TEMPLATE)
    wanted_messages = {(e.msgctxt, e.msgid) for e in message_template(message_texts())}
    have_messages = _keys(messages_domain.folder / MESSAGES_TEMPLATE)
    for name, wanted, have in (
        ("rules", wanted_rules, have_rules),
        ("messages", wanted_messages, have_messages),
    ):
        for context, msgid in sorted(wanted - have, key=str):
            out.append(f"{name}: not in the template: {context or _short(msgid)!r}")
        for context, msgid in sorted(have - wanted, key=str):
            out.append(
                f"{name}: in the template but gone from the sources: {context or _short(msgid)!r}"
            )
    return out


def _keys(path: Path) -> set[tuple[str | None, str]]:
    catalogue = _read(path)
    return set() if catalogue is None else set(catalogue.by_key())


def _read(path: Path) -> Catalogue | None:
    return pofile.read(path) if path.exists() else None


class Coverage(NamedTuple):
    """How complete one language is: the texts translated, and every gap."""

    language: str
    translated: int
    gaps: tuple[Gap, ...]

    def count(self, state: State) -> int:
        return sum(1 for gap in self.gaps if gap.state is state)

    def to_dict(self) -> dict[str, object]:
        return {
            "translated": self.translated,
            **{
                state.value: [
                    {
                        "domain": gap.domain,
                        "context": gap.context or None,
                        "english": gap.source,
                        "location": gap.location or None,
                        "reason": gap.reason or None,
                    }
                    for gap in self.gaps
                    if gap.state is state
                ]
                for state in (State.MISSING, State.STALE, State.BROKEN)
            },
        }


def coverage(
    rules_root: Path, texts: Sequence[RuleText], *, messages: bool = True
) -> list[Coverage]:
    """Every language's coverage of ``texts`` (and of the command line's messages, unless
    ``messages`` is false: rules of one's own have only their own catalogues)."""
    out = []
    template = _read(i18n.MESSAGES_DIR / MESSAGES_TEMPLATE) if messages else None
    total = len(texts) + (len(template.entries) if template is not None else 0)
    for language in i18n.TRANSLATED:
        found = [
            gap for gap in gaps(rules_root, texts, language) if messages or gap.domain == "rules"
        ]
        out.append(Coverage(language, total - len(found), tuple(found)))
    return out


def rule_texts_of(rules_root: Path | None = None) -> tuple[Path, list[RuleText]]:
    """The bundled (or ``rules_root``'s) rules directory and its texts, in English."""
    from clu_doctor import resources
    from clu_doctor.engine.rulebook import load_rulebook

    root = rules_root or resources.rules_dir()
    return root, rule_texts(load_rulebook(root if rules_root else None, language="en"))
