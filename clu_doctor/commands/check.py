"""``clu-doctor check``: the unattended health check for cron, systemd timers and monitoring."""

from __future__ import annotations

import contextlib
import dataclasses
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from clu_doctor import __version__
from clu_doctor.commands import flow
from clu_doctor.commands import options as bus_options
from clu_doctor.errors import CluDoctorError, UsageError, error_line
from clu_doctor.i18n import N_, _, error_words
from clu_doctor.report import CheckFormat

if TYPE_CHECKING:
    from clu_doctor.monitoring.history import History
    from clu_doctor.monitoring.result import CheckResult
    from clu_doctor.site.model import Site

HELP = N_("""Check a site once, unattended, and report in your monitoring system's language.

Listens to the bus for a bounded time (it never transmits while the CLU polls; active probes
only where site.yaml says clu: disconnected, or with --transmit), compares what it hears with
site.yaml, the site's history and its thresholds, and prints one result. Never prompts; the
whole check, port opening included, ends within --timeout. Every run is recorded in the
site's history (see 'clu-doctor history').

Exit code (monitoring-plugin convention, whatever the format): 0 OK, 1 WARNING, 2 CRITICAL,
3 UNKNOWN: could not check (no port, port busy, invalid site or rules file, timed out, not one
frame heard, stopped by SIGTERM, a usage error). Not one frame heard in --silent-bus-critical
checks in a row is CRITICAL: a CLU without power stops polling. Ctrl-C prints the UNKNOWN
line too, and exits 130.
""")

EPILOG = N_("""Examples:

  clu-doctor check --site /etc/clu-doctor/site.yaml --format nagios

  clu-doctor check --site site.yaml --format prometheus --textfile-dir /var/lib/node_exporter/textfile_collector

  clu-doctor check --site site.yaml --port /dev/ttyUSB0 --json

  clu-doctor check --sim unpowered-station              # no hardware: a simulated site

  clu-doctor check -s site.yaml -f nagios -t 60 -w 1 -c 2   # plugin-style thresholds

The port comes from --port, else from 'port:' in site.yaml; 'clu-doctor site init' writes a
site.yaml to start from. Crontab lines, systemd units, Icinga/Nagios definitions and alert
rules: 'clu-doctor docs monitoring'.
""")

#: Longest a check may wait for another check of the same site to finish writing the history.
HISTORY_WAIT_S = 10.0


def _version(value: bool) -> None:
    if value:
        typer.echo(f"clu-doctor {__version__}")
        raise typer.Exit(0)


