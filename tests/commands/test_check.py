"""``clu-doctor check`` as cron, a systemd timer and a monitoring system run it, end to end on the
simulator: exit codes, formats, the history across runs, the metrics file.

In-process, on the virtual clock; port contention, the wall-clock deadline and SIGKILL need
real processes and ptys: tests/live/test_commands_check.py.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from clu_doctor import __version__
from clu_doctor.monitoring.history import History
from clu_doctor.monitoring.run import iso_utc, utc_now
from clu_doctor.resources import scenarios_dir
from tests.commands.helpers import check, invoke, metrics, site_file, status_line

#: Listening time for the simulated sites (their CLU polls every address within a second), in
#: seconds of the virtual clock.
LISTEN = "12"


# --- end to end on the simulator ---------------------------------------------------------------


def test_a_healthy_site_is_ok_in_nagios_json_and_prometheus(tmp_path: Path) -> None:
    site = site_file(tmp_path, "Garage 16", 16)
    textfiles = tmp_path / "textfile"
    textfiles.mkdir()
    args = ["--site", str(site), "--sim", "healthy-16", "--listen-seconds", LISTEN]

    nagios = check(tmp_path, *args, "--format", "nagios")
    assert nagios.code == 0, nagios.stdout + nagios.stderr
    line = status_line(nagios)
    assert line.startswith("CLU-DOCTOR OK - Garage 16: 16/16 stations answering |")
    assert "stations_answering=16;" in line
    assert nagios.stderr == ""

    document = check(tmp_path, *args, "--json").json()
    assert document["schema"] == "clu-doctor/check"
    assert (document["status"], document["exit_code"], document["completed"]) == ("ok", 0, True)
    assert document["mode"] == "listen"
    assert {s["address"] for s in document["stations"] if s["answering"]} == set(range(1, 17))
    assert "CLU-RUN-01" in {f["id"] for f in document["findings"]}

    prom = check(tmp_path, *args, "--format", "prometheus", "--textfile-dir", str(textfiles))
    assert prom.code == 0
    written = (textfiles / "clu_doctor_garage_16.prom").read_text(encoding="utf-8")
    assert written == prom.stdout
    found = metrics(written)
    assert found["clu_doctor_check_status{site=Garage 16}"] == 0
    assert found["clu_doctor_stations_answering{site=Garage 16}"] == 16
    assert found["clu_doctor_last_success_timestamp_seconds{site=Garage 16}"] > 0
    assert found["clu_doctor_station_up{address=7,label=XAXXY07,site=Garage 16}"] == 1
    assert not [p for p in textfiles.iterdir() if p.name.startswith(".")]

    with History.open("Garage 16", tmp_path / "state", create=False) as history:
        assert history.count() == 3
        assert history.integrity() == "ok"


def test_a_silent_station_is_critical_and_named_by_address_and_label(tmp_path: Path) -> None:
    site = site_file(tmp_path, "Garage 8", 8)
    result = check(
        tmp_path,
        *("--site", str(site), "--sim", "unpowered-station", "--listen-seconds", LISTEN),
        "--format",
        "nagios",
    )
    assert result.code == 2, result.stdout
    line = status_line(result)
    assert line.startswith("CLU-DOCTOR CRITICAL - Garage 8: 7/8 stations answering")
    assert "silent: 4 (XAXXY04)" in line
    assert "BUS-STATION-01" in line
    assert "[CRITICAL] BUS-STATION-01" in result.stdout


def test_a_duplicate_address_is_critical(tmp_path: Path) -> None:
    site = site_file(tmp_path, "Garage 16", 16)
    document = check(
        tmp_path,
        *("--site", str(site), "--sim", "duplicate-address", "--listen-seconds", LISTEN),
        "--json",
    ).json()
    assert document["exit_code"] == 2
    assert document["duplicates"] == [1]
    # XAXXY09's controller answers at address 1: one fault, the silent 9 and the doubled 1
    # shown under it
    [root] = [f for f in document["findings"] if f["severity"] == "critical"]
    assert root["id"] == "BUS-MISADDR-01"
    assert root["title"] == "The controller of XAXXY09 answers at address 1, not at address 9"
    assert {c["id"] for c in root["consequences"]} & {"BUS-DUP-01", "BUS-DUP-02"}


def test_a_station_that_comes_and_goes_is_a_warning(tmp_path: Path) -> None:
    """Station 4 answers, is silent, answers, is silent, answers: flapping, not noise."""
    off = (scenarios_dir() / "unpowered-station.yaml").read_text(encoding="utf-8")
    assert off.count(", powered: false") == 1
    (tmp_path / "off.yaml").write_text(off, encoding="utf-8")
    (tmp_path / "on.yaml").write_text(off.replace(", powered: false", ""), encoding="utf-8")
    site = site_file(tmp_path, "Garage 8", 8, "thresholds:\n  flapping: {missed: 2, of: 4}\n")
    codes = []
    for state in ("on", "off", "on", "off", "on"):
        result = check(
            tmp_path,
            *("--site", str(site), "--sim", str(tmp_path / f"{state}.yaml")),
            *("--listen-seconds", LISTEN, "--format", "nagios"),
        )
        codes.append(result.code)
    assert codes == [0, 2, 0, 2, 1], result.stdout
    line = status_line(result)
    assert line.startswith("CLU-DOCTOR WARNING - Garage 8: 8/8 stations answering")
    assert "STATION-FLAP-01" in line
    assert "station 4 (XAXXY04) missed 2 of the last 4 checks" in result.stdout

    shown = invoke("history", "--site", str(site), "--history-dir", str(tmp_path / "state"))
    assert shown.code == 0
    row = next(line for line in shown.stdout.splitlines() if "XAXXY04" in line)
    assert "+-+-+" in row


def test_a_silent_station_says_since_when(tmp_path: Path) -> None:
    site = site_file(tmp_path, "Garage 8", 8)
    on = (scenarios_dir() / "unpowered-station.yaml").read_text(encoding="utf-8")
    (tmp_path / "on.yaml").write_text(on.replace(", powered: false", ""), encoding="utf-8")
    first = check(
        tmp_path,
        *("--site", str(site), "--sim", str(tmp_path / "on.yaml"), "--listen-seconds", "8"),
    )
    assert first.code == 0
    second = check(
        tmp_path,
        *("--site", str(site), "--sim", "unpowered-station", "--listen-seconds", LISTEN),
        "--json",
    ).json()
    station = next(f for f in second["findings"] if f["id"] == "BUS-STATION-01")
    assert any(
        "station 4 (XAXXY04) answered in every check until" in line and "silent since" in line
        for line in station["evidence"]
    ), station["evidence"]


def test_the_sites_thresholds_and_ignores_decide_the_status(tmp_path: Path) -> None:
    args = ["--sim", "unpowered-station", "--listen-seconds", LISTEN, "--format", "nagios"]
    tolerant = site_file(
        tmp_path, "Tolerant", 8, "thresholds:\n  stations_silent: {warning: 1, critical: 2}\n"
    )
    result = check(tmp_path, "--site", str(tolerant), *args)
    assert result.code == 1
    assert status_line(result).startswith("CLU-DOCTOR WARNING - Tolerant: 7/8")
    assert "[WARNING] BUS-STATION-01" in result.stdout

    tomorrow = date.today() + timedelta(days=1)
    ignoring = site_file(
        tmp_path,
        "Ignoring",
        8,
        "ignore:\n  - finding: BUS-STATION-01\n    address: 4\n"
        f"    reason: breaker replaced on Friday\n    until: {tomorrow.isoformat()}\n",
        file="ignoring.yaml",
    )
    result = check(tmp_path, "--site", str(ignoring), *args)
    assert result.code == 0, result.stdout
    assert f"ignored until {tomorrow.isoformat()}: BUS-STATION-01" in result.stdout
    assert "breaker replaced on Friday" in result.stdout

    yesterday = date.today() - timedelta(days=1)
    expired = ignoring.read_text(encoding="utf-8").replace(
        tomorrow.isoformat(), yesterday.isoformat()
    )
    ignoring.write_text(expired, encoding="utf-8")
    result = check(tmp_path, "--site", str(ignoring), *args)
    assert result.code == 2
    assert (
        f"expired ignore: BUS-STATION-01 (critical) at address 4 was ignored until {yesterday}"
        in (result.stdout)
    )


def test_an_ignore_naming_no_finding_is_unknown(tmp_path: Path) -> None:
    site = site_file(
        tmp_path,
        "Typo",
        8,
        "ignore:\n  - finding: BUS-STATOIN-01\n    reason: typo\n    until: 2099-01-01\n",
    )
    result = check(tmp_path, "--site", str(site), "--sim", "healthy-16", "--format", "nagios")
    assert result.code == 3
    assert status_line(result).startswith("CLU-DOCTOR UNKNOWN - Typo: could not check: ")
    assert f"{site}:12: ignore: no finding BUS-STATOIN-01 in the rules" in status_line(result)


# --- could not check: always 3, never 2 ---------------------------------------------------------


def test_a_bus_without_a_frame_ends_unknown_saying_how_long_it_waited(tmp_path: Path) -> None:
    site = site_file(tmp_path, "Dead USB", 8)
    document = check(
        tmp_path,
        *("--site", str(site), "--sim", "clu-usb-dead", "--listen-seconds", "3"),
        *("--timeout", "10", "--json"),
    ).json()
    assert (document["status"], document["exit_code"], document["completed"]) == (
        "unknown",
        3,
        False,
    )
    assert (
        "no frame heard on simulated site clu-usb-dead in 3.0 s of listening"
        in (document["message"])
    )
    assert "waited" in document["message"]
    assert document["duration_s"] <= 10
    assert "clu: disconnected" in document["hint"]


@pytest.mark.parametrize(
    ("args", "finding", "hint"),
    [
        # the site's line settings are wrong: the same verdict and words as diagnose's
        (
            ["--sim", "healthy-16", "--baud", "9600"],
            "Your adapter listens at 9600 8E1 (ascii), but the bus runs at 38400 8E1 (ascii) "
            "(BUS-SETTINGS-01)",
            "Set the adapter to 38400 8E1 (ascii)",
        ),
        # the adapter is fixed at other settings: nothing decodes anywhere
        (
            ["--sim", "wrong-adapter-settings"],
            "nothing decodes at any line setting; the bus cannot be judged (BUS-GARBLE-01)",
            "swap A and B",
        ),
    ],
)
def test_the_adapters_own_settings_are_unknown_in_the_rules_words(
    tmp_path: Path, args: list[str], finding: str, hint: str
) -> None:
    document = check(tmp_path, *args, "--json").json()
    assert (document["status"], document["exit_code"], document["completed"]) == (
        "unknown",
        3,
        False,
    )
    assert document["message"].endswith(finding)
    assert hint in document["hint"]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--format", "xml"], "'xml' is not one of"),
        ([], "give --site site.yaml"),
        (["--sim", "healthy-16", "--listen-seconds", "50"], "does not fit in --timeout 45"),
        (["--sim", "healthy-16", "--timeout", "2"], "2.0 is not in the range"),
    ],
)
def test_usage_errors_are_unknown_not_critical(
    tmp_path: Path, args: list[str], fragment: str
) -> None:
    result = check(tmp_path, *args)
    assert result.code == 3
    assert "Traceback" not in result.stderr
    assert fragment in result.stdout + result.stderr


def test_a_site_without_a_port_is_unknown_with_a_hint(tmp_path: Path) -> None:
    site = site_file(tmp_path, "No port", 4)
    result = check(tmp_path, "--site", str(site))
    assert result.code == 3
    assert "no port to check: give --port PORT or set port: in the site file" in result.stdout
    assert "clu-doctor ports" in result.stdout


def test_an_invalid_site_file_is_unknown_in_the_monitoring_format(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text("name: Broken\nchain:\n  - {address: 17, model: UNO, label: XAXXY17}\n")
    result = check(tmp_path, "--site", str(site), "--format", "nagios")
    assert result.code == 3
    assert status_line(result).startswith(f"CLU-DOCTOR UNKNOWN - could not check: {site}:3: ")
    assert "Traceback" not in result.stderr


def test_a_missing_port_is_unknown_in_the_history_and_the_metrics(tmp_path: Path) -> None:
    site = site_file(tmp_path, "Gone", 4, "port: /dev/ttyCLUDOCTOR-NOPE\n")
    textfiles = tmp_path / "textfile"
    textfiles.mkdir()
    result = check(
        tmp_path, "--site", str(site), "--format", "prometheus", "--textfile-dir", str(textfiles)
    )
    assert result.code == 3
    found = metrics((textfiles / "clu_doctor_gone.prom").read_text(encoding="utf-8"))
    assert found["clu_doctor_check_status{site=Gone}"] == 3
    assert found["clu_doctor_check_completed{site=Gone}"] == 0
    assert "/dev/ttyCLUDOCTOR-NOPE: no such port" in result.stderr
    with History.open("Gone", tmp_path / "state", create=False) as history:
        [row] = history.recent()
        assert row.message is not None and "no such port" in row.message


def test_help_names_the_formats_and_shows_examples() -> None:
    result = invoke("check", "--help")
    assert result.code == 0
    for text in ("nagios", "prometheus", "--textfile-dir", "--timeout", "Examples"):
        assert text in result.stdout


def test_a_wrong_textfile_directory_is_refused_before_the_bus(tmp_path: Path) -> None:
    site = site_file(tmp_path, "Garage 8", 8)
    missing = tmp_path / "no-such-dir"
    result = check(
        tmp_path,
        *("--site", str(site), "--sim", "healthy-16", "--format", "nagios"),
        *("--textfile-dir", str(missing)),
    )
    assert result.code == 3
    assert status_line(result).startswith(
        f"CLU-DOCTOR UNKNOWN - Garage 8: could not check: textfile directory {missing} does "
        "not exist"
    )
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "state").exists()  # nothing was checked, so nothing is recorded


# --- monitoring-plugin conventions: -V, -t, -w, -c ----------------------------------------------


@pytest.mark.parametrize("args", [["check", "-V"], ["check", "--version"], ["-V"], ["--version"]])
def test_the_version_as_plugins_give_it(args: list[str]) -> None:
    result = invoke(*args)
    assert (result.code, result.stdout) == (0, f"clu-doctor {__version__}\n")


def test_warning_and_critical_override_the_site_files_thresholds(tmp_path: Path) -> None:
    site = site_file(tmp_path, "Garage 8", 8)  # default: one silent station is critical
    args = ["--site", str(site), "--sim", "unpowered-station", "--listen-seconds", LISTEN]
    plugin = check(tmp_path, *args, "-f", "nagios", "-t", "30", "-w", "1", "-c", "2")
    assert plugin.code == 1, plugin.stdout
    line = status_line(plugin)
    assert line.startswith("CLU-DOCTOR WARNING - Garage 8: 7/8 stations answering")
    assert "stations_answering=7;8:;7:;0;8" in line  # the ranges follow -w/-c too
    only_critical = check(tmp_path, *args, "--critical", "3")  # warning stays at 1
    assert only_critical.code == 1
    assert check(tmp_path, *args).code == 2


def test_a_warning_above_the_critical_threshold_is_a_usage_error(tmp_path: Path) -> None:
    site = site_file(tmp_path, "Garage 8", 8)
    result = check(tmp_path, "--site", str(site), "--sim", "healthy-16", "-w", "3", "-c", "2")
    assert result.code == 3
    assert "-w (3) is above the critical threshold (2)" in result.stdout
    assert not (tmp_path / "state").exists()


# --- a silent bus that lasts: CRITICAL with the history as evidence ---------------------------


def silent_check(tmp_path: Path, site: Path, *more: str) -> Any:
    return check(
        tmp_path,
        *("--site", str(site), "--sim", "clu-usb-dead", "--listen-seconds", "3"),
        *more,
    )


def test_a_bus_silent_in_n_checks_in_a_row_becomes_critical(tmp_path: Path) -> None:
    site = site_file(tmp_path, "Dead CLU", 8)
    codes = [silent_check(tmp_path, site, "--silent-bus-critical", "3").code for _ in range(2)]
    assert codes == [3, 3]
    third = silent_check(tmp_path, site, "--silent-bus-critical", "3", "-f", "nagios")
    assert third.code == 2, third.stdout
    line = status_line(third)
    assert line.startswith(
        "CLU-DOCTOR CRITICAL - Dead CLU: no frame heard in the last 3 checks, since "
    )
    assert "the CLU does not poll (no power?) or the adapter is off the bus" in line
    assert "    - this check: no frame heard on simulated site clu-usb-dead" in third.stdout
    assert "    - checks without a frame: " in third.stdout
    assert third.stdout.count(" UTC") >= 2  # since HH:MM UTC, and the list of times
    document = silent_check(tmp_path, site, "--silent-bus-critical", "3", "--json").json()
    assert (document["status"], document["exit_code"], document["completed"]) == (
        "critical",
        2,
        False,
    )
    assert document["message"].startswith("no frame heard in the last 4 checks")
    with History.open("Dead CLU", tmp_path / "state", create=False) as history:
        rows = history.recent()
    assert [(r.status.value, r.reason) for r in rows] == [
        ("unknown", "silent_bus"),
        ("unknown", "silent_bus"),
        ("critical", "silent_bus"),
        ("critical", "silent_bus"),
    ]


def test_the_silent_bus_threshold_from_the_site_file_and_what_resets_it(tmp_path: Path) -> None:
    site = site_file(tmp_path, "Dead CLU", 8, "thresholds:\n  silent_bus: {critical: 2}\n")
    first = silent_check(tmp_path, site)
    assert first.code == 3
    assert "no frame heard in this check; CRITICAL from 2 in a row" in first.stdout
    # A busy port says nothing about the bus: it neither counts nor ends the run.
    with History.open("Dead CLU", tmp_path / "state") as history:
        history.record_failure(iso_now(), 0.01, "port /dev/ttyUSB0 is busy")
    assert silent_check(tmp_path, site).code == 2
    # A check that hears the bus ends the run; the next silent one starts counting again.
    healthy = site_file(tmp_path, "Dead CLU", 8, file="same-site.yaml")
    assert check(tmp_path, "--site", str(healthy), "--sim", "healthy-16").code == 0
    assert silent_check(tmp_path, site).code == 3
    # 0 on the command line turns the site file's setting off.
    assert silent_check(tmp_path, site, "--silent-bus-critical", "0").code == 3
    assert silent_check(tmp_path, site).code == 2


def test_bytes_that_do_not_decode_are_not_a_silent_bus(tmp_path: Path) -> None:
    """Something talks on the bus (the CLU runs): never the power-loss escalation."""
    site = site_file(tmp_path, "Wrong adapter", 16, "line: 9600 8N1\n")
    for _ in range(3):
        result = check(
            tmp_path,
            *("--site", str(site), "--sim", "healthy-16", "--listen-seconds", "3"),
            "--silent-bus-critical",
            "1",
        )
        assert result.code == 3, result.stdout  # UNKNOWN each time, never the escalation
        assert "could not check" in result.stdout and "38400 8E1" in result.stdout


# --- the history of a simulated site ---------------------------------------------------------


def test_history_finds_what_a_check_of_a_simulated_site_recorded(tmp_path: Path) -> None:
    state = str(tmp_path / "state")
    assert check(tmp_path, "--sim", "unpowered-station", "--listen-seconds", LISTEN).code == 2
    shown = invoke("history", "--sim", "unpowered-station", "--history-dir", state)
    assert shown.code == 0, shown.stderr
    assert shown.stdout.startswith("unpowered-station: 1 check")
    both = invoke("history", "--sim", "healthy-16", "--site", "x.yaml", "--history-dir", state)
    assert both.code == 3 and "give --site or --sim, not both" in both.stderr
    meters = invoke("history", "--sim", "meter-bus-duplicate", "--history-dir", state)
    assert meters.code == 3 and "no charge points" in meters.stderr


# --- a history that cannot be written ----------------------------------------------------------


def test_a_history_that_cannot_be_opened_leaves_the_result_and_says_so(tmp_path: Path) -> None:
    site = site_file(tmp_path, "Garage 16", 16)
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    result = invoke(
        "check",
        *("--site", str(site), "--sim", "healthy-16", "--listen-seconds", LISTEN),
        *("--history-dir", str(blocked / "state"), "--json"),
    )
    assert result.code == 0, result.stdout + result.stderr
    document = result.json()
    assert (document["status"], document["completed"]) == ("ok", True)
    [flapping] = [o for o in document["observations"] if o["key"] == "history.flapping"]
    assert flapping["value"] == "unknown"
    assert "no history: cannot create the history directory" in flapping["detail"]
    [warning] = result.stderr.splitlines()
    assert warning.startswith("clu-doctor: warning: history not recorded: cannot create")


def iso_now() -> str:
    return iso_utc(utc_now())


@pytest.mark.parametrize(
    ("raised", "said", "code"),
    [
        ("sigterm", "could not check: stopped by SIGTERM", 3),
        ("ctrl-c", "could not check: stopped by SIGINT", 130),
        ("deadline", "could not check: timed out after", 3),
    ],
)
def test_a_signal_python_hands_on_as_another_error_still_ends_the_check_cleanly(
    raised: str, said: str, code: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On Python 3.10 and 3.11 a signal arriving while a class is being created (a module
    imported in the middle of a check) comes out as "RuntimeError: Error calling
    __set_name__", the signal's exception as its cause. The check still says UNKNOWN for what
    stopped it, never "internal error"."""
    import signal

    from clu_doctor.monitoring.deadline import DeadlineExpired
    from clu_doctor.monitoring.interrupt import Interrupted
    from clu_doctor.probing.prober import BusProber

    signals: dict[str, BaseException] = {
        "sigterm": Interrupted(signal.SIGTERM),
        "ctrl-c": KeyboardInterrupt(),
        "deadline": DeadlineExpired(45.0),
    }

    class Arrives:
        def __set_name__(self, owner: type, name: str) -> None:
            raise signals[raised]

    def listening(self: BusProber) -> None:
        class Defined:  # what a module imported mid-check defines
            field = Arrives()

    monkeypatch.setattr(BusProber, "listen", listening)
    result = invoke(
        "check", "--sim", "healthy-16", "--history-dir", str(tmp_path), "--format", "nagios"
    )
    assert result.code == code
    assert said in result.stdout.splitlines()[0]
    assert "internal error" not in result.stdout + result.stderr
