"""Reasoning across the findings of one run: OK claims against faults, nesting by evidence,
waiting, and the facts texts name. Small rule sets, so each rule of the reasoning is seen
on its own; the bundled rules' cases and the command-line tests show it on real sites."""

from __future__ import annotations

from pathlib import Path

from clu_doctor.engine import (
    AnswerSource,
    Layer,
    Observation,
    Severity,
    load_rulebook,
)
from clu_doctor.engine.diagnosis import explains
from clu_doctor.probing import known_at_start
from clu_doctor.resources import rules_dir
from clu_doctor.site.model import Site, Station
from tests.engine.rulesets import VOCABULARY, RulesFactory, edit, line_of, problems_of

BUNDLED = load_rulebook()

# A bus tree and a station tree: "every station answers" (bus, OK) and "every controller is
# normal" (station, OK, with a scoped title), and the faults that deny them.
REACH = """\
tree: reach
title: Reach
manual: Manual §9
start: reach
nodes:
  reach:
    ask: lamp.probed
    branches:
      seen: finding:REACH-OK-01
      unseen: finding:REACH-CUT-01
    unknown: end
findings:
  REACH-OK-01:
    severity: ok
    layer: bus
    title: Every station answers
    cause: All answer.
    remedy: [Nothing to do.]
    verify: They keep answering.
    manual: Manual §9
  REACH-CUT-01:
    severity: critical
    layer: bus
    title: Stations beyond {cut} are cut off
    partial_title: null
    cause: The cable is cut.
    remedy:
      - Mend the cable after {cut}.
    verify: After the fix, expect every station to answer.
    manual: Manual §9
cases:
  - name: cut
    observe: {lamp.probed: unseen}
    expect: {findings: [REACH-CUT-01], status: critical}
"""

STATES = """\
tree: states
title: States
manual: Manual §11
start: state
nodes:
  state:
    ask: lamp.colour
    branches:
      green: finding:STATE-OK-01
      red: finding:STATE-BAD-01
    unknown: end
findings:
  STATE-OK-01:
    severity: ok
    layer: station
    title: Every controller is normal
    partial_title: The controllers that answered are normal
    cause: All normal.
    remedy: [Nothing to do.]
    verify: They stay normal.
    manual: Manual §11
  STATE-BAD-01:
    severity: warning
    layer: station
    title: A controller is in a bad state
    cause: Bad state.
    remedy: [Reset it.]
    verify: After the fix, expect a normal state.
    explained_by: [REACH-CUT-01]
    manual: Manual §11
cases:
  - name: bad
    observe: {lamp.colour: red}
    expect: {findings: [STATE-BAD-01], status: warning}
"""

FACTS = (
    VOCABULARY
    + """\
facts:
  cut:
    help: the last station that answers
    default: the break
"""
)


def rules(make_rules: RulesFactory, tree: str = REACH, states: str = STATES) -> Path:
    return make_rules(
        tree=tree.replace("    partial_title: null\n", ""),
        vocabulary=FACTS,
        extra={"20-states.yaml": states},
    )


def seen(key: str, value: str, **extra: object) -> Observation:
    return Observation(key, value, AnswerSource.PROBE, "probe", **extra)  # type: ignore[arg-type]


# --- OK claims against the faults of the same run ------------------------------------------------


def test_an_ok_beside_a_fault_at_a_layer_it_needs_is_scoped_when_the_fault_names_stations(
    make_rules: RulesFactory,
) -> None:
    rulebook = load_rulebook(rules(make_rules))
    diagnosis = rulebook.diagnose(
        {
            "lamp.probed": seen("lamp.probed", "unseen", addresses=(7, 8)),
            "lamp.colour": seen("lamp.colour", "green", addresses=(1, 2)),
        }
    )
    ok = next(f for f in diagnosis.all_findings() if f.id == "STATE-OK-01")
    assert ok.partial and ok.title == "The controllers that answered are normal"
    assert ok.finding.title == "Every controller is normal"
    assert diagnosis.withdrawn == ()


