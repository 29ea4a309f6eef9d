"""Masters that send every command twice (a wake-up habit) heard by the passive listener."""

from __future__ import annotations

from clu_doctor.bus.chain import Chain
from clu_doctor.bus.listen.verdicts import derive_verdicts
from tests.bus.listen.support import Script, analyse


def test_a_master_that_sends_every_command_twice_is_no_fault() -> None:
    """evcc's ABL driver sends every read and write twice, and ESP32_ABL resends each command
    1 s later as a wake-up (field-evidence.md §2.3): the first copy of a poll to a sleeping
    station goes unanswered, the second is answered. Neither copy is a fault."""
    script = Script()
    for _ in range(4):
        for address in (1, 2, 3):
            script.request(address)  # the wake-up copy: a sleeping interface ignores it
            script.wait(0.02)
            script.request(address)
            script.reply(address, (0x2EA1, 0x1064, 0x03E8, 0x03E8, 0x03E8))
            script.request(address, gap=0.02)  # awake: both copies answered
            script.reply(address, (0x2EA1, 0x1064, 0x03E8, 0x03E8, 0x03E8))
        script.wait(1.0)
    report = analyse(script.chunks, chain=Chain.of(range(1, 4)), end=script.t + 0.5)
    for entry in report.addresses:
        assert entry.answers == 8 and entry.recovered == 4 and entry.doubled == 0
    verdicts = derive_verdicts(report)
    assert verdicts == [], [(v.key, v.value) for v in verdicts]
