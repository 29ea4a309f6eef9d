"""``clu-doctor rules``: check, show and list the decision trees and their vocabulary."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from clu_doctor.commands import flow
from clu_doctor.i18n import N_, _

if TYPE_CHECKING:
    from clu_doctor.catalogues import Coverage
    from clu_doctor.engine import Finding, Rulebook

#: ``--rules PATH``: a rules directory of one's own instead of the bundled one.
RulesPath = Annotated[
    Path | None, typer.Option("--rules", metavar="PATH", help=_("Another rules directory."))
]

rules_app = typer.Typer(
    help=_("Check, show and list the decision trees (for rule authors and the curious)."),
    epilog=(
        _(
            "Examples:\n\n"
            "  clu-doctor rules check                  # are the bundled rules valid?\n\n"
            "  clu-doctor rules show usb-leds          # one decision tree\n\n"
            "  clu-doctor explain BUS-BREAK-01         # one finding: cause, steps, manual\n\n"
            "  clu-doctor rules list                   # every finding id and its severity\n\n"
            "  clu-doctor rules observations           # the keys diagnose --observe takes"
        )
    ),
    no_args_is_help=True,
)


class ShowFormat(str, Enum):
    TEXT = "text"
    MARKDOWN = "markdown"
    JSON = "json"


CHECK_HELP = N_(
    """Validate rules and run every tree's own test cases; report every problem in every file.

Exit 0 when valid, 3 (UNKNOWN: diagnoses cannot be trusted) when anything is wrong."""
)


@rules_app.command(
    help=_(CHECK_HELP),
    epilog=(
        _(
            "Examples:\n\n"
            "  clu-doctor rules check                  # the bundled rules\n\n"
            "  clu-doctor rules check my-rules/        # a rules directory\n\n"
            "  clu-doctor rules check my-tree.yaml     # one tree, against the bundled vocabulary"
        )
    ),
)
def check(
    path: Annotated[
        Path | None,
        typer.Argument(help=_("Rules directory or tree file (default: the bundled rules).")),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help=_("Print a JSON document."))] = False,
) -> int:
    from clu_doctor.engine import load_rulebook
    from clu_doctor.errors import FileProblemError, Problem
    from clu_doctor.exitcodes import ExitCode

    problems: list[Problem] = []
    try:  # from the files themselves, never what was kept of them
        rulebook = load_rulebook(path.expanduser() if path else None, fresh=True)
    except FileProblemError as error:
        problems = list(error.problems)
        rulebook = None
    if rulebook is not None:
        problems = rulebook.failing_cases()
    source = str(path) if path else "bundled rules"
    languages = _coverage(path, rulebook) if rulebook is not None and not problems else []
    if json_output:
        from clu_doctor.report import envelope, to_json

        body = {
            "source": source,
            "valid": not problems,
            "problems": [
                {
                    "path": p.location.path,
                    "line": p.location.line,
                    "column": p.location.column,
                    "message": p.message,
                    "expected": p.expected,
                }
                for p in problems
            ],
        }
        if rulebook is not None:
            body["counts"] = _counts(rulebook)
        body["translations"] = {c.language: c.to_dict() for c in languages}
        sys.stdout.write(to_json(envelope("rules-check", body)))
    elif problems:
        for problem in problems:
            print(str(problem))
        print(f"{len(problems)} problem{'s' if len(problems) > 1 else ''} in {source}")
    elif rulebook is not None:
        counts = _counts(rulebook)
        print(
            f"{source}: OK ({counts['trees']} trees, {counts['findings']} findings, "
            f"{counts['observations']} observations, {counts['cases']} cases pass)"
        )
        for line in _coverage_lines(languages):
            print(line)
    if problems:
        return int(ExitCode.UNKNOWN)
    # a text missing in a language is shown in English there: worth a look, not invalid
    return int(ExitCode.WARNING if any(c.gaps for c in languages) else ExitCode.OK)


#: Gaps listed per language in the text output (all of them: --json).
_GAPS_SHOWN = 12


def _coverage(path: Path | None, rulebook: object) -> list[Coverage]:
    """Each language's coverage: the bundled rules' and the messages', or a rules
    directory's own catalogues (none when it has no ``locale/``: it is English only)."""
    from clu_doctor import resources
    from clu_doctor.catalogues import coverage
    from clu_doctor.engine import Rulebook
    from clu_doctor.engine.texts import LOCALE_DIR, rule_texts

    assert isinstance(rulebook, Rulebook)
    root = path.expanduser() if path is not None else resources.rules_dir()
    bundled = path is None
    if not bundled and not (root.is_dir() and (root / LOCALE_DIR).is_dir()):
        return []
    return coverage(root, rule_texts(rulebook), messages=bundled)


