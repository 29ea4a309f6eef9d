"""A help page read through a pipe is drawn without rich, byte for byte as typer and rich draw
it: every page of the command line in every language at many widths, and generated pages with
what the command line does not have yet (arguments, required options, ranges, long words,
panels of their own, groups of commands)."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from typing import Any

import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st
from typer import _click, rich_utils
from typer._types import TyperChoice
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from clu_doctor import i18n, plainhelp
from clu_doctor.cli import _TOOLKIT_WORDS, make_app
from tests.commands.helpers import invoke_subprocess

WIDTHS = (30, 41, 56, 80, 97, 123, 160, 400)


@pytest.fixture(autouse=True)
def plain_terminal(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No terminal and nothing in the environment that changes how rich draws; English
    again afterwards."""
    for name in plainhelp._RICH_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(rich_utils, "FORCE_TERMINAL", None)
    monkeypatch.setattr(rich_utils, "MAX_WIDTH", None)
    yield
    i18n.activate("en")


def words_of(language: str) -> dict[str, str]:
    i18n.activate(language)
    return {name: i18n._(english) for name, english in _TOOLKIT_WORDS.items()}


def drawn_by_rich(
    command: Any, ctx: Any, words: dict[str, str], width: int, monkeypatch: pytest.MonkeyPatch
) -> str:
    monkeypatch.setenv("COLUMNS", str(width))
    for name, text in words.items():
        monkeypatch.setattr(rich_utils, name, text)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rich_utils.rich_format_help(obj=command, ctx=ctx, markup_mode="rich")
    return out.getvalue()


def drawn_plainly(
    command: Any, ctx: Any, words: dict[str, str], width: int, monkeypatch: pytest.MonkeyPatch
) -> str:
    monkeypatch.setenv("COLUMNS", str(width))
    assert plainhelp.page_width(stream=io.StringIO()) == width
    return plainhelp.page(command, ctx, words, width)


def pages(command: Any, ctx: Any) -> Iterator[tuple[Any, Any]]:
    """Every command below ``command`` (itself first) with its context."""
    yield command, ctx
    for name in getattr(command, "commands", {}):
        child = command.commands[name]
        yield from pages(child, child.make_context(name, [], parent=ctx, resilient_parsing=True))


def command_line_pages(language: str) -> list[tuple[str, Any, Any]]:
    i18n.activate(language)
    root = typer.main.get_command(make_app())
    ctx = root.make_context("clu-doctor", [], resilient_parsing=True)
    return [(c.command_path, command, c) for command, c in pages(root, ctx)]


