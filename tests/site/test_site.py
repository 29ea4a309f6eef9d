"""The site description: loading site.yaml, schema errors with locations, configuration facts."""

from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clu_doctor.bus.settings import LineSettings
from clu_doctor.errors import FileProblemError
from clu_doctor.site.facts import FACT_KEYS, ConfigFact, capacity, configuration_facts, facts_by_key
from clu_doctor.site.model import FACT_VERDICTS, Meters, Site, Station, label_for
from clu_doctor.site.reader import load_site, parse_site

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "site.yaml"

MINIMAL = """\
name: Test site
chain:
  - {address: 1, model: UNO, label: XAXXY01}
  - {address: 2, model: UNO, label: XAXXY02}
"""


def write(tmp_path: Path, text: str, name: str = "site.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_of(tmp_path: Path, text: str) -> list[str]:
    path = write(tmp_path, text)
    with pytest.raises(FileProblemError) as caught:
        load_site(path)
    return [str(p) for p in caught.value.problems]


def one_problem(tmp_path: Path, text: str) -> str:
    found = problems_of(tmp_path, text)
    assert len(found) == 1, found
    line = found[0]
    assert "\n" not in line
    return line


def uno(address: int, label: int | None = None, line: int = 0) -> Station:
    number = address if label is None else label
    return Station(address, "UNO", (label_for("XAXXY", number),), f"Bay {address}", line)


def duo(address: int, line: int = 0) -> Station:
    labels = (label_for("XAXXY", address), label_for("XAXXY", min(address + 1, 16)))
    return Station(address, "DUO", labels, f"DUO {address}", line)


def site_of(*stations: Station, **changes: object) -> Site:
    return Site(name="t", chain=tuple(stations), **changes)  # type: ignore[arg-type]


# --- the example and a minimal file ---------------------------------------------------------------


def test_the_commented_example_loads() -> None:
    site = load_site(EXAMPLE)
    assert site.name == "Solsiden borettslag, garage B"
    assert site.adapter_at == "clu"
    assert site.clu == "disconnected"
    assert site.active_probes_allowed
    assert site.cable_m == 85
    assert site.site_current_a == 63
    assert site.meters == Meters(present=True, second_bus=True)
    assert site.chain[6].model == "DUO"
    assert site.chain[6].addresses == (7, 8)
    assert site.chain[6].labels == ("XAXXY07", "XAXXY08")
    assert site.expected_addresses == tuple(range(1, 13))
    assert site.outlet_count == 12
    assert site.chain[0].line == 65  # the line of the first station in the file
    assert site.port is None  # commented out in the example
    assert [f.verdict for f in configuration_facts(site)] == ["ok"] * len(FACT_KEYS)


def test_the_example_profile_loads_with_the_site() -> None:
    profile = load_site(EXAMPLE).load_profile()
    assert profile.name == "defa-erange"
    assert profile.framing == "ascii"


def test_a_minimal_file_takes_the_defaults(tmp_path: Path) -> None:
    site = load_site(write(tmp_path, MINIMAL))
    assert site.profile == "defa-erange"
    assert site.adapter_at == "clu"
    assert site.clu == "connected"  # the safe default: listen only
    assert not site.active_probes_allowed
    assert site.cable_m is None and site.site_current_a is None
    assert site.meters == Meters(False, None)
    assert site.line_settings is None and site.framing is None
    assert site.chain[0].name == "XAXXY01"  # the label when no name is given


def test_to_dict_is_json(tmp_path: Path) -> None:
    site = load_site(EXAMPLE)
    data = json.loads(json.dumps(site.to_dict()))
    assert data["expected_addresses"] == list(range(1, 13))
    assert data["chain"][6] == {
        "position": 7,
        "address": 7,
        "addresses": [7, 8],
        "model": "DUO",
        "labels": ["XAXXY07", "XAXXY08"],
        "name": "Ramp pillar",
        "line": 71,
    }
    assert data["adapter"] == "clu" and data["clu"] == "disconnected"
    assert data["port"] is None
    for fact in configuration_facts(site):
        json.dumps(fact.to_dict())


# --- chain helpers -------------------------------------------------------------------------------


def test_chain_helpers() -> None:
    site = site_of(uno(2), duo(3), uno(1), adapter_at="end")
    assert site.chain_addresses == (2, 3, 4, 1)
    assert site.chain_positions == ((2,), (3, 4), (1,))
    assert site.expected_addresses == (2, 3, 4, 1)
    assert [s.address for s in site.chain_from_adapter()] == [1, 3, 2]
    assert site.position_of(4) == 2
    assert site.position_of(9) is None
    assert site.label_of(4) == "XAXXY04"
    assert site.label_of(9) is None
    assert site.stations_at(3) == (site.chain[1],)


def test_expected_addresses_leave_out_a_duo_running_past_16_and_repeat_once() -> None:
    site = site_of(uno(1), uno(1, label=9), duo(16))
    assert site.chain_addresses == (1, 1, 16, 17)
    assert site.expected_addresses == (1, 16)


def test_line_and_framing_overrides_reach_the_profile(tmp_path: Path) -> None:
    site = load_site(write(tmp_path, MINIMAL + "line: 9600 8N1\nframing: rtu\n"))
    assert site.line_settings == LineSettings(9600, 8, "N", 1)
    profile = site.load_profile()
    assert profile.line == LineSettings(9600, 8, "N", 1)
    assert profile.framing == "rtu"
    assert profile.identity.start == 0x0050  # the rest of the profile is unchanged


def test_a_profile_path_is_relative_to_the_site_file(tmp_path: Path) -> None:
    bundled = Path(__file__).resolve().parents[2] / "clu_doctor" / "bus" / "profiles"
    (tmp_path / "profiles").mkdir()
    text = (bundled / "modbus-meter.yaml").read_text(encoding="utf-8")
    (tmp_path / "profiles" / "my-meter.yaml").write_text(
        text.replace("name: modbus-meter", "name: my-meter"), encoding="utf-8"
    )
    site = load_site(write(tmp_path, MINIMAL + "profile: profiles/my-meter.yaml\n"))
    assert site.profile_reference() == tmp_path / "profiles" / "my-meter.yaml"
    assert site.load_profile().name == "my-meter"


def test_a_custom_label_prefix(tmp_path: Path) -> None:
    site = load_site(
        write(
            tmp_path,
            """\
            name: t
            label_prefix: no4711y
            chain: [{address: 1, model: IQ, label: NO4711Y01}]
            """,
        )
    )
    assert site.label_prefix == "NO4711Y"
    assert site.chain[0].labels == ("NO4711Y01",)
    assert facts_by_key(configuration_facts(site))["config.labels_match"].verdict == "ok"


def test_model_and_label_case_are_normalised(tmp_path: Path) -> None:
    site = load_site(
        write(tmp_path, "name: t\nchain: [{address: 3, model: duo, labels: [xaxxy03, XAXXY04]}]\n")
    )
    assert site.chain[0].model == "DUO"
    assert site.chain[0].labels == ("XAXXY03", "XAXXY04")


# --- schema errors: one line each, with the location ---------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "chain: [{address: 1, model: UNO, label: XAXXY01}]\n",
            "site.yaml:1: the site has no 'name'",
            id="missing-name",
        ),
        pytest.param(
            "name: t\n",
            "site.yaml:1: the site has no 'chain'",
            id="missing-chain",
        ),
        pytest.param(
            "name: t\nchain:\n  - {address: 1, model: UNO, label: XAXXY01}\n  - {model: UNO, label: XAXXY02}\n",
            "site.yaml:4: chain station 2 has no 'address'",
            id="missing-address",
        ),
        pytest.param(
            "name: t\nchain:\n  - {address: 1, label: XAXXY01}\n",
            "site.yaml:3: chain station 1 has no 'model'",
            id="missing-model",
        ),
        pytest.param(
            "name: t\nchain:\n  - {address: 1, model: UNO}\n",
            "site.yaml:3: chain station 1 has no 'label' (expected e.g. label: XAXXY01)",
            id="missing-label",
        ),
        pytest.param(
            "name: t\nchain:\n  - address: 17\n    model: UNO\n    label: XAXXY16\n",
            "site.yaml:3: chain station 1: address 17 is outside 1..16 (expected 1..16: the CLU serves at most 16 outlets)",
            id="address-17",
        ),
        pytest.param(
            "name: t\nchain:\n  - {address: 0, model: UNO, label: XAXXY01}\n",
            "site.yaml:3: chain station 1: address 0 is outside 1..16 (expected 1..16: the CLU serves at most 16 outlets)",
            id="address-0",
        ),
        pytest.param(
            "name: t\nchain:\n  - {address: three, model: UNO, label: XAXXY03}\n",
            "site.yaml:3: chain station 1: address is text (expected a whole number)",
            id="address-text",
        ),
        pytest.param(
            "name: t\nchain:\n  - {address: 2.0, model: UNO, label: XAXXY02}\n",
            "site.yaml:3: chain station 1: address is a number (expected a whole number)",
            id="address-float",
        ),
        pytest.param(
            "name: t\ncable_m: long\n" + MINIMAL.split("\n", 1)[1],
            "site.yaml:2: cable_m is text (expected a number)",
            id="cable-text",
        ),
        pytest.param(
            "name: t\ncable_m: -3\n" + MINIMAL.split("\n", 1)[1],
            "site.yaml:2: cable_m is -3 (expected a number, 0 or more)",
            id="cable-negative",
        ),
        pytest.param(
            "name: t\nsite_current_a: 0\n" + MINIMAL.split("\n", 1)[1],
            "site.yaml:2: site_current_a is 0 (expected a number above 0)",
            id="current-zero",
        ),
        pytest.param(
            "name: t\nsite_current_a: true\n" + MINIMAL.split("\n", 1)[1],
            "site.yaml:2: site_current_a is true/false (expected a number)",
            id="current-bool",
        ),
        pytest.param(
            "name: [a, b]\n" + MINIMAL.split("\n", 1)[1],
            "site.yaml:1: name is a list (expected text)",
            id="name-list",
        ),
        pytest.param(
            "name: t\nchain: {address: 1}\n",
            "site.yaml:2: chain is a mapping (expected a list of stations)",
            id="chain-mapping",
        ),
        pytest.param(
            "name: t\nchain: []\n",
            "site.yaml:2: chain is empty (expected at least one station)",
            id="chain-empty",
        ),
        pytest.param(
            "name: t\nchain:\n  - XAXXY01\n",
            "site.yaml:3: chain station 1 is text (expected a mapping)",
            id="station-text",
        ),
        pytest.param(
            "name: t\nchain:\n  - {address: 1, model: UNO, label: XAXXY01}\n  - {address: 2, model: UNO, label: XAXXY01}\n",
            "site.yaml:4: chain station 2: label XAXXY01 is used twice (first on line 3) (expected every outlet has its own label)",
            id="duplicate-labels",
        ),
        pytest.param(
            "name: t\nchain:\n  - {address: 1, model: DUO, labels: [XAXXY01, XAXXY02]}\n  - {address: 2, model: UNO, label: XAXXY02}\n",
            "site.yaml:4: chain station 2: label XAXXY02 is used twice (first on line 3) (expected every outlet has its own label)",
            id="duplicate-label-in-a-duo",
        ),
        pytest.param(
            "name: t\ncolour: red\n" + MINIMAL.split("\n", 1)[1],
            "site.yaml:2: unknown key 'colour' in the site (expected adapter, cable_m, chain, clu, framing, ignore, label_prefix, line, meters, name, notes, port, profile, site_current_a, thresholds)",
            id="unknown-top-key",
        ),
        pytest.param(
            "name: t\nchain:\n  - {address: 1, model: UNO, label: XAXXY01, adress: 2}\n",
            "site.yaml:3: unknown key 'adress' in chain station 1 (expected address, label, labels, model, name)",
            id="unknown-station-key",
        ),
        pytest.param(
            "name: t\nmeters: {present: true, second: true}\n" + MINIMAL.split("\n", 1)[1],
            "site.yaml:2: unknown key 'second' in meters (expected present, second_bus)",
            id="unknown-meter-key",
        ),
        pytest.param(
            "name: t\nmeters: {present: yes}\n" + MINIMAL.split("\n", 1)[1],
            "site.yaml:2: meters: present is text (expected true or false)",
            id="meters-yes",
        ),
        pytest.param(
            "name: t\nchain:\n  - {address: 1, model: UNO, label: XAXXY17}\n",
            "site.yaml:3: chain station 1: label 'XAXXY17' is not one of the CLU box's labels (expected XAXXY01..XAXXY16 (set label_prefix if your labels start differently))",
            id="label-17",
        ),
        pytest.param(
            "name: t\nchain:\n  - {address: 1, model: UNO, label: Bay-1}\n",
            "site.yaml:3: chain station 1: label 'Bay-1' is not one of the CLU box's labels (expected XAXXY01..XAXXY16 (set label_prefix if your labels start differently))",
            id="label-free-text",
        ),
        pytest.param(
            "name: t\nchain:\n  - {address: 1, model: DUO, label: XAXXY01}\n",
            "site.yaml:3: chain station 1: a DUO has two outlets, so it takes 'labels', not 'label'",
            id="duo-with-label",
        ),
        pytest.param(
            "name: t\nchain:\n  - {address: 1, model: UNO, labels: [XAXXY01]}\n",
            "site.yaml:3: chain station 1: a UNO has one outlet, so it takes 'label', not 'labels'",
            id="uno-with-labels",
        ),
        pytest.param(
            "name: t\nchain:\n  - {address: 1, model: DUO, labels: [XAXXY01]}\n",
            "site.yaml:3: chain station 1: labels is a list of 1 (expected a list of the DUO's two outlet labels)",
            id="duo-one-label",
        ),
        pytest.param(
            "name: t\nchain:\n  - {address: 1, model: TRIO, label: XAXXY01}\n",
            "site.yaml:3: chain station 1: model is 'TRIO' (expected UNO | IQ | DUO)",
            id="model-unknown",
        ),
        pytest.param(
            "name: t\nadapter: middle\n" + MINIMAL.split("\n", 1)[1],
            "site.yaml:2: adapter is 'middle' (expected clu | end)",
            id="adapter",
        ),
        pytest.param(
            "name: t\nclu: off\n" + MINIMAL.split("\n", 1)[1],
            "site.yaml:2: clu is 'off' (expected connected | disconnected)",
            id="clu",
        ),
        pytest.param(
            "name: t\nframing: tcp\n" + MINIMAL.split("\n", 1)[1],
            "site.yaml:2: framing is 'tcp' (expected ascii | rtu | evcc1)",
            id="framing",
        ),
        pytest.param(
            "name: t\nline: fast\n" + MINIMAL.split("\n", 1)[1],
            "site.yaml:2: 'fast' is not a line setting (expected e.g. '38400 8E1')",
            id="line",
        ),
        pytest.param(
            "name: t\nprofile: abb-meter\n" + MINIMAL.split("\n", 1)[1],
            "site.yaml:2: unknown device profile 'abb-meter' (expected a bundled profile (defa-erange, defa-evcc1, modbus-meter) or a path to a profile file)",
            id="profile-name",
        ),
        pytest.param(
            "name: t\nprofile: nowhere/p.yaml\n" + MINIMAL.split("\n", 1)[1],
            "site.yaml:2: profile file 'nowhere/p.yaml' not found",
            id="profile-path",
        ),
        pytest.param(
            "name: t\nname: u\n" + MINIMAL.split("\n", 1)[1],
            "site.yaml:2:1: duplicate key 'name' (first given on line 1)",
            id="duplicate-key",
        ),
        pytest.param(
            "",
            "site.yaml:1: the file is empty (expected a site description)",
            id="empty",
        ),
        pytest.param(
            "- just\n- a list\n",
            "site.yaml:1: the site is a list (expected a mapping)",
            id="not-a-mapping",
        ),
    ],
)
def test_each_schema_error_is_one_line_with_its_location(
    tmp_path: Path, text: str, expected: str
) -> None:
    line = one_problem(tmp_path, text)
    assert line == f"{tmp_path}/{expected}"


