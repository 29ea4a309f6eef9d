"""The ``clu-doctor`` command line: parse, call, render, map errors to exit codes. Nothing more.

Every command imports what it needs inside its own body, so that ``clu-doctor diagnose --json``
does not pay for the serial stack and ``clu-doctor sim`` does not pay for the rule engine.
Errors a user can cause end in :func:`main` as one line with a hint and a monitoring-plugin
exit code (usage errors are 3 UNKNOWN, never 2, which means CRITICAL to a monitoring system).
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import os
import sys
import traceback
from collections.abc import Iterable, Sequence
from typing import Annotated, Any, NoReturn

import typer

from clu_doctor import __version__, debuglog, i18n
from clu_doctor.errors import CluDoctorError, FileProblemError, UsageError, error_line
from clu_doctor.exitcodes import ExitCode
from clu_doctor.i18n import N_, _, error_words

PROG = "clu-doctor"

_APP_SETTINGS: dict[str, Any] = {
    "name": PROG,
    "help": N_(
        "Field diagnostics for DEFA CLU (Cloud Link Unit) EV-charging sites.\n\n"
        "Turns what the CLU's LEDs show, and what the RS-485 bus says, into the manual's "
        "remedy steps. Exit codes follow the monitoring-plugin convention: "
        "0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (could not check)."
    ),
    "epilog": N_(
        "Examples:\n\n"
        "  clu-doctor diagnose                       # the LED questionnaire\n\n"
        "  clu-doctor diagnose --observe clu.power_led=off --json --no-input\n\n"
        "  clu-doctor check --site site.yaml --format nagios    # for cron and monitoring\n\n"
        "  clu-doctor site init > site.yaml                # a site file to fill in\n\n"
        "  clu-doctor sim --list\n\n"
        "  clu-doctor docs                           # the guides, alert rules, dashboard"
    ),
    "no_args_is_help": True,
    "pretty_exceptions_enable": False,
    "rich_markup_mode": "rich",
    "context_settings": {"help_option_names": ["-h", "--help"]},
}

#: Every top-level command as the root help lists it: its name, the module that registers it
#: (see :func:`_app_for`) and the first paragraph of its help (tests/test_startup.py checks
#: that these are the commands' own words, so the root help is the same built either way).
_COMMANDS: tuple[tuple[str, str, str], ...] = (
    (
        "diagnose",
        "diagnose",
        N_("Diagnose a CLU site from what its LEDs show and return the manual's remedy steps."),
    ),
    ("scan", "bus", N_("Read every address on the bus, and say what is wrong.")),
    (
        "listen",
        "bus",
        N_("Listen to a live bus without sending a single byte, and say what is wrong."),
    ),
    (
        "check",
        "check",
        N_("Check a site once, unattended, and report in your monitoring system's language."),
    ),
    (
        "explain",
        "rules",
        N_(
            "Explain findings by their id: what each means, why it happens, the numbered steps "
            "to fix it, what to expect after the fix, when to call DEFA support, and the "
            "manual's section."
        ),
    ),
    ("sim", "sim", N_("Run a simulated CLU site behind a pty and a local TCP port, until Ctrl-C.")),
    (
        "ports",
        "sim",
        N_("List this machine's serial ports; known USB-RS485 adapter chips come first, marked."),
    ),
    (
        "history",
        "history",
        N_("Show the recorded checks of a site and what they say about its stations."),
    ),
    ("docs", "docs", N_("Show the documentation and monitoring files installed with clu-doctor.")),
    (
        "rules",
        "rules",
        N_("Check, show and list the decision trees (for rule authors and the curious)."),
    ),
    (
        "site",
        "site",
        N_("Write down a site: the site.yaml that diagnose, check and history compare with."),
    ),
)
_COMMAND_MODULES = {name: module for name, module, _summary in _COMMANDS}
_MODULE_ORDER = ("diagnose", "bus", "check", "rules", "sim", "history", "site", "docs")
#: Commands that are groups: without a subcommand they show their own help.
_GROUPS = ("rules", "site")
_HELP_FLAGS = ("--help", "-h")
_VERSION_FLAGS = ("--version", "-V")


def _start_up_done() -> None:
    """What start-up built (modules, classes, the command) lives until the end: frozen, the
    cycle collector (held off by :mod:`clu_doctor.__main__` until now) never scans it again,
    and collects the command's own garbage as usual."""
    gc.freeze()
    gc.enable()


class _State:
    debug: bool = False


_state = _State()