@pytest.mark.parametrize("language", ["en", "nb", "sv", "fi"])
def test_every_page_of_the_command_line_is_drawn_as_rich_draws_it(
    language: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    words = words_of(language)
    found = command_line_pages(language)
    assert {path for path, _, _ in found} >= {
        "clu-doctor",
        "clu-doctor check",
        "clu-doctor rules check",
        "clu-doctor site init",
    }
    widths = WIDTHS if language == "en" else WIDTHS[::3]
    for path, command, ctx in found:
        for width in widths:
            plain = drawn_plainly(command, ctx, words, width, monkeypatch)
            assert plain == drawn_by_rich(command, ctx, words, width, monkeypatch), (path, width)


def test_a_piped_help_is_the_same_through_the_command_line() -> None:
    """(tests/test_startup.py: without importing rich.)"""
    for args in (["check", "--help"], ["rules"], ["--help", "--lang", "fi"], []):
        plain = invoke_subprocess(*args, env={"COLUMNS": "90"})
        drawn = invoke_subprocess(*args, env={"COLUMNS": "90", "TTY_COMPATIBLE": "0"})
        assert plain.code == drawn.code == 0
        assert plain.stdout == drawn.stdout and plain.stdout.count("╭─") >= 1, args


@pytest.mark.parametrize(
    ("environ", "plain"),
    [
        ({}, True),
        ({"FORCE_COLOR": "1"}, False),
        ({"TTY_COMPATIBLE": "1"}, False),
        ({"TERMINAL_WIDTH": "100"}, False),  # typer's own width
        ({"COLUMNS": "12"}, False),  # narrower than the layout was compared at
        ({"COLUMNS": "120"}, True),
    ],
)
def test_only_where_rich_would_draw_plain_text(environ: dict[str, str], plain: bool) -> None:
    assert (plainhelp.page_width(environ, io.StringIO()) is not None) is plain


def test_not_on_a_terminal_nor_an_ascii_stream() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    class Ascii(io.StringIO):
        encoding = "ascii"

    assert plainhelp.page_width({}, Terminal()) is None
    assert plainhelp.page_width({}, Ascii()) is None


@pytest.mark.parametrize(
    "text",
    [
        "Shown in [bold]bold[/bold].",  # markup
        "An escaped \\[bracket].",
        "A :thumbs_up: emoji code.",
        "A wide 字 character.",
    ],
)
def test_what_rich_would_interpret_is_left_to_rich(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    command = TyperCommand("demo", help=text, rich_markup_mode="rich")
    ctx = command.make_context("demo", [], resilient_parsing=True)
    words = words_of("en")
    with pytest.raises(plainhelp.Unplain):
        plainhelp.page(command, ctx, words, 80)
    # ... and the command line then lets typer draw it
    plainhelp.install(command, words, lambda: None)
    drawn = io.StringIO()
    monkeypatch.setenv("COLUMNS", "80")
    with contextlib.redirect_stdout(drawn):
        command.format_help(ctx, ctx.make_formatter())
    assert drawn.getvalue() == drawn_by_rich(command, ctx, words, 80, monkeypatch)


# --- generated pages -----------------------------------------------------------------------------

_letters = "abcdefghijklmnopqrstuvwxyzæøåäöABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
words_st = st.text(_letters + ".,;()'/-_<>=", min_size=1, max_size=14)
long_words_st = st.text(_letters + "._/", min_size=15, max_size=70)
sentence_st = st.lists(st.one_of(words_st, words_st, words_st, long_words_st), max_size=30).map(
    " ".join
)
paragraphs_st = st.lists(sentence_st, min_size=1, max_size=3).map("\n\n".join)
names_st = st.text("abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=22)
panel_st = st.one_of(st.none(), st.sampled_from(["Line settings", "Thresholds", "Åpen panel"]))


@st.composite
def options_st(draw: st.DrawFn, used: set[str]) -> Any:
    name = draw(names_st.filter(lambda n: n not in used))
    used.add(name)
    decls = [f"--{name}"]
    if draw(st.booleans()):
        short = draw(st.sampled_from("abcdefghijklmnopqrstuvwxyz"))
        if f"-{short}" not in used:
            used.add(f"-{short}")
            decls.append(f"-{short}")
    kind = draw(st.sampled_from(["flag", "text", "int-range", "float-range", "choice"]))
    kwargs: dict[str, Any] = {}
    if kind == "flag":
        kwargs.update(is_flag=True, default=False, type=bool)
    elif kind == "text":
        kwargs.update(type=str, default=draw(st.one_of(st.none(), words_st)))
        if draw(st.booleans()):
            kwargs["metavar"] = draw(st.sampled_from(["FILE", "PATH", "NAME|FILE", "DIR"]))
    elif kind == "int-range":
        low = draw(st.one_of(st.none(), st.integers(0, 10)))
        high = draw(st.one_of(st.none(), st.integers(11, 4_000_000)))
        kwargs.update(
            type=_click.types.IntRange(low, high), default=draw(st.one_of(st.none(), st.just(11)))
        )
    elif kind == "float-range":
        kwargs.update(type=_click.types.FloatRange(0.5, 3600.0), default=45.0)
    else:
        choices = draw(st.lists(names_st, min_size=1, max_size=6, unique=True))
        kwargs.update(type=TyperChoice(choices), default=choices[0])
    return TyperOption(
        param_decls=decls,
        help=draw(st.one_of(st.none(), sentence_st, paragraphs_st)),
        show_default=draw(st.booleans()),
        required=draw(st.booleans()) and kind != "flag",
        rich_help_panel=draw(panel_st),
        **kwargs,
    )


@st.composite
def arguments_st(draw: st.DrawFn, used: set[str]) -> Any:
    name = draw(names_st.filter(lambda n: n not in used))
    used.add(name)
    return TyperArgument(
        param_decls=[name],
        type=str,
        required=draw(st.booleans()),
        default=None,
        metavar=draw(st.one_of(st.none(), st.sampled_from(["IDS...", "TREE", "FILE"]))),
        help=draw(st.one_of(st.none(), sentence_st)),
        rich_help_panel=draw(panel_st),
    )


@st.composite
def commands_st(draw: st.DrawFn, depth: int = 0) -> Any:
    used: set[str] = {"help", "-h"}
    params = [
        *draw(st.lists(arguments_st(used), max_size=2)),
        *draw(st.lists(options_st(used), max_size=7)),
    ]
    help_text = draw(st.one_of(st.none(), paragraphs_st))
    epilog = draw(st.one_of(st.none(), paragraphs_st))
    settings_ = {"help_option_names": ["-h", "--help"]}
    name = draw(names_st)
    if depth == 0 and draw(st.booleans()):
        children = draw(st.lists(commands_st(depth=1), max_size=5, unique_by=lambda c: c.name))
        return TyperGroup(
            name=name,
            commands={child.name: child for child in children},
            params=params,
            help=help_text,
            epilog=epilog,
            context_settings=settings_,
            rich_markup_mode="rich",
        )
    return TyperCommand(
        name,
        params=params,
        help=help_text,
        epilog=epilog,
        context_settings=settings_,
        rich_markup_mode="rich",
        rich_help_panel=draw(panel_st),
    )


@settings(max_examples=150, deadline=None)
@given(command=commands_st(), width=st.integers(plainhelp.MIN_WIDTH, 240))
def test_generated_pages_are_drawn_as_rich_draws_them(command: Any, width: int) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        for name in plainhelp._RICH_ENVIRONMENT:
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setattr(rich_utils, "FORCE_TERMINAL", None)
        monkeypatch.setattr(rich_utils, "MAX_WIDTH", None)
        ctx = command.make_context(command.name, [], resilient_parsing=True)
        words = words_of("en")
        for each, each_ctx in pages(command, ctx):
            plain = drawn_plainly(each, each_ctx, words, width, monkeypatch)
            assert plain == drawn_by_rich(each, each_ctx, words, width, monkeypatch)
