"""Line-setting detection: a window at each candidate, scored, stopped at a clear winner.

The first half drives :func:`detect_line_settings` with fake links on a virtual clock (exact,
no time spent); the second half reopens simulated sites (``sim://``, on the virtual clock too)
at each candidate setting, as a technician's adapter would be reopened. The same through a real
pty is in tests/live/test_listen_live.py.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from clu_doctor.bus.errors import PortConfigError, PortVanished
from clu_doctor.bus.link import Link
from clu_doctor.bus.listen.detect import (
    Candidate,
    CandidateScore,
    Detection,
    candidate_settings,
    detect_line_settings,
)
from clu_doctor.bus.settings import COMMON_BAUDRATES, LineSettings
from clu_doctor.clock import VirtualClock
from clu_doctor.sim import register_url_handler
from tests.bus.listen.support import (
    ABL,
    ABL_LINE,
    METER,
    RTU_LINE,
    Chunk,
    FakeLink,
    Script,
)

register_url_handler()


def healthy_chunks(framing: str = "ascii") -> list[Chunk]:
    script = Script(framing, ABL_LINE if framing == "ascii" else RTU_LINE)
    script.cycles(2, range(1, 5))
    return script.chunks


JUNK: list[Chunk] = [(0.05 * i, b"\x00\x9c\xf3\x00\x81") for i in range(1, 20)]


class FakePort:
    """``open_link`` for a bus at ``actual``: clean traffic there, junk elsewhere (or silence)."""

    def __init__(
        self,
        actual: LineSettings | None,
        framing: str = "ascii",
        *,
        junk: list[Chunk] = JUNK,
        refuse: Callable[[LineSettings], bool] = lambda s: False,
    ) -> None:
        self.clock = VirtualClock()
        self.actual = actual
        self.traffic = healthy_chunks(framing) if actual else []
        self.junk = junk if actual else []
        self.refuse = refuse
        self.opened: list[tuple[LineSettings, str]] = []
        self.links: list[FakeLink] = []

    def __call__(self, settings: LineSettings, framing: str) -> FakeLink:
        if self.refuse(settings):
            raise PortConfigError("/dev/ttyUSB0", f"the port cannot take {settings}")
        self.opened.append((settings, framing))
        link = FakeLink(self.clock, self.traffic if settings == self.actual else self.junk)
        self.links.append(link)
        return link


def detect(port: FakePort, **kwargs: object) -> Detection:
    return detect_line_settings(port, **kwargs)  # type: ignore[arg-type]


# --- candidates ---------------------------------------------------------------------------


def test_the_profiles_setting_comes_first_then_every_rate_and_parity() -> None:
    candidates = candidate_settings(ABL)
    assert candidates[:2] == (Candidate(ABL_LINE, "ascii"), Candidate(ABL_LINE, "rtu"))
    # then the other ABL generation's setting: an 8E1 bus of parity errors may be 8N1 text
    assert candidates[2] == Candidate(LineSettings(38400, 8, "N", 1), "evcc1")
    rest = candidates[3:]
    assert len(candidates) == len(set(candidates))
    assert {c.settings.baudrate for c in rest} == set(COMMON_BAUDRATES)
    assert {c.settings.parity for c in rest} == {"E", "N", "O"}
    assert {c.framing for c in rest} == {"ascii", "rtu"}
    assert len(rest) == len(COMMON_BAUDRATES) * 3 * 2 - 2  # 38400 8E1 came first
    assert candidate_settings(METER)[0] == Candidate(RTU_LINE, "rtu")
    assert candidate_settings()[0] == Candidate(LineSettings(9600, 8, "E", 1), "ascii")


# --- on fake links ------------------------------------------------------------------------


def test_the_profiles_setting_decodes_at_once() -> None:
    port = FakePort(ABL_LINE)
    found = detect(port, profile=ABL)
    assert (found.outcome, found.settings, found.framing) == ("found", ABL_LINE, "ascii")
    assert port.opened == [(ABL_LINE, "ascii")]  # one window, both framings scored on it
    assert [(c.framing, c.decodes) for c in found.candidates] == [("ascii", True), ("rtu", False)]
    assert found.report is not None and found.report.frames == 16
    assert all(link.closed for link in port.links)
    assert "38400 8E1 ascii" in found.message


def test_a_sweep_finds_the_setting_and_reports_every_candidate_tried() -> None:
    port = FakePort(LineSettings(19200, 8, "N", 1), "rtu")
    found = detect(port, profile=ABL)
    assert (found.settings, found.framing) == (LineSettings(19200, 8, "N", 1), "rtu")
    tried = list(dict.fromkeys((c.settings.baudrate, c.settings.parity) for c in found.candidates))
    assert tried == [
        (38400, "E"),
        (38400, "N"),  # the other ABL generation's setting comes second
        (9600, "E"),
        (9600, "N"),
        (9600, "O"),
        (19200, "E"),
        (19200, "N"),
    ]
    assert all(c.frames == 0 for c in found.candidates[:-2])
    winner = found.candidates[-1]
    assert winner.clear and winner.share == 1.0


def test_nothing_decodes_at_any_setting_is_said_plainly() -> None:
    port = FakePort(LineSettings(1200, 8, "N", 1))  # a rate no candidate has
    found = detect(port)
    assert (found.outcome, found.settings, found.framing) == ("nothing_decodes", None, None)
    assert len(found.candidates) == len(candidate_settings())
    assert len(port.opened) == len(COMMON_BAUDRATES) * 3
    assert found.message.startswith("bytes on the line")
    assert "nothing decodes at any of the 21 settings" in found.message


def test_a_silent_line_stops_after_the_first_window() -> None:
    port = FakePort(None)
    found = detect(port, profile=ABL)
    assert found.outcome == "silent" and len(port.opened) == 1
    assert "not a byte in 1.5 s at 38400 8E1" in found.message
    everywhere = detect(FakePort(None), stop_when_silent=False)
    assert everywhere.outcome == "silent" and len(everywhere.candidates) == 42


def test_a_setting_the_adapter_refuses_is_recorded_and_skipped() -> None:
    port = FakePort(LineSettings(19200, 8, "E", 1), refuse=lambda s: s.parity == "O")
    found = detect(port)
    assert found.settings == LineSettings(19200, 8, "E", 1)
    refused = [c for c in found.candidates if c.error]
    assert [(c.settings.baudrate, c.settings.parity) for c in refused[::2]] == [(9600, "O")]
    assert "cannot take" in refused[0].describe()


def test_other_port_errors_stop_detection() -> None:
    def vanish(settings: LineSettings, framing: str) -> FakeLink:
        raise PortVanished("/dev/ttyUSB0", "gone")

    with pytest.raises(PortVanished):
        detect_line_settings(vanish, profile=ABL)


def test_one_lucky_checksum_in_noise_does_not_decode() -> None:
    """A single valid RTU frame inside a second of noise is chance, not a setting."""
    noise = [(0.01 * i, bytes((i * 37 + j * 11) % 251 for j in range(40))) for i in range(1, 100)]
    lucky = [(1.0, bytes.fromhex("0103002e0005e5c0"))]  # a valid read request
    port = FakePort(LineSettings(1200, 8, "N", 1), junk=noise + lucky)
    score = detect(port, candidates=[Candidate(ABL_LINE, "rtu")]).candidates[0]
    assert score.frames == 1 and not score.decodes


def test_progress_is_reported_and_a_stop_is_honoured() -> None:
    seen: list[CandidateScore] = []
    port = FakePort(LineSettings(57600, 8, "N", 1))
    found = detect(port, on_candidate=seen.append, stop=lambda: len(seen) >= 4)
    assert len(seen) == 4 and found.outcome == "nothing_decodes"
    assert list(found.candidates) == seen


def test_to_dict() -> None:
    found = detect(FakePort(ABL_LINE), profile=ABL)
    data = found.to_dict()
    assert data["outcome"] == "found" and data["settings"] == "38400 8E1"
    assert isinstance(data["candidates"], list) and data["candidates"][0]["decodes"] is True


# --- on simulated sites -------------------------------------------------------------------

#: A window of about one CLU poll cycle (on the virtual clock: no real time spent).
WINDOW = 1.25


def sim_opener(scenario: str, **options: object) -> Callable[[LineSettings, str], Link]:
    query = "&".join(f"{k}={v}" for k, v in {"seed": 5, **options}.items())

    def open_link(settings: LineSettings, framing: str) -> Link:
        return Link.open(f"sim://{scenario}?{query}", settings, framing)

    return open_link


DECODABLE = [
    ("healthy-16", {}, ABL_LINE, "ascii"),
    ("healthy-duo-8", {}, ABL_LINE, "ascii"),
    ("duplicate-address", {}, ABL_LINE, "ascii"),
    ("cable-break", {}, ABL_LINE, "ascii"),
    ("unpowered-station", {}, ABL_LINE, "ascii"),
    ("long-unterminated", {}, ABL_LINE, "ascii"),
    ("ab-swapped", {"at": "clu"}, ABL_LINE, "ascii"),
    ("clu-booting", {"uptime": 149.5}, ABL_LINE, "ascii"),
    ("station-f4", {}, ABL_LINE, "ascii"),
    ("meter-bus-duplicate", {}, RTU_LINE, "rtu"),
    ("healthy-rtu-4", {}, RTU_LINE, "rtu"),
]


@pytest.mark.parametrize(("scenario", "options", "line", "framing"), DECODABLE)
def test_detection_finds_the_simulators_settings(
    scenario: str, options: dict[str, object], line: LineSettings, framing: str
) -> None:
    profile = ABL if framing == "ascii" else METER
    found = detect_line_settings(sim_opener(scenario, **options), profile=profile, window=WINDOW)
    assert (found.outcome, found.settings, found.framing) == ("found", line, framing), found.message


@pytest.mark.parametrize(("scenario", "line", "framing"), [
    ("healthy-16", ABL_LINE, "ascii"),
    ("healthy-rtu-4", RTU_LINE, "rtu"),
])  # fmt: skip
def test_detection_without_a_profile_sweeps_to_the_simulators_settings(
    scenario: str, line: LineSettings, framing: str
) -> None:
    found = detect_line_settings(sim_opener(scenario), window=WINDOW)
    assert (found.outcome, found.settings, found.framing) == ("found", line, framing)
    assert all(not c.decodes for c in found.candidates if c.settings != line)


@pytest.mark.parametrize(("scenario", "options"), [
    ("wrong-adapter-settings", {}),
    ("ab-swapped", {"at": "end"}),
])  # fmt: skip
def test_detection_says_plainly_when_nothing_decodes(
    scenario: str, options: dict[str, object]
) -> None:
    found = detect_line_settings(sim_opener(scenario, **options), profile=ABL, window=0.5)
    assert found.outcome == "nothing_decodes", found.message
    assert len({c.settings for c in found.candidates}) == 1 + len(COMMON_BAUDRATES) * 3 - 1
    assert all(c.frames < 2 for c in found.candidates)
    assert sum(c.bytes for c in found.candidates) > 0


def test_detection_on_a_silent_bus() -> None:
    found = detect_line_settings(sim_opener("clu-usb-dead"), profile=ABL, window=WINDOW)
    assert found.outcome == "silent" and len(found.candidates) == 2
