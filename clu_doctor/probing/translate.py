"""What the bus and the site file found, as the observations the decision trees branch on.

The bus layer names what it found in its own words: a listen verdict
``bus.silent_addresses = beyond_point``, a chain analysis ``farthest``, a duplicate check
``noisy``, a controller's state code ``F4``. The site file has its own:
``config.addresses_unique = problem``. The trees branch on the observations that
``rules/observations.yaml`` declares, such as ``bus.reach = break``. This module is the one
place where one becomes the other. There is one table per observation, at module level, so
"where does ``bus.reach = break`` come from?" has one answer: :data:`REACH_FROM_LISTEN`.

:mod:`clu_doctor.probing.prober` decides which probe's result applies (the listen while the
CLU polls, the scan when the bus is quiet). Every observation it hands the trees is made here.
``tests/probing/test_translate.py`` checks both sides: every value the bus declares has a
row, and every value a row gives is one that ``rules/observations.yaml`` declares.

The verdict values are not made ``aliases:`` of the observation values in
``rules/observations.yaml``. Aliases are words a person may type for ``--observe``, shown in
hints and completion. The bus's internal words would then become user vocabulary. And most
rows are not renames anyway: two verdicts share one observation value, the same verdict
means different things with or without a site, or absence is a value.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, NamedTuple

from clu_doctor.bus.probes.base import ranges
from clu_doctor.bus.probes.duplicates import describe
from clu_doctor.engine import UNKNOWN, AnswerSource, Observation
from clu_doctor.i18n import _
from clu_doctor.severity import Severity

if TYPE_CHECKING:
    from clu_doctor.bus.chain import ChainResult, ChainVerdict
    from clu_doctor.bus.listen.detect import Detection
    from clu_doctor.bus.listen.report import ListenReport
    from clu_doctor.bus.listen.verdicts import Verdict
    from clu_doctor.bus.probes.duplicates import DuplicateResult, DuplicateVerdict
    from clu_doctor.bus.profile import DeviceProfile, PilotReading, StateInfo
    from clu_doctor.site.model import Site


def observation(
    key: str,
    value: str,
    probe: str,
    evidence: Iterable[str],
    *,
    addresses: Iterable[int] = (),
    facts: Mapping[str, str] | None = None,
    partial: bool = False,
) -> Observation:
    """A probe's answer: ``probe`` names where it came from, ``evidence`` what was seen,
    ``addresses`` the bus addresses the value is about, ``facts`` what texts may name (the
    vocabulary's ``facts:``), ``partial`` that the value holds only for what was observed."""
    return Observation(
        key,
        value,
        AnswerSource.PROBE,
        probe,
        tuple(evidence),
        tuple(sorted(set(addresses))),
        dict(facts or {}),
        partial,
    )


def unknown(key: str, why: str) -> Observation:
    """A probe that could not tell (the walk goes on with "unknown")."""
    return Observation(key, UNKNOWN, AnswerSource.PROBE, why)


def _lines(verdict: Verdict | None) -> list[str]:
    return [] if verdict is None else [verdict.title, *verdict.evidence]


def _find(verdicts: Sequence[Verdict], key: str) -> Verdict | None:
    return next((v for v in verdicts if v.key == key), None)


# --- bus.traffic: what listening heard ---------------------------------------------------------

#: Every ``bus.traffic`` value :func:`classify_traffic` gives.
TRAFFIC_VALUES = ("polling", "unanswered", "undecodable", "silent", "unheard", "off-bus")
#: Traffic values where the CLU was heard polling: the listen answers the bus questions.
HEARD = ("polling", "unanswered")
#: Traffic values where nobody polls: active probes may follow (see ``may_transmit``).
QUIET = ("silent", "unheard", "off-bus")
#: Listen verdicts whose evidence explains the ``bus.traffic`` value.
TRAFFIC_EVIDENCE = ("bus.polling", "bus.undecodable", "bus.no_answers")
#: Below this many bytes with no request and no answer decoded, the line counts as silent.
_FEW_BYTES = 64


def classify_traffic(report: ListenReport, undecodable: bool, site: Site | None) -> str:
    """The ``bus.traffic`` value of a listen. ``undecodable``: the listen's verdicts say
    nothing decodes. rules/observations.yaml describes each value.

    ``unheard`` is silence heard from the far end of the bus: it says nothing about the CLU's
    USB interface, because a break between it and the adapter sounds the same. ``off-bus`` is
    silence on a site whose file says the CLU is off the bus: expected.
    """
    answers = sum(a.answers for a in report.addresses)
    if report.bytes == 0 or (report.requests == 0 and answers == 0 and report.bytes < _FEW_BYTES):
        if site is not None and site.active_probes_allowed:
            return "off-bus"
        return "unheard" if site is not None and site.adapter_at == "end" else "silent"
    if undecodable or (report.requests == 0 and answers == 0):
        return "undecodable"
    return "polling" if answers else "unanswered"


class Presence(NamedTuple):
    """An observation that a listen verdict answers by being there or not."""

    observation: str
    present: str
    absent: str
    #: Only asked with a site description (without one there is nothing to compare).
    needs_site: bool = False
    #: Verdict values with an observation value of their own (any other value is ``present``).
    values: Mapping[str, str] = MappingProxyType({})


#: Listen verdicts that are observations by their presence (only once the CLU was heard).
PRESENCE: Mapping[str, Presence] = MappingProxyType(
    {
        "bus.errors_spread": Presence("bus.errors", "spread", "low"),
        "bus.unpolled_addresses": Presence(
            "bus.unpolled",
            "some",
            "none",
            needs_site=True,
            # a listen shorter than one polling cycle of the CLU cannot tell
            values=MappingProxyType({"listen_too_short": "unjudged"}),
        ),
    }
)


def listen_observations(
    report: ListenReport,
    verdicts: Sequence[Verdict],
    traffic: str,
    *,
    notes: Sequence[str] = (),
    detection: Detection | None = None,
    site_known: bool = False,
    adapter_line: str | None = None,
) -> dict[str, Observation]:
    """``bus.traffic`` (with ``traffic``, from :func:`classify_traffic`), ``bus.settings`` and,
    once the CLU was heard, the observations of :data:`PRESENCE`.

    ``adapter_line`` is the line setting the adapter was set to (``9600 8E1 (ascii)``), named
    when the bus turns out to run at another one; ``notes`` say what the listen is at.
    ``bus.traffic`` is partial when some polled addresses never answered: an OK claim that the
    CLU gets answers is then scoped to those that do.
    """
    lines = [traffic_summary(report), *notes]
    if traffic == "off-bus":
        lines.append("the site file says the CLU is off the bus (clu: disconnected)")
    undecodable = _find(verdicts, "bus.undecodable")
    for key in TRAFFIC_EVIDENCE:
        if not (traffic == "off-bus" and key == "bus.polling"):
            lines += _lines(_find(verdicts, key))
    if detection is not None and detection.outcome == "silent" and undecodable is None:
        lines.append(detection.message)  # the undecodable verdict already counts what was tried
    unanswered = [a.address for a in report.addresses if a.polls and not a.answers]
    found = {
        "bus.traffic": observation(
            "bus.traffic",
            traffic,
            "bus.listen",
            lines,
            partial=traffic == "polling" and bool(unanswered),
        ),
        **_settings_observation(traffic, detection, adapter_line),
    }
    if traffic not in HEARD:
        return found
    for key, presence in PRESENCE.items():
        if presence.needs_site and not site_known:
            continue
        verdict = _find(verdicts, key)
        value = (
            presence.absent
            if verdict is None
            else presence.values.get(verdict.value, presence.present)
        )
        found[presence.observation] = observation(
            presence.observation,
            value,
            "bus.listen",
            _lines(verdict),
            addresses=verdict.addresses if verdict is not None else (),
        )
    return found


def _settings_observation(
    traffic: str, detection: Detection | None, adapter_line: str | None
) -> dict[str, Observation]:
    """``bus.settings``: frames at the adapter's own settings (``match``), only at others the
    line-setting search found (``mismatch``), or not known (nothing decodes anywhere, or
    nothing was heard). A bus at exactly the settings and framing of the profile's other ABL
    generation is a ``match``: the stations are of that generation, the adapter is not wrong."""
    if detection is not None and detection.found and detection.generation_profile:
        line = f"{detection.message}; read with profile {detection.generation_profile}"
        facts = {"bus_line": f"{detection.settings} ({detection.framing})"}
        return {
            "bus.settings": observation("bus.settings", "match", "bus.listen", [line], facts=facts)
        }
    if detection is not None and detection.found:
        bus_line = f"{detection.settings} ({detection.framing})"
        facts = {"bus_line": bus_line}
        line = detection.message
        if adapter_line is not None:
            facts["adapter_line"] = adapter_line
            line = f"nothing decodes at {adapter_line}; {line}"
        lines = [line]
        value = "mismatch"
    elif detection is None and traffic in HEARD:
        return {"bus.settings": observation("bus.settings", "match", "bus.listen", [])}
    else:
        return {"bus.settings": unknown("bus.settings", "nothing decoded at any setting tried")}
    return {"bus.settings": observation("bus.settings", value, "bus.listen", lines, facts=facts)}


def traffic_summary(report: ListenReport) -> str:
    """One line: how long, at what setting, how many polls, answers and problems."""
    polls = sum(a.polls for a in report.addresses)
    answers = sum(a.answers for a in report.addresses)
    corrupt = sum(a.corrupt for a in report.addresses)
    addresses = sorted(a.address for a in report.addresses if a.polls)
    text = (
        f"listened {report.seconds:.1f} s at {report.settings} ({report.framing}): "
        f"{report.bytes} bytes, {polls} polls to {len(addresses)} address(es)"
    )
    if addresses:
        text += f" ({ranges(addresses)})"
    return text + f", {answers} answers, {corrupt} corrupt"


# --- bus.reach: which stations answer, along the chain -----------------------------------------

#: The listen's ``bus.silent_addresses`` verdict -> ``bus.reach``.
REACH_FROM_LISTEN: Mapping[str, str] = MappingProxyType(
    {
        # every station beyond one point of the chain is silent: a cut or crossed cable
        "beyond_point": "break",
        # the same silence, but the adapter beyond that point hears the CLU: the stations
        "beyond_point_bus_intact": "station",
        # silent stations with answering ones beyond them: the bus passes them
        "isolated": "station",
        # no site description: the silent addresses cannot be placed
        "no_chain": "missing",
    }
)
#: The scan's chain analysis (``bus.end_of_bus``, with a site) -> ``bus.reach``.
REACH_FROM_CHAIN: Mapping[ChainVerdict, str] = MappingProxyType(
    {
        "ok": "all",
        "station": "station",
        "break": "break",
        # only the farthest station is silent: itself or its last segment, not a break
        "farthest": "station",
        "none": "none",
    }
)
#: ``bus.reach`` with nothing silent to place: (a site given?, anything answered?) -> value.
REACH_PLAIN: Mapping[tuple[bool, bool], str] = MappingProxyType(
    {
        (True, True): "all",  # every polled station of the site answers
        (False, True): "found",  # stations answer; without a site none can be called missing
        (False, False): "none",  # nothing answered the scan
    }
)


def reach_from_listen(
    report: ListenReport, verdicts: Sequence[Verdict], site: Site | None
) -> dict[str, Observation]:
    """``bus.reach`` while the CLU polls, from the listen's ``bus.silent_addresses``.

    The value is about the silent addresses (or, when all answer, about those that do). With
    every polled station answering, it is partial when the CLU leaves some planned stations
    out of its polls: nobody asked those whether they would answer.
    """
    silent = _find(verdicts, "bus.silent_addresses")
    if silent is not None:
        value = REACH_FROM_LISTEN[silent.value]
        raw = silent.data.get("isolated", ())
        isolated = [int(a) for a in raw] if isinstance(raw, (list, tuple)) else []
        return {
            "bus.reach": observation(
                "bus.reach",
                value,
                "bus.listen",
                _lines(silent),
                addresses=silent.addresses,
                facts=_silent_facts(silent.addresses, site),
            ),
            **isolated_observation(isolated, "bus.listen"),
        }
    answering = [a.address for a in report.addresses if a.answers]
    unpolled = _find(verdicts, "bus.unpolled_addresses")
    lines = []
    if site is not None:
        lines.append(
            "every polled station of the site answers"
            + (f"; {_unpolled_words(unpolled)} {ranges(unpolled.addresses)}" if unpolled else "")
        )
    return {
        "bus.reach": observation(
            "bus.reach",
            REACH_PLAIN[site is not None, True],
            "bus.listen",
            lines,
            addresses=answering,
            partial=unpolled is not None,
        ),
        **isolated_observation([], "bus.listen"),
    }


def _unpolled_words(unpolled: Verdict) -> str:
    if unpolled.value == "listen_too_short":
        return "the listen was too short to judge"
    return "the CLU never polls"


def reach_from_scan(
    answered: Collection[int],
    chain: ChainResult | None,
    site: Site | None = None,
    notes: Sequence[str] = (),
) -> dict[str, Observation]:
    """``bus.reach`` from the tool's own reads: along the site's chain when there is one.
    ``notes`` add what the reads showed about single addresses."""
    if chain is None:
        value = REACH_PLAIN[False, bool(answered)]
        lines = [f"addresses answering: {ranges(sorted(answered))}", *notes]
        return {
            "bus.reach": observation("bus.reach", value, "bus.scan", lines, addresses=answered),
            "bus.isolated": unknown("bus.isolated", "no site description to place the silence"),
        }
    value = REACH_FROM_CHAIN[chain.verdict]
    about = chain.silent if chain.silent else chain.reachable
    return {
        "bus.reach": observation(
            "bus.reach",
            value,
            "bus.end_of_bus",
            [*chain.evidence, *notes],
            addresses=about,
            facts=_silent_facts(chain.silent, site),
        ),
        **isolated_observation(chain.isolated, "bus.end_of_bus"),
    }


#: ``bus.isolated``: (nothing silent where the bus passes, some stations silent there).
ISOLATED_VALUES = ("none", "some")


def isolated_observation(isolated: Sequence[int], probe: str) -> dict[str, Observation]:
    """``bus.isolated``: stations silent while one beyond them answers (the bus passes them),
    whatever else is silent; beside a cut further on, a fault of their own. What was heard is
    ``bus.reach``'s evidence, which names them."""
    value = ISOLATED_VALUES[bool(isolated)]
    return {"bus.isolated": observation("bus.isolated", value, probe, [], addresses=isolated)}


def _silent_facts(silent: Sequence[int], site: Site | None) -> dict[str, str]:
    """What texts may say of the silent addresses: their labels and the addresses themselves."""
    if not silent:
        return {}
    labels = [
        (site.label_of(a) if site else None)
        or _("the station at address {address}").format(address=a)
        for a in silent
    ]
    joined = (
        labels[0] if len(labels) == 1 else _("one of {stations}").format(stations=", ".join(labels))
    )
    return {"silent_station": joined, "silent_address": _address_words(silent)}


def _address_words(addresses: Sequence[int]) -> str:
    """``address 9``, or ``address 7 or 9`` for one of several (as ``silent_station`` says
    "one of XAXXY07, XAXXY09"), in the run's language: a fact texts name."""
    if len(addresses) == 1:
        return _("address {number}").format(number=addresses[0])
    some = ", ".join(str(a) for a in addresses[:-1])
    return _("address {some} or {last}").format(some=some, last=addresses[-1])


# --- bus.duplicates: two devices on one address ------------------------------------------------

#: The listen's ``bus.duplicate_address`` verdict -> ``bus.duplicates`` (no verdict: ``none``).
DUPLICATES_FROM_LISTEN: Mapping[str, str] = MappingProxyType(
    {
        "identity_alternates": "confirmed",  # two identities at one address
        "double_answers": "confirmed",  # two differing valid answers to one poll
        "corruption_excess": "suspected",  # garbled far more often than the rest: statistics
    }
)
#: ``bus.duplicates`` when the listen has no duplicate verdict.
DUPLICATES_NONE_HEARD = "none"
#: The active duplicate check's verdict -> ``bus.duplicates``.
DUPLICATES_FROM_CHECK: Mapping[DuplicateVerdict, str] = MappingProxyType(
    {
        "confirmed": "confirmed",
        "suspected": "suspected",
        # a noisy bus garbles every address alike: no sign of a duplicate (bus.errors tells)
        "noisy": "none",
        "none": "none",
    }
)


def duplicates_from_listen(verdict: Verdict | None) -> dict[str, Observation]:
    """``bus.duplicates`` while the CLU polls, from the listen's ``bus.duplicate_address``."""
    if verdict is None:
        return {
            "bus.duplicates": observation("bus.duplicates", DUPLICATES_NONE_HEARD, "bus.listen", [])
        }
    value = DUPLICATES_FROM_LISTEN[verdict.value]
    return {
        "bus.duplicates": observation(
            "bus.duplicates",
            value,
            "bus.listen",
            _lines(verdict),
            addresses=verdict.addresses,
            facts=_doubled_facts(verdict.addresses, _identities_heard(verdict)),
        )
    }


def _identities_heard(verdict: Verdict) -> list[str]:
    """The identities the listen decoded at the doubled addresses, as read (the profile's
    identity text, e.g. device type and serial)."""
    detail = verdict.data.get("addresses_detail")
    if not isinstance(detail, Mapping):
        return []
    found: list[str] = []
    for entry in detail.values():
        identities = entry.get("identities", []) if isinstance(entry, Mapping) else []
        for text in identities:
            if f"identity {text}" not in found:
                found.append(f"identity {text}")
    return found


def duplicates_from_check(result: DuplicateResult) -> dict[str, Observation]:
    """``bus.duplicates`` from the tool's repeated identity reads. The evidence is what was
    read (identities, counts, statistics), not the probe's own next step: what to do is the
    finding's, and depends on what else the run found (a silent station names the culprit)."""
    value = DUPLICATES_FROM_CHECK[result.verdict]
    doubled = (*result.confirmed, *result.suspected) if value != "none" else ()
    seen = dataclasses.replace(
        result, addresses=tuple(dataclasses.replace(e, next_step=None) for e in result.addresses)
    )
    return {
        "bus.duplicates": observation(
            "bus.duplicates",
            value,
            "bus.duplicates",
            describe(seen),
            addresses=doubled,
            facts=_doubled_facts(sorted(set(doubled)), _identities_read(result, doubled)),
        )
    }


def _identities_read(result: DuplicateResult, doubled: Collection[int]) -> list[str]:
    """``serial DF230101`` (else the identity as read) for each device read at the doubled
    addresses."""
    found: list[str] = []
    for entry in result.addresses:
        if entry.address in doubled:
            for seen in entry.identities:
                serial = (seen.identity.serial or "").strip()
                text = f"serial {serial}" if serial else seen.identity.text.strip()
                if text and text not in found:
                    found.append(text)
    return found


def _doubled_facts(addresses: Sequence[int], identities: Sequence[str]) -> dict[str, str]:
    """What texts may say of a doubled address: the address, and who answers there."""
    if not addresses:
        return {}
    facts = {"doubled_address": _address_words(addresses)}
    if len(identities) >= 2:
        named = _("{some} and {last}").format(some=", ".join(identities[:-1]), last=identities[-1])
        facts["doubled_identities"] = _("the controllers with {serials}").format(serials=named)
    return facts


# --- bus.devices: what the profile says the devices are ---------------------------------------

#: The profile's ``device`` -> ``bus.devices``.
DEVICES_FROM_PROFILE: Mapping[str, str] = MappingProxyType(
    {"charge-controller": "charge-controllers", "energy-meter": "energy-meters"}
)


def devices_observation(profile: DeviceProfile) -> dict[str, Observation]:
    """``bus.devices`` from the device profile in use: what the devices on the bus are."""
    value = DEVICES_FROM_PROFILE[profile.device]
    line = f"device profile {profile.name}: {profile.title}"
    return {"bus.devices": observation("bus.devices", value, "bus.profile", [line])}


# --- station.state: the controllers' state codes -----------------------------------------------

#: State codes with a value of their own -> ``station.state``.
STATE_VALUES: Mapping[str, str] = MappingProxyType(
    {
        "E0": "disabled",
        "E2": "setup",
        "E3": "bus-idle",
        "F4": "upstream-timeout",
    }
)
#: Every ``station.state`` value, worst first: the worst state of all stations counts.
STATE_RANK = ("fault", "upstream-timeout", "setup", "disabled", "bus-idle", "unusual", "normal")
#: Profile severities that make an otherwise normal state ``unusual`` (e.g. E1, test mode).
_NEEDS_ATTENTION = (Severity.WARNING, Severity.CRITICAL)


def code_value(code: str) -> str:
    """The ``station.state`` value of a state code by itself: its own, ``fault`` for any
    other F code, else ``normal`` (the profile may still make it ``unusual``)."""
    return STATE_VALUES.get(code, "fault" if code.startswith("F") else "normal")


def named_state(code: str) -> bool:
    """A state code that is a ``station.state`` finding by itself, whatever the profile says
    (E0, E2, E3, every F code)."""
    return code_value(code) != "normal"


def _state_value(code: str, profile: DeviceProfile) -> tuple[str, StateInfo | None]:
    """The ``station.state`` value of one controller's code, with the profile's entry."""
    info = profile.states.get(int(code, 16)) if _is_hex(code) else None
    severity = info.severity if info else Severity.OK
    value = code_value(code)
    if severity is Severity.OK and code not in STATE_VALUES:
        value = "normal"  # an F code the profile calls harmless
    elif value == "normal" and severity in _NEEDS_ATTENTION:
        value = "unusual"
    return value, info


def classify_states(
    states: Mapping[int, str], profile: DeviceProfile, site: Site | None
) -> tuple[str, list[str]]:
    """The worst ``station.state`` value among ``states`` (address -> code), with evidence."""
    worst = "normal"
    lines = []
    for address, code in sorted(states.items()):
        value, info = _state_value(code, profile)
        if value != "normal":
            meaning = info.meaning if info else "unknown state"
            lines.append(f"{_station_words(address, site)}: state {code}, {meaning}")
        if STATE_RANK.index(value) < STATE_RANK.index(worst):
            worst = value
    if worst == "normal":
        lines.append(f"{len(states)} controller(s) report A, B or C states")
    return worst, lines


def states_observation(
    states: Mapping[int, str], profile: DeviceProfile, site: Site | None, probe: str
) -> dict[str, Observation]:
    """``station.state`` from the codes the listen heard or the scan read (``probe``).

    The value is about the controllers in a state that needs attention (or, when all are
    normal, about those read). "Normal" is partial when not every controller of the site was
    read (or the site is not known): it says nothing of the others.
    """
    value, lines = classify_states(states, profile, site)
    if value == "normal":
        about = list(states)
        planned = set(site.expected_addresses) if site is not None else None
        partial = planned is None or not planned <= set(states)
    else:
        about = [a for a, code in states.items() if _state_value(code, profile)[0] != "normal"]
        partial = False
    return {
        "station.state": observation(
            "station.state", value, probe, lines, addresses=about, partial=partial
        )
    }


#: ``station.pilot`` by whether any pilot read lies off its state's level.
PILOT_VALUE: Mapping[bool, str] = MappingProxyType({False: "normal", True: "off-level"})


def pilot_observation(
    readings: Mapping[int, PilotReading | None], site: Site | None
) -> dict[str, Observation]:
    """``station.pilot`` from the pilot blocks read (``None``: that address gave no valid
    answer). Only readings in a state with a pilot level (A-D) are judged; the value is about
    the controllers off their level, or, when none is, about those judged (partial when not
    every controller of the site was)."""
    judged = {a: r for a, r in readings.items() if r is not None and r.expected_v is not None}
    if not judged:
        return {"station.pilot": unknown("station.pilot", "no pilot voltage could be judged")}
    off = sorted(a for a, r in judged.items() if r.off_level)
    lines = []
    for address in off or sorted(judged):
        reading = judged[address]
        lines.append(
            f"{_station_words(address, site)}: CP+ {reading.cp_plus_v:.1f} V in state "
            f"{reading.state}, where {reading.expected_v:g} V is expected (+-1 V)"
        )
    if not off:
        lines = [f"{len(judged)} controller(s): CP+ on the level of their state"]
    planned = set(site.expected_addresses) if site is not None else None
    return {
        "station.pilot": observation(
            "station.pilot",
            PILOT_VALUE[bool(off)],
            "bus.pilot",
            lines,
            addresses=off or judged,
            partial=not off and (planned is None or not planned <= set(judged)),
        )
    }


def _station_words(address: int, site: Site | None) -> str:
    label = site.label_of(address) if site is not None else None
    return f"address {address} ({label})" if label else f"address {address}"


def _is_hex(code: str) -> bool:
    try:
        int(code, 16)
    except ValueError:
        return False
    return True


# --- site.*: the site file's configuration facts -----------------------------------------------


class FactRow(NamedTuple):
    """A configuration fact of the site file as an observation: its value when the fact is
    ``ok`` and when it is a ``problem`` (``unknown`` stays unknown)."""

    fact: str
    ok: str
    problem: str


#: ``site.*`` observation -> the configuration fact it comes from.
SITE_FACTS: Mapping[str, FactRow] = MappingProxyType(
    {
        "site.addresses": FactRow("config.addresses_unique", "ok", "duplicate"),
        "site.labels": FactRow("config.labels_match", "ok", "mismatch"),
        "site.duo": FactRow("config.duo_pairs", "ok", "inconsistent"),
        "site.cable": FactRow("config.cable_length", "ok", "too-long"),
        "site.capacity": FactRow("config.capacity", "ok", "insufficient"),
        "site.meters": FactRow("config.meter_bus", "ok", "single-bus"),
    }
)
#: A fact that, when a problem, overrules a row of :data:`SITE_FACTS`: more addresses than
#: the bus has make ``site.addresses`` say so, whether or not they are unique.
SITE_OVERRULED: Mapping[str, tuple[str, str]] = MappingProxyType(
    {"site.addresses": ("config.address_count", "too-many")}
)
#: ``site.meters`` for a site without energy meters (unless the fact is a problem).
SITE_NO_METERS = "none"


# --- grade.*: the site's thresholds --------------------------------------------------------------

#: A threshold's severity -> the ``grade.*`` value (below every threshold is still worth a
#: note, so ``ok`` grades as ``info``).
GRADE_OF: Mapping[Severity, str] = MappingProxyType(
    {
        Severity.OK: "info",
        Severity.INFO: "info",
        Severity.WARNING: "warning",
        Severity.CRITICAL: "critical",
    }
)


# --- for the tests: what each observation can be ---------------------------------------------


def produced_values() -> dict[str, frozenset[str]]:
    """Every value this module can give each observation (``unknown`` aside)."""
    duplicates = {*DUPLICATES_FROM_LISTEN.values(), DUPLICATES_NONE_HEARD}
    out: dict[str, set[str]] = {
        "bus.traffic": set(TRAFFIC_VALUES),
        "bus.reach": {
            *REACH_FROM_LISTEN.values(),
            *REACH_FROM_CHAIN.values(),
            *REACH_PLAIN.values(),
        },
        "bus.duplicates": duplicates | set(DUPLICATES_FROM_CHECK.values()),
        "station.state": set(STATE_RANK),
        "station.pilot": set(PILOT_VALUE.values()),
        "bus.settings": {"match", "mismatch"},
        "bus.devices": set(DEVICES_FROM_PROFILE.values()),
        "bus.isolated": set(ISOLATED_VALUES),
    }
    for presence in PRESENCE.values():
        out[presence.observation] = {presence.present, presence.absent, *presence.values.values()}
    for key, row in SITE_FACTS.items():
        out[key] = {row.ok, row.problem}
    for key, (_fact, value) in SITE_OVERRULED.items():
        out[key].add(value)
    out["site.meters"].add(SITE_NO_METERS)
    for key in ("grade.stations_silent", "grade.corrupt_rate"):
        out[key] = set(GRADE_OF.values())
    return {key: frozenset(values) for key, values in out.items()}
