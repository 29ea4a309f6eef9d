"""The bus and the site file as observations for the decision trees.

* :mod:`~clu_doctor.probing.prober`: :class:`BusProber`, one probing session on one port (what
  runs on the bus, when, at most once) and the site's thresholds applied to what it found.
* :mod:`~clu_doctor.probing.translate`: every bus verdict and site fact as an observation value,
  one table per observation.
* :mod:`~clu_doctor.probing.site`: the site file's facts, chain and numbers for the probes.
* :mod:`~clu_doctor.probing.resolve`: filling what a walk of the trees needs.
"""

from __future__ import annotations

from clu_doctor.probing.prober import BusPlan, BusProber, ProbeEvents
from clu_doctor.probing.resolve import (
    known_at_start,
    make_resolver,
    observe,
    resolve_observations,
)

__all__ = [
    "BusPlan",
    "BusProber",
    "ProbeEvents",
    "known_at_start",
    "make_resolver",
    "observe",
    "resolve_observations",
]
