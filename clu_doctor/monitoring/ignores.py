"""Acknowledged findings: the site file's ``ignore:`` entries applied to a check's findings, with
expiry, so a known fault stops paging without disappearing from the report.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from clu_doctor.engine.diagnosis import overall_status
from clu_doctor.errors import Location, Problem
from clu_doctor.monitoring.result import IgnoredFinding
from clu_doctor.records import record
from clu_doctor.severity import Severity
from clu_doctor.site.model import Ignore

if TYPE_CHECKING:
    from clu_doctor.engine.diagnosis import Diagnosis, ReportedFinding


class FindingLike(Protocol):
    """What :func:`apply_ignores` needs of a finding (a ``ReportedFinding`` has both)."""

    @property
    def id(self) -> str: ...

    @property
    def severity(self) -> Severity: ...


F = TypeVar("F", bound=FindingLike)


@record
class IgnoredMatch(Generic[F]):
    """A finding left out of the status, and the active ignore entries that cover it."""

    finding: F
    ignores: tuple[Ignore, ...]


@record
class ExpiredIgnore(Generic[F]):
    """An ignore entry past its date, and the findings it would have hidden (now counted again)."""

    ignore: Ignore
    resurfaced: tuple[F, ...]


@record
class IgnoreOutcome(Generic[F]):
    """What :func:`apply_ignores` decided: every finding is either kept or ignored."""

    kept: tuple[F, ...]
    ignored: tuple[IgnoredMatch[F], ...] = ()
    #: Every expired entry, with the findings it let back in (possibly none).
    expired: tuple[ExpiredIgnore[F], ...] = ()
    #: Active entries that matched no finding in this check.
    unused: tuple[Ignore, ...] = ()

    @property
    def ignored_ids(self) -> frozenset[str]:
        return frozenset(match.finding.id for match in self.ignored)

    @property
    def status(self) -> Severity:
        """The overall status of the kept findings (as :class:`~clu_doctor.engine.Diagnosis`
        computes it); ``ok`` when every finding was ignored, ``unknown`` when there were none."""
        if not self.kept and self.ignored:
            return Severity.OK
        return overall_status([finding.severity for finding in self.kept])

    def notes(self) -> tuple[IgnoredFinding, ...]:
        """For :attr:`clu_doctor.monitoring.result.CheckResult.ignored`: one per (finding, entry) pair,
        the ignored ones first, then the findings expired entries let back in."""
        notes = [
            IgnoredFinding(
                match.finding.id,
                match.finding.severity,
                entry.reason,
                entry.until.isoformat(),
                entry.address,
                expired=False,
                where=entry.where,
            )
            for match in self.ignored
            for entry in match.ignores
        ]
        notes += [
            IgnoredFinding(
                finding.id,
                finding.severity,
                item.ignore.reason,
                item.ignore.until.isoformat(),
                item.ignore.address,
                expired=True,
                where=item.ignore.where,
            )
            for item in self.expired
            for finding in item.resurfaced
        ]
        return tuple(notes)

    def filter(self, diagnosis: Diagnosis) -> Diagnosis:
        """``diagnosis`` without the ignored findings and with :attr:`status` as its status.

        A kept consequence of an ignored root takes the root's place (it is no longer shown
        as explained by a finding that is not shown).
        """
        drop = self.ignored_ids

        def prune(items: Sequence[ReportedFinding], parent: str | None) -> list[ReportedFinding]:
            out: list[ReportedFinding] = []
            for item in items:
                if item.id in drop:
                    out += prune(item.consequences, parent)
                else:
                    children = tuple(prune(item.consequences, item.id))
                    out.append(item._replace(consequences=children, consequence_of=parent))
            return out

        return diagnosis._replace(
            status=self.status, findings=tuple(prune(diagnosis.findings, None))
        )


def apply_ignores(
    findings: Sequence[F],
    ignores: Sequence[Ignore],
    today: date,
    *,
    addresses: Mapping[str, Collection[int]] | None = None,
) -> IgnoreOutcome[F]:
    """Split ``findings`` into the kept and the ignored, by the site's ``ignore:`` entries.

    Pure: works on finding ids and severities only (pass ``Diagnosis.all_findings()``, or any
    objects with ``id`` and ``severity``). ``addresses`` maps a finding id to the bus addresses
    it is about (a silent station's address, the addresses a noise finding saw); a finding
    without addresses is matched only by entries without an ``address``.

    * An entry without ``address`` covers its finding wherever it occurs; entries with
      addresses cover a finding when together they cover every address it is about.
    * An entry holds through its ``until`` day; from the next day on it is *expired*: the
      finding is kept (resurfaces) and the entry is reported in ``expired``.
    * The check's status is then :attr:`IgnoreOutcome.status` (and
      :meth:`IgnoreOutcome.filter` gives the diagnosis to report).
    """
    about = addresses or {}
    active = [entry for entry in ignores if entry.active(today)]
    expired = [entry for entry in ignores if not entry.active(today)]
    kept: list[F] = []
    ignored: list[IgnoredMatch[F]] = []
    used: set[int] = set()
    resurfaced: dict[int, list[F]] = {index: [] for index in range(len(expired))}

    def covers(entry: Ignore, at: frozenset[int]) -> bool:
        return entry.address is None or entry.address in at

    for finding in findings:
        at = frozenset(about.get(finding.id, ()))
        mine = [(n, e) for n, e in enumerate(active) if e.matches(finding.id) and covers(e, at)]
        whole = [e for _, e in mine if e.address is None]
        scoped = {e.address for _, e in mine if e.address is not None}
        if whole or (at and at <= scoped):
            ignored.append(IgnoredMatch(finding, tuple(e for _, e in mine)))
            used.update(n for n, _ in mine)
            continue
        kept.append(finding)
        for n, entry in enumerate(expired):
            if entry.matches(finding.id) and covers(entry, at):
                resurfaced[n].append(finding)
    return IgnoreOutcome(
        kept=tuple(kept),
        ignored=tuple(ignored),
        expired=tuple(ExpiredIgnore(e, tuple(resurfaced[n])) for n, e in enumerate(expired)),
        unused=tuple(e for n, e in enumerate(active) if n not in used),
    )


def unknown_ignores(ignores: Sequence[Ignore], known_ids: Collection[str]) -> list[Problem]:
    """Ignore entries naming a finding the rules do not have (a typo would hide nothing).

    The site file does not know the rules; the check command calls this with the rulebook's
    finding ids and raises the problems like any other schema error.
    """
    return [
        Problem(
            Location(entry.path, entry.line),
            f"ignore: no finding {entry.finding} in the rules",
            "an id that clu-doctor rules list shows",
        )
        for entry in ignores
        if entry.finding not in known_ids
    ]
