"""A waiting diagnosis for the tests of the wait, until the engine says when to come back.

The engine's ``Diagnosis.wait_s`` (seconds until the result can change: the CLU still starting,
150 s after power-up per the manual) is built by another branch. Until it lands, these tests
build the waiting diagnosis themselves, the same way: ``150 - clu.uptime_s`` while the finding
``USB-WAIT-01`` is reached. Once ``Diagnosis`` has ``wait_s``, :func:`install` does nothing
and the tests run against the engine unchanged.
"""

from __future__ import annotations

from typing import Any

from clu_doctor.engine import Diagnosis, Rulebook

BOOT_S = 150.0


def engine_waits() -> bool:
    return hasattr(Diagnosis, "wait_s")


class WaitingDiagnosis(Diagnosis):
    __slots__ = ()

    @property
    def wait_s(self) -> float | None:
        uptime = self.observation("clu.uptime_s")
        if "USB-WAIT-01" not in self.finding_ids or uptime is None or uptime.is_unknown:
            return None
        return max(0.0, BOOT_S - float(uptime.value))


def install() -> None:
    """Make ``Rulebook.diagnose`` return diagnoses that know when to come back."""
    if engine_waits():
        return
    plain = Rulebook.diagnose

    def diagnose(self: Rulebook, observations: Any) -> Diagnosis:
        return WaitingDiagnosis(*plain(self, observations))

    Rulebook.diagnose = diagnose  # type: ignore[method-assign]