def test_the_port_of_an_unattended_gateway(tmp_path: Path) -> None:
    port = "/dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A10K1234-if00-port0"
    site = load_site(write(tmp_path, f"port: {port}\n" + MINIMAL))
    assert site.port == port
    with pytest.raises(FileProblemError) as caught:
        load_site(write(tmp_path, "port: 3\n" + MINIMAL))
    assert str(caught.value).endswith("site.yaml:1: port is a whole number (expected text)")


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    found = problems_of(
        tmp_path,
        """\
        cable_m: far
        chain:
          - {address: 17, model: UNO, label: XAXXY16}
          - {address: 2, model: UNO, label: XAXXY02, colour: red}
          - {address: 3, model: UNO, label: XAXXY02}
        """,
    )
    where = [line.split(": ", 1)[0].rsplit(":", 1)[1] for line in found]
    assert sorted(where, key=int) == ["1", "1", "3", "4", "5"]
    assert len(found) == 5
    with pytest.raises(FileProblemError) as caught:
        load_site(write(tmp_path, "chain: 3\n"))
    assert str(caught.value).endswith("(and 1 more problem)")
    # The reader names no command; the command line tells the user the one that prints an
    # example (examples/site.yaml is not on an installed machine).
    from clu_doctor.commands.options import people_hint

    assert "clu-doctor site init" in (people_hint(caught.value.hint) or "")


