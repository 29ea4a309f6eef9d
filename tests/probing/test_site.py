"""The site file as the probes see it: its facts as ``site.*`` observations, its chain."""

from __future__ import annotations

import dataclasses

from clu_doctor.bus.listen.verdicts import DEFAULT_THRESHOLDS
from clu_doctor.engine import UNKNOWN
from clu_doctor.probing.site import site_chain, site_observations, verdict_thresholds
from clu_doctor.site.model import Meters, RateThreshold, Site, Station, Thresholds, label_for


def uno(address: int) -> Station:
    return Station(address, "UNO", (label_for("XAXXY", address),), f"Bay {address}")


def duo(address: int) -> Station:
    labels = (label_for("XAXXY", address), label_for("XAXXY", address + 1))
    return Station(address, "DUO", labels, f"DUO {address}")


def site_of(*stations: Station, **changes: object) -> Site:
    return Site(name="t", chain=tuple(stations), **changes)  # type: ignore[arg-type]


def values(site: Site) -> dict[str, str]:
    return {key: found.value for key, found in site_observations(site).items()}


def test_a_sound_plan_is_ok_everywhere_and_has_no_meters() -> None:
    assert values(site_of(uno(1), duo(2), uno(4))) == {
        "site.addresses": "ok",
        "site.labels": "ok",
        "site.duo": "ok",
        "site.cable": UNKNOWN,  # the file gives no cable length
        "site.capacity": UNKNOWN,  # nor a site current
        "site.meters": "none",
    }
    cable = site_observations(site_of(uno(1)))["site.cable"]
    assert cable.detail == "site.plan" and len(cable.evidence) == 1  # the summary alone


def test_an_address_planned_twice_is_a_duplicate() -> None:
    found = site_observations(site_of(uno(1), uno(2), uno(2)))["site.addresses"]
    assert found.value == "duplicate" and found.detail == "site.plan"
    assert len(found.evidence) > 1  # the summary and the stations involved


def test_more_addresses_than_the_bus_has_overrule_uniqueness() -> None:
    site = site_of(*(duo(a) for a in range(1, 17, 2)), uno(16))
    assert values(site)["site.addresses"] == "too-many"


def test_meters_without_a_second_bus_are_a_single_bus() -> None:
    site = site_of(uno(1), meters=Meters(present=True, second_bus=False))
    assert values(site)["site.meters"] == "single-bus"
    assert values(dataclasses.replace(site, meters=Meters(True, True)))["site.meters"] == "ok"


def test_the_chain_of_a_site_names_its_stations_and_where_the_adapter_is() -> None:
    site = site_of(uno(1), duo(2), uno(4))
    chain = site_chain(site)
    assert chain is not None
    assert chain.stations == ((1,), (2, 3), (4,))
    assert chain.labels == ("Bay 1", "DUO 2", "Bay 4")
    assert (chain.adapter_at, chain.end) == (0, "clu")
    far = site_chain(dataclasses.replace(site, adapter_at="end"))
    assert far is not None and (far.adapter_at, far.end) == (3, "end")
    assert site_chain(None) is None and site_chain(site_of()) is None


def test_the_listen_verdicts_take_the_sites_warning_rate() -> None:
    assert verdict_thresholds(None) == DEFAULT_THRESHOLDS
    strict = site_of(uno(1), thresholds=Thresholds(corrupt_rate=RateThreshold(0.005, 0.05)))
    assert verdict_thresholds(strict).spread_min_rate == 0.005