def test_an_ok_beside_a_fault_about_the_whole_layer_is_withdrawn(
    make_rules: RulesFactory,
) -> None:
    rulebook = load_rulebook(rules(make_rules))
    diagnosis = rulebook.diagnose(
        {"lamp.probed": seen("lamp.probed", "unseen"), "lamp.colour": seen("lamp.colour", "green")}
    )
    assert diagnosis.finding_ids == {"REACH-CUT-01"}
    [withdrawn] = diagnosis.withdrawn
    assert (withdrawn.id, withdrawn.contradicted_by) == ("STATE-OK-01", ("REACH-CUT-01",))
    assert diagnosis.status is Severity.CRITICAL
    assert diagnosis.to_dict()["withdrawn"][0]["contradicted_by"] == ["REACH-CUT-01"]


def test_a_fault_at_the_oks_own_layer_or_one_it_does_not_need_leaves_it(
    make_rules: RulesFactory,
) -> None:
    # REACH-OK-01 is at the bus, which needs nothing; a station fault cannot deny it.
    rulebook = load_rulebook(rules(make_rules))
    diagnosis = rulebook.diagnose(
        {"lamp.probed": seen("lamp.probed", "seen"), "lamp.colour": seen("lamp.colour", "red")}
    )
    assert diagnosis.finding_ids == {"REACH-OK-01", "STATE-BAD-01"}
    ok = next(f for f in diagnosis.findings if f.id == "REACH-OK-01")
    assert not ok.partial and ok.title == "Every station answers"


def test_an_observation_that_covers_part_of_the_site_scopes_the_ok(
    make_rules: RulesFactory,
) -> None:
    rulebook = load_rulebook(rules(make_rules))
    diagnosis = rulebook.diagnose({"lamp.colour": seen("lamp.colour", "green", partial=True)})
    [ok] = diagnosis.findings
    assert ok.title == "The controllers that answered are normal"
    # an OK finding without a scoped title claims nothing "every": partial evidence keeps it
    diagnosis = rulebook.diagnose({"lamp.probed": seen("lamp.probed", "seen", partial=True)})
    [reach] = diagnosis.findings
    assert not reach.partial and reach.title == "Every station answers"


def test_the_bundled_portal_ok_is_withdrawn_by_a_clu_that_does_not_start() -> None:
    answers = {
        "clu.power_led": seen("clu.power_led", "steady"),
        "clu.status_led": seen("clu.status_led", "off"),
        "cloud.heartbeat_timeout": seen("cloud.heartbeat_timeout", "no"),
    }
    diagnosis = BUNDLED.diagnose(answers)
    assert "CLOUD-OK-01" not in diagnosis.finding_ids
    assert [w.id for w in diagnosis.withdrawn] == ["CLOUD-OK-01"]
    # the bus does not need the CLU: a dead USB interface leaves "every station answers"
    answers = {
        "bus.traffic": seen("bus.traffic", "silent"),
        "bus.reach": seen("bus.reach", "all", addresses=(1, 2)),
        "clu.power_led": seen("clu.power_led", "steady"),
        "clu.status_led": seen("clu.status_led", "flashing"),
        "clu.uptime_s": Observation("clu.uptime_s", 3600, AnswerSource.FLAG),
    }
    diagnosis = BUNDLED.diagnose(answers)
    assert {"USB-DARK-01", "BUS-OK-01"} <= diagnosis.finding_ids


# --- layers judged without a finding ------------------------------------------------------------


def test_a_tree_that_looked_and_found_nothing_judges_its_layers() -> None:
    looked = BUNDLED.diagnose({"bus.errors": seen("bus.errors", "low")})
    assert Layer.BUS in looked.fine_layers
    # "don't know" looked at nothing
    unknown = BUNDLED.diagnose({"bus.errors": seen("bus.errors", "unknown")})
    assert Layer.BUS not in unknown.fine_layers