def test_a_missing_file_is_a_located_problem(tmp_path: Path) -> None:
    with pytest.raises(FileProblemError) as caught:
        load_site(tmp_path / "nope.yaml")
    assert str(caught.value) == f"{tmp_path}/nope.yaml: no such file"


def test_parse_site_names_its_source() -> None:
    with pytest.raises(FileProblemError) as caught:
        parse_site({"name": "t"}, "inline")
    assert str(caught.value).startswith("inline:")


# --- configuration facts -----------------------------------------------------------------------


def facts(site: Site) -> dict[str, ConfigFact]:
    found = configuration_facts(site)
    assert [f.key for f in found] == list(FACT_KEYS)
    assert all(f.verdict in FACT_VERDICTS for f in found)
    return facts_by_key(found)


def test_a_healthy_plan_has_only_ok_facts() -> None:
    site = site_of(
        *(uno(a) for a in range(1, 9)),
        *(duo(a) for a in range(9, 17, 2)),
        cable_m=150,
        site_current_a=100,
        meters=Meters(True, True),
    )
    assert {k: f.verdict for k, f in facts(site).items()} == dict.fromkeys(FACT_KEYS, "ok")


def test_an_address_planned_twice_names_both_stations(tmp_path: Path) -> None:
    site = load_site(
        write(
            tmp_path,
            """\
            name: t
            chain:
              - {address: 1, model: UNO, label: XAXXY01, name: Bay 1}
              - {address: 2, model: UNO, label: XAXXY02, name: Bay 2}
              - {address: 1, model: UNO, label: XAXXY09, name: Bay 9}
            """,
        )
    )
    fact = facts(site)["config.addresses_unique"]
    assert fact.verdict == "problem"
    assert fact.data == {"duplicates": {"1": ["XAXXY01", "XAXXY09"]}}
    assert fact.evidence == (
        f"address 1 is planned for 2 stations: Bay 1 ({tmp_path}/site.yaml:3), "
        f"Bay 9 ({tmp_path}/site.yaml:5)",
    )
    # The same plan also puts label 09 on address 1.
    assert facts(site)["config.labels_match"].verdict == "problem"


