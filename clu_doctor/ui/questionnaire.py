"""The interactive questionnaire: asks only what the trees still need, in their order.

The engine decides what to ask (:meth:`Rulebook.next_question`) and how many questions are
likely still to come (:mod:`clu_doctor.engine.estimate`); this module only talks to the
person. Prompts go to stderr so that stdout stays clean for the result (``--json`` can be
redirected while the questions are answered on the terminal).

What a person can type: a number from the list or the value's name (aliases like ``dark``
or ``blinking`` work), ``?`` for don't know, ``b`` to go back one question (its earlier
answer is shown and Enter keeps it), ``h`` for help, ``q`` to leave (:class:`Quit`, which is
a Ctrl-C). Questions of a group (the CloudCharge portal) come last, after one question
that offers to skip them all. End of input aborts with ``EOFError``.
"""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import field
from typing import NamedTuple

from clu_doctor.engine import (
    UNKNOWN,
    AnswerSource,
    GroupSpec,
    Observation,
    ObservationError,
    ObservationSpec,
    Rulebook,
    SpecSource,
    ValueKind,
    parse_duration,
)
from clu_doctor.engine.estimate import questions_left
from clu_doctor.i18n import N_, _, counted
from clu_doctor.records import record

BACK = frozenset({"b", "back", "<"})
HELP = frozenset({"h", "help"})
QUIT = frozenset({"q", "quit", "exit"})
TAKE_GROUP = frozenset({"1", "y", "yes"})
SKIP_GROUP = frozenset({"2", "n", "no", "s", "skip"})
#: The same commands as words in the run's language (a translator's comma-separated list;
#: the letters and English words above work in every language).
_WORDS = {
    "back": N_("back"),
    "help": N_("help"),
    "quit": N_("quit, exit"),
    "take": N_("yes"),
    "skip": N_("no, skip"),
}

INTRO = N_(
    "Answer what you see: type the number or the word. "
    "? = don't know, b = back, h = help, q = quit."
)
AGAIN = N_("Look again. Enter keeps what you answered before; ? = don't know, q = quit.")


def _command(name: str, english: frozenset[str]) -> frozenset[str]:
    """What may be typed for a questionnaire command: the English words, and the run's."""
    words = {word.strip().lower() for word in _(_WORDS[name]).split(",") if word.strip()}
    return english | words


class Quit(KeyboardInterrupt):
    """The person typed ``q``: leave now, exactly as Ctrl-C would (every layer cleans up the
    same way, and the command line exits 130)."""


class _Step(NamedTuple):
    """One thing the person decided, in order, so that ``b`` can undo it."""

    #: The observation answered, or the group whose offer was answered.
    key: str
    group: bool = False
    #: For a skipped group: the keys it filled with "don't know" (undone with it).
    skipped: tuple[str, ...] = ()


@record(frozen=False)
class _Session:
    """One run's answers and what can be undone."""

    answers: MutableMapping[str, Observation]
    #: Answers shown again with their question (Enter keeps them): from before a wait, or
    #: undone by going back.
    earlier: dict[str, Observation] = field(default_factory=dict)
    #: Per group: answer its questions (True) or skip them (False).
    decided: dict[str, bool] = field(default_factory=dict)
    earlier_decided: dict[str, bool] = field(default_factory=dict)
    steps: list[_Step] = field(default_factory=list)

    @property
    def asked(self) -> int:
        return sum(1 for step in self.steps if not step.group)

    def back(self) -> None:
        """Undo the last step; its answer becomes the one shown again (Enter keeps it)."""
        if not self.steps:
            return
        step = self.steps.pop()
        if step.group:
            self.earlier_decided[step.key] = self.decided.pop(step.key)
            for key in step.skipped:
                self.answers.pop(key, None)
        else:
            self.earlier[step.key] = self.answers.pop(step.key)


