"""The interactive LED questionnaire: asks only what the trees still need, in their order.

The engine decides what to ask (:meth:`Rulebook.next_question`); this module only talks to
the person. Prompts go to stderr so that stdout stays clean for the result (``--json`` can
be redirected while the questions are answered on the terminal). Answers: a number from the
list or the value's name (aliases like ``dark`` or ``blinking`` work), ``?`` for don't know,
``b`` to go back one question, ``h`` for help. Ctrl-C and end of input abort.
"""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable, Mapping, MutableMapping

from clu_doctor.engine import (
    UNKNOWN,
    AnswerSource,
    Observation,
    ObservationError,
    ObservationSpec,
    Rulebook,
    SpecSource,
    ValueKind,
)

BACK = frozenset({"b", "back", "<"})
HELP = frozenset({"h", "help"})

INTRO = (
    "Answer what you see. Type the number or the word; "
    "? = don't know, b = back, h = help, Ctrl-C = quit."
)


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
    ) -> list[str]:
        """Fill ``answers`` in place; returns the keys answered here, in order.

        With ``probe``, observations a bus probe supplies are handed to it when the walk
        reaches them, so the bus is heard before the person is asked what it already tells.
        """
        asked: list[str] = []
        introduced = False
        while (
            spec := self.rulebook.next_question(answers, include_probes=probe is not None)
        ) is not None:
            if probe is not None and spec.source is SpecSource.PROBE:
                answers.update(probe(spec))
                continue
            if not introduced:
                self.write(self._style(INTRO, "dim") + "\n")
                introduced = True
            self._show(spec, len(asked) + 1)
            while True:
                self.write(self._style("> ", "bold"))
                text = self.read_line().strip()
                if text.lower() in BACK:
                    if asked:
                        del answers[asked.pop()]
                        self.write(self._style("  Back one question.", "dim") + "\n")
                        break
                    self.write("  This is the first question; there is nothing to go back to.\n")
                    continue
                if text.lower() in HELP:
                    self._show_help(spec)
                    continue
                if not text:
                    self.write(f"  Please answer ({self._short_expected(spec)}).\n")
                    continue
                try:
                    observation = self.rulebook.vocabulary.parse(
                        spec.key, self._resolve_number(spec, text), AnswerSource.QUESTIONNAIRE
                    )
                except ObservationError as error:
                    self.write(self._style(f"  {error.message}", "red") + "\n")
                    continue
                answers[spec.key] = observation
                asked.append(spec.key)
                break
        return asked

    def _show(self, spec: ObservationSpec, number: int) -> None:
        self.write("\n" + self._style(f"[{number}] {spec.question}", "bold") + "\n")
        if spec.kind is ValueKind.CHOICE:
            options = [f"{i} {value.name}" for i, value in enumerate(spec.values, 1)]
            options.append("? don't know")
            self.write("    " + "   ".join(options) + "\n")
        else:
            self.write(f"    {spec.expected()}; ? = don't know\n")

    def _show_help(self, spec: ObservationSpec) -> None:
        width = max(40, min(shutil.get_terminal_size().columns, 100)) - 2
        for line in textwrap.wrap(spec.help, width, initial_indent="  ", subsequent_indent="  "):
            self.write(self._style(line, "dim") + "\n")
        for value in spec.values:
            self.write(f"    {value.name}: {value.help}\n")

    @staticmethod
    def _short_expected(spec: ObservationSpec) -> str:
        if spec.kind is ValueKind.CHOICE:
            return f"1-{len(spec.values)}, a value name, or ? for don't know"
        return "a number or duration, or ? for don't know"

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

    def _style(self, text: str, style: str) -> str:
        if not self.styled:
            return text
        codes = {"bold": "1", "dim": "2", "red": "31"}
        return f"\x1b[{codes[style]}m{text}\x1b[0m"