def _settings() -> dict[str, Any]:
    """The root's settings, its help in the run's language."""
    return {**_APP_SETTINGS, "help": _(_APP_SETTINGS["help"]), "epilog": _(_APP_SETTINGS["epilog"])}


def _complete_language(incomplete: str) -> list[tuple[str, str]]:
    """Shell completion for ``--lang``: each language's code, with its name."""
    return [(code, name) for code, name in i18n.LANGUAGES.items() if code.startswith(incomplete)]


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"{PROG} {__version__}")
        raise typer.Exit(0)


def _root(
    debug: Annotated[
        bool, typer.Option("--debug", help=_("Show the full traceback when something goes wrong."))
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            callback=_version_callback,
            is_eager=True,
            help=_("Show the version."),
        ),
    ] = False,
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang",
            metavar="LANG",
            autocompletion=_complete_language,
            help=(
                _(
                    "The language of questions, findings and messages: en, nb (norsk), sv "
                    "(svenska) or fi (suomi); also after the command. Default: $CLU_DOCTOR_LANG, "
                    "else the locale ($LANG), else English."
                )
            ),
        ),
    ] = None,
) -> None:
    _state.debug = debug or _state.debug


def make_app(modules: Iterable[str] = _MODULE_ORDER) -> typer.Typer:
    """The command line with the commands of ``modules`` (each module registers its own; this
    file stays the thin dispatcher)."""
    built = typer.Typer(**_settings())
    built.callback()(_root)
    for name in modules:
        importlib.import_module(f"clu_doctor.commands.{name}").register(built)
    return built


def _listed() -> None:
    """A command in the root help's list, which is all the root help needs of it."""


def _root_help_app() -> typer.Typer:
    """The root with every command by name and summary, for the root help alone.

    Building a command makes typer evaluate each of its parameters; the root help shows only
    names and summaries, so it builds none of them (and imports no command module). Any run
    that goes further than the root help gets the real commands (see :func:`_app_for`).
    """
    built = typer.Typer(**_settings())
    built.callback()(_root)
    for name, _module, summary in _COMMANDS:
        built.command(name=name, help=_(summary))(_listed)
    return built


_FULL: list[typer.Typer] = []


def full_app() -> typer.Typer:
    """Every command, built once: for completion, an unknown command, documentation, tests."""
    if not _FULL:
        _FULL.append(make_app())
    return _FULL[0]


def __getattr__(name: str) -> typer.Typer:
    # ``clu_doctor.cli.app``: every command, built on first use rather than at import time.
    if name == "app":
        return full_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _app_for(args: Sequence[str]) -> typer.Typer:
    """Only the command being run, when that is clear from ``args``.

    Typer turns every parameter of every registered command into a click parameter before it
    runs anything (evaluating each annotation), which is most of the start-up time; building
    the one command needed keeps ``clu-doctor diagnose`` within its start-up budget. The root
    help builds no command at all; an unknown command and shell completion get the whole tree.
    """
    if any(key.startswith("_CLU_DOCTOR_COMPLETE") for key in os.environ):
        return full_app()
    name = next((arg for arg in args if not arg.startswith("-")), None)
    if name is None and (not args or any(arg in _HELP_FLAGS for arg in args)):
        return _root_help_app()
    module = _COMMAND_MODULES.get(name or "")
    return make_app((module,)) if module else full_app()


def _wants_help(args: Sequence[str]) -> bool:
    """Whether this run only shows a help page (``--help`` anywhere, no arguments, a group
    without its subcommand)."""
    words = [arg for arg in args if not arg.startswith("-")]
    return (
        not words
        or any(arg in _HELP_FLAGS for arg in args)
        or (len(words) == 1 and words[0] in _GROUPS)
    )


#: Modules typer's help imports for what this command line never draws (help written in
#: Markdown: markdown-it; pretty tracebacks: pygments), and the classes it takes from them.
_DEFERRED = {"rich.markdown": ("Markdown",), "rich.traceback": ("Traceback",)}


def _defer_help_extras() -> None:
    """Let typer's help load without the Markdown and traceback stacks it never uses here.

    ``typer.rich_utils`` imports ``rich.markdown`` and ``rich.traceback`` (markdown-it and
    pygments: together about as long as importing typer itself) for help written in Markdown
    and for pretty tracebacks; this command line writes its help in rich markup and prints its
    own one-line errors, so neither is drawn. Until something does use one, each is a small
    module whose classes build the real ones (imported then) on first use.
    """
    for name, classes in _DEFERRED.items():
        if name not in sys.modules:
            _defer(name, classes)


