"""What the site file alone says about the site, checked against the manual's limits
(addresses unique, labels, DUO pairs, address count, cable length, power capacity, meter bus).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import field
from typing import Any

from clu_doctor.records import record
from clu_doctor.site.model import (
    FIRST_ADDRESS,
    LAST_ADDRESS,
    MAX_OUTLETS,
    FactVerdict,
    Site,
    Station,
    fmt_number,
)

#: Manual §9: the total communication cable may be at most 150 m.
MAX_CABLE_M = 150.0


#: Manual §7: a 5 % safety margin on the site current, 6 A the least a vehicle charges with.
SAFETY_MARGIN_PERCENT = 95


MIN_CHARGE_A = 6


PHASES = 3


@record
class ConfigFact:
    """One fact about the site's configuration, for the decision trees.

    ``key`` is stable (``config.cable_length``), ``verdict`` one of ``ok``, ``problem`` or
    ``unknown`` (the file does not say), ``evidence`` lines for people (with ``file:line`` of
    the stations involved), ``data`` the raw figures for JSON.
    """

    key: str
    verdict: FactVerdict
    summary: str
    manual: str
    evidence: tuple[str, ...] = ()
    data: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "verdict": self.verdict,
            "summary": self.summary,
            "manual": self.manual,
            "evidence": list(self.evidence),
            "data": dict(self.data),
        }


@record
class Capacity:
    """Manual §7: how many vehicles a site current can serve at 6 A each."""

    site_current_a: float
    #: floor(0.95 x site current): the current left after the 5 % safety margin.
    margin_a: int
    #: floor(margin / 6 A): vehicles charging at once on one phase.
    per_phase: int
    #: 3 x per phase: vehicles charging at once with single-phase charging spread over L1-L3.
    total: int


def capacity(site_current_a: float) -> Capacity:
    """The manual §7 table row for ``site_current_a`` (exact arithmetic, no float rounding).

    ``margin = floor(0.95 x I)``, ``per_phase = floor(margin / 6 A)``, ``total = 3 x per_phase``:
    32 A -> 30 A, 5, 15; 63 A -> 59 A, 9, 27; 100 A -> 95 A, 15, 45; 200 A -> 190 A, 31, 93;
    400 A -> 380 A, 63, 189.
    """
    if not site_current_a > 0 or math.isinf(site_current_a):
        raise ValueError(f"site current must be a positive number, not {site_current_a}")
    from decimal import Decimal  # start-up: a check that reads no capacity needs neither
    from fractions import Fraction

    exact = Fraction(Decimal(str(site_current_a)))
    margin = math.floor(exact * SAFETY_MARGIN_PERCENT / 100)
    per_phase = margin // MIN_CHARGE_A
    return Capacity(site_current_a, margin, per_phase, PHASES * per_phase)


def _where(site: Site, station: Station) -> str:
    place = f"{site.path}:{station.line}" if site.path and station.line else ""
    return f"{station.name} ({place})" if place else station.name


def _addresses_unique(site: Site) -> ConfigFact:
    by_address: dict[int, list[Station]] = defaultdict(list)
    for station in site.chain:
        by_address[station.address].append(station)
    twice = {a: s for a, s in sorted(by_address.items()) if len(s) > 1}
    if not twice:
        return ConfigFact(
            "config.addresses_unique",
            "ok",
            "every station has its own address",
            "§12",
            data={"duplicates": {}},
        )
    evidence = tuple(
        f"address {address} is planned for {len(stations)} stations: "
        + ", ".join(_where(site, s) for s in stations)
        for address, stations in twice.items()
    )
    return ConfigFact(
        "config.addresses_unique",
        "problem",
        "the plan gives one address to more than one station: " + ", ".join(str(a) for a in twice),
        "§12",
        evidence,
        {"duplicates": {str(a): [s.label for s in st] for a, st in twice.items()}},
    )


def _labels_match(site: Site) -> ConfigFact:
    prefix = len(site.label_prefix)
    mismatches = []
    evidence = []
    for station in site.chain:
        for address, label in zip(station.addresses, station.labels, strict=True):
            label_address = int(label[prefix:])
            if label_address != address:
                mismatches.append(
                    {"label": label, "address": address, "label_address": label_address}
                )
                evidence.append(
                    f"{label} is on address {address} ({_where(site, station)}): the backend "
                    f"books this outlet's sessions as outlet {label_address:02d}"
                )
    if not mismatches:
        return ConfigFact(
            "config.labels_match",
            "ok",
            "every label matches its outlet's address",
            "§12",
            data={"mismatches": []},
        )
    return ConfigFact(
        "config.labels_match",
        "problem",
        f"{len(mismatches)} label(s) do not match the outlet's address",
        "§12",
        tuple(evidence),
        {"mismatches": mismatches},
    )


def _duo_pairs(site: Site) -> ConfigFact:
    duos = [s for s in site.chain if s.model == "DUO"]
    if not duos:
        return ConfigFact(
            "config.duo_pairs", "ok", "no DUO stations", "§12", data={"pairs": [], "problems": []}
        )
    owners: dict[int, list[Station]] = defaultdict(list)
    for station in site.chain:
        owners[station.address].append(station)
    problems: list[dict[str, Any]] = []
    evidence: list[str] = []
    for duo in duos:
        second = duo.address + 1
        if second > LAST_ADDRESS:
            problems.append({"station": duo.label, "second_address": second, "kind": "past_16"})
            evidence.append(
                f"DUO {_where(site, duo)} starts at {duo.address}: its second outlet would need "
                f"address {second}, and the CLU serves only {FIRST_ADDRESS}..{LAST_ADDRESS}"
            )
        others = [s for s in site.chain if s is not duo and second in s.addresses]
        if others:
            problems.append(
                {
                    "station": duo.label,
                    "second_address": second,
                    "kind": "overlap",
                    "with": [s.label for s in others],
                }
            )
            evidence.append(
                f"DUO {_where(site, duo)} needs addresses {duo.address} and {second}; "
                f"{second} is also planned for " + ", ".join(_where(site, s) for s in others)
            )
    pairs = [{"station": d.label, "addresses": list(d.addresses)} for d in duos]
    if not problems:
        return ConfigFact(
            "config.duo_pairs",
            "ok",
            f"{len(duos)} DUO station(s), each on two free consecutive addresses",
            "§12",
            data={"pairs": pairs, "problems": []},
        )
    return ConfigFact(
        "config.duo_pairs",
        "problem",
        "a DUO station's second address is out of range or taken",
        "§12",
        tuple(evidence),
        {"pairs": pairs, "problems": problems},
    )


def _address_count(site: Site) -> ConfigFact:
    outlets = site.outlet_count
    data = {"outlets": outlets, "limit": MAX_OUTLETS, "stations": len(site.chain)}
    if outlets <= MAX_OUTLETS:
        return ConfigFact(
            "config.address_count",
            "ok",
            f"{outlets} outlet(s) on {len(site.chain)} station(s), within the CLU's 16",
            "§3",
            data=data,
        )
    return ConfigFact(
        "config.address_count",
        "problem",
        f"{outlets} outlets: one CLU serves at most {MAX_OUTLETS}",
        "§3",
        (
            f"the chain has {len(site.chain)} stations with {outlets} outlets (a DUO counts "
            f"twice); one CLU serves addresses {FIRST_ADDRESS}..{LAST_ADDRESS} only",
        ),
        data,
    )


def _cable_length(site: Site) -> ConfigFact:
    length = site.cable_m
    data = {"cable_m": length, "limit_m": MAX_CABLE_M}
    if length is None:
        return ConfigFact(
            "config.cable_length",
            "unknown",
            "cable length not given (cable_m)",
            "§9",
            ("measure or estimate the total communication cable, CLU to the last station",),
            data,
        )
    if length <= MAX_CABLE_M:
        return ConfigFact(
            "config.cable_length",
            "ok",
            f"{fmt_number(length)} m of bus cable, within the manual's 150 m",
            "§9",
            data=data,
        )
    return ConfigFact(
        "config.cable_length",
        "problem",
        f"{fmt_number(length)} m of bus cable, over the manual's 150 m",
        "§9",
        (
            f"cable_m is {fmt_number(length)} m; the manual allows at most 150 m of "
            "communication cable and says to rethink the cabling or move the CLU closer",
        ),
        data,
    )


def _capacity(site: Site) -> ConfigFact:
    outlets = site.outlet_count
    if site.site_current_a is None:
        return ConfigFact(
            "config.capacity",
            "unknown",
            "site current not given (site_current_a)",
            "§7",
            ("the site current per phase (the main fuse, or what the CLU is configured with)",),
            {"outlets": outlets},
        )
    cap = capacity(site.site_current_a)
    data = {
        "site_current_a": site.site_current_a,
        "margin_a": cap.margin_a,
        "per_phase": cap.per_phase,
        "total": cap.total,
        "outlets": outlets,
        "clu_limit": MAX_OUTLETS,
        "min_charge_a": MIN_CHARGE_A,
    }
    evidence = [
        f"{fmt_number(cap.site_current_a)} A per phase less the 5 % margin = {cap.margin_a} A; "
        f"at {MIN_CHARGE_A} A per vehicle: {cap.per_phase} per phase, {cap.total} in total "
        "(manual §7 table)",
    ]
    if outlets > cap.per_phase:
        evidence.append(
            f"vehicles charging on all three phases take a place on each phase: at most "
            f"{cap.per_phase} of them charge at once"
        )
    if outlets <= cap.total:
        return ConfigFact(
            "config.capacity",
            "ok",
            f"{cap.total} vehicles can charge at once at {MIN_CHARGE_A} A; {outlets} outlet(s)",
            "§7",
            tuple(evidence),
            data,
        )
    evidence.append(
        f"{outlets} outlets but only {cap.total} vehicles can charge at once: with every "
        "outlet in use some vehicles wait or get less than the minimum"
    )
    return ConfigFact(
        "config.capacity",
        "problem",
        f"{fmt_number(cap.site_current_a)} A per phase serves {cap.total} vehicles at "
        f"{MIN_CHARGE_A} A, fewer than the {outlets} outlets",
        "§7",
        tuple(evidence),
        data,
    )


def _meter_bus(site: Site) -> ConfigFact:
    meters = site.meters
    data = meters.to_dict()
    if not meters.present:
        return ConfigFact(
            "config.meter_bus",
            "ok",
            "no energy meters (billing per minute or per session only)",
            "§9",
            data=data,
        )
    if meters.second_bus is None:
        return ConfigFact(
            "config.meter_bus",
            "unknown",
            "energy meters fitted; whether they have their own bus is not given (second_bus)",
            "§9",
            ("meter data needs a second bus from the CLU (manual §9.2-9.6)",),
            data,
        )
    if meters.second_bus:
        return ConfigFact(
            "config.meter_bus", "ok", "energy meters on their own (second) bus", "§9", data=data
        )
    return ConfigFact(
        "config.meter_bus",
        "problem",
        "energy meters fitted but no second bus",
        "§9",
        (
            "the manual's layouts with energy meters all need two buses from the CLU; on one "
            "bus the meter data does not reach the CLU",
        ),
        data,
    )


#: Every fact key :func:`configuration_facts` returns, in order.
FACT_KEYS = (
    "config.addresses_unique",
    "config.labels_match",
    "config.duo_pairs",
    "config.address_count",
    "config.cable_length",
    "config.capacity",
    "config.meter_bus",
)


def configuration_facts(site: Site) -> list[ConfigFact]:
    """Every configuration fact about ``site``, one per key of :data:`FACT_KEYS`, in that order.

    Pure: reads only the :class:`Site`.
    """
    return [
        _addresses_unique(site),
        _labels_match(site),
        _duo_pairs(site),
        _address_count(site),
        _cable_length(site),
        _capacity(site),
        _meter_bus(site),
    ]


def facts_by_key(facts: Sequence[ConfigFact]) -> dict[str, ConfigFact]:
    return {fact.key: fact for fact in facts}