def _coverage_lines(languages: list[Coverage]) -> list[str]:
    lines = []
    for item in languages:
        if not item.gaps:
            lines.append(f"  {item.language}: every text translated ({item.translated})")
            continue
        counts = ", ".join(
            f"{item.count(state)} {state.value}" for state in {gap.state: None for gap in item.gaps}
        )
        lines.append(f"  {item.language}: {counts} (shown in English)")
        for gap in item.gaps[:_GAPS_SHOWN]:
            where = f"{gap.location}: " if gap.location else ""
            lines.append(f"    {where}{gap}")
        if len(item.gaps) > _GAPS_SHOWN:
            lines.append(f"    ... {len(item.gaps) - _GAPS_SHOWN} more: --json lists them all")
    return lines


def _counts(rulebook: object) -> dict[str, int]:
    from clu_doctor.engine import Rulebook

    assert isinstance(rulebook, Rulebook)
    return {
        "trees": len(rulebook.trees),
        "findings": len(rulebook.findings),
        "observations": len(rulebook.vocabulary.specs),
        "cases": sum(len(tree.cases) for tree in rulebook.trees),
    }


SHOW_HELP = N_(
    """Show the decision trees (questions, branches and the findings they lead to), or
explain findings by their id."""
)


@rules_app.command(
    help=_(SHOW_HELP),
    epilog=(
        _(
            "Examples:\n\n"
            "  clu-doctor rules show\n\n"
            "  clu-doctor rules show usb-leds\n\n"
            "  clu-doctor rules show BUS-BREAK-01        # one finding, as clu-doctor explain shows it\n\n"
            "  clu-doctor rules show --format markdown > docs/rules.md"
        )
    ),
)
def show(
    names: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[TREE|FINDING]...",
            help=_("Tree ids or finding ids to show (default: all trees)."),
        ),
    ] = None,
    output_format: Annotated[
        ShowFormat, typer.Option("--format", "-f", help=_("text, markdown or json."))
    ] = ShowFormat.TEXT,
    json_output: Annotated[bool, typer.Option("--json", help=_("Same as --format json."))] = False,
    rules: RulesPath = None,
) -> None:
    from clu_doctor.engine import load_rulebook
    from clu_doctor.report import rules as render

    rulebook = load_rulebook(rules.expanduser() if rules else None)
    trees, findings = render.select(rulebook, names)
    fmt = ShowFormat.JSON if json_output else output_format
    out = []
    if trees or not findings:
        if fmt is ShowFormat.JSON:
            out.append(render.render_json(rulebook, trees))
        elif fmt is ShowFormat.MARKDOWN:
            out.append(render.render_markdown(rulebook, trees))
        else:
            from clu_doctor.report.console import OutputMode

            out.append(render.render_tree_text(rulebook, trees, OutputMode.for_stream()))
    if findings:
        out.append(_explained(rulebook, findings, fmt))
    sys.stdout.write("\n".join(out))


def _explained(rulebook: Rulebook, findings: list[Finding], fmt: ShowFormat) -> str:
    from clu_doctor.report import rules as render

    if fmt is ShowFormat.JSON:
        return render.render_explain_json(findings)
    if fmt is ShowFormat.MARKDOWN:
        return render.render_explain_markdown(findings)
    from clu_doctor.report.console import OutputMode

    return render.render_explain_text(rulebook, findings, OutputMode.for_stream())


