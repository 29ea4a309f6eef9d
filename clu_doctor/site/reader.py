"""Reading ``site.yaml``: every problem reported with its file and line, and a hint."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, cast

from clu_doctor.bus.chain import ADAPTER_POSITIONS, AdapterAt
from clu_doctor.bus.codecs import FRAMINGS
from clu_doctor.bus.settings import LineSettings
from clu_doctor.errors import FileProblemError
from clu_doctor.site.model import (
    DEFAULT_LABEL_PREFIX,
    DEFAULT_PROFILE,
    FIRST_ADDRESS,
    LAST_ADDRESS,
    MAX_OUTLETS,
    CluState,
    FlappingThreshold,
    Ignore,
    Meters,
    Model,
    RateThreshold,
    SilentBusThreshold,
    SilentThreshold,
    Site,
    Station,
    Thresholds,
    fmt_number,
    looks_like_path,
)
from clu_doctor.yamlio import Reader, YamlList, YamlMap, describe_type, load_yaml_text, read_text

MODELS: tuple[Model, ...] = ("UNO", "IQ", "DUO")


CLU_STATES: tuple[CluState, ...] = ("connected", "disconnected")


#: A file with problems: the command line adds the command that prints a commented example.
HINT = "compare with a commented example of a site file"


_TOP_REQUIRED = ("name", "chain")
_TOP_OPTIONAL = (
    *("port", "profile", "line", "framing", "adapter", "clu", "cable_m", "site_current_a"),
    *("meters", "label_prefix", "notes", "thresholds", "ignore"),
)


_PREFIX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


#: A finding id as the rules spell it (``BUS-NOISE-01``).
_FINDING_ID = re.compile(r"^[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+$")


#: Bounds on ``thresholds.flapping.of``: enough checks to see a pattern, few enough to stay cheap.
FLAPPING_MAX_OF = 1000


class SiteReader(Reader):
    """The shared reader, with the wording site files have always used for their keys.

    Site users (and tests/site) know ``unknown key 'x' in meters (expected present,
    second_bus)``: the allowed keys in alphabetical order, and no "did you mean".
    """

    def unknown_key(self, line: int, key: Any, what: str, allowed: Sequence[str]) -> None:
        self.report(line, f"unknown key {key!r} in {what}", ", ".join(sorted(allowed)))

    def missing_key(self, line: int, key: str, what: str) -> None:
        self.report(line, f"{what} has no {key!r}")


def _read_label(reader: SiteReader, value: Any, line: int, prefix: str, what: str) -> str | None:
    if not isinstance(value, str) or not value.strip():
        reader.report(line, f"{what} is {describe_type(value)}", f"a label such as {prefix}01")
        return None
    label = value.strip().upper()
    digits = label[len(prefix) :]
    if (
        not label.startswith(prefix.upper())
        or len(digits) != 2
        or not digits.isdigit()
        or not FIRST_ADDRESS <= int(digits) <= LAST_ADDRESS
    ):
        reader.report(
            line,
            f"{what} {value.strip()!r} is not one of the CLU box's labels",
            f"{prefix}01..{prefix}16 (set label_prefix if your labels start differently)",
        )
        return None
    return label


def _read_address(reader: SiteReader, station: YamlMap, what: str) -> int | None:
    address = reader.integer(station, "address", f"{what}: address")
    if address is not None and not FIRST_ADDRESS <= address <= LAST_ADDRESS:
        reader.report(
            station.value_line_of("address"),
            f"{what}: address {address} is outside {FIRST_ADDRESS}..{LAST_ADDRESS}",
            f"{FIRST_ADDRESS}..{LAST_ADDRESS}: the CLU serves at most 16 outlets",
        )
        return None
    return address


def _read_model(reader: SiteReader, station: YamlMap, what: str) -> Model | None:
    if "model" not in station:
        return None
    raw = station["model"]
    text = raw.strip().upper() if isinstance(raw, str) else ""
    for model in MODELS:
        if text == model:
            return model
    reader.invalid(station.value_line_of("model"), f"{what}: model", raw, " | ".join(MODELS))
    return None


def _article(model: Model) -> str:
    return "an" if model == "IQ" else "a"


def _read_labels(
    reader: SiteReader, station: YamlMap, model: Model, what: str, prefix: str
) -> tuple[str, ...] | None:
    """One ``label`` for UNO/IQ, two ``labels`` for a DUO; ``None`` after a problem."""
    duo = model == "DUO"
    wanted, other = ("labels", "label") if duo else ("label", "labels")
    if other in station:
        outlets = "a DUO has two outlets" if duo else f"{_article(model)} {model} has one outlet"
        reader.report(
            station.line_of(other), f"{what}: {outlets}, so it takes {wanted!r}, not {other!r}"
        )
        return None
    if wanted not in station:
        example = f"labels: [{prefix}03, {prefix}04]" if duo else f"label: {prefix}01"
        reader.report(station.line, f"{what} has no {wanted!r}", f"e.g. {example}")
        return None
    value = station[wanted]
    where = station.value_line_of(wanted)
    if not duo:
        label = _read_label(reader, value, where, prefix, f"{what}: label")
        return None if label is None else (label,)
    if not isinstance(value, YamlList) or len(value) != 2:
        found = f"a list of {len(value)}" if isinstance(value, YamlList) else describe_type(value)
        reader.report(where, f"{what}: labels is {found}", "a list of the DUO's two outlet labels")
        return None
    labels = [
        _read_label(reader, entry, value.line_of(n), prefix, f"{what}: label")
        for n, entry in enumerate(value)
    ]
    if labels[0] is None or labels[1] is None:
        return None
    return (labels[0], labels[1])


def _read_station(
    reader: SiteReader, item: Any, line: int, index: int, prefix: str
) -> Station | None:
    what = f"chain station {index}"
    station = reader.section(item, line, what, ("address", "model"), ("label", "labels", "name"))
    if station is None:
        return None
    address = _read_address(reader, station, what)
    model = _read_model(reader, station, what)
    labels = _read_labels(reader, station, model, what, prefix) if model else None
    name = reader.text(station, "name", f"{what}: name")
    if address is None or model is None or labels is None:
        return None
    return Station(address, model, labels, name or " + ".join(labels), station.line)


_BAND = ("warning", "critical")


_PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")


def _read_rate(reader: SiteReader, where: YamlMap, key: str, what: str) -> float | None:
    """A fraction in (0, 1], written as a number (``0.02``) or a percentage (``2%``)."""
    if key not in where:
        return None
    value = where[key]
    line = where.value_line_of(key)
    expected = "a fraction above 0 and at most 1 (0.02) or a percentage (2%)"
    rate: float | None = None
    if isinstance(value, str) and (match := _PERCENT.match(value)):
        rate = float(match.group(1)) / 100
    elif not isinstance(value, bool) and isinstance(value, (int, float)):
        rate = float(value)
    if rate is None or math.isnan(rate):
        reader.invalid(line, what, value, expected)
        return None
    if not 0 < rate <= 1:
        reader.report(line, f"{what} is {value}", expected)
        return None
    return rate


def _band(reader: SiteReader, block: YamlMap, key: str, keys: Sequence[str]) -> YamlMap | None:
    """The sub-mapping ``thresholds: KEY``, or ``None`` when it is absent or not a mapping."""
    if key not in block:
        return None
    what = f"thresholds: {key}"
    return reader.section(block[key], block.value_line_of(key), what, optional=keys)


def _read_thresholds(reader: SiteReader, top: YamlMap) -> Thresholds:
    optional = ("stations_silent", "corrupt_rate", "flapping", "silent_bus")
    block = reader.section(
        top["thresholds"], top.value_line_of("thresholds"), "thresholds", (), optional
    )
    if block is None:
        return Thresholds()
    defaults = Thresholds()
    silent, rate, flapping = defaults.stations_silent, defaults.corrupt_rate, defaults.flapping
    silent_bus = defaults.silent_bus

    what = "thresholds: stations_silent"
    if (band := _band(reader, block, "stations_silent", _BAND)) is not None:
        warning = reader.integer(band, "warning", f"{what}: warning", low=1, high=MAX_OUTLETS)
        critical = reader.integer(band, "critical", f"{what}: critical", low=1, high=MAX_OUTLETS)
        silent = SilentThreshold(
            silent.warning if warning is None else warning,
            silent.critical if critical is None else critical,
        )
        if silent.warning > silent.critical and (warning is not None or critical is not None):
            reader.report(
                band.line,
                f"{what}: warning ({_given(silent.warning, warning)}) is above critical "
                f"({_given(silent.critical, critical)})",
                "warning at most critical: the number of silent stations that makes a "
                "warning, then the (larger or equal) number that makes it critical",
            )

    what = "thresholds: corrupt_rate"
    if (band := _band(reader, block, "corrupt_rate", _BAND)) is not None:
        warning_rate = _read_rate(reader, band, "warning", f"{what}: warning")
        critical_rate = _read_rate(reader, band, "critical", f"{what}: critical")
        rate = RateThreshold(
            rate.warning if warning_rate is None else warning_rate,
            rate.critical if critical_rate is None else critical_rate,
        )
        if rate.warning > rate.critical:
            reader.report(
                band.line,
                f"{what}: warning ({fmt_number(rate.warning)}) is above critical "
                f"({fmt_number(rate.critical)})",
                "warning at most critical",
            )

    what = "thresholds: flapping"
    if (pair := _band(reader, block, "flapping", ("missed", "of"))) is not None:
        missed = reader.integer(pair, "missed", f"{what}: missed", low=2, high=FLAPPING_MAX_OF)
        of = reader.integer(pair, "of", f"{what}: of", low=2, high=FLAPPING_MAX_OF)
        flapping = FlappingThreshold(
            flapping.missed if missed is None else missed, flapping.of if of is None else of
        )
        if flapping.missed > flapping.of:
            reader.report(
                pair.line,
                f"{what}: missed ({flapping.missed}) is more than of ({flapping.of})",
                "missed K of the last N checks, K at most N",
            )

    what = "thresholds: silent_bus"
    if (band := _band(reader, block, "silent_bus", ("critical",))) is not None:
        checks = reader.integer(band, "critical", f"{what}: critical", low=1, high=FLAPPING_MAX_OF)
        silent_bus = SilentBusThreshold(checks)
    return Thresholds(silent, rate, flapping, silent_bus)


def _given(value: int, written: int | None) -> str:
    return str(value) if written is not None else f"{value}, the default"


def _read_until(reader: SiteReader, entry: YamlMap, what: str) -> date | None:
    if "until" not in entry:
        return None
    value = entry["until"]
    line = entry.value_line_of("until")
    expected = "a date, YYYY-MM-DD (the last day the ignore holds)"
    if isinstance(value, datetime):
        reader.report(line, f"{what}: until is a date and time", expected)
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    reader.invalid(line, f"{what}: until", value, expected)
    return None


def _read_finding_id(reader: SiteReader, entry: YamlMap, what: str) -> str | None:
    if "finding" not in entry:
        return None
    raw = entry["finding"]
    text = raw.strip().upper() if isinstance(raw, str) else ""
    if _FINDING_ID.match(text):
        return text
    reader.invalid(
        entry.value_line_of("finding"),
        f"{what}: finding",
        raw,
        "a finding id such as BUS-NOISE-01 (clu-doctor rules list shows them)",
    )
    return None


def _read_ignores(reader: SiteReader, top: YamlMap, source: str) -> tuple[Ignore, ...]:
    value = top["ignore"]
    if not isinstance(value, YamlList):
        reader.report(
            top.value_line_of("ignore"),
            f"ignore is {describe_type(value)}",
            "a list of {finding, address (optional), reason, until}",
        )
        return ()
    ignores: list[Ignore] = []
    seen: dict[tuple[str, int | None], int] = {}
    for index, item in enumerate(value, start=1):
        what = f"ignore {index}"
        # reason and until are required too, with messages that say why (below).
        optional = ("address", "reason", "until")
        entry = reader.section(item, value.line_of(index - 1), what, ("finding",), optional)
        if entry is None:
            continue
        finding = _read_finding_id(reader, entry, what)
        address = reader.integer(
            entry, "address", f"{what}: address", low=FIRST_ADDRESS, high=LAST_ADDRESS
        )
        reason = reader.text(entry, "reason", f"{what}: reason")
        until = _read_until(reader, entry, what)
        if "until" not in entry:
            reader.report(
                entry.line,
                f"{what}: an ignore needs an expiry date, so that it cannot hide a fault forever",
                "until: YYYY-MM-DD",
            )
        if "reason" not in entry:
            reader.report(
                entry.line,
                f"{what}: an ignore needs a reason, for whoever reads the report next",
                'reason: "why this finding is expected, and who decided"',
            )
        if finding is None or reason is None or until is None:
            continue
        key = (finding, address)
        if key in seen:
            reader.report(
                entry.line,
                f"{what}: {finding}"
                + (f" at address {address}" if address is not None else "")
                + f" is already ignored on line {seen[key]}",
                "each finding (and address) once",
            )
            continue
        seen[key] = entry.line
        ignores.append(Ignore(finding, reason, until, address, source, entry.line))
    return tuple(ignores)


def _check_profile(reader: SiteReader, top: YamlMap, profile: str, source: str) -> None:
    """A bundled profile's name, or a profile file that exists (relative to the site file)."""
    if "profile" not in top or profile == DEFAULT_PROFILE:
        return
    if not looks_like_path(profile):
        from clu_doctor.bus.profile import bundled_profile_names  # only for a named profile

        names = bundled_profile_names()
        if profile not in names:
            reader.report(
                top.value_line_of("profile"),
                f"unknown device profile {profile!r}",
                f"a bundled profile ({', '.join(names)}) or a path to a profile file",
            )
        return
    resolved = Path(profile).expanduser()
    if not resolved.is_absolute():
        resolved = Path(source).parent / resolved
    if not resolved.is_file():
        reader.report(top.value_line_of("profile"), f"profile file {profile!r} not found")