class Questionnaire:
    """Ask for missing observations until every tree reaches a leaf.

    ``read_line`` returns one line without its newline and raises ``EOFError`` at end of
    input; ``write`` shows text to the person (a line at a time, newline included).
    """

    def __init__(
        self,
        rulebook: Rulebook,
        read_line: Callable[[], str],
        write: Callable[[str], None],
        *,
        styled: bool = False,
    ) -> None:
        self.rulebook = rulebook
        self.read_line = read_line
        self.write = write
        self.styled = styled

    def run(
        self,
        answers: MutableMapping[str, Observation],
        probe: Callable[[ObservationSpec], Mapping[str, Observation]] | None = None,
        *,
        before: Mapping[str, Observation] | None = None,
    ) -> list[str]:
        """Fill ``answers`` in place; returns the keys answered here, in order.

        With ``probe``, observations a bus probe supplies are handed to it when the walk
        reaches them, so the bus is heard before the person is asked what it already tells.
        ``before`` holds earlier answers to questions asked again (after waiting): each is
        shown with its question, and Enter keeps it.
        """
        session = _Session(answers, dict(before or {}))
        introduced = False
        while (
            spec := self.rulebook.next_question(answers, include_probes=probe is not None)
        ) is not None:
            if probe is not None and spec.source is SpecSource.PROBE:
                answers.update(probe(spec))
                continue
            if not introduced:
                self.write(self._style(_(AGAIN if before else INTRO), "dim") + "\n")
                introduced = True
            group = self.rulebook.vocabulary.groups.get(spec.group or "")
            if group is not None and group.name not in session.decided:
                self._decide(group, session)
                continue
            observation = self._ask(spec, session)
            if observation is None:
                session.back()
            else:
                answers[spec.key] = observation
                session.steps.append(_Step(spec.key))
        return [step.key for step in session.steps if not step.group]

    # --- one question -------------------------------------------------------------------------

    def _ask(self, spec: ObservationSpec, session: _Session) -> Observation | None:
        """The person's answer to ``spec``; ``None`` to go back one question."""
        earlier = session.earlier.get(spec.key)
        self._show(spec, self._position(session.asked + 1, session.answers), earlier)
        while True:
            text = self._prompt()
            word = text.lower()
            if word in _command("back", BACK):
                if self._can_go_back(session):
                    return None
                continue
            if word in _command("help", HELP):
                self._show_help(spec)
                continue
            if not text and earlier is not None:
                return Observation(spec.key, earlier.value, AnswerSource.QUESTIONNAIRE)
            if not text:
                self.write(
                    "  " + _("Please answer: type {what}.").format(what=self._typeable(spec)) + "\n"
                )
                continue
            try:
                return self.rulebook.vocabulary.parse(
                    spec.key, self._resolve_number(spec, text), AnswerSource.QUESTIONNAIRE
                )
            except ObservationError:
                self.write(self._style(f"  {self._not_an_answer(spec, text)}", "red") + "\n")

    def _position(self, number: int, answers: Mapping[str, Observation]) -> str:
        """``3 of about 6``: this question's number and the questionnaire's likely length."""
        left = questions_left(self.rulebook.trees, self.rulebook.vocabulary, answers)
        total = left.total(number - 1)
        if left.exact:
            return _("{number} of {total}").format(number=number, total=total)
        return _("{number} of about {total}").format(number=number, total=total)

    def _show(self, spec: ObservationSpec, position: str, earlier: Observation | None) -> None:
        self.write("\n" + self._style(f"[{position}] {spec.question}", "bold") + "\n")
        if spec.kind is ValueKind.CHOICE:
            options = [f"{i} {value.shown}" for i, value in enumerate(spec.values, 1)]
            options.append("? " + _("don't know"))
            self.write("    " + "   ".join(options) + "\n")
        else:
            dont_know = _("don't know")
            self.write(f"    {self._typeable(spec, dont_know=False)}; ? = {dont_know}\n")
        if earlier is not None:
            shown = _before(_shown_value(spec, earlier))
            self.write(self._style(f"    {shown}", "dim") + "\n")

    def _show_help(self, spec: ObservationSpec) -> None:
        self._wrap(spec.help)
        for value in spec.values:
            self.write(f"    {value.shown}: {value.help}\n")
        typeable = self._typeable(spec)
        self.write("    " + _("Type {what}; b = back, q = quit.").format(what=typeable) + "\n")

    def _wrap(self, text: str) -> None:
        width = max(40, min(shutil.get_terminal_size().columns, 100)) - 2
        for line in textwrap.wrap(text, width, initial_indent="  ", subsequent_indent="  "):
            self.write(self._style(line, "dim") + "\n")

    @staticmethod
    def _typeable(spec: ObservationSpec, *, dont_know: bool = True) -> str:
        """What can be typed, numbers first: ``1, 2 or 3 (off, steady, flashing)``..."""
        if spec.kind is ValueKind.CHOICE:
            numbers = [str(i) for i in range(1, len(spec.values) + 1)]
            listed = (
                _("{some} or {last}").format(some=", ".join(numbers[:-1]), last=numbers[-1])
                if len(numbers) > 1
                else "1"
            )
            text = f"{listed} ({', '.join(value.shown for value in spec.values)})"
        elif spec.unit == "s":
            text = _("seconds (e.g. 90) or a duration like 5m, 2h or 1h30m")
        elif spec.unit:
            text = _("a number in {unit}").format(unit=spec.unit)
        else:
            text = _("a number")
        return _("{what}, or ? if you don't know").format(what=text) if dont_know else text

    def _not_an_answer(self, spec: ObservationSpec, text: str) -> str:
        """One line saying why ``text`` is no answer here, and what can be typed instead."""
        typeable = self._typeable(spec)
        if spec.kind is ValueKind.CHOICE and text.isdigit():
            return _("There is no answer {text}. Type {what}.").format(text=text, what=typeable)
        if spec.kind is ValueKind.CHOICE:
            return _("{text} is not one of the answers. Type {what}.").format(
                text=repr(text), what=typeable
            )
        number = parse_duration(text) if spec.unit == "s" else _number(text)
        if number is not None and spec.minimum is not None and number < spec.minimum:
            return _("{text} is less than {minimum}. Type {what}.").format(
                text=text, minimum=f"{spec.minimum:g}", what=typeable
            )
        if spec.unit == "s":
            return _("{text} is not a time. Type {what}.").format(text=repr(text), what=typeable)
        return _("{text} is not a number. Type {what}.").format(text=repr(text), what=typeable)

    @staticmethod
    def _resolve_number(spec: ObservationSpec, text: str) -> str:
        """A menu number picks a choice value; ``?`` is don't know; anything else as typed."""
        if text == "?":
            return UNKNOWN
        if spec.kind is ValueKind.CHOICE and text.isdigit():
            index = int(text)
            if 1 <= index <= len(spec.values):
                return spec.values[index - 1].name
        return text

    # --- a group of questions -------------------------------------------------------------

    def _decide(self, group: GroupSpec, session: _Session) -> None:
        """Offer the group: answer its questions now, or skip them all (or go back)."""
        earlier = session.earlier_decided.get(group.name)
        left = questions_left(self.rulebook.trees, self.rulebook.vocabulary, session.answers)
        count = left.total(0)
        if left.exact:
            many = counted("{count} question", "{count} questions", count)
        else:
            many = counted("about {count} question", "about {count} questions", count)
        header = f"[{group.title}: {many}] {group.question}"
        self.write("\n" + self._style(header, "bold") + "\n")
        take_it, skip_it = _("yes, ask me"), _("skip these questions (they count as don't know)")
        self.write(f"    1 {take_it}   2 {skip_it}\n")
        if earlier is not None:
            shown = _before(f"1 {_('yes')}" if earlier else f"2 {_('skip')}")
            self.write(self._style(f"    {shown}", "dim") + "\n")
        take_words, skip_words = _command("take", TAKE_GROUP), _command("skip", SKIP_GROUP)
        while True:
            word = self._prompt().lower()
            if word in _command("back", BACK):
                if self._can_go_back(session):
                    session.back()
                    return
                continue
            if word in _command("help", HELP):
                self._wrap(group.help)
                continue
            if not word and earlier is not None:
                take = earlier
            elif word in take_words or word in skip_words:
                take = word in take_words
            else:
                again = _("Type 1 (yes, ask me) or 2 (skip them).")
                self.write(self._style(f"  {again}", "red") + "\n")
                continue
            session.decided[group.name] = take
            skipped = () if take else self._skip(group, session.answers)
            session.steps.append(_Step(group.name, group=True, skipped=skipped))
            return

    def _skip(self, group: GroupSpec, answers: MutableMapping[str, Observation]) -> tuple[str, ...]:
        """Every unanswered question of ``group`` as don't know; returns their keys."""
        skipped = tuple(
            spec.key
            for spec in self.rulebook.vocabulary
            if spec.group == group.name and spec.key not in answers
        )
        for key in skipped:
            answers[key] = Observation(
                key,
                UNKNOWN,
                AnswerSource.QUESTIONNAIRE,
                f"skipped with the {group.title} questions",
            )
        skipped_line = _("Skipped: {group} is not judged.").format(group=group.title)
        self.write(self._style(f"  {skipped_line}", "dim") + "\n")
        return skipped

    # --- going back and leaving -------------------------------------------------------------

    def _can_go_back(self, session: _Session) -> bool:
        if session.steps:
            self.write(self._style("  " + _("Back one question."), "dim") + "\n")
            return True
        self.write("  " + _("This is the first question; there is nothing to go back to.") + "\n")
        return False

    def _prompt(self) -> str:
        self.write(self._style("> ", "bold"))
        text = self.read_line().strip()
        if text.lower() in _command("quit", QUIT):
            raise Quit
        return text

    def _style(self, text: str, style: str) -> str:
        if not self.styled:
            return text
        codes = {"bold": "1", "dim": "2", "red": "31"}
        return f"\x1b[{codes[style]}m{text}\x1b[0m"


def _shown_value(spec: ObservationSpec, observation: Observation) -> str:
    value = observation.value
    if value == UNKNOWN:
        return "? " + _("don't know")
    if spec.kind is ValueKind.CHOICE:
        index = spec.value_names.index(str(value)) + 1 if value in spec.value_names else None
        shown = spec.values[index - 1].shown if index is not None else str(value)
        return f"{index} {shown}" if index is not None else shown
    return f"{value} s" if spec.unit == "s" else str(value)


def _before(shown: str) -> str:
    return _("Before: {answer}. Enter keeps it.").format(answer=shown)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None