def test_a_label_on_the_wrong_address() -> None:
    fact = facts(site_of(uno(1), uno(6, label=5)))["config.labels_match"]
    assert fact.verdict == "problem"
    assert fact.data == {"mismatches": [{"label": "XAXXY05", "address": 6, "label_address": 5}]}
    assert "XAXXY05 is on address 6" in fact.evidence[0]
    assert "outlet 05" in fact.evidence[0]


def test_a_duo_checks_both_labels() -> None:
    swapped = Station(3, "DUO", ("XAXXY04", "XAXXY03"), "DUO 3")
    fact = facts(site_of(swapped))["config.labels_match"]
    assert [m["label"] for m in fact.data["mismatches"]] == ["XAXXY04", "XAXXY03"]


def test_a_duo_whose_second_address_would_be_17() -> None:
    fact = facts(site_of(uno(1), duo(16)))["config.duo_pairs"]
    assert fact.verdict == "problem"
    assert fact.data["problems"] == [
        {"station": "XAXXY16", "second_address": 17, "kind": "past_16"}
    ]
    assert "would need address 17" in fact.evidence[0]


def test_a_duo_overlapping_the_next_station() -> None:
    fact = facts(site_of(duo(3), uno(4), duo(5)))["config.duo_pairs"]
    assert fact.verdict == "problem"
    assert fact.data["problems"] == [
        {"station": "XAXXY03", "second_address": 4, "kind": "overlap", "with": ["XAXXY04"]}
    ]
    # The overlap is the DUO's fact, not a second "address twice" fact.
    assert facts(site_of(duo(3), uno(4)))["config.addresses_unique"].verdict == "ok"


