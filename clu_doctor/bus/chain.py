"""The daisy chain: its stations in order, where the adapter joins it, and how far it reaches.

:class:`Chain` is the site's chain as the bus layer sees it (addresses per station in BUS IN ->
BUS OUT order from the CLU, labels, and where the adapter is attached, :data:`AdapterAt`); it
is built once per probing session from the site file.

The manual's end-of-bus check: attach a device at the end of the bus; every node must be
reachable from there. :func:`analyse_chain` compares the addresses that answered with the chain
(in BUS IN -> BUS OUT order, starting at the CLU) as seen from where the adapter is attached,
and tells apart:

``ok``
    every station answered;
``station``
    one or more stations are silent while stations beyond them (seen from the adapter) answer:
    the bus passes through them, so each is unpowered, misaddressed or faulty - not a cable
    break (a DUO with one outlet silent counts here too);
``break``
    everything beyond one point is silent (two or more stations): the cable is most likely
    broken in the segment between the last station that answered and the first that did not
    (several unpowered stations at the end would look the same; the other end tells);
``farthest``
    only the station farthest from the adapter is silent: its last cable segment or the
    station itself (check from the other end, or the station's power and address);
``none``
    nothing answers: the adapter, its wiring at the terminal block, A/B polarity, the first
    cable segment, or every station unpowered.

A pure function: no bus, no site file, exhaustively testable.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Any, Literal, get_args

from clu_doctor.bus.probes.base import ranges
from clu_doctor.records import record

#: Where the technician's adapter joins the bus: at the CLU's terminal block, or at the far
#: end after the last station. The one type for it: the site file, the simulator's scenarios,
#: the command line's ``--at`` and the chain analyses all use this.
AdapterAt = Literal["clu", "end"]
ADAPTER_POSITIONS: tuple[AdapterAt, ...] = get_args(AdapterAt)
ChainVerdict = Literal["ok", "station", "break", "farthest", "none"]
CHAIN_VERDICTS: tuple[ChainVerdict, ...] = ("ok", "station", "break", "farthest", "none")
PositionState = Literal["ok", "partial", "silent"]


@record
class ChainPosition:
    """One station of the chain: its position (1 = nearest the CLU) and addresses."""

    position: int
    addresses: tuple[int, ...]
    answered: tuple[int, ...]

    @property
    def state(self) -> PositionState:
        if not self.answered:
            return "silent"
        return "ok" if len(self.answered) == len(self.addresses) else "partial"

    @property
    def reachable(self) -> bool:
        """Some controller of this station answered, so the cable reaches it."""
        return bool(self.answered)

    def to_dict(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "addresses": list(self.addresses),
            "answered": list(self.answered),
            "state": self.state,
        }


@record
class ChainResult:
    """What :func:`analyse_chain` found. Positions count from the CLU: 0 is the CLU's terminal
    block, 1 the first station, ``n + 1`` the far end after the last station."""

    verdict: ChainVerdict
    adapter_at: AdapterAt
    #: Every station in BUS IN -> BUS OUT order.
    positions: tuple[ChainPosition, ...]
    #: Chain addresses that answered, and those that did not (chain order).
    reachable: tuple[int, ...]
    silent: tuple[int, ...]
    #: Silent addresses with answering stations beyond them (station faults, not the cable).
    isolated: tuple[int, ...]
    #: Silent addresses beyond the last station that answered, as seen from the adapter
    #: (chain order).
    beyond: tuple[int, ...]
    #: The two chain positions around the suspected cable fault (ascending), for ``break``,
    #: ``farthest`` and ``none``; e.g. ``(6, 7)`` = XAXXY06's BUS OUT to XAXXY07's BUS IN.
    segment: tuple[int, int] | None
    #: Addresses that answered but are not in the chain.
    extra: tuple[int, ...]
    evidence: tuple[str, ...]

    @property
    def segment_addresses(self) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
        """The addresses of the stations either side of :attr:`segment` (``()`` for the CLU
        or the far end)."""
        if self.segment is None:
            return None
        return self._addresses_at(self.segment[0]), self._addresses_at(self.segment[1])

    def _addresses_at(self, position: int) -> tuple[int, ...]:
        if 1 <= position <= len(self.positions):
            return self.positions[position - 1].addresses
        return ()

    def to_dict(self) -> dict[str, Any]:
        around = self.segment_addresses
        return {
            "verdict": self.verdict,
            "adapter_at": self.adapter_at,
            "reachable": list(self.reachable),
            "silent": list(self.silent),
            "isolated": list(self.isolated),
            "beyond": list(self.beyond),
            "segment": list(self.segment) if self.segment else None,
            "segment_addresses": [list(side) for side in around] if around else None,
            "extra": list(self.extra),
            "evidence": list(self.evidence),
            "positions": [p.to_dict() for p in self.positions],
        }


def _station(position: ChainPosition, total: int) -> str:
    if position.position == 0:
        return "the CLU's terminal block"
    if position.position == total + 1:
        return "the far end"
    return f"the station at position {position.position} (address {ranges(position.addresses)})"


def _place(position: int, positions: tuple[ChainPosition, ...]) -> str:
    total = len(positions)
    if position == 0:
        return "the CLU's terminal block"
    if position == total + 1:
        return "the far end of the bus"
    return f"position {position} (address {ranges(positions[position - 1].addresses)})"


def analyse_chain(
    chain: Sequence[int | Sequence[int]],
    adapter_at: str,
    answered: Collection[int],
) -> ChainResult:
    """Compare the addresses that ``answered`` with the ``chain`` seen from ``adapter_at``.

    ``chain``: one entry per station in BUS IN -> BUS OUT order from the CLU, an address or
    the addresses of its controllers (a DUO's two). ``adapter_at``: ``clu`` or ``end``. An
    address planned at two stations counts as answering at both (the plan itself is wrong
    there; the site's configuration facts say so).
    """
    if adapter_at not in ADAPTER_POSITIONS:
        raise ValueError(f"adapter_at must be 'clu' or 'end', not {adapter_at!r}")
    if not chain:
        raise ValueError("the chain has no stations")
    heard = set(answered)
    positions: list[ChainPosition] = []
    for index, entry in enumerate(chain, start=1):
        addresses = (entry,) if isinstance(entry, int) else tuple(entry)
        if not addresses:
            raise ValueError(f"station {index} of the chain has no address")
        positions.append(ChainPosition(index, addresses, tuple(a for a in addresses if a in heard)))
    frozen = tuple(positions)
    total = len(frozen)
    at: AdapterAt = "clu" if adapter_at == "clu" else "end"
    from_adapter = frozen if at == "clu" else tuple(reversed(frozen))
    in_chain = {a for p in frozen for a in p.addresses}
    reachable = tuple(a for p in frozen for a in p.answered)
    silent = tuple(a for p in frozen for a in p.addresses if a not in heard)
    extra = tuple(sorted(heard - in_chain))

    reached = [i for i, p in enumerate(from_adapter) if p.reachable]
    evidence: list[str] = []
    if not reached:
        edge = (0, 1) if at == "clu" else (total, total + 1)
        evidence.append(
            f"none of the {total} stations answered from the adapter at "
            f"{'the CLU' if at == 'clu' else 'the far end'}: check the adapter and its wiring "
            f"to the bus, A/B polarity, the cable between {_place(edge[0], frozen)} and "
            f"{_place(edge[1], frozen)}, and that the stations have power"
        )
        return ChainResult(
            "none", at, frozen, reachable, silent, (), silent, edge, extra, tuple(evidence)
        )

    last = reached[-1]
    beyond_positions = from_adapter[last + 1 :]
    beyond = tuple(a for p in frozen if p in beyond_positions for a in p.addresses)  # chain order
    passed = {a for p in from_adapter[: last + 1] for a in p.addresses if a not in heard}
    isolated = tuple(a for a in silent if a in passed)  # chain order
    segment: tuple[int, int] | None = None
    verdict: ChainVerdict = "station" if isolated else "ok"
    if beyond_positions:
        near, far = from_adapter[last], beyond_positions[0]
        low, high = sorted((near.position, far.position))
        segment = (low, high)
        between = f"between {_place(low, frozen)} and {_place(high, frozen)}"
        if len(beyond_positions) >= 2:
            verdict = "break"
            evidence.append(
                f"every station beyond {_station(near, total)} is silent "
                f"({len(beyond_positions)} stations, address {ranges(beyond)}): the cable is "
                f"most likely broken {between}"
            )
            evidence.append(
                "check that segment's BUS OUT and BUS IN terminals (A, B and M); several "
                "stations without power at the end of the chain would look the same"
            )
        else:
            verdict = "farthest"
            evidence.append(
                f"only {_station(far, total)}, the farthest from the adapter, is silent: it is "
                f"unpowered, misaddressed or faulty, or the cable {between} is broken "
                "(probing from the other end tells which)"
            )
    elif not isolated:
        evidence.append(f"all {total} stations answered")
    if isolated:
        evidence.append(
            f"address {ranges(isolated)} silent while stations beyond answer: the bus passes "
            "through, so the station is unpowered, misaddressed or faulty, not the cable"
        )
    for point in frozen:
        if point.state == "partial":
            # each outlet of a DUO is judged on its own: one answering does not clear the other
            silent_here = [a for a in point.addresses if a not in heard]
            evidence.append(
                f"address {ranges(silent_here)} silent while {ranges(point.answered)} at the "
                f"same station answers: the bus reaches the box, so it is that outlet's "
                "controller (its address setting, its power, or the controller itself)"
            )
    if extra:
        evidence.append(f"address {ranges(extra)} answered but is not in the chain")
    return ChainResult(
        verdict, at, frozen, reachable, silent, isolated, beyond, segment, extra, tuple(evidence)
    )


@record
class Chain:
    """The site's daisy chain, as the verdicts need it.

    ``stations`` lists the addresses at each point of the chain in BUS IN -> BUS OUT order,
    starting next to the CLU; a DUO station has two addresses at one point. ``adapter_at`` is
    where the technician's adapter is attached: 0 = at the CLU, k = at station k (1-based),
    ``len(stations)`` = at the far end. ``labels`` names the stations (optional).
    :meth:`attached` builds one with the adapter at either end (what a site file says), and
    :meth:`analyse` runs :func:`analyse_chain` on it, so one chain serves both the listen
    verdicts and the scan.
    """

    stations: tuple[tuple[int, ...], ...]
    adapter_at: int = 0
    labels: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # An address planned twice is allowed: a misconfigured site is what is being diagnosed.
        if not 0 <= self.adapter_at <= len(self.stations):
            raise ValueError(f"adapter position {self.adapter_at} is outside the chain")
        if self.labels and len(self.labels) != len(self.stations):
            raise ValueError("give one label per station, or none")

    @classmethod
    def attached(
        cls,
        stations: Iterable[Iterable[int]],
        at: AdapterAt,
        labels: Iterable[str] = (),
    ) -> Chain:
        """The chain with the adapter at the CLU or at the far end."""
        points = tuple(tuple(point) for point in stations)
        return cls(points, 0 if at == "clu" else len(points), tuple(labels))

    @property
    def end(self) -> AdapterAt | None:
        """The end the adapter is at (``None``: somewhere in between)."""
        if self.adapter_at == 0:
            return "clu"
        if self.adapter_at == len(self.stations):
            return "end"
        return None

    def analyse(self, answered: Collection[int]) -> ChainResult:
        """:func:`analyse_chain` of the addresses that ``answered`` read along this chain."""
        if self.end is None:
            raise ValueError("the chain analysis needs the adapter at the CLU or at the far end")
        return analyse_chain(self.stations, self.end, answered)

    @classmethod
    def of(cls, addresses: Iterable[int | Iterable[int]], adapter_at: int = 0) -> Chain:
        """``Chain.of([1, 2, (3, 4)])``: single addresses or groups, in chain order."""
        points = tuple((item,) if isinstance(item, int) else tuple(item) for item in addresses)
        return cls(points, adapter_at)

    def position(self, address: int) -> int | None:
        """1-based chain position of ``address`` (its first, if planned twice), else ``None``."""
        for index, point in enumerate(self.stations, start=1):
            if address in point:
                return index
        return None

    def label(self, position: int) -> str:
        if self.labels:
            return self.labels[position - 1]
        return f"station {position} (address {', '.join(map(str, self.stations[position - 1]))})"

    @property
    def addresses(self) -> tuple[int, ...]:
        return tuple(address for point in self.stations for address in point)

    def to_dict(self) -> dict[str, object]:
        return {
            "stations": [list(point) for point in self.stations],
            "adapter_at": self.adapter_at,
            "labels": list(self.labels),
        }
