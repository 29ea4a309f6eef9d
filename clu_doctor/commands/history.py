"""``clu-doctor history``: a site's recorded checks, and what they say about its stations."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from clu_doctor.commands import flow
from clu_doctor.commands import options as bus_options
from clu_doctor.errors import UsageError
from clu_doctor.i18n import N_, _

if TYPE_CHECKING:
    from clu_doctor.site.model import Site

HELP = N_("""Show the recorded checks of a site and what they say about its stations.

One line per check (oldest first: time, status, exit code, duration, stations answering,
findings or why it could not check), then one column per completed check for each station
(+ answered, - silent), then what the history says: since when a station is silent, and
which stations come and go (flapping, per the site file's thresholds.flapping).

The history is written by 'clu-doctor check'. It is read from --history-dir, else
$CLU_DOCTOR_STATE_DIR, else your user state directory (~/.local/state/clu-doctor on Linux,
%LOCALAPPDATA%\\clu-doctor on Windows); reading it never waits for a check that is writing.
A check run by another user (a service account) keeps its history elsewhere: give its
--history-dir or CLU_DOCTOR_STATE_DIR.

Exit code: 0 the history was shown, 3 no history of the site yet, or a bad site file.
""")

EPILOG = N_("""Examples:

  clu-doctor history --site /etc/clu-doctor/site.yaml

  clu-doctor history --site site.yaml --last 96             # a day of 15-minute checks

  clu-doctor history --site site.yaml --format json > history.json

  clu-doctor history --site site.yaml --history-dir /var/lib/clu-doctor

  clu-doctor history --sim unpowered-station               # after clu-doctor check --sim ...
""")


class HistoryFormat(str, Enum):
    """The output formats of ``clu-doctor history``."""

    TEXT = "text"
    JSON = "json"


def history(
    site: bus_options.SiteOption = None,
    sim: Annotated[
        str | None,
        typer.Option(
            "--sim",
            metavar="SCENARIO",
            help=_(
                "The history 'clu-doctor check --sim SCENARIO' recorded (the scenario's own "
                "site plan; see 'clu-doctor sim --list')."
            ),
            autocompletion=bus_options.complete_scenario,
        ),
    ] = None,
    history_dir: Annotated[
        Path | None,
        typer.Option(
            "--history-dir",
            metavar="DIR",
            help=_(
                "Where the checks record the history (default: $CLU_DOCTOR_STATE_DIR, else "
                "your user state directory, ~/.local/state/clu-doctor on Linux)."
            ),
        ),
    ] = None,
    last: Annotated[
        int, typer.Option("--last", "-n", min=1, metavar="N", help=_("Show the newest N checks."))
    ] = 20,
    output_format: Annotated[
        HistoryFormat, typer.Option("--format", "-f", help=_("text or json."))
    ] = HistoryFormat.TEXT,
    json_output: Annotated[bool, typer.Option("--json", help=_("Same as --format json."))] = False,
) -> int:
    from clu_doctor.exitcodes import ExitCode
    from clu_doctor.monitoring.history import History

    site_plan = _site(site, sim)
    flapping = site_plan.thresholds.flapping
    directory = history_dir.expanduser() if history_dir is not None else None
    with History.open(site_plan.name, directory, create=False) as recorded:
        facts = recorded.facts(missed=flapping.missed, of=flapping.of)
        # Streamed: a year of checks in flat memory.
        if json_output or output_format is HistoryFormat.JSON:
            from clu_doctor.report.history import history_dump_chunks

            chunks = history_dump_chunks(recorded.iter_dump(last), site=site_plan.name, facts=facts)
        else:
            from clu_doctor.report.console import OutputMode
            from clu_doctor.report.history import history_marks_chunks

            chunks = history_marks_chunks(
                recorded.iter_marks(last),
                OutputMode.for_stream(),
                site=site_plan.name,
                facts=facts,
                span=recorded.span(last),
            )
        for chunk in chunks:
            sys.stdout.write(chunk)
    return int(ExitCode.OK)


def _site(path: Path | None, sim: str | None) -> Site:
    """The site whose history to show: --site's file, else --sim's plan (as check uses it)."""
    if path is not None:
        if sim is not None:
            raise UsageError(
                "give --site or --sim, not both",
                hint="a check given both records under the site file's name: use --site",
            )
        plan = bus_options.load_site_option(path)
        assert plan is not None
        return plan
    if sim is None:
        raise UsageError(
            "give --site FILE (the site.yaml the checks use), or --sim SCENARIO",
            hint="e.g. clu-doctor history --site /etc/clu-doctor/site.yaml",
        )
    simulated = bus_options.read_simulation(sim).site()
    if simulated is None:
        raise UsageError(
            f"simulated site {sim!r} has no charge points, so no check records a history for it",
            hint="see 'clu-doctor sim --list'",
        )
    return simulated


def register(app: typer.Typer) -> None:
    app.command(help=flow(_(HELP)), epilog=_(EPILOG))(history)