def _defer(name: str, classes: tuple[str, ...]) -> None:
    import types  # only on the way to a help page

    package, _, leaf = name.rpartition(".")
    parent = importlib.import_module(package)  # rich: typer's help draws with it next anyway
    deferred = types.ModuleType(name, f"{name}, imported on first use")

    def real() -> Any:
        if sys.modules.get(name) is deferred:
            del sys.modules[name]
        module = importlib.import_module(name)
        setattr(parent, leaf, module)
        return module

    class Deferred(type):
        def __getattr__(cls, attribute: str) -> Any:  # Traceback.from_exception and the like
            return getattr(getattr(real(), cls.__name__), attribute)

    def build(cls: type, *args: Any, **kwargs: Any) -> Any:
        return getattr(real(), cls.__name__)(*args, **kwargs)

    def lookup(attribute: str) -> Any:
        if attribute.startswith("__"):  # the import system asking what kind of module this is
            raise AttributeError(attribute)
        return getattr(real(), attribute)

    for cls_name in classes:  # classes, as typer names them in annotations
        setattr(deferred, cls_name, Deferred(cls_name, (), {"__new__": build, "__module__": name}))
    deferred.__getattr__ = lookup  # type: ignore[method-assign]
    sys.modules[name] = deferred
    setattr(parent, leaf, deferred)


#: The words typer's help draws itself, and what this command line says instead.
_TOOLKIT_WORDS = {
    "ARGUMENTS_PANEL_TITLE": N_("Arguments"),
    "OPTIONS_PANEL_TITLE": N_("Options"),
    "COMMANDS_PANEL_TITLE": N_("Commands"),
    "DEFAULT_STRING": N_("[default: {}]"),
    "REQUIRED_LONG_STRING": N_("[required]"),
}


def _toolkit_words() -> dict[str, str]:
    """The words typer's help draws itself, in the run's language (typer ships English)."""
    return {name: _(words) for name, words in _TOOLKIT_WORDS.items()}


def _typer_draws_help() -> None:
    """Ready typer to draw a help page itself: without the Markdown and traceback stacks, its
    panel titles in the run's language."""
    _defer_help_extras()
    from typer import rich_utils  # the help draws with it next anyway

    for name, words in _toolkit_words().items():
        setattr(rich_utils, name, words)


def _help_pages(command: Any) -> None:
    """A help page read through a pipe is drawn without rich, as rich would draw it
    (:mod:`clu_doctor.plainhelp`); on a terminal, or for what only rich draws, typer draws it."""
    from clu_doctor import plainhelp  # only for a help page

    plainhelp.install(command, _toolkit_words(), _typer_draws_help)


def _print_error(message: str, hint: str | None = None) -> None:
    print(error_line(message, hint, words=error_words()), file=sys.stderr)


def _report_problems(error: FileProblemError) -> None:
    """A file with problems: the first as the error line, the rest (collect-all) below it."""
    _print_error(str(error.problems[0]), error.hint)
    for problem in error.problems[1:]:
        print(error_line(str(problem), words=error_words()), file=sys.stderr)


