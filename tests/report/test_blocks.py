"""Plain text laid out without rich is line for line what rich lays out with colour off.

Piped output never imports rich (``tests/test_startup.py``); these tests render the same
blocks both ways, for every case of every bundled tree (with and without ``--why`` and
``-v``) at several widths, and for text built to find the edges (long words, markup, wide
characters, narrow columns), and compare.
"""

from __future__ import annotations

import pytest

from clu_doctor.engine import load_rulebook
from clu_doctor.report import blocks as b
from clu_doctor.report.console import OutputMode, render_to_string
from clu_doctor.report.diagnosis import render_text

WIDTHS = (40, 53, 80, 100, 140)


def through_rich(width: int, *items: b.Block) -> str:
    return render_to_string(OutputMode(styled=False, width=width), *(i.rich() for i in items))


def plain(width: int, *items: b.Block) -> str:
    return b.render_plain(width, items)


def _cases() -> list[tuple[str, str]]:
    rulebook = load_rulebook()
    return [(tree.id, case.name) for tree in rulebook.trees for case in tree.cases]


@pytest.mark.parametrize(("tree_id", "case_name"), _cases())
def test_every_tree_case_reads_the_same_without_rich(
    tree_id: str, case_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rulebook = load_rulebook()
    tree = next(t for t in rulebook.trees if t.id == tree_id)
    case = next(c for c in tree.cases if c.name == case_name)
    diagnosis = rulebook.run_case(case)
    questions = {key: spec.question for key, spec in rulebook.vocabulary.specs.items()}
    seen = []
    monkeypatch.setattr(b, "render_plain", lambda w, items: seen.append((w, items)) or "")
    for width in WIDTHS:
        for why, verbose in ((False, False), (True, False), (False, True)):
            render_text(
                diagnosis,
                OutputMode(styled=False, width=width),
                why=why,
                verbose=verbose,
                questions=questions,
                trees=rulebook.trees,
            )
    monkeypatch.undo()
    for width, items in seen:
        assert plain(width, *items) == through_rich(width, *items), (width, case_name)


EDGES = [
    "a",
    "",
    "short words that wrap at the end of the line when the width is small enough to matter",
    "see https://example.com/a/very/long/address/that/does/not/fit/on/any/line/at/all/ok then",
    "trailing blanks   ",
    "  leading blanks and   runs   of  blanks inside  ",
    "line one\nline two, which is a little longer\n\nafter a blank line",
    "tab\tseparated\tcolumns",
    "Ærlig talt, før Ålesund: «sitater» og §16 → ⇒ … ✓ ✗",
    "wide 充电桩 characters 充电桩充电桩充电桩充电桩充电桩充电桩充电桩充电桩 end",
    "markup [bold]bold[/bold] and \\[escaped] and [A] upper and [i]x[/] closing",
    "Averyveryveryveryveryveryveryveryveryveryveryveryveryverylongwordwithoutanybreak",
]


def _blocks() -> list[b.Block]:
    out: list[b.Block] = []
    for text in EDGES:
        out.append(b.Line(text))
        out.append(b.Indent(b.Line(text, "bold"), 4))
        out.append(b.Indent(b.list_block([("1.", text), ("10.", "short"), ("-", text)]), 2))
        grid = b.Grid([b.Column(no_wrap=True), b.Column(no_wrap=True), b.Column()], gap=2)
        grid.add_row(b.Line("  ✗"), b.Line("USB interface"), b.Line(text))
        grid.add_row(b.Line("  ✓"), b.Line("Bus"), b.Line("fine"))
        out.append(grid)
        tree = b.TreeBlock(b.Line("Why: " + text, "bold"))
        branch = tree.add(b.Line(text))
        branch.add(b.Line("leaf " + text))
        branch.add(b.Line("last"))
        tree.add(b.Line("second")).add(b.Line(text))
        out.append(tree)
        out.append(b.Stack([b.Line("Seen:", "bold"), b.Indent(b.Stack([b.Line(text)]), 6)]))
    return out


@pytest.mark.parametrize("width", [40, 41, 57, 80, 100, 140])
def test_text_at_the_edges_reads_the_same_without_rich(width: int) -> None:
    for block in _blocks():
        assert plain(width, block) == through_rich(width, block), (width, block)


def test_a_word_longer_than_a_line_is_folded_at_the_top_and_cut_in_a_column() -> None:
    word = "x" * 60
    assert plain(40, b.Line(word)) == "x" * 40 + "\n" + "x" * 20 + "\n"
    cut = plain(40, b.list_block([("-", word)]))
    assert cut == "- " + "x" * 37 + "…\n"