@bus_options.bus_flags("site", "port", "sim", "profile", "baud", "parity", "stopbits", "rs485")
def check(
    bus: bus_options.BusFlags,
    fmt: Annotated[
        CheckFormat,
        typer.Option("--format", "-f", help=_("Output format."), case_sensitive=False),
    ] = CheckFormat.TEXT,
    json_output: Annotated[bool, typer.Option("--json", help=_("Same as --format json."))] = False,
    textfile_dir: Annotated[
        Path | None,
        typer.Option(
            "--textfile-dir",
            metavar="DIR",
            help=_(
                "Also write the Prometheus metrics, atomically, to DIR/clu_doctor_<site>.prom "
                "(node_exporter's textfile collector)."
            ),
        ),
    ] = None,
    history_dir: Annotated[
        Path | None,
        typer.Option(
            "--history-dir",
            metavar="DIR",
            help=_(
                "Where the site's history lives (default: $CLU_DOCTOR_STATE_DIR, else "
                "your user state directory, ~/.local/state/clu-doctor on Linux)."
            ),
        ),
    ] = None,
    no_history: Annotated[
        bool,
        typer.Option("--no-history", help=_("Neither read nor write the site's history.")),
    ] = False,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout",
            "-t",
            min=5.0,
            max=3600.0,
            help=_("Upper bound on the whole check, port opening included, in seconds."),
        ),
    ] = 45.0,
    listen_seconds: Annotated[
        float | None,
        typer.Option(
            "--listen-seconds",
            min=1.0,
            help=_("How long to listen (default 20 s; 5 s before active probes)."),
        ),
    ] = None,
    transmit: Annotated[
        bool,
        typer.Option(
            "--transmit",
            help=_(
                "Read every address even while something polls (it may disturb charging). "
                "Without it the check only listens, unless site.yaml says clu: disconnected."
            ),
        ),
    ] = False,
    save: bus_options.SaveOption = None,
    rules: bus_options.RulesOption = None,
    warning: Annotated[
        int | None,
        typer.Option(
            "--warning",
            "-w",
            min=1,
            max=16,
            metavar="N",
            help=_(
                "Silent planned stations that make a WARNING "
                "(overrides thresholds.stations_silent.warning; default 1)."
            ),
            rich_help_panel="Thresholds",
        ),
    ] = None,
    critical: Annotated[
        int | None,
        typer.Option(
            "--critical",
            "-c",
            min=1,
            max=16,
            metavar="N",
            help=_(
                "Silent planned stations that make it CRITICAL "
                "(overrides thresholds.stations_silent.critical; default 1)."
            ),
            rich_help_panel="Thresholds",
        ),
    ] = None,
    silent_bus_critical: Annotated[
        int | None,
        typer.Option(
            "--silent-bus-critical",
            min=0,
            max=1000,
            metavar="N",
            help=_(
                "Checks in a row that hear not a single byte (a CLU without power) that make "
                "it CRITICAL instead of UNKNOWN; 0 never (overrides "
                "thresholds.silent_bus.critical; default never). Needs the history."
            ),
            rich_help_panel="Thresholds",
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            callback=_version,
            is_eager=True,
            help=_("Show the version and exit."),
        ),
    ] = False,
) -> int:
    from clu_doctor.monitoring.interrupt import (
        Interrupted,
        as_interrupted,
        second_signal_ends_at_once,
        signals_as_interrupts,
    )
    from clu_doctor.monitoring.run import interrupted, iso_utc, utc_now

    started = time.monotonic()  # the --timeout budget: wall-clock time, as the deadline's alarm
    started_at = iso_utc(utc_now())
    if json_output:
        fmt = CheckFormat.JSON
    site_plan: Site | None = None
    history: History | None = None
    with signals_as_interrupts():
        try:
            try:
                simulation = bus_options.read_simulation(bus.sim) if bus.sim else None
                site_plan = _with_thresholds(
                    _site(bus.site, simulation), warning, critical, silent_bus_critical
                )
                if textfile_dir is not None:
                    from clu_doctor.monitoring.textfile import check_directory

                    check_directory(textfile_dir.expanduser())  # before the bus, not after it
                if history_dir is not None and no_history:
                    raise UsageError("give --history-dir or --no-history, not both")
                missing = None
                if not no_history:
                    history, missing = _open_history(site_plan.name, history_dir)
                return _run(
                    site_plan,
                    history,
                    history_missing=missing,
                    port=bus.port,
                    sim=simulation,
                    profile=bus.profile,
                    line=bus.line,
                    fmt=fmt,
                    textfile_dir=textfile_dir,
                    timeout=timeout,
                    listen_seconds=listen_seconds,
                    transmit=transmit,
                    save=save,
                    rules=rules,
                    started=started,
                )
            except (KeyboardInterrupt, Interrupted) as error:  # before or after the bus
                stop = as_interrupted(error)
                assert stop is not None
                raise interrupted(stop, time.monotonic() - started, "starting") from None
        except CluDoctorError as failure:
            with second_signal_ends_at_once(int(failure.exit_code)):
                return _could_not_check(
                    failure,
                    fmt,
                    site_plan,
                    history,
                    textfile_dir,
                    started_at,
                    time.monotonic() - started,
                )
        finally:
            if history is not None:
                history.close()


