"""``clu-doctor scan`` and ``clu-doctor listen``, and port errors as a user meets them.

On the simulator, in-process and on the virtual clock; the errors only a real port gives (busy,
no permission, unplugged, no kernel RS-485) are in tests/live/test_commands_bus.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from clu_doctor.resources import profiles_dir
from clu_doctor.sim.simulator import SimSite
from tests.commands.helpers import invoke, one_line_error

#: The scenario files of these tests (not bundled ones).
SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"

# --- scan -----------------------------------------------------------------------------------


def test_scan_stays_passive_while_the_clu_polls(sim_sites: list[SimSite]) -> None:
    result = invoke("scan", "--port", "sim://healthy-16")
    [site] = sim_sites
    sent = site.adapter.bytes_sent
    one_line_error(result, "stays passive", "--transmit")
    assert sent == 0


def test_scan_finds_a_cable_break_with_the_clu_disconnected() -> None:
    result = invoke("scan", "--sim", "cable-break?clu=0")
    assert result.code == 2
    lines = result.stdout.splitlines()
    row7 = next(line for line in lines if line.split("|")[0].strip() == "7")
    assert "no answer" in row7 and "XAXXY07" in row7
    # in the words of every other command: the finding id, and the joint to go to first
    assert "BUS-BREAK-01" in result.stdout
    assert lines[lines.index("Summary") + 1].split()[:2] == ["✗", "Bus"]
    assert "First: Go to the joint named in the evidence" in result.stdout
    assert lines[-1].startswith("Result: CRITICAL")


def scan_duplicates(seed: int) -> dict[str, object]:
    result = invoke(
        "scan", "--sim", f"duplicate-address?clu=0&seed={seed}", "--reads", "20", "--json"
    )
    document: dict[str, object] = result.json()
    # XAXXY09's controller answers on 1, so 9 is missing from the chain: critical either way.
    assert result.code == document["exit_code"] == 2
    return document


def test_scan_confirms_a_duplicate_address_from_two_identities() -> None:
    """With this seed some replies arrive clean: two serial numbers at one address."""
    duplicates = scan_duplicates(seed=1)["duplicates"]
    assert isinstance(duplicates, dict) and duplicates["verdict"] == "confirmed"
    [entry] = [a for a in duplicates["addresses"] if a["verdict"] == "confirmed"]
    assert entry["address"] == 1
    serials = " ".join(str(i) for i in entry["identities"])
    assert "DF230101" in serials and "AB190042" in serials


def test_scan_suspects_a_duplicate_address_when_every_reply_collides() -> None:
    """Two controllers on 5 whose replies always overlap: every read garbled. Address 5 is
    not silent but suspected, read again in the duplicate check; only the corruption rate
    shows it. XAXXY08 (its controller on 5) is the one missing from the chain."""
    result = invoke("scan", "--sim", f"{SCENARIOS / 'overlapping-duplicate.yaml'}", "--json")
    document = result.json()
    assert result.code == document["exit_code"] == 2
    scan = document["scan"]
    assert scan["garbled"] == [5] and scan["missing"] == [8] and 5 not in scan["silent"]
    assert document["chain"]["verdict"] == "farthest" and document["chain"]["silent"] == [8]
    duplicates = document["duplicates"]
    assert duplicates["verdict"] == "suspected"
    [entry] = [a for a in duplicates["addresses"] if a["verdict"] == "suspected"]
    assert entry["address"] == 5 and "corrupt_rate" in entry["reasons"]
    assert entry["reads"] == 24 and entry["ok"] == 0  # read again, garbled every time


def test_scan_of_a_healthy_quiet_site_is_ok() -> None:
    result = invoke("scan", "--sim", "clu-usb-dead", "--json")
    document = result.json()
    assert result.code == 0
    assert document["scan"]["answered"] == list(range(1, 9))
    assert document["chain"]["verdict"] == "ok"
    assert {f["id"] for f in document["findings"]} == {"BUS-OK-01", "STATION-OK-01"}


def test_a_scan_never_calls_a_silent_clu_fine() -> None:
    """The site says the CLU is on the bus, but it was quiet before the reads: the stations are
    fine, and the CLU is said not to be judged (stopped, starting or a dead interface look the
    same from the bus), never left out as if it were fine."""
    result = invoke("scan", "--sim", "clu-booting")
    assert result.code == 0
    summary = result.stdout[result.stdout.index("Summary") :]
    assert "CLU       not judged from the bus alone" in summary
    assert "CLU-RUN-01" not in result.stdout
    assert result.stdout.splitlines()[-1].startswith(
        "Result: OK: nothing wrong found (not judged: CLU)"
    )
    assert invoke("scan", "--sim", "clu-booting", "--json").json()["not_judged"] == ["CLU"]
    # with the CLU off the bus on purpose, there is nothing left to judge
    off = invoke("scan", "--sim", "clu-booting?clu=0", "--json").json()
    assert off["not_judged"] == [] and "CLU-OFF-01" in {f["id"] for f in off["findings"]}


def test_scan_without_the_duplicate_check_does_not_claim_there_is_none() -> None:
    document = invoke(
        "scan", "--sim", "duplicate-address?clu=0", "--no-duplicates", "--json"
    ).json()
    assert document["duplicates"] is None
    assert not {"BUS-DUP-01", "BUS-DUP-02", "BUS-OK-01"} & {f["id"] for f in document["findings"]}
    [seen] = [o for o in document["observations"] if o["key"] == "bus.duplicates"]
    assert seen["value"] == "unknown"


def test_scan_rejects_a_bad_address_range() -> None:
    one_line_error(invoke("scan", "--sim", "healthy-16", "--addresses", "1-300"), "1-300")
    one_line_error(invoke("scan", "--sim", "healthy-16", "--addresses", "x"), "'x'")
    one_line_error(
        invoke("scan", "--sim", "healthy-16", "--addresses", "16-1"), "runs backwards", "1-16"
    )


def test_scan_without_a_bus_says_how_to_give_one() -> None:
    one_line_error(invoke("scan"), "--port", "clu-doctor ports")


# --- line settings and ports given on the command line -------------------------------------


def test_the_simulators_url_works_as_a_port() -> None:
    result = invoke("listen", "--port", "sim://healthy-16", "--seconds", "8")
    assert result.code == 0, result.stderr
    assert "38400 8E1" in result.stdout and "XAXXY" not in result.stderr


def test_line_flags_override_the_profile_and_listening_finds_the_real_setting() -> None:
    document = invoke(
        "listen", "--sim", "healthy-16", "--baud", "9600", "--seconds", "12", "--json"
    ).json()
    assert document["notes"] == [
        "the bus runs at 38400 8E1 (ascii), not at the profile's 9600 8E1 (ascii)"
    ]
    # The technician's own setting, not the site's fault: the same finding and exit code as
    # diagnose and check give (issue 10, item 4).
    assert document["status"] == "unknown"
    assert document["findings"][0]["id"] == "BUS-SETTINGS-01"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["listen", "--sim", "healthy-16", "--stopbits", "3"], "stop bits must be 1, 1.5 or 2"),
        (["listen", "--sim", "healthy-16", "--parity", "X"], "'X' is not one of"),
        (["diagnose", "--no-input", "--profile", "defa-erange"], "need a bus: give --port"),
        (["diagnose", "--no-input", "--baud", "9600"], "need a bus: give --port"),
    ],
)
def test_line_flags_and_profiles_without_a_bus_are_usage_errors(
    args: list[str], fragment: str
) -> None:
    one_line_error(invoke(*args), fragment)


# --- listen ---------------------------------------------------------------------------------


def test_listen_names_the_silent_station_and_writes_nothing(sim_sites: list[SimSite]) -> None:
    result = invoke("listen", "--port", "sim://unpowered-station", "--seconds", "12", "--json")
    [site] = sim_sites
    sent = site.adapter.bytes_sent
    assert sent == 0, "listening must not put a single byte on the bus"
    document = result.json()
    assert document["schema"] == "clu-doctor/listen"
    assert result.code == document["exit_code"] != 0
    silent = [v for v in document["verdicts"] if v["key"] == "bus.silent_addresses"]
    assert silent and silent[0]["addresses"] == [4]
    row = next(a for a in document["report"]["addresses"] if a["address"] == 4)
    assert row["polls"] > 0 and row["answers"] == 0


def test_listen_on_a_healthy_site_is_quiet_and_ok() -> None:
    result = invoke("listen", "--sim", "healthy-16", "--seconds", "12")
    assert result.code == 0
    assert result.stdout.splitlines()[-1].startswith("Result: OK")
    assert "XAXXY" in result.stdout  # the scenario's site plan labels the rows


def test_a_listen_too_short_to_judge_silence_is_unknown_not_ok() -> None:
    result = invoke("listen", "--sim", "clu-usb-dead", "--seconds", "1")
    assert result.code == 3
    assert "Not a byte heard in 1.0 s: too short to tell a quiet bus from a dead one" in (
        result.stdout
    )
    # Longer silence is judged by the listen's verdict, but the bus alone cannot tell a dead
    # CLU from a loose adapter: the same UNKNOWN as a check, and the LEDs decide (diagnose).
    longer = invoke("listen", "--sim", "clu-usb-dead", "--seconds", "5", "--json").json()
    assert longer["exit_code"] == 3
    assert [v["key"] for v in longer["verdicts"]] == ["bus.polling"]
    assert "Not a byte heard in 60.0 s." in invoke("listen", "--sim", "clu-usb-dead").stdout


def test_a_saved_capture_replays_to_the_same_verdicts(tmp_path: Path) -> None:
    capture = tmp_path / "capture.cdr"
    live = invoke(
        "listen",
        "--sim",
        "cable-break",
        "--seconds",
        "12",
        "--save",
        str(capture),
        "--json",
    ).json()
    again = invoke("listen", "--replay", str(capture), "--json").json()
    keys = lambda doc: [(v["key"], v["value"], v["addresses"]) for v in doc["verdicts"]]  # noqa: E731
    # Without --site the replay has no chain to place silence on, so compare what does not
    # need one: the traffic itself.
    assert again["report"]["addresses"] == live["report"]["addresses"]
    assert {k for k, *_ in keys(again)} <= {k for k, *_ in keys(live)} | {"bus.silent_addresses"}


def test_a_cut_off_recording_is_one_warning_and_a_corrupt_one_is_one_error(
    tmp_path: Path,
) -> None:
    capture = tmp_path / "capture.cdr"
    invoke("listen", "--sim", "healthy-16", "--seconds", "8", "--save", str(capture))
    text = capture.read_text(encoding="utf-8")
    cut = tmp_path / "cut.cdr"
    cut.write_text(text[: len(text) // 2], encoding="utf-8")
    result = invoke("listen", "--replay", str(cut))
    assert result.code == 0
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(warnings) >= 1 and str(cut) in warnings[0]
    broken = tmp_path / "broken.cdr"
    lines = text.splitlines()
    lines[3] = "{not json"
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
    one_line_error(invoke("listen", "--replay", str(broken)), f"{broken}:4")


def test_the_hint_tells_what_a_recording_is_and_how_to_make_one(tmp_path: Path) -> None:
    not_a_recording = tmp_path / "site.cdr"
    not_a_recording.write_text("name: my site\n", encoding="utf-8")
    line = one_line_error(
        invoke("listen", "--replay", str(not_a_recording)), f"{not_a_recording}:1"
    )
    hint = line.partition("hint:")[2]
    assert "'clu-doctor listen --save FILE' writes" in hint
    assert "'clu-doctor listen --port PORT --save FILE'" in hint
    assert "clu_doctor/" not in hint and ".py" not in hint  # no source files for users


def test_a_broken_profile_points_at_the_bundled_ones_where_they_are(tmp_path: Path) -> None:
    broken = tmp_path / "my-profile.yaml"
    broken.write_text("name: mine\nline: 38400 8E1\nframing: morse\n", encoding="utf-8")
    result = invoke("scan", "--sim", "healthy-16", "--profile", str(broken))
    assert result.code == 3 and "Traceback" not in result.stderr
    assert f"{broken}:3: framing 'morse'" in result.stderr  # every problem, each at its line
    hint = result.stderr.partition("hint:")[2]
    assert "defa-erange.yaml" in hint and str(profiles_dir()) in hint
    assert "clu-doctor profiles" not in hint  # no such command


def test_replay_of_a_missing_file() -> None:
    one_line_error(invoke("listen", "--replay", "/nonexistent/capture.cdr"), "capture.cdr")


# --- port errors: one line, a hint, exit 3 --------------------------------------------------


def test_missing_port() -> None:
    one_line_error(
        invoke("listen", "--port", "/dev/ttyNOPE0", "--seconds", "1"),
        "/dev/ttyNOPE0",
        "clu-doctor ports",
    )


# --- both ABL generations on one bus (manual §9.7) -------------------------------------------


def test_scan_reads_a_mixed_site_at_both_generations_settings() -> None:
    """The first generation answers only at 38400 8N1 in its text protocol: the addresses
    silent at the profile's 8E1 are read again there, and each answering address says which
    generation it is. Nothing is called silent that answered in either."""
    result = invoke("scan", "--sim", "mixed-generations?clu=0", "--json")
    document = result.json()
    assert result.code == document["exit_code"] == 0
    scan = document["scan"]
    generation = {a["address"]: a["generation"] for a in scan["addresses"] if a["answered"]}
    assert generation == {a: 1 if 5 <= a <= 8 else 2 for a in range(1, 13)}
    assert scan["other_generation"]["answered"] == [5, 6, 7, 8]
    assert scan["missing"] == [] and document["chain"]["verdict"] == "ok"
    text = invoke("scan", "--sim", "mixed-generations?clu=0").stdout
    assert (
        "read again at 38400 8N1 (evcc1) for first-generation controllers: 5-8 answered"
        in " ".join(text.split())
    )


def test_scan_finds_a_fault_on_each_side_of_a_mixed_site() -> None:
    document = invoke("scan", "--sim", "mixed-generations-faults?clu=0", "--json").json()
    assert document["exit_code"] == 2
    found = {f["id"]: f for f in document["findings"]}
    assert {"BUS-STATION-01", "STATION-FAULT-01"} <= set(found)
    assert document["scan"]["missing"] == [11]  # the second-generation station without power
    seen = " ".join(found["STATION-FAULT-01"]["evidence"])
    assert "address 7 (XAXXY07): state F5" in seen  # the first-generation station's fault


def test_scan_of_a_first_generation_site() -> None:
    document = invoke("scan", "--sim", "healthy-evcc1-8?clu=0", "--json").json()
    assert document["exit_code"] == 0
    assert document["scan"]["answered"] == list(range(1, 9))
    assert document["scan"]["framing"] == "evcc1"


# --- the control pilot (read in active mode only) --------------------------------------------


def test_scan_names_a_controller_whose_pilot_is_off_its_level() -> None:
    scenario = SCENARIOS / "pilot-off-level.yaml"
    document = invoke("scan", "--sim", f"{scenario}?clu=0", "--json").json()
    assert document["exit_code"] == 1
    [finding] = [f for f in document["findings"] if f["id"] == "STATION-PILOT-01"]
    assert "address 5 (XAXXY05): CP+ 7.5 V in state C2, where 6 V is expected" in " ".join(
        finding["evidence"]
    )
    assert "STATION-OK-01" not in {f["id"] for f in document["findings"]}


def test_the_pilot_is_never_read_while_the_clu_polls() -> None:
    """Listening only: the pilot stays unknown and the states found normal are not withdrawn."""
    scenario = SCENARIOS / "pilot-off-level.yaml"
    document = invoke("diagnose", "--sim", str(scenario), "--no-input", "--json").json()
    [pilot] = [o for o in document["observations"] if o["key"] == "station.pilot"]
    assert pilot["value"] == "unknown"
    assert "STATION-PILOT-01" not in {f["id"] for f in document["findings"]}
