"""What ``scan`` and ``listen`` print: the tables and verdicts of clu_doctor.report.probes.

The results come from the simulator (no port): a scan and a duplicate check of the
duplicate-address site, and listens saved with ``clu_doctor.bus.listen.recording`` and replayed, as
``clu-doctor listen --replay FILE`` does.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from clu_doctor.bus.link import Link
from clu_doctor.bus.listen.analyser import TrafficAnalyser
from clu_doctor.bus.listen.recording import Recorder, replay
from clu_doctor.bus.listen.session import listen
from clu_doctor.bus.profile import Timing, load_profile
from clu_doctor.clock import VirtualClock, use
from clu_doctor.engine import load_rulebook
from clu_doctor.probing.site import site_chain
from clu_doctor.report.console import OutputMode
from clu_doctor.report.probes import render_listen_text
from clu_doctor.sim import register_url_handler
from clu_doctor.sim.scenario_reader import load_scenario
from clu_doctor.sim.site_plan import site_for
from tests.commands.helpers import invoke

register_url_handler()

PLAIN = OutputMode(styled=False, width=100)
# The simulated controllers answer within a few ms; the bundled 300 ms floor is for hardware.
PROFILE = dataclasses.replace(load_profile("defa-erange"), timing=Timing(0.001, 0.003, 0.05))


def rows(text: str) -> dict[int, list[str]]:
    """The per-address rows of a plain table: address -> the cells after it."""
    found = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.split("|")]
        if len(cells) > 2 and cells[0].isdigit():
            found[int(cells[0])] = cells[1:]
    return found


# --- scan: the duplicate check's evidence ---------------------------------------------------


def test_the_scan_text_names_both_controllers_of_a_duplicate_and_the_next_step() -> None:
    result = invoke("scan", "--sim", "duplicate-address?wire_time=0&clu=0&seed=4")
    flat = " ".join(result.stdout.split())  # the lines wrap at the width
    # the one fault, the step that fixes it naming both controllers, the evidence it rests on
    assert "First: At XAXXY09, set the controller's address to address 9" in flat
    assert "answer the controllers with serial AB190042 and serial DF230101" in flat
    assert "BUS-MISADDR-01" in flat
    assert "address 1: duplicate confirmed; 2 identities seen" in flat
    # the duplicate is a consequence of the misaddressed controller, not a second fault
    assert flat.index("Explained by this cause") < flat.index("BUS-DUP-01")
    assert "(identities, corrupt_rate)" not in flat
    assert result.code == 2 and "(exit 2)" in flat


def test_the_scan_table_shows_every_station_of_the_site_and_no_unused_address() -> None:
    result = invoke("scan", "--sim", "cable-break?clu=0", "--addresses", "1-20")
    table = rows(result.stdout)
    assert sorted(table) == list(range(1, 13))  # 13-20: nothing there, nothing expected
    assert table[6][0] == "XAXXY06" and table[6][1] == "2W22M1 DF230106"
    assert table[7][1] == "no answer" and table[7][4] == "3"
    assert "read 20 address(es) at 38400 8E1 (ascii)" in result.stdout
    assert ": 6 answered" in result.stdout


#: A diagnosis of nothing: these tests are about the table of what was heard.
NOTHING = load_rulebook().diagnose({}, asked=False)


# --- listen --replay: labels from the recording's chain ---------------------------------------


def recorded(directory: Path, scenario: str, seconds: float = 7.5) -> Path:
    """A listen to ``scenario`` saved as ``listen --sim SCENARIO --save FILE`` saves it: the
    header holds the planned chain with its labels. On a virtual clock of its own: a
    module-scoped fixture runs before the test's."""
    site = site_for(load_scenario(scenario))
    chain = site_chain(site)
    assert chain is not None and chain.labels
    profile = load_profile("defa-erange")
    url = f"sim://{scenario}?seed=2"
    path = directory / f"{scenario}.cdr"
    with (
        use(VirtualClock()),
        Link.open(url, profile.line, profile.framing) as link,
        Recorder.create(
            path,
            port=url,
            settings=profile.line,
            framing=profile.framing,
            profile="defa-erange",
            chain=chain,
        ) as recorder,
    ):
        listen(
            link,
            seconds,
            TrafficAnalyser(profile.framing, profile.line, profile, chain),
            recorder=recorder,
        )
    return path


@pytest.fixture(scope="module")
def cable_break(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return recorded(tmp_path_factory.mktemp("recordings"), "cable-break")


def test_a_replay_without_a_site_takes_the_labels_from_the_recording(cable_break: Path) -> None:
    replayed = replay(cable_break)
    report = replayed.report
    assert report.chain is not None
    text = render_listen_text(report, NOTHING, PLAIN)
    table = rows(text)
    assert table, text
    for address, cells in table.items():
        assert cells[0] == f"XAXXY{address:02}", text  # the label column is filled in
    assert {7, 8} & set(table)  # the silent stations beyond the break are labelled too


def test_a_replayed_duo_labels_its_second_outlet(tmp_path: Path) -> None:
    replayed = replay(recorded(tmp_path, "healthy-duo-8"))
    chain = replayed.report.chain
    assert chain is not None
    table = rows(render_listen_text(replayed.report, NOTHING, PLAIN))
    assert table
    for point, label in zip(chain.stations, chain.labels, strict=True):
        if point[0] in table:
            assert table[point[0]][0] == label
        for outlet, address in enumerate(point[1:], start=2):
            if address in table:
                assert table[address][0] == f"{label} outlet {outlet}"


def test_a_site_given_with_the_replay_still_wins(cable_break: Path) -> None:
    site = site_for(load_scenario("cable-break"))
    assert site is not None
    replayed = replay(cable_break)
    renamed = dataclasses.replace(
        site,
        chain=tuple(
            dataclasses.replace(s, labels=tuple(f"OTHER{a:02}" for a in s.addresses))
            for s in site.chain
        ),
    )
    table = rows(render_listen_text(replayed.report, NOTHING, PLAIN, site=renamed))
    assert table and all(cells[0] == f"OTHER{a:02}" for a, cells in table.items())


def test_scan_lists_problems_first_with_tidied_evidence() -> None:
    text = invoke("scan", "--sim", "cable-break?clu=0").stdout
    lines = text.splitlines()
    critical = next(n for n, line in enumerate(lines) if line.startswith("CRITICAL"))
    assert "BUS-BREAK-01" in lines[critical]
    assert critical < lines.index("Checked and fine:")
    assert "address 7-12" in " ".join(text.split())  # the silent run in one line, not six