EXPLAIN_HELP = N_("""Explain findings by their id: what each means, why it happens, the numbered steps
to fix it, what to expect after the fix, when to call DEFA support, and the manual's section.

The ids are those diagnose, check, listen and scan print (e.g. BUS-BREAK-01), in any case;
'clu-doctor rules list' lists them all. An unknown id is exit 3 with the closest ids.
""")


def explain(
    ids: Annotated[
        list[str],
        typer.Argument(metavar="ID...", help=_("Finding ids, e.g. BUS-BREAK-01 (any case).")),
    ],
    output_format: Annotated[
        ShowFormat, typer.Option("--format", "-f", help=_("text, markdown or json."))
    ] = ShowFormat.TEXT,
    json_output: Annotated[bool, typer.Option("--json", help=_("Same as --format json."))] = False,
    rules: RulesPath = None,
) -> None:
    from clu_doctor.engine import load_rulebook
    from clu_doctor.report import rules as render

    rulebook = load_rulebook(rules.expanduser() if rules else None)
    findings = render.select_findings(rulebook, ids)
    sys.stdout.write(
        _explained(rulebook, findings, ShowFormat.JSON if json_output else output_format)
    )


LIST_HELP = N_("""List every finding: id, severity, layer, tree and title.""")


@rules_app.command(
    help=_(LIST_HELP),
    name="list",
    epilog=(
        _(
            "Examples:\n\n"
            "  clu-doctor rules list\n\n"
            "  clu-doctor rules list | grep BUS-        # the ids an ignore: entry in site.yaml may name"
        )
    ),
)
def list_findings(
    json_output: Annotated[bool, typer.Option("--json", help=_("Print a JSON document."))] = False,
    rules: RulesPath = None,
) -> None:
    from clu_doctor.engine import load_rulebook
    from clu_doctor.report import rules as render

    rulebook = load_rulebook(rules.expanduser() if rules else None)
    if json_output:
        sys.stdout.write(render.render_findings_json(rulebook))
    else:
        sys.stdout.write(render.render_findings_list(rulebook))


OBSERVATIONS_HELP = N_("""List the observation keys, their values and the question each answers.""")


@rules_app.command(
    help=_(OBSERVATIONS_HELP),
    epilog=(
        _(
            "Examples:\n\n"
            "  clu-doctor rules observations\n\n"
            "  clu-doctor rules observations --json\n\n"
            "  clu-doctor rules observations | grep -A2 '^usb\\.'   # the USB interface's LEDs\n\n"
            "  clu-doctor diagnose --observe usb.red_led=flashing    # answer one in advance\n\n"
            "  clu-doctor rules observations --template > site-visit.yaml   # an answers file"
        )
    ),
)
def observations(
    json_output: Annotated[bool, typer.Option("--json", help=_("Print a JSON document."))] = False,
    template: Annotated[
        bool,
        typer.Option(
            "--template",
            help=_("Print an answers file to fill in, for 'clu-doctor diagnose --answers FILE'."),
        ),
    ] = False,
) -> None:
    from clu_doctor.engine import load_rulebook

    vocabulary = load_rulebook().vocabulary
    if template:
        from clu_doctor.report.answers import render_answers_template  # only for --template

        sys.stdout.write(render_answers_template(vocabulary))
        return
    if json_output:
        from clu_doctor.report import envelope, to_json

        sys.stdout.write(
            to_json(envelope("observations", {"observations": [s.to_dict() for s in vocabulary]}))
        )
        return
    from clu_doctor.report.answers import value_words  # the one way to list them

    for spec in vocabulary:
        print(f"{spec.key}\n    {spec.question}\n    {_('values:')} {value_words(spec)}")


def register(app: typer.Typer) -> None:
    app.add_typer(rules_app, name="rules")
    app.command(
        help=flow(_(EXPLAIN_HELP)),
        epilog=(
            _(
                "Examples:\n\n"
                "  clu-doctor explain BUS-BREAK-01\n\n"
                "  clu-doctor explain usb-dark-01 clu-pwr-01\n\n"
                "  clu-doctor explain BUS-DUP-01 --json"
            )
        ),
    )(explain)