def test_no_duo_is_ok() -> None:
    fact = facts(site_of(uno(1)))["config.duo_pairs"]
    assert (fact.verdict, fact.summary) == ("ok", "no DUO stations")


def test_more_than_16_outlets() -> None:
    fact = facts(site_of(*(duo(a) for a in range(1, 18, 2))))["config.address_count"]
    assert fact.verdict == "problem"
    assert fact.data == {"outlets": 18, "limit": 16, "stations": 9}
    assert facts(site_of(*(uno(a) for a in range(1, 17))))["config.address_count"].verdict == "ok"


@pytest.mark.parametrize(
    ("cable_m", "verdict"), [(None, "unknown"), (0, "ok"), (150, "ok"), (150.5, "problem")]
)
def test_cable_length(cable_m: float | None, verdict: str) -> None:
    fact = facts(site_of(uno(1), cable_m=cable_m))["config.cable_length"]
    assert fact.verdict == verdict
    assert fact.manual == "§9"


# The manual §7 table rows (domain.md): site current -> after 5 % margin -> per phase -> total.
TABLE = [
    (32, 30, 5, 15),
    (63, 59, 9, 27),
    (100, 95, 15, 45),
    (200, 190, 31, 93),
    (400, 380, 63, 189),
]


@pytest.mark.parametrize(("current", "margin", "per_phase", "total"), TABLE)
def test_capacity_matches_every_row_of_the_manual_table(
    current: int, margin: int, per_phase: int, total: int
) -> None:
    row = capacity(current)
    assert (row.margin_a, row.per_phase, row.total) == (margin, per_phase, total)


