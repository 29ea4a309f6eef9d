"""A record behaves as the dataclass it stands for: each case below defines the same class
twice, with ``@record`` and with ``@dataclass(frozen=True)`` (or ``@dataclass`` for
``frozen=False``), and compares what a user of the class sees."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle
from dataclasses import FrozenInstanceError, dataclass, field
from typing import Any, Generic, TypeVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clu_doctor.records import record

T = TypeVar("T")


@record
class Point:
    """A record with every kind of field."""

    x: int
    label: str = "p"
    tags: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list, compare=False, hash=False)
    secret: str = field(default="", repr=False)


@dataclass(frozen=True)
class PointDC:
    """The same, as a dataclass."""

    x: int
    label: str = "p"
    tags: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list, compare=False, hash=False)
    secret: str = field(default="", repr=False)


@record(kw_only=True)
class Base:
    a: int
    b: int = 2


@record(kw_only=True)
class Derived(Base):
    c: int = 3


@record
class Checked:
    value: int

    def __post_init__(self) -> None:
        if self.value < 0:
            raise ValueError("negative")


@record(frozen=False)
class Counter:
    name: str
    seen: list[int] = field(default_factory=list)


@dataclass
class CounterDC:
    name: str
    seen: list[int] = field(default_factory=list)


@record
class Box(Generic[T]):
    item: T


@record
class OwnEquality:
    key: str
    detail: str = ""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, OwnEquality) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)


@record
class Derivedfield:
    width: int
    area: int = field(init=False, default=0)
    cells: list[int] = field(init=False, default_factory=list)


def same_name(dc_repr: str) -> str:
    return dc_repr.replace("PointDC(", "Point(").replace("CounterDC(", "Counter(")


@given(
    x=st.integers(),
    label=st.text(max_size=5),
    tags=st.lists(st.text(max_size=3), max_size=3).map(tuple),
    notes=st.lists(st.text(max_size=3), max_size=3),
)
def test_a_record_reads_compares_and_hashes_as_its_dataclass(
    x: int, label: str, tags: tuple[str, ...], notes: list[str]
) -> None:
    mine, theirs = Point(x, label, tags, notes), PointDC(x, label, tags, notes)
    assert repr(mine) == same_name(repr(theirs))
    assert mine == Point(x, label, tags, [])  # notes are not compared
    assert hash(mine) == hash(Point(x, label, tags, ["other"]))
    assert mine != Point(x + 1, label, tags, notes)
    assert dataclasses.asdict(mine) == dataclasses.asdict(theirs)
    assert dataclasses.astuple(mine) == dataclasses.astuple(theirs)
    assert pickle.loads(pickle.dumps(mine)) == mine
    assert copy.deepcopy(mine) == mine


def test_the_fields_signature_and_match_args_are_the_dataclass_ones() -> None:
    def described(cls: type) -> list[tuple[Any, ...]]:
        return [
            (f.name, f.type, f.default, f.default_factory, f.init, f.repr, f.hash, f.compare)
            for f in dataclasses.fields(cls)
        ]

    assert described(Point) == described(PointDC)
    assert str(inspect.signature(Point)) == str(inspect.signature(PointDC))
    assert Point.__match_args__ == PointDC.__match_args__
    assert Point.__init__.__module__ == PointDC.__init__.__module__ == __name__
    match Point(4, "q"):
        case Point(x, label):
            assert (x, label) == (4, "q")
    assert dataclasses.is_dataclass(Point)


def test_a_record_is_frozen_as_a_frozen_dataclass_is() -> None:
    point = Point(1)
    with pytest.raises(FrozenInstanceError):
        point.x = 2  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        del point.label
    with pytest.raises(FrozenInstanceError):
        point.extra = 1  # type: ignore[attr-defined]
    moved = dataclasses.replace(point, x=5)
    assert (moved.x, point.x) == (5, 1)


def test_factories_give_each_record_its_own_value() -> None:
    first, second = Point(1), Point(1)
    first.notes.append("a")
    assert second.notes == []
    assert Counter("a").seen is not Counter("a").seen


def test_arguments_are_checked_as_a_dataclass_checks_them() -> None:
    for cls in (Point, PointDC):
        with pytest.raises(TypeError):
            cls()  # type: ignore[call-arg]
        with pytest.raises(TypeError):
            cls(1, "a", (), [], "s", "too many")  # type: ignore[call-arg]
        with pytest.raises(TypeError):
            cls(1, nope=2)  # type: ignore[call-arg]
        with pytest.raises(TypeError, match="multiple values for argument 'x'"):
            cls(1, x=2)  # type: ignore[misc]
    assert Point(label="q", x=4) == Point(4, "q")


def test_a_field_without_a_default_after_one_with_a_default_is_refused_at_once() -> None:
    with pytest.raises((TypeError, ValueError)):

        @record
        class Misordered:
            first: int = 0
            second: int  # type: ignore[misc]


def test_keyword_only_fields_and_inheritance() -> None:
    assert Derived(a=1) == Derived(a=1, b=2, c=3)
    assert repr(Derived(a=1)) == "Derived(a=1, b=2, c=3)"
    assert Derived(a=1) != Base(a=1)  # another class is never equal
    with pytest.raises(TypeError):
        Base(1)  # type: ignore[call-arg]
    with pytest.raises(FrozenInstanceError):
        Derived(a=1).c = 4  # type: ignore[misc]


def test_post_init_runs_after_the_fields_are_set() -> None:
    assert Checked(3).value == 3
    with pytest.raises(ValueError, match="negative"):
        Checked(-1)


def test_a_mutable_record_is_a_plain_dataclass() -> None:
    mine, theirs = Counter("c"), CounterDC("c")
    mine.seen.append(1)
    theirs.seen.append(1)
    mine.name = "d"
    theirs.name = "d"
    assert repr(mine) == same_name(repr(theirs))
    assert mine == Counter("d", [1])
    with pytest.raises(TypeError):
        hash(mine)  # compared by value and mutable: unhashable, as a dataclass


def test_a_class_keeps_the_methods_it_defines_itself() -> None:
    assert OwnEquality("k", "one") == OwnEquality("k", "two")
    assert hash(OwnEquality("k", "one")) == hash("k")


def test_fields_outside_init_take_their_defaults() -> None:
    made = Derivedfield(3)
    assert (made.area, made.cells) == (0, [])
    assert repr(made) == "Derivedfield(width=3, area=0, cells=[])"


def test_generic_and_recursive_records() -> None:
    assert Box(1) == Box(1)
    assert Box[int](2).item == 2
    inner: list[Any] = []
    holder = Counter("loop", inner)
    inner.append(holder)
    assert repr(holder) == "Counter(name='loop', seen=[...])"
