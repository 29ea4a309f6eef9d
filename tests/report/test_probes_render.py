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
from clu_doctor.bus.probes.duplicates import find_duplicates
from clu_doctor.bus.probes.scan import scan
from clu_doctor.bus.profile import Timing, load_profile
from clu_doctor.clock import VirtualClock, use
from clu_doctor.engine import load_rulebook
from clu_doctor.probing.site import site_chain
from clu_doctor.report.console import OutputMode, render_to_string
from clu_doctor.report.probes import _verdict_lines, render_listen_text, render_scan_text
from clu_doctor.severity import Severity
from clu_doctor.sim import register_url_handler
from clu_doctor.sim.scenario_reader import load_scenario
from clu_doctor.sim.site_plan import site_for

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
    url = "sim://duplicate-address?wire_time=0&clu=0&seed=4"
    with Link.open(url, PROFILE.line, PROFILE.framing) as link:
        scanned = scan(link, PROFILE, range(1, 17), retries=0, force=True)
        duplicates = find_duplicates(link, PROFILE, range(1, 17), reads=20, force=True, tail_s=0)
    text = render_scan_text(scanned, PLAIN, duplicates=duplicates)
    verdict = text[text.index("duplicate addresses: confirmed") :]
    flat = " ".join(verdict.split())  # the lines wrap at the width
    assert "address 1: duplicate confirmed; 2 identities seen" in flat
    assert "address 1 answered as device type 2W22M1, serial DF230101:" in flat
    assert "address 1 answered as device type 2W22M1, serial AB190042:" in flat
    assert "next step: Switch off half of the stations that could hold address 1" in flat
    assert "(identities, corrupt_rate)" not in flat
    assert "exit 2" in text


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


def test_listen_and_scan_list_problems_first_with_tidied_evidence() -> None:
    rows = [
        (Severity.OK, "the CLU polls", ("listened 3 s",)),
        (
            Severity.CRITICAL,
            "no station beyond XAXXY06 answers",
            tuple(f"address {a}: 4 polls (2 retries), no answer" for a in range(7, 13)),
        ),
    ]
    text = render_to_string(OutputMode(styled=False, width=100), *_verdict_lines(rows))
    assert text.splitlines()[:3] == [
        "CRITICAL  no station beyond XAXXY06 answers",
        "    - addresses 7-12, each: 4 polls (2 retries), no answer",
        "OK        the CLU polls",
    ]