def test_nothing_is_fine_while_a_fault_it_depends_on_stands() -> None:
    """No charge point is "fine" while none answers; the portal says nothing of a dead CLU."""
    silent = BUNDLED.diagnose(
        {
            "bus.traffic": seen("bus.traffic", "unanswered"),
            "bus.errors": seen("bus.errors", "low"),
            "clu.power_led": seen("clu.power_led", "steady"),
            "clu.status_led": seen("clu.status_led", "steady"),
        }
    )
    assert "USB-BUS-01" in silent.finding_ids
    held = dict(silent.held_back)
    assert held[Layer.STATION] == "USB-BUS-01"
    assert Layer.STATION not in silent.fine_layers
    assert Layer.USB_INTERFACE in silent.fine_layers  # the finding clears it
    dead = BUNDLED.diagnose(
        {
            "clu.power_led": seen("clu.power_led", "off"),
            "clu.status_led": seen("clu.status_led", "off"),
        }
    )
    held = dict(dead.held_back)
    assert held[Layer.BACKEND] == held[Layer.USB_INTERFACE] == "CLU-PWR-01"


def test_a_tree_that_defers_to_another_trees_finding_judges_nothing() -> None:
    """Bytes that do not decode say nothing of the bus or its charge points: the bus-reach
    tree ends on ``see:BUS-GARBLE-01``, and the adapter's finding says why."""
    garbled = BUNDLED.diagnose({"bus.traffic": seen("bus.traffic", "undecodable")})
    assert "BUS-GARBLE-01" in garbled.finding_ids
    reach = next(trace for trace in garbled.traces if trace.tree == "bus-reach")
    assert (reach.outcome, reach.finding) == ("see:BUS-GARBLE-01", None)
    held = dict(garbled.held_back)
    assert held[Layer.BUS] == held[Layer.STATION] == "BUS-GARBLE-01"
    assert not garbled.fine_layers & {Layer.BUS, Layer.STATION}


def test_see_names_another_trees_finding(make_rules: RulesFactory) -> None:
    def tree(target: str) -> Path:
        return rules(make_rules, REACH.replace("unknown: end", f"unknown: {target}"))

    def sees(target: str) -> list[str]:
        return problems_of(tree(target))

    valid = load_rulebook(tree("see:STATE-OK-01"), fresh=True).diagnose({})
    assert next(t for t in valid.traces if t.tree == "reach").outcome == "see:STATE-OK-01"
    [own] = sees("see:REACH-OK-01")
    assert "sees REACH-OK-01, a finding of this same tree" in own
    assert "(expected 'finding:REACH-OK-01' to report it here)" in own
    [missing] = sees("see:STATE-OK-02")
    assert "sees STATE-OK-02, which does not exist; did you mean 'STATE-OK-01'?" in missing


# --- nesting decided by the evidence -------------------------------------------------------------


def test_a_symptom_nests_under_its_cause_only_where_the_addresses_agree(
    make_rules: RulesFactory,
) -> None:
    rulebook = load_rulebook(rules(make_rules))

    def run(cut: tuple[int, ...], bad: tuple[int, ...]) -> list[str]:
        diagnosis = rulebook.diagnose(
            {
                "lamp.probed": seen("lamp.probed", "unseen", addresses=cut),
                "lamp.colour": seen("lamp.colour", "red", addresses=bad),
            }
        )
        return [f.id for f in diagnosis.findings]

    assert run((7, 8, 9), (8,)) == ["REACH-CUT-01"]  # the bad station lies beyond the cut
    assert run((7, 8, 9), (3,)) == ["REACH-CUT-01", "STATE-BAD-01"]  # it does not: two faults
    assert run((7, 8, 9), (3, 8)) == ["REACH-CUT-01", "STATE-BAD-01"]  # only partly
    assert run((7, 8, 9), ()) == ["REACH-CUT-01"]  # where is not known: the cause explains it


def test_explains_needs_the_rule_and_agreeing_addresses() -> None:
    finding = BUNDLED.findings
    from clu_doctor.engine import ReportedFinding

    def item(fid: str, *addresses: int) -> ReportedFinding:
        return ReportedFinding(finding[fid], ("t",), addresses=addresses)

    assert explains(item("BUS-MISADDR-01", 1, 9), item("BUS-STATION-01", 9))
    assert explains(item("BUS-MISADDR-01", 1, 9), item("BUS-DUP-02", 1))
    assert not explains(item("BUS-MISADDR-01", 1, 9), item("BUS-STATION-01", 4))
    assert not explains(item("BUS-NOISE-01", 1, 2, 3), item("STATION-FAULT-01", 2))  # no rule
    assert not explains(item("BUS-STATION-01", 9), item("BUS-STATION-01", 9))


