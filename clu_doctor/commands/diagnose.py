"""``clu-doctor diagnose``: observations in (flags, answers file, questionnaire), remedies out."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from clu_doctor.commands import flow
from clu_doctor.commands import options as bus_options
from clu_doctor.i18n import N_, _

if TYPE_CHECKING:
    from clu_doctor.engine import Diagnosis, Observation, ObservationSpec, Rulebook
    from clu_doctor.probing import BusPlan
    from clu_doctor.probing.prober import ProbeEvents
    from clu_doctor.site.model import Site

HELP = N_("""Diagnose a CLU site from what its LEDs show and return the manual's remedy steps.

Observations come from --observe flags, an --answers file, and (only on a terminal, unless
--no-input) an interactive questionnaire that asks just what is still needed; the CloudCharge
portal questions come last and can be skipped together. Flags win over the answers file.
Anything not given counts as "don't know". When the result can change soon (the CLU still
starting), a terminal run offers to wait with a countdown and then look or listen again.

Exit code: 0 nothing wrong, 1 warning, 2 critical fault, 3 nothing could be decided or the
input was invalid.
""")

EPILOG = N_("""Examples:

  clu-doctor diagnose                                   # questionnaire

  clu-doctor diagnose -o clu.power_led=off -o clu.status_led=off --no-input

  clu-doctor diagnose --answers site-visit.yaml --json > result.json

  clu-doctor diagnose -o usb.red_led=flashing -o usb.green_led=off -o clu.uptime_s=10m --why

  clu-doctor diagnose --port /dev/ttyUSB0 --site site.yaml    # listens first, then asks

  clu-doctor diagnose --sim cable-break --no-input --json     # no hardware: simulated site

With --port or --sim the tool listens to the bus first (it never transmits while the CLU
polls), so it asks only what the bus cannot tell; with the bus found quiet (CLU disconnected)
it also reads each address to find missing stations, breaks and duplicate addresses.