def _from_interrupt(error: BaseException) -> bool:
    """A Ctrl-C that Python handed on as another exception: on 3.10 and 3.11, one raised while
    a class is created (a module imported mid-command, an enum or a record's field being set
    up) comes out as "RuntimeError: Error calling __set_name__", the KeyboardInterrupt as its
    cause. It is an interruption, not a bug."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def run(argv: list[str] | None = None, *, collector_held: bool = False) -> int:
    """Run the command line and return the exit code (what :func:`main` exits with).
    ``collector_held``: the caller turned the cycle collector off for the start-up; it is
    turned on again once the command is built (see :mod:`clu_doctor.__main__`)."""
    args = list(sys.argv[1:] if argv is None else argv)
    _state.debug = "--debug" in args or os.environ.get("CLU_DOCTOR_DEBUG") == "1"
    debuglog.enabled = _state.debug
    _tolerate_narrow_streams()
    try:
        args = _choose_language(args)
    except CluDoctorError as error:
        _print_error(error.message, error.hint)
        return int(error.exit_code)
    if [arg for arg in args if arg != "--debug"] in ([flag] for flag in _VERSION_FLAGS):
        print(f"{PROG} {__version__}")  # nothing to build for the version
        return int(ExitCode.OK)
    help_only = _wants_help(args)
    command = typer.main.get_command(_app_for(args))
    if help_only:
        _help_pages(command)
    if collector_held and not help_only:  # a help page is printed and done: no need
        _start_up_done()
    try:
        result = command.main(args=args, prog_name=PROG, standalone_mode=False)
    except FileProblemError as error:
        _maybe_traceback()
        error.hint = _for_people(error.hint)
        _report_problems(error)
        return int(error.exit_code)
    except CluDoctorError as error:
        _maybe_traceback()
        _print_error(error.message, _for_people(error.hint))
        return int(error.exit_code)
    except typer.exceptions.TyperException as error:  # click's usage errors, vendored by typer
        if type(error).__name__ == "NoArgsIsHelpError":
            # a command group without its subcommand: its help (printed already on a terminal,
            # carried in the message otherwise) is the answer, as for the bare root command
            message = _usage_message(error)
            if message:
                print(message)
            return int(ExitCode.OK)
        _maybe_traceback()
        hint = _usage_hint(error)
        _print_error(_usage_message(error), hint)
        return int(ExitCode.UNKNOWN)
    except typer.Abort:
        print(f"{PROG}: {_('aborted')}", file=sys.stderr)
        return int(ExitCode.INTERRUPTED)
    except KeyboardInterrupt:
        print(f"\n{PROG}: {_('interrupted')}", file=sys.stderr)
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        _silence_broken_pipe()
        return int(ExitCode.OK)
    except OSError as error:
        _maybe_traceback()
        _print_error(f"{error.strerror or error}", "run with --debug for details")
        return int(ExitCode.UNKNOWN)
    except Exception as error:  # a bug: still one line, the traceback on request
        if _from_interrupt(error):
            print(f"\n{PROG}: {_('interrupted')}", file=sys.stderr)
            return int(ExitCode.INTERRUPTED)
        _maybe_traceback()
        _print_error(
            f"internal error: {type(error).__name__}: {error}",
            "run with --debug for the traceback and please report it",
        )
        return int(ExitCode.UNKNOWN)
    if result == ExitCode.INTERRUPTED:
        print(f"\n{PROG}: {_('interrupted')}", file=sys.stderr)
    return int(result) if isinstance(result, int) else int(ExitCode.OK)


def _tolerate_narrow_streams() -> None:
    """A stream that cannot encode every character (``PYTHONIOENCODING=ascii``, a Latin-1
    terminal) shows ``?`` for what it cannot (a mark, a Nordic letter) instead of failing the
    run half-way; a UTF-8 stream is left alone."""
    for stream in (sys.stdout, sys.stderr):
        encoding = str(getattr(stream, "encoding", "") or "").lower().replace("-", "")
        reconfigure = getattr(stream, "reconfigure", None)
        if encoding.startswith("utf") or reconfigure is None:
            continue
        with contextlib.suppress(ValueError, OSError):  # a closed stream: nothing to show
            reconfigure(errors="replace")


def _choose_language(args: list[str]) -> list[str]:
    """Take ``--lang`` out of ``args`` wherever it stands (before the command or after it,
    before a ``--``), and show this run in the language it, ``CLU_DOCTOR_LANG`` or the
    locale chooses (see :mod:`clu_doctor.i18n`). Done before any command is built: their
    help texts are in that language too."""
    flag: str | None = None
    rest: list[str] = []
    words = iter(args)
    for arg in words:
        if arg == "--":
            rest.append(arg)
            rest.extend(words)
            break
        if arg == "--lang":
            flag = next(words, None)
            if flag is None:
                raise UsageError("--lang needs a value", "e.g. --lang nb (en, nb, sv or fi)")
        elif arg.startswith("--lang="):
            flag = arg.partition("=")[2] or " "
        else:
            rest.append(arg)
    i18n.activate(i18n.choose(flag))
    return rest


def _for_people(hint: str | None) -> str | None:
    """The hint with the command or flag that the layer below could not name."""
    from clu_doctor.commands.options import people_hint  # on the error path only

    return people_hint(hint)


def _usage_message(error: typer.exceptions.TyperException) -> str:
    format_message = getattr(error, "format_message", None)
    message = format_message() if callable(format_message) else error.message
    return str(message).rstrip(".")


def _usage_hint(error: typer.exceptions.TyperException) -> str:
    ctx = getattr(error, "ctx", None)
    command_path = getattr(ctx, "command_path", None) or PROG
    return f"see '{command_path} --help'"


def _maybe_traceback() -> None:
    if _state.debug:
        traceback.print_exc()


def _silence_broken_pipe() -> None:
    """The reader went away (``| head``): stop quietly, as Unix tools do."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def main(*, collector_held: bool = False) -> NoReturn:
    """Console-script entry point (``collector_held``: see :func:`run`)."""
    code = run(collector_held=collector_held)
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_broken_pipe()
    sys.exit(code)
