"""Reading ``site.yaml``: every problem reported with its file and line, and a hint."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, cast

from clu_doctor.bus.codecs import FRAMINGS
from clu_doctor.bus.settings import LineSettings
from clu_doctor.errors import FileProblemError, Location, Problem
from clu_doctor.site.model import (
    DEFAULT_LABEL_PREFIX,
    DEFAULT_PROFILE,
    FIRST_ADDRESS,
    LAST_ADDRESS,
    MAX_OUTLETS,
    AdapterAt,
    CluState,
    FlappingThreshold,
    Ignore,
    Meters,
    Model,
    RateThreshold,
    SilentThreshold,
    Site,
    Station,
    Thresholds,
    fmt_number,
    looks_like_path,
)
from clu_doctor.yamlio import YamlList, YamlMap, describe_type, load_yaml_file

MODELS: tuple[Model, ...] = ("UNO", "IQ", "DUO")


ADAPTER_POSITIONS: tuple[AdapterAt, ...] = ("clu", "end")


CLU_STATES: tuple[CluState, ...] = ("connected", "disconnected")


_HINT = "compare with the commented example in examples/site.yaml"


_TOP: dict[str, bool] = {
    "name": True,
    "chain": True,
    "port": False,
    "profile": False,
    "line": False,
    "framing": False,
    "adapter": False,
    "clu": False,
    "cable_m": False,
    "site_current_a": False,
    "meters": False,
    "label_prefix": False,
    "notes": False,
    "thresholds": False,
    "ignore": False,
}


_STATION: dict[str, bool] = {
    "address": True,
    "model": True,
    "label": False,
    "labels": False,
    "name": False,
}


_METERS: dict[str, bool] = {"present": True, "second_bus": False}


_PREFIX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


#: A finding id as the rules spell it (``BUS-NOISE-01``).
_FINDING_ID = re.compile(r"^[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+$")


#: Bounds on ``thresholds.flapping.of``: enough checks to see a pattern, few enough to stay cheap.
FLAPPING_MAX_OF = 1000


class _Reader:
    """Collects every problem in one site file, each with its line."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[Problem] = []

    def problem(self, line: int, message: str, expected: str | None = None) -> None:
        self.problems.append(Problem(Location(self.path, line), message, expected))

    def mapping(self, value: Any, line: int, what: str, keys: Mapping[str, bool]) -> YamlMap | None:
        if not isinstance(value, YamlMap):
            self.problem(line, f"{what} is {describe_type(value)}", "a mapping")
            return None
        for key in value:
            if key not in keys:
                self.problem(
                    value.line_of(key), f"unknown key {key!r} in {what}", ", ".join(sorted(keys))
                )
        for key, required in keys.items():
            if required and key not in value:
                self.problem(value.line, f"{what} has no {key!r}")
        return value

    def text(self, where: YamlMap, key: str, what: str) -> str | None:
        if key not in where:
            return None
        value = where[key]
        if not isinstance(value, str) or not value.strip():
            self.problem(where.value_line_of(key), f"{what} is {describe_type(value)}", "text")
            return None
        return value.strip()

    def choice(self, where: YamlMap, key: str, what: str, allowed: Sequence[str]) -> str | None:
        value = where.get(key)
        if key not in where:
            return None
        if not isinstance(value, str) or value not in allowed:
            shown = repr(value) if isinstance(value, str) else describe_type(value)
            self.problem(where.value_line_of(key), f"{what} is {shown}", " | ".join(allowed))
            return None
        return value

    def number(self, where: YamlMap, key: str, what: str, *, positive: bool) -> float | None:
        if key not in where:
            return None
        value = where[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
            self.problem(where.value_line_of(key), f"{what} is {describe_type(value)}", "a number")
            return None
        if math.isinf(value) or (value <= 0 if positive else value < 0):
            self.problem(
                where.value_line_of(key),
                f"{what} is {value}",
                "a number above 0" if positive else "a number, 0 or more",
            )
            return None
        return float(value)

    def boolean(self, where: YamlMap, key: str, what: str) -> bool | None:
        if key not in where:
            return None
        value = where[key]
        if not isinstance(value, bool):
            self.problem(
                where.value_line_of(key), f"{what} is {describe_type(value)}", "true or false"
            )
            return None
        return value


def _read_label(reader: _Reader, value: Any, line: int, prefix: str, what: str) -> str | None:
    if not isinstance(value, str) or not value.strip():
        reader.problem(line, f"{what} is {describe_type(value)}", f"a label such as {prefix}01")
        return None
    label = value.strip().upper()
    digits = label[len(prefix) :]
    if (
        not label.startswith(prefix.upper())
        or len(digits) != 2
        or not digits.isdigit()
        or not FIRST_ADDRESS <= int(digits) <= LAST_ADDRESS
    ):
        reader.problem(
            line,
            f"{what} {value.strip()!r} is not one of the CLU box's labels",
            f"{prefix}01..{prefix}16 (set label_prefix if your labels start differently)",
        )
        return None
    return label


def _read_address(reader: _Reader, station: YamlMap, what: str) -> int | None:
    if "address" not in station:
        return None
    value = station["address"]
    where = station.value_line_of("address")
    if isinstance(value, bool) or not isinstance(value, int):
        reader.problem(where, f"{what}: address is {describe_type(value)}", "a whole number")
        return None
    if not FIRST_ADDRESS <= value <= LAST_ADDRESS:
        reader.problem(
            where,
            f"{what}: address {value} is outside {FIRST_ADDRESS}..{LAST_ADDRESS}",
            f"{FIRST_ADDRESS}..{LAST_ADDRESS}: the CLU serves at most 16 outlets",
        )
        return None
    return value


def _read_model(reader: _Reader, station: YamlMap, what: str) -> Model | None:
    if "model" not in station:
        return None
    raw = station["model"]
    text = raw.strip().upper() if isinstance(raw, str) else ""
    for model in MODELS:
        if text == model:
            return model
    shown = repr(raw) if isinstance(raw, str) else describe_type(raw)
    reader.problem(station.value_line_of("model"), f"{what}: model is {shown}", " | ".join(MODELS))
    return None


def _article(model: Model) -> str:
    return "an" if model == "IQ" else "a"


def _read_labels(
    reader: _Reader, station: YamlMap, model: Model, what: str, prefix: str
) -> tuple[str, ...] | None:
    """One ``label`` for UNO/IQ, two ``labels`` for a DUO; ``None`` after a problem."""
    duo = model == "DUO"
    wanted, other = ("labels", "label") if duo else ("label", "labels")
    if other in station:
        outlets = "a DUO has two outlets" if duo else f"{_article(model)} {model} has one outlet"
        reader.problem(
            station.line_of(other), f"{what}: {outlets}, so it takes {wanted!r}, not {other!r}"
        )
        return None
    if wanted not in station:
        example = f"labels: [{prefix}03, {prefix}04]" if duo else f"label: {prefix}01"
        reader.problem(station.line, f"{what} has no {wanted!r}", f"e.g. {example}")
        return None
    value = station[wanted]
    where = station.value_line_of(wanted)
    if not duo:
        label = _read_label(reader, value, where, prefix, f"{what}: label")
        return None if label is None else (label,)
    if not isinstance(value, YamlList) or len(value) != 2:
        found = f"a list of {len(value)}" if isinstance(value, YamlList) else describe_type(value)
        reader.problem(where, f"{what}: labels is {found}", "a list of the DUO's two outlet labels")
        return None
    labels = [
        _read_label(reader, entry, value.line_of(n), prefix, f"{what}: label")
        for n, entry in enumerate(value)
    ]
    if labels[0] is None or labels[1] is None:
        return None
    return (labels[0], labels[1])


def _read_station(reader: _Reader, item: Any, line: int, index: int, prefix: str) -> Station | None:
    what = f"chain station {index}"
    station = reader.mapping(item, line, what, _STATION)
    if station is None:
        return None
    address = _read_address(reader, station, what)
    model = _read_model(reader, station, what)
    labels = _read_labels(reader, station, model, what, prefix) if model else None
    name = reader.text(station, "name", f"{what}: name")
    if address is None or model is None or labels is None:
        return None
    return Station(address, model, labels, name or " + ".join(labels), station.line)


_THRESHOLDS: dict[str, bool] = {"stations_silent": False, "corrupt_rate": False, "flapping": False}


_BAND: dict[str, bool] = {"warning": False, "critical": False}


_FLAPPING: dict[str, bool] = {"missed": False, "of": False}


# reason and until are required too, with their own messages (see _read_ignores).
_IGNORE: dict[str, bool] = {"finding": True, "address": False, "reason": False, "until": False}


_PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")


def _read_whole(
    reader: _Reader, where: YamlMap, key: str, what: str, low: int, high: int
) -> int | None:
    if key not in where:
        return None
    value = where[key]
    line = where.value_line_of(key)
    if isinstance(value, bool) or not isinstance(value, int):
        reader.problem(line, f"{what} is {describe_type(value)}", f"a whole number, {low}..{high}")
        return None
    if not low <= value <= high:
        reader.problem(line, f"{what} is {value}", f"a whole number, {low}..{high}")
        return None
    return value


def _read_rate(reader: _Reader, where: YamlMap, key: str, what: str) -> float | None:
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
        shown = repr(value) if isinstance(value, str) else describe_type(value)
        reader.problem(line, f"{what} is {shown}", expected)
        return None
    if not 0 < rate <= 1:
        reader.problem(line, f"{what} is {value}", expected)
        return None
    return rate


def _read_thresholds(reader: _Reader, top: YamlMap) -> Thresholds:
    block = reader.mapping(
        top["thresholds"], top.value_line_of("thresholds"), "thresholds", _THRESHOLDS
    )
    if block is None:
        return Thresholds()
    defaults = Thresholds()

    silent = defaults.stations_silent
    if "stations_silent" in block:
        what = "thresholds: stations_silent"
        band = reader.mapping(
            block["stations_silent"], block.value_line_of("stations_silent"), what, _BAND
        )
        if band is not None:
            warning = _read_whole(reader, band, "warning", f"{what}: warning", 1, MAX_OUTLETS)
            critical = _read_whole(reader, band, "critical", f"{what}: critical", 1, MAX_OUTLETS)
            silent = SilentThreshold(
                silent.warning if warning is None else warning,
                silent.critical if critical is None else critical,
            )
            if silent.warning > silent.critical and (warning is not None or critical is not None):
                reader.problem(
                    band.line,
                    f"{what}: warning ({_given(silent.warning, warning)}) is above critical "
                    f"({_given(silent.critical, critical)})",
                    "warning at most critical: the number of silent stations that makes a "
                    "warning, then the (larger or equal) number that makes it critical",
                )

    rate = defaults.corrupt_rate
    if "corrupt_rate" in block:
        what = "thresholds: corrupt_rate"
        band = reader.mapping(
            block["corrupt_rate"], block.value_line_of("corrupt_rate"), what, _BAND
        )
        if band is not None:
            warning_rate = _read_rate(reader, band, "warning", f"{what}: warning")
            critical_rate = _read_rate(reader, band, "critical", f"{what}: critical")
            rate = RateThreshold(
                rate.warning if warning_rate is None else warning_rate,
                rate.critical if critical_rate is None else critical_rate,
            )
            if rate.warning > rate.critical:
                reader.problem(
                    band.line,
                    f"{what}: warning ({fmt_number(rate.warning)}) is above critical "
                    f"({fmt_number(rate.critical)})",
                    "warning at most critical",
                )

    flapping = defaults.flapping
    if "flapping" in block:
        what = "thresholds: flapping"
        pair = reader.mapping(block["flapping"], block.value_line_of("flapping"), what, _FLAPPING)
        if pair is not None:
            missed = _read_whole(reader, pair, "missed", f"{what}: missed", 2, FLAPPING_MAX_OF)
            of = _read_whole(reader, pair, "of", f"{what}: of", 2, FLAPPING_MAX_OF)
            flapping = FlappingThreshold(
                flapping.missed if missed is None else missed, flapping.of if of is None else of
            )
            if flapping.missed > flapping.of:
                reader.problem(
                    pair.line,
                    f"{what}: missed ({flapping.missed}) is more than of ({flapping.of})",
                    "missed K of the last N checks, K at most N",
                )
    return Thresholds(silent, rate, flapping)


def _given(value: int, written: int | None) -> str:
    return str(value) if written is not None else f"{value}, the default"


def _read_until(reader: _Reader, entry: YamlMap, what: str) -> date | None:
    if "until" not in entry:
        return None
    value = entry["until"]
    line = entry.value_line_of("until")
    expected = "a date, YYYY-MM-DD (the last day the ignore holds)"
    if isinstance(value, datetime):
        reader.problem(line, f"{what}: until is a date and time", expected)
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    shown = repr(value) if isinstance(value, str) else describe_type(value)
    reader.problem(line, f"{what}: until is {shown}", expected)
    return None


def _read_ignores(reader: _Reader, top: YamlMap, source: str) -> tuple[Ignore, ...]:
    value = top["ignore"]
    if not isinstance(value, YamlList):
        reader.problem(
            top.value_line_of("ignore"),
            f"ignore is {describe_type(value)}",
            "a list of {finding, address (optional), reason, until}",
        )
        return ()
    ignores: list[Ignore] = []
    seen: dict[tuple[str, int | None], int] = {}
    for index, item in enumerate(value, start=1):
        what = f"ignore {index}"
        entry = reader.mapping(item, value.line_of(index - 1), what, _IGNORE)
        if entry is None:
            continue
        finding: str | None = None
        if "finding" in entry:
            raw = entry["finding"]
            text = raw.strip().upper() if isinstance(raw, str) else ""
            if _FINDING_ID.match(text):
                finding = text
            else:
                shown = repr(raw) if isinstance(raw, str) else describe_type(raw)
                reader.problem(
                    entry.value_line_of("finding"),
                    f"{what}: finding is {shown}",
                    "a finding id such as BUS-NOISE-01 (clu-doctor rules list shows them)",
                )
        address = _read_whole(
            reader, entry, "address", f"{what}: address", FIRST_ADDRESS, LAST_ADDRESS
        )
        reason = reader.text(entry, "reason", f"{what}: reason")
        until = _read_until(reader, entry, what)
        if "until" not in entry:
            reader.problem(
                entry.line,
                f"{what}: an ignore needs an expiry date, so that it cannot hide a fault forever",
                "until: YYYY-MM-DD",
            )
        if "reason" not in entry:
            reader.problem(
                entry.line,
                f"{what}: an ignore needs a reason, for whoever reads the report next",
                'reason: "why this finding is expected, and who decided"',
            )
        if finding is None or reason is None or until is None:
            continue
        key = (finding, address)
        if key in seen:
            reader.problem(
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


def parse_site(data: Any, source: str = "site.yaml") -> Site:
    """Check parsed YAML (from :mod:`clu_doctor.yamlio`) and build the :class:`Site`.

    Raises one :class:`~clu_doctor.errors.FileProblemError` with every problem found.
    """
    reader = _Reader(source)
    if data is None:
        reader.problem(1, "the file is empty", "a site description")
        raise FileProblemError(reader.problems, _HINT)
    top = reader.mapping(data, 1, "the site", _TOP)
    if top is None:
        raise FileProblemError(reader.problems, _HINT)

    name = reader.text(top, "name", "name")
    profile = reader.text(top, "profile", "profile") or DEFAULT_PROFILE
    if "profile" in top and profile != DEFAULT_PROFILE and not looks_like_path(profile):
        from clu_doctor.bus.profile import bundled_profile_names

        names = bundled_profile_names()
        if profile not in names:
            reader.problem(
                top.value_line_of("profile"),
                f"unknown device profile {profile!r}",
                f"a bundled profile ({', '.join(names)}) or a path to a profile file",
            )
    elif "profile" in top and looks_like_path(profile):
        resolved = Path(profile).expanduser()
        if not resolved.is_absolute():
            resolved = Path(source).parent / resolved
        if not resolved.is_file():
            reader.problem(top.value_line_of("profile"), f"profile file {profile!r} not found")
    line_settings: LineSettings | None = None
    if "line" in top:
        value = top["line"]
        try:
            line_settings = LineSettings.parse(str(value)) if isinstance(value, str) else None
        except ValueError as error:
            reader.problem(top.value_line_of("line"), str(error))
        else:
            if line_settings is None:
                reader.problem(
                    top.value_line_of("line"), f"line is {describe_type(value)}", "e.g. 38400 8E1"
                )
    framing = reader.choice(top, "framing", "framing", FRAMINGS)
    adapter = reader.choice(top, "adapter", "adapter", ADAPTER_POSITIONS)
    clu = reader.choice(top, "clu", "clu", CLU_STATES)
    cable_m = reader.number(top, "cable_m", "cable_m", positive=False)
    current = reader.number(top, "site_current_a", "site_current_a", positive=True)
    notes = reader.text(top, "notes", "notes") or ""
    port = reader.text(top, "port", "port")

    meters = Meters()
    if "meters" in top:
        block = reader.mapping(top["meters"], top.value_line_of("meters"), "meters", _METERS)
        if block is not None:
            present = reader.boolean(block, "present", "meters: present")
            second = reader.boolean(block, "second_bus", "meters: second_bus")
            meters = Meters(bool(present), second)

    thresholds = _read_thresholds(reader, top) if "thresholds" in top else Thresholds()
    ignores = _read_ignores(reader, top, source) if "ignore" in top else ()

    prefix = DEFAULT_LABEL_PREFIX
    if "label_prefix" in top:
        value = top["label_prefix"]
        if isinstance(value, str) and _PREFIX.match(value.strip()):
            prefix = value.strip().upper()
        else:
            reader.problem(
                top.value_line_of("label_prefix"),
                f"label_prefix is {value!r}"
                if isinstance(value, str)
                else f"label_prefix is {describe_type(value)}",
                "letters and digits, e.g. XAXXY",
            )

    stations: list[Station] = []
    if "chain" in top:
        chain = top["chain"]
        where = top.value_line_of("chain")
        if not isinstance(chain, YamlList):
            reader.problem(where, f"chain is {describe_type(chain)}", "a list of stations")
        elif not chain:
            reader.problem(where, "chain is empty", "at least one station")
        else:
            label_lines: dict[str, int] = {}
            for index, item in enumerate(chain, start=1):
                line = chain.line_of(index - 1)
                station = _read_station(reader, item, line, index, prefix)
                if station is None:
                    continue
                for label in station.labels:
                    if label in label_lines:
                        reader.problem(
                            station.line,
                            f"chain station {index}: label {label} is used twice "
                            f"(first on line {label_lines[label]})",
                            "every outlet has its own label",
                        )
                    else:
                        label_lines[label] = station.line
                stations.append(station)

    if reader.problems:
        raise FileProblemError(reader.problems, _HINT)
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
    """Read and check a ``site.yaml``; every problem is reported as ``file:line: message``."""
    return parse_site(load_yaml_file(path), str(path))