def _with_thresholds(
    site: Site, warning: int | None, critical: int | None, silent_bus: int | None
) -> Site:
    """The site with -w/-c and --silent-bus-critical over its file's thresholds."""
    if warning is None and critical is None and silent_bus is None:
        return site
    from clu_doctor.site.model import SilentBusThreshold, SilentThreshold

    thresholds = site.thresholds
    silent = SilentThreshold(
        thresholds.stations_silent.warning if warning is None else warning,
        thresholds.stations_silent.critical if critical is None else critical,
    )
    if silent.warning > silent.critical:
        given = "-w" if warning is not None else "the site file's warning"
        raise UsageError(
            f"{given} ({silent.warning}) is above the critical threshold ({silent.critical})",
            hint="-w N -c M with N at most M: M silent stations make it CRITICAL, N a WARNING",
        )
    bus = thresholds.silent_bus
    if silent_bus is not None:
        bus = SilentBusThreshold(silent_bus or None)
    changed = dataclasses.replace(thresholds, stations_silent=silent, silent_bus=bus)
    return dataclasses.replace(site, thresholds=changed)


def _open_history(site: str, directory: Path | None) -> tuple[History | None, str | None]:
    """The site's history, or ``None`` and why: a history that cannot be opened (a read-only
    state directory, say) takes only what it would give from the check, and says so."""
    from clu_doctor.monitoring.history import History, HistoryError

    try:
        opened = History.open(
            site, directory.expanduser() if directory else None, busy_timeout_s=HISTORY_WAIT_S
        )
    except HistoryError as error:
        _warn(
            CluDoctorError(
                f"history not recorded: {error.message}; the checks it takes (silent since, "
                "flapping) are unknown",
                error.hint,
            )
        )
        return None, error.message
    return opened, None


def _site(path: Path | None, sim: bus_options.Simulation | None) -> Site:
    if path is not None:
        site = bus_options.load_site_option(path)
        assert site is not None
        return site
    if sim is None:
        raise UsageError(
            "give --site site.yaml (or --sim SCENARIO to try the check on a simulated site)",
            hint="'clu-doctor site init > site.yaml' writes a commented one to fill in",
        )
    plan = sim.site()
    if plan is None:
        raise UsageError(
            f"simulated site {sim.name!r} has no charge points to check (a meter bus)",
            hint="give --site site.yaml, or pick another scenario ('clu-doctor sim --list')",
        )
    return plan


def _run(
    site: Site,
    history: History | None,
    *,
    history_missing: str | None,
    port: str | None,
    sim: bus_options.Simulation | None,
    profile: str | None,
    line: bus_options.LineOverride,
    fmt: CheckFormat,
    textfile_dir: Path | None,
    timeout: float,
    listen_seconds: float | None,
    transmit: bool,
    save: Path | None,
    rules: Path | None,
    started: float,
) -> int:
    from clu_doctor.engine import load_rulebook
    from clu_doctor.monitoring.run import (
        RESERVE_S,
        CheckRequest,
        CouldNotCheck,
        default_listen_s,
        run_check,
    )

    rulebook = load_rulebook(rules.expanduser() if rules else None)
    if not port and not sim:
        port = site.port
    if not port and not sim:
        raise UsageError(
            "no port to check: give --port PORT or set port: in the site file",
            hint="'clu-doctor ports' lists this machine's serial ports; a /dev/serial/by-id/ "
            "path survives re-plugging",
        )
    target = bus_options.resolve_target(port, sim, site, profile, None, line)
    assert target is not None
    listen_s = listen_seconds if listen_seconds is not None else default_listen_s(site, transmit)
    if listen_s > timeout - RESERVE_S:
        raise UsageError(
            f"--listen-seconds {listen_s:g} does not fit in --timeout {timeout:g} (keep "
            f"{RESERVE_S:g} s for opening the port and the rules)",
            hint=f"raise --timeout to at least {listen_s + RESERVE_S:g}",
        )
    remaining = timeout - (time.monotonic() - started)
    if remaining < 1.0:
        raise CouldNotCheck(
            f"timed out after {timeout:g} s before opening the port (waiting for the history)",
            "another check of this site is still writing its history; look for a hung process",
        )
    request = CheckRequest(
        site=target.site or site,
        port=target.port,
        profile=target.profile,
        description=target.description,
        listen_s=listen_s,
        timeout_s=remaining,
        limit_s=timeout,
        transmit=transmit,
        save=save.expanduser() if save else None,
        rs485=target.rs485,
        opener=target.opener,
    )
    with contextlib.ExitStack() as stack:
        from clu_doctor.ui.progress import terminal_events

        stack.enter_context(bus_options.flag_hints())
        result = run_check(
            request,
            rulebook,
            history=history,
            history_missing=history_missing,
            events=terminal_events(stack),
        )
    return _report(result, site, history, fmt, textfile_dir)