# --- waiting -------------------------------------------------------------------------------------


def test_waiting_is_unknown_and_says_how_long() -> None:
    def uptime(seconds: float) -> dict[str, Observation]:
        return {
            "clu.power_led": seen("clu.power_led", "steady"),
            "clu.status_led": seen("clu.status_led", "flashing"),
            "usb.red_led": seen("usb.red_led", "off"),
            "usb.green_led": seen("usb.green_led", "off"),
            "clu.uptime_s": Observation("clu.uptime_s", seconds, AnswerSource.FLAG),
        }

    waiting = BUNDLED.diagnose(uptime(100))
    assert (waiting.status, waiting.wait_s) == (Severity.UNKNOWN, 50.0)
    assert waiting.to_dict()["wait_s"] == 50.0
    assert BUNDLED.diagnose(uptime(149.5)).wait_s == 0.5
    after = BUNDLED.diagnose(uptime(150))
    assert (after.status, after.wait_s) == (Severity.CRITICAL, None)


# --- facts named in texts ------------------------------------------------------------------------


def test_texts_name_the_facts_of_the_observations_that_led_there(
    make_rules: RulesFactory,
) -> None:
    rulebook = load_rulebook(rules(make_rules))
    named = rulebook.diagnose(
        {"lamp.probed": seen("lamp.probed", "unseen", facts={"cut": "XAXXY06"})}
    )
    [cut] = named.findings
    assert cut.title == "Stations beyond XAXXY06 are cut off"
    assert cut.finding.remedy == ("Mend the cable after XAXXY06.",)
    unnamed = rulebook.diagnose({"lamp.probed": seen("lamp.probed", "unseen")})
    assert unnamed.findings[0].title == "Stations beyond the break are cut off"


def test_the_charging_question_names_the_sites_charge_points() -> None:
    site = Site(
        name="t",
        chain=tuple(Station(a, "UNO", (f"XAXXY{a:02d}",), f"Bay {a}") for a in range(1, 13)),
    )
    answers = {
        **known_at_start(site),
        "clu.power_led": seen("clu.power_led", "steady"),
        "clu.status_led": seen("clu.status_led", "flashing"),
        "usb.red_led": seen("usb.red_led", "flashing"),
        "usb.green_led": seen("usb.green_led", "flashing"),
    }
    spec = BUNDLED.next_question(answers)
    assert spec is not None and spec.key == "charging.starts"
    assert spec.question == (
        "With a vehicle connected to one of the charge points XAXXY01 to XAXXY12, does "
        "charging start?"
    )
    del answers["site.addresses"]
    spec = BUNDLED.next_question(answers)
    assert spec is not None and spec.question == (
        "With a vehicle connected to a charge point on this CLU, does charging start?"
    )


# --- the validator proves the new keys -----------------------------------------------------------


def tree_file(root: Path) -> str:
    return str(root / "trees" / "10-lamp.yaml")


def test_a_partial_title_only_on_an_ok_finding(make_rules: RulesFactory) -> None:
    text = edit(REACH, "    partial_title: null\n", "    partial_title: Some stations\n")
    root = make_rules(tree=text, vocabulary=FACTS)
    assert problems_of(root) == [
        f"{tree_file(root)}:{line_of(text, 'partial_title')}: finding REACH-CUT-01 has a "
        "'partial_title' but its severity is critical (expected a partial title only on a "
        "finding of severity ok)"
    ]


def test_a_fact_a_text_names_must_be_declared(make_rules: RulesFactory) -> None:
    text = REACH.replace("    partial_title: null\n", "").replace("{cut}", "{kut}")
    root = make_rules(tree=text, vocabulary=FACTS)
    problems = problems_of(root)
    assert (
        f"{tree_file(root)}:{line_of(text, 'title: Stations')}: the title of REACH-CUT-01 names "
        "the fact {kut}, which is not declared; did you mean 'cut'? (expected a fact under "
        "'facts:' in observations.yaml: cut)"
    ) in problems
    assert len(problems) == 2  # the title and the remedy step