@given(st.integers(min_value=1, max_value=5000))
def test_capacity_is_exact_integer_arithmetic(current: int) -> None:
    row = capacity(current)
    assert row.margin_a == (95 * current) // 100
    assert row.per_phase == row.margin_a // 6
    assert row.total == 3 * row.per_phase


def test_capacity_with_fractional_currents_has_no_float_rounding() -> None:
    # 0.95 * 63 is 59.849999... in floating point; 0.95 * 20 = 19 exactly, not 18.999...
    assert capacity(20).margin_a == 19
    assert capacity(63.2).margin_a == 60  # 60.04
    assert capacity(6.4).margin_a == 6  # 6.08 -> 6 A -> one vehicle per phase
    assert capacity(6.4).per_phase == 1
    with pytest.raises(ValueError):
        capacity(0)
    with pytest.raises(ValueError):
        capacity(math.inf)


@pytest.mark.parametrize(
    ("current", "outlets", "verdict"),
    [(63, 16, "ok"), (32, 15, "ok"), (32, 16, "problem"), (16, 8, "problem")],
)
def test_capacity_fact_against_the_outlets(current: int, outlets: int, verdict: str) -> None:
    site = site_of(*(uno(a) for a in range(1, outlets + 1)), site_current_a=current)
    fact = facts(site)["config.capacity"]
    assert fact.verdict == verdict
    row = capacity(current)
    assert fact.data["total"] == row.total and fact.data["per_phase"] == row.per_phase
    assert fact.data["outlets"] == outlets


def test_capacity_unknown_without_a_site_current() -> None:
    assert facts(site_of(uno(1)))["config.capacity"].verdict == "unknown"


@pytest.mark.parametrize(
    ("meters", "verdict"),
    [
        (Meters(False, None), "ok"),
        (Meters(False, False), "ok"),
        (Meters(True, True), "ok"),
        (Meters(True, None), "unknown"),
        (Meters(True, False), "problem"),
    ],
)
def test_meters_need_a_second_bus(meters: Meters, verdict: str) -> None:
    assert facts(site_of(uno(1), meters=meters))["config.meter_bus"].verdict == verdict


def test_facts_are_a_pure_function_of_the_site() -> None:
    site = load_site(EXAMPLE)
    assert configuration_facts(site) == configuration_facts(site)