Observation keys: run 'clu-doctor rules observations'.
""")


def complete_observation(incomplete: str) -> list[tuple[str, str]]:
    """Shell completion for ``--observe``: keys first, then ``key=value`` pairs."""
    from clu_doctor.engine import UNKNOWN, ValueKind, load_rulebook

    try:
        vocabulary = load_rulebook().vocabulary
    except Exception:  # completion must never print a traceback into the shell
        return []
    key, sep, _value = incomplete.partition("=")
    if not sep:
        return [(f"{spec.key}=", spec.question) for spec in vocabulary if spec.key.startswith(key)]
    if key not in vocabulary:
        return []
    spec = vocabulary.spec(key)
    if spec.kind is ValueKind.CHOICE:
        values = [(v.name, v.help) for v in spec.values] + [(UNKNOWN, "don't know")]
    else:
        values = [("60", "seconds"), ("5m", "minutes"), ("2h", "hours"), (UNKNOWN, "don't know")]
    return [(f"{key}={v}", h) for v, h in values if f"{key}={v}".startswith(incomplete)]


def collect_observations(
    rulebook: Rulebook, observe: list[str], answers: Path | None
) -> dict[str, Observation]:
    """Answers file first, then flags on top (a flag corrects a file)."""
    from clu_doctor.engine import load_answers, parse_assignment

    collected: dict[str, Observation] = {}
    if answers is not None:
        collected.update(load_answers(answers.expanduser(), rulebook.vocabulary))
    for text in observe:
        observation = parse_assignment(text, rulebook.vocabulary)
        collected[observation.key] = observation
    return collected


class Terminal:
    """The person at the keyboard: lines read from stdin, prompts and chatter on stderr."""

    def __init__(self) -> None:
        import os

        from clu_doctor.report.console import is_terminal

        self.styled = is_terminal(sys.stderr) and "NO_COLOR" not in os.environ

    @staticmethod
    def read_line() -> str:
        sys.stderr.flush()
        line = sys.stdin.readline()
        if not line:
            raise EOFError
        return line.rstrip("\n")

    @staticmethod
    def write(text: str) -> None:
        sys.stderr.write(text)
        sys.stderr.flush()


def run_questionnaire(
    rulebook: Rulebook,
    collected: dict[str, Observation],
    probe: Callable[[ObservationSpec], Mapping[str, Observation]] | None,
    before: Mapping[str, Observation] | None = None,
) -> None:
    """Ask on the terminal (prompts on stderr) for what the trees still need."""
    from clu_doctor.ui.questionnaire import Questionnaire

    terminal = Terminal()
    Questionnaire(rulebook, terminal.read_line, terminal.write, styled=terminal.styled).run(
        collected, probe, before=before
    )
    terminal.write("\n")


def look_again(
    rulebook: Rulebook, collected: dict[str, Observation], waited: float, *, relisten: bool
) -> dict[str, Observation]:
    """After waiting ``waited`` seconds: what may have changed leaves ``collected``.

    A time since power-up (a number observation in seconds) grows by the time waited. What a
    person saw (the LEDs, whether charging starts) may have changed: those answers are taken
    out and returned, to be asked again with the earlier answer kept by Enter. Answers of a
    question group (the portal) stay. With ``relisten``, what the bus said goes too, to be
    heard again.
    """
    from clu_doctor.engine import UNKNOWN, AnswerSource, SpecSource, ValueKind

    before: dict[str, Observation] = {}
    for key, observation in list(collected.items()):
        spec = rulebook.vocabulary.spec(key)
        if spec.source is SpecSource.PROBE:
            if relisten:
                del collected[key]
        elif observation.source is AnswerSource.DEFAULT:
            del collected[key]
        elif spec.kind is ValueKind.NUMBER and spec.unit == "s":
            if observation.value != UNKNOWN:
                grown = rulebook.vocabulary.parse(
                    key, round(float(observation.value) + waited, 1), observation.source
                )
                collected[key] = grown._replace(
                    detail=f"{observation.value} s when answered, {round(waited)} s waited since"
                )
        elif spec.group is None:
            before[key] = collected.pop(key)
    return before


@bus_options.bus_flags()
def diagnose(
    *,
    observe: Annotated[
        list[str] | None,
        typer.Option(
            "--observe",
            "-o",
            metavar="KEY=VALUE",
            help=_("An observation, e.g. clu.power_led=off (repeatable)."),
            autocompletion=complete_observation,
        ),
    ] = None,
    answers: Annotated[
        Path | None,
        typer.Option(
            "--answers",
            "-a",
            metavar="FILE",
            help=_(
                "YAML or JSON file of observations (key: value); 'clu-doctor rules "
                "observations --template' prints one to fill in."
            ),
        ),
    ] = None,
    bus: bus_options.BusFlags,
    listen_seconds: Annotated[
        float,
        typer.Option(
            "--listen-seconds", min=0.5, help=_("How long to listen to the bus before deciding.")
        ),
    ] = 10.0,
    transmit: bus_options.TransmitOption = False,
    save: bus_options.SaveOption = None,
    no_input: Annotated[
        bool,
        typer.Option("--no-input", help=_("Never ask; what is not given counts as don't know.")),
    ] = False,
    json_output: Annotated[
        bool, typer.Option("--json", help=_("Print a JSON document instead of text."))
    ] = False,
    why: Annotated[
        bool,
        typer.Option(
            "--why", help=_("Show all the evidence and which answers led to each finding.")
        ),
    ] = False,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            "-v",
            help=_("Show all the evidence as the probes wrote it, also for what was fine."),
        ),
    ] = False,
    rules: bus_options.RulesOption = None,
) -> int:
    from clu_doctor.engine import load_rulebook

    rulebook = load_rulebook(rules.expanduser() if rules else None)
    collected = collect_observations(rulebook, observe or [], answers)
    site_plan = bus_options.load_site_option(bus.site)
    target = bus_options.resolve_target(bus.port, bus.sim, site_plan, bus.profile, bus.at, bus.line)
    interactive = not no_input and sys.stdin.isatty()
    shown = False
    with contextlib.ExitStack() as stack:
        probing = None
        if target is not None:
            # the bus and the probes only when there is a bus (start-up of LED-only runs)
            from clu_doctor.ui.progress import terminal_events

            plan = bus_options.plan_for(
                target, listen_s=listen_seconds, transmit=transmit, save=save
            )
            stack.enter_context(bus_options.flag_hints())
            probing = _Probing(target, plan, stack, terminal_events(stack))
            site_plan = target.site
        diagnosis = _diagnose(rulebook, collected, site_plan, probing, interactive)
        while interactive and (wait_s := _wait_s(diagnosis)) is not None:
            if not json_output and _stdout_is_terminal():
                sys.stdout.write(_text(rulebook, diagnosis, why, verbose))
                shown = True
            from clu_doctor.ui.waiting import count_down, offer_wait  # only when waiting

            terminal = Terminal()
            if not offer_wait(wait_s, terminal.read_line, terminal.write):
                break
            waited = count_down(wait_s, terminal.write)
            before = look_again(rulebook, collected, waited, relisten=probing is not None)
            if probing is not None:
                probing.again()
            diagnosis = _diagnose(rulebook, collected, site_plan, probing, True, before)
            shown = False
        evidence = probing.prober.evidence() if probing is not None else None
    if json_output:
        from clu_doctor.report.diagnosis import render_json

        # the findings whose texts are English in this language, and why (empty in English)
        reported = {item.id for item in diagnosis.all_findings()}
        left = rulebook.untranslated_findings()
        extra: dict[str, object] = {
            "untranslated": {fid: state for fid, state in left.items() if fid in reported}
        }
        if evidence is not None:
            extra["evidence"] = evidence
        sys.stdout.write(render_json(diagnosis, extra))
    elif not shown:
        sys.stdout.write(_text(rulebook, diagnosis, why, verbose))
    return int(diagnosis.exit_code)


def _wait_s(diagnosis: Diagnosis) -> float | None:
    """Seconds until the result can change, if it can (the engine's ``wait_s``)."""
    wait_s = getattr(diagnosis, "wait_s", None)
    return float(wait_s) if isinstance(wait_s, (int, float)) and wait_s > 0 else None


def _diagnose(
    rulebook: Rulebook,
    collected: dict[str, Observation],
    site_plan: Site | None,
    probing: _Probing | None,
    interactive: bool,
    before: Mapping[str, Observation] | None = None,
) -> Diagnosis:
    """Ask (on a terminal), probe, grade, and walk the trees once."""
    prober = probing.prober if probing is not None else None
    resolver = None
    if prober is not None or site_plan is not None:
        from clu_doctor.probing import known_at_start, make_resolver, observe

        for key, known in known_at_start(site_plan).items():
            collected.setdefault(key, known)  # the site file before any question
        resolver = make_resolver(site_plan, prober)
    if interactive:
        run_questionnaire(rulebook, collected, resolver, before)
    if resolver is not None:
        observe(rulebook, prober, site_plan, collected)
    return rulebook.diagnose(collected)


class _Probing:
    """The bus session of one diagnosis; after a wait, a new one on the same bus."""

    def __init__(
        self,
        target: bus_options.Target,
        plan: BusPlan,
        stack: contextlib.ExitStack,
        events: ProbeEvents | None,
    ) -> None:
        from clu_doctor import clock
        from clu_doctor.probing import BusProber

        self.target, self.plan, self.stack, self.events = target, plan, stack, events
        self.started = clock.current().now()
        self.prober = stack.enter_context(BusProber(plan, events))

    def again(self) -> None:
        """Listen again from the start. A simulated site is the same site as much later as
        the clock has moved (its CLU powered that much longer), as a real one would be."""
        import dataclasses

        from clu_doctor import clock
        from clu_doctor.probing import BusProber

        self.prober.close()
        plan = self.plan
        simulation = self.target.simulation
        if simulation is not None:
            later = simulation.later(clock.current().now() - self.started)
            plan = dataclasses.replace(plan, port=later.url, opener=later.open_port)
        self.prober = self.stack.enter_context(BusProber(plan, self.events))


def _stdout_is_terminal() -> bool:
    from clu_doctor.report.console import is_terminal  # rich-free; only for waiting runs

    return is_terminal(sys.stdout)


def _text(rulebook: Rulebook, diagnosis: Diagnosis, why: bool, verbose: bool) -> str:
    from clu_doctor.report.console import OutputMode
    from clu_doctor.report.diagnosis import render_text

    questions = {spec.key: spec.question for spec in rulebook.vocabulary}
    mode = OutputMode.for_stream(sys.stdout)
    return render_text(
        diagnosis,
        mode,
        why=why,
        verbose=verbose,
        questions=questions,
        trees=rulebook.trees,
        untranslated=rulebook.untranslated_findings(),
    )


def register(app: typer.Typer) -> None:
    app.command(help=flow(_(HELP)), epilog=_(EPILOG), no_args_is_help=False)(diagnose)