def _report(
    result: CheckResult,
    site: Site,
    history: History | None,
    fmt: CheckFormat,
    textfile_dir: Path | None,
) -> int:
    from clu_doctor.monitoring.interrupt import second_signal_ends_at_once
    from clu_doctor.monitoring.publish import publish_result
    from clu_doctor.report.check import render_check
    from clu_doctor.report.console import OutputMode

    # Recorded is done: a signal from here on cuts the output short, it cannot undo the check.
    with second_signal_ends_at_once(result.exit_code):
        published = publish_result(result, history, textfile_dir)
        _warn(*published.warnings)
        sys.stdout.write(
            render_check(
                result,
                fmt,
                thresholds=site.thresholds,
                last_success=published.last_success,
                mode=OutputMode.for_stream(sys.stdout),
            )
        )
        sys.stdout.flush()
    return result.exit_code


def _could_not_check(
    error: CluDoctorError,
    fmt: CheckFormat,
    site: Site | None,
    history: History | None,
    textfile_dir: Path | None,
    started: str,
    duration_s: float,
) -> int:
    """Exit 3 in the format asked for (2 for a silent bus that lasted; 130 after Ctrl-C); the
    history and the metrics file say so too."""
    from clu_doctor.exitcodes import ExitCode
    from clu_doctor.monitoring.publish import publish_failure
    from clu_doctor.report.check import render_check_unknown

    name = site.name if site is not None else None
    error.hint = bus_options.people_hint(error.hint)
    published = publish_failure(
        error,
        site=name,
        history=history,
        textfile_dir=textfile_dir,
        started=started,
        duration_s=duration_s,
        silent_bus_critical=site.thresholds.silent_bus.critical if site is not None else None,
    )
    _warn(*published.warnings)
    sys.stdout.write(
        render_check_unknown(
            fmt,
            site=name,
            message=published.message,
            duration_s=duration_s,
            hint=error.hint,
            started=started,
            last_success=published.last_success,
            status=published.status,
            evidence=published.evidence,
        )
    )
    sys.stdout.flush()
    if fmt is not CheckFormat.TEXT and not _one_terminal():
        _error(CluDoctorError(published.message, error.hint))
    if error.exit_code is ExitCode.INTERRUPTED:
        return int(ExitCode.INTERRUPTED)
    return int(published.status.exit_code)


def _one_terminal() -> bool:
    """stdout and stderr are the same person's terminal: say a thing there once."""
    try:
        return sys.stdout.isatty() and sys.stderr.isatty()
    except (AttributeError, ValueError):  # a closed or replaced stream
        return False


def _warn(*errors: CluDoctorError) -> None:
    """Problems beside the result (the history, the metrics file): ``clu-doctor: warning:``."""
    for error in errors:
        line = f"clu-doctor: warning: {error.message}"
        print(f"{line} (hint: {error.hint})" if error.hint else line, file=sys.stderr)


def _error(error: CluDoctorError) -> None:
    print(error_line(error.message, error.hint, words=error_words()), file=sys.stderr)


def register(app: typer.Typer) -> None:
    app.command(help=flow(_(HELP)), epilog=_(EPILOG), no_args_is_help=False)(check)