def _read_prefix(reader: SiteReader, top: YamlMap) -> str:
    if "label_prefix" not in top:
        return DEFAULT_LABEL_PREFIX
    value = top["label_prefix"]
    if isinstance(value, str) and _PREFIX.match(value.strip()):
        return value.strip().upper()
    reader.invalid(
        top.value_line_of("label_prefix"), "label_prefix", value, "letters and digits, e.g. XAXXY"
    )
    return DEFAULT_LABEL_PREFIX


def _read_chain(reader: SiteReader, top: YamlMap, prefix: str) -> list[Station]:
    chain = top["chain"]
    where = top.value_line_of("chain")
    if not isinstance(chain, YamlList):
        reader.report(where, f"chain is {describe_type(chain)}", "a list of stations")
        return []
    if not chain:
        reader.report(where, "chain is empty", "at least one station")
        return []
    stations: list[Station] = []
    label_lines: dict[str, int] = {}
    for index, item in enumerate(chain, start=1):
        station = _read_station(reader, item, chain.line_of(index - 1), index, prefix)
        if station is None:
            continue
        for label in station.labels:
            if label in label_lines:
                reader.report(
                    station.line,
                    f"chain station {index}: label {label} is used twice "
                    f"(first on line {label_lines[label]})",
                    "every outlet has its own label",
                )
            else:
                label_lines[label] = station.line
        stations.append(station)
    return stations


