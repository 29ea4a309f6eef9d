"""The site file as the probes need it: its facts as observations, its chain, its numbers."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from clu_doctor.bus.chain import Chain
from clu_doctor.bus.listen.verdicts import DEFAULT_THRESHOLDS
from clu_doctor.engine import UNKNOWN, Observation
from clu_doctor.i18n import _
from clu_doctor.probing.translate import SITE_FACTS, SITE_NO_METERS, SITE_OVERRULED, observation
from clu_doctor.site.facts import configuration_facts, facts_by_key

if TYPE_CHECKING:
    from clu_doctor.bus.listen.verdicts import Thresholds as VerdictThresholds
    from clu_doctor.site.model import Site


def site_observations(site: Site) -> dict[str, Observation]:
    """The ``site.*`` observations from the site's configuration facts (see
    :data:`~clu_doctor.probing.translate.SITE_FACTS`). The first also names the site's charge
    points (the fact ``charge_points``), so questions can say which ones they are about."""
    facts = facts_by_key(configuration_facts(site))
    found: dict[str, Observation] = {}
    for key, row in SITE_FACTS.items():
        item = facts[row.fact]
        overruled = SITE_OVERRULED.get(key)
        if overruled is not None and facts[overruled[0]].verdict == "problem":
            item, value = facts[overruled[0]], overruled[1]
        elif item.verdict == "problem":
            value = row.problem
        elif key == "site.meters" and not site.meters.present:
            value = SITE_NO_METERS
        else:
            value = row.ok if item.verdict == "ok" else UNKNOWN
        # An unknown fact shows only its summary; the meter fact always explains itself.
        brief = value == UNKNOWN and key != "site.meters"
        lines = (item.summary,) if brief else (item.summary, *item.evidence)
        named = {} if found else charge_point_facts(site)
        found[key] = observation(key, value, "site.plan", lines, facts=named)
    return found


def charge_point_facts(site: Site) -> dict[str, str]:
    """``charge_points``: the site's outlets by label, as a question names them."""
    labels = [label for station in site.chain for label in station.labels]
    if not labels:
        return {}
    if len(labels) == 1:
        return {"charge_points": _("the charge point {label}").format(label=labels[0])}
    return {
        "charge_points": _("one of the charge points {labels}").format(labels=_label_list(labels))
    }


def _label_list(labels: list[str]) -> str:
    """``XAXXY01 to XAXXY12`` for a run of labels with consecutive numbers, else a list."""
    numbered = [(label[:-2], label[-2:]) for label in labels]
    prefixes = {prefix for prefix, _digits in numbered}
    if len(prefixes) == 1 and all(digits.isdigit() for _prefix, digits in numbered):
        numbers = sorted(int(digits) for _prefix, digits in numbered)
        if numbers == list(range(numbers[0], numbers[0] + len(numbers))):
            ordered = sorted(labels, key=lambda label: int(label[-2:]))
            return _("{first} to {last}").format(first=ordered[0], last=ordered[-1])
    return ", ".join(labels)


def site_chain(site: Site | None) -> Chain | None:
    """The site's daisy chain as the bus layer's :class:`Chain` (``None`` without a site or
    without stations): what the listen verdicts and the scan's chain analysis both read."""
    if site is None or not site.chain:
        return None
    return Chain.attached(
        (station.addresses for station in site.chain),
        site.adapter_at,
        (station.name for station in site.chain),
    )


def verdict_thresholds(site: Site | None) -> VerdictThresholds:
    """The listen verdicts' numbers, with the site's warning rate for errors across the bus."""
    if site is None:
        return DEFAULT_THRESHOLDS
    return dataclasses.replace(
        DEFAULT_THRESHOLDS, spread_min_rate=site.thresholds.corrupt_rate.warning
    )