def test_a_stray_brace_is_a_slip(make_rules: RulesFactory) -> None:
    text = REACH.replace("    partial_title: null\n", "").replace("The cable is cut.", "Cut {.")
    root = make_rules(tree=text, vocabulary=FACTS)
    assert problems_of(root) == [
        f"{tree_file(root)}:{line_of(text, 'Cut {.')}: the cause of finding REACH-CUT-01 has a "
        "brace that does not name a fact (expected '{name}' for a fact declared under 'facts:' "
        "in observations.yaml, and no other braces)"
    ]


def test_wait_needs_a_number_the_tree_asks_and_severity_unknown(
    make_rules: RulesFactory,
) -> None:
    from tests.engine.rulesets import TREE

    good = edit(
        TREE,
        "    look_at: [lamp.colour]\n",
        "    look_at: [lamp.colour]\n    wait: {observation: lamp.age_s, until: 60}\n",
    )
    assert load_rulebook(make_rules(tree=good)).findings["LAMP-ASK-01"].wait is not None
    not_number = good.replace("observation: lamp.age_s", "observation: lamp.colour")
    root = make_rules(tree=not_number)
    assert problems_of(root) == [
        f"{tree_file(root)}:{line_of(not_number, 'wait:')}: finding LAMP-ASK-01 waits for "
        "'lamp.colour', which is not a number (expected a number observation, e.g. clu.uptime_s)"
    ]
    on_ok = edit(
        TREE,
        "    verify: It stays fine.\n",
        "    verify: It stays fine.\n    wait: {observation: lamp.age_s, until: 60}\n",
    )
    root = make_rules(tree=on_ok)
    assert problems_of(root) == [
        f"{tree_file(root)}:{line_of(on_ok, 'wait:')}: finding LAMP-OK-01 waits but its "
        "severity is ok (expected severity unknown: waiting is neither fine nor a fault)"
    ]


def test_layers_are_each_declared_once_and_without_a_cycle(make_rules: RulesFactory) -> None:
    root = make_rules()
    bundled = (rules_dir() / "layers.yaml").read_text(encoding="utf-8")
    looped = edit(bundled, "  power:\n    title: CLU power", "  power:\n    title: CLU power")
    looped = looped.replace(
        "    description: The CLU's 5 V supply (LVPS) and its lead (manual §17, CLU case 1).\n"
        "    depends_on: []",
        "    description: The CLU's 5 V supply (LVPS) and its lead (manual §17, CLU case 1).\n"
        "    depends_on: [clu-boot]",
    )
    (root / "layers.yaml").write_text(looped, encoding="utf-8")
    problems = problems_of(root)
    assert any("layer 'power' depends on itself through its dependencies" in p for p in problems)
    missing = bundled[: bundled.index("  backend:")]
    (root / "layers.yaml").write_text(
        missing.replace("depends_on: [clu-boot]", "depends_on: [clu-bot]"), encoding="utf-8"
    )
    problems = problems_of(root)
    assert any("layers backend are not declared" in p for p in problems)
    assert any(
        "layer 'usb-interface' depends on 'clu-bot', which is not a layer; did you mean "
        "'clu-boot'?" in p
        for p in problems
    )


def test_findings_of_one_layer_may_not_explain_each_other_in_a_circle(
    make_rules: RulesFactory,
) -> None:
    states = STATES.replace(
        "    explained_by: [REACH-CUT-01]\n", "    explained_by: [REACH-CUT-01, STATE-OK-01]\n"
    ).replace(
        "    verify: They stay normal.\n",
        "    verify: They stay normal.\n    explained_by: [STATE-BAD-01]\n",
    )
    root = rules(make_rules, states=states)
    [problem] = problems_of(root)
    assert "findings explain each other in a circle: " in problem


def test_the_bundled_layers_read_as_the_site_works() -> None:
    layers = BUNDLED.layers
    assert set(layers) == set(Layer)
    assert layers[Layer.BACKEND].depends_on == (Layer.CLU_BOOT,)
    assert layers[Layer.BUS].depends_on == ()  # the cable carries the tool's reads too
    assert Layer.CONFIGURATION in layers[Layer.STATION].depends_on
    assert layers[Layer.ADAPTER].title == "Your adapter"