def parse_site(data: Any, source: str = "site.yaml") -> Site:
    """Check parsed YAML (from :mod:`clu_doctor.yamlio`) and build the :class:`Site`.

    Raises one :class:`~clu_doctor.errors.FileProblemError` with every problem found.
    """
    reader = SiteReader(source)
    if data is None:
        reader.report(1, "the file is empty", "a site description")
        raise FileProblemError(reader.problems, HINT)
    top = reader.section(data, 1, "the site", _TOP_REQUIRED, _TOP_OPTIONAL)
    if top is None:
        raise FileProblemError(reader.problems, HINT)

    name = reader.text(top, "name")
    profile = reader.text(top, "profile") or DEFAULT_PROFILE
    _check_profile(reader, top, profile, source)
    line_settings = reader.parsed(top, "line", LineSettings.parse, "e.g. 38400 8E1")
    framing = reader.choice(top, "framing", FRAMINGS)
    adapter = reader.choice(top, "adapter", ADAPTER_POSITIONS)
    clu = reader.choice(top, "clu", CLU_STATES)
    cable_m = reader.number(top, "cable_m", low=0)
    current = reader.number(top, "site_current_a", above=0)
    notes = reader.text(top, "notes") or ""
    port = reader.text(top, "port")

    meters = Meters()
    if "meters" in top:
        block = reader.section(
            top["meters"], top.value_line_of("meters"), "meters", ("present",), ("second_bus",)
        )
        if block is not None:
            present = reader.boolean(block, "present", "meters: present")
            second = reader.boolean(block, "second_bus", "meters: second_bus")
            meters = Meters(bool(present), second)

    thresholds = _read_thresholds(reader, top) if "thresholds" in top else Thresholds()
    ignores = _read_ignores(reader, top, source) if "ignore" in top else ()
    prefix = _read_prefix(reader, top)
    stations = _read_chain(reader, top, prefix) if "chain" in top else []

    if reader.problems:
        raise FileProblemError(reader.problems, HINT)
    assert name is not None  # a missing name is a problem reported above
    return Site(
        name=name,
        chain=tuple(stations),
        profile=profile,
        line_settings=line_settings,
        framing=framing,
        adapter_at=cast(AdapterAt, adapter or "clu"),
        clu=cast(CluState, clu or "connected"),
        cable_m=cable_m,
        site_current_a=current,
        meters=meters,
        label_prefix=prefix,
        notes=notes,
        path=source,
        thresholds=thresholds,
        ignores=ignores,
        port=port,
    )


def load_site(path: str | Path) -> Site:
    """Read and check a ``site.yaml``; every problem is reported as ``file:line: message``.

    A site read once is kept for the next run that reads the same text
    (:func:`clu_doctor.keep.parsed`), unless its profile is a file of its own: whether that
    file exists is part of the check."""
    from clu_doctor import keep
    from clu_doctor.site import model

    source = str(path)
    text = read_text(path)
    return keep.parsed(
        path,
        text,
        lambda: parse_site(load_yaml_text(text, source), source),
        kind="site",
        code=(__file__, model.__file__),
        worth_keeping=lambda site: not looks_like_path(site.profile),
    )
