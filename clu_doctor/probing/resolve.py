"""Filling the observations a walk of the decision trees needs, without asking anyone."""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from typing import TYPE_CHECKING

from clu_doctor.engine import UNKNOWN, AnswerSource, Observation, ObservationSpec, Rulebook
from clu_doctor.engine import SpecSource as _SpecSource
from clu_doctor.probing.prober import BusProber, grade_observations
from clu_doctor.probing.site import site_observations
from clu_doctor.probing.translate import unknown

if TYPE_CHECKING:
    from clu_doctor.site.model import Site

#: What answers a probe observation: the observations its probe found.
Resolver = Callable[[ObservationSpec], Mapping[str, Observation]]


def known_at_start(site: Site | None) -> dict[str, Observation]:
    """What the site file says, known before anything is asked or probed: its ``site.*``
    observations, which also name the site's charge points for the questions."""
    return {} if site is None else site_observations(site)


def make_resolver(site: Site | None, prober: BusProber | None) -> Resolver | None:
    """What answers probe observations: the bus prober, or the site file alone, or nothing."""
    if prober is not None:
        return prober.resolve
    if site is None:
        return None
    facts = site_observations(site)

    def resolve(spec: ObservationSpec) -> Mapping[str, Observation]:
        if spec.probe == "site.plan":
            return facts
        return {spec.key: unknown(spec.key, "no bus to probe (give --port or --sim)")}

    return resolve


def resolve_observations(
    rulebook: Rulebook,
    observations: MutableMapping[str, Observation],
    probe: Resolver | None,
) -> None:
    """Fill every observation the walk needs without asking anyone.

    Probe observations go to ``probe`` (when there is a bus); what a person would have to
    answer is recorded as "not answered" (unknown), so the walk can go on past it.
    """
    while (
        spec := rulebook.next_question(observations, include_probes=probe is not None)
    ) is not None:
        if spec.source is _SpecSource.PROBE and probe is not None:
            observations.update(probe(spec))
        else:
            observations[spec.key] = Observation(
                spec.key, UNKNOWN, AnswerSource.DEFAULT, "not answered"
            )


def observe(
    rulebook: Rulebook,
    prober: BusProber | None,
    site: Site | None,
    observations: MutableMapping[str, Observation] | None = None,
) -> MutableMapping[str, Observation]:
    """Everything the trees can learn without asking anyone, added to ``observations`` (what
    people answered, if anything): the site file, the bus (probes run as the walk needs them),
    and the site's thresholds applied to what the bus showed. The one path from evidence to
    observations that ``diagnose``, ``listen``, ``scan`` and ``check`` share."""
    found: MutableMapping[str, Observation] = {} if observations is None else observations
    for key, known in known_at_start(site).items():
        found.setdefault(key, known)
    resolver = make_resolver(site, prober)
    if resolver is not None:
        resolve_observations(rulebook, found, resolver)
    if prober is not None and site is not None:
        found.update(grade_observations(prober, site))
    return found
