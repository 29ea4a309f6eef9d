"""Value records: dataclasses that are quick to define.

``@record`` makes a class a dataclass, as ``@dataclass(frozen=True)`` does: the same fields
(``dataclasses.field`` with defaults, factories, ``compare``, ``hash``, ``repr``, ``init``),
the same ``__init__`` (keyword-only fields, ``__post_init__``), ``__repr__``, ``__eq__``,
``__hash__`` and frozen attributes (``FrozenInstanceError``), and ``dataclasses.fields``,
``replace`` and ``asdict`` work on it. ``@record(frozen=False)`` is ``@dataclass``: mutable,
and unhashable since it compares by value.

Why not ``dataclass`` itself: on the Python versions the tool runs on (3.10 to 3.12),
``dataclass`` compiles the source of every method it writes, six for a frozen class, about
0.15 ms each. The command line defines some eighty records, so a check spent some 80 ms, most
of its start-up, compiling code that is the same on every run. Here ``dataclass`` is asked
only for its bookkeeping (the fields, ``__match_args__``), which compiles nothing, and no
code is compiled here either: ``__init__``, ``__repr__``, ``__eq__``, ``__hash__`` and the
frozen ``__setattr__`` are shared functions that read the field names from tables made once
per class (``__init__`` shows the dataclass's signature to ``inspect``). What a dataclass's ``__dataclass_params__`` says of these
records is what ``dataclass`` was asked for, not what the record is; nothing in the tool
reads it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from operator import attrgetter
from reprlib import recursive_repr
from typing import TYPE_CHECKING, Any, TypeVar, overload

if TYPE_CHECKING:
    from typing_extensions import dataclass_transform
else:

    def dataclass_transform(**_kwargs: Any) -> Callable[[Any], Any]:
        return lambda decorated: decorated


T = TypeVar("T", bound=type)

_MISSING = dataclasses.MISSING


class _Factory:
    """The default of a field whose default comes from a factory, as a signature shows it."""

    def __repr__(self) -> str:
        return "<factory>"


_FACTORY = _Factory()


@overload
def record(cls: T, /) -> T: ...
@overload
def record(
    cls: None = None, /, *, frozen: bool = True, eq: bool = True, kw_only: bool = False
) -> Callable[[T], T]: ...


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field, dataclasses.Field))
def record(
    cls: T | None = None,
    /,
    *,
    frozen: bool = True,
    eq: bool = True,
    kw_only: bool = False,
) -> T | Callable[[T], T]:
    """The class as a dataclass (frozen unless ``frozen=False``); see the module docstring."""

    def make(klass: T) -> T:
        return _make(klass, frozen=frozen, eq=eq, kw_only=kw_only)

    return make if cls is None else make(cls)


def _make(cls: T, *, frozen: bool, eq: bool, kw_only: bool) -> T:
    own = cls.__dict__
    explicit_hash = "__hash__" in own and not (own["__hash__"] is None and "__eq__" in own)
    if not cls.__doc__:  # dataclass would write one from the signature, which takes inspect
        cls.__doc__ = cls.__name__
    dataclasses.dataclass(cls, init=False, repr=False, eq=False, kw_only=kw_only)
    fields = dataclasses.fields(cls)
    if "__init__" not in own:
        cls.__init__ = _init(cls, fields)  # type: ignore[misc]
    if "__repr__" not in own:
        cls.__repr__ = _repr(tuple(f.name for f in fields if f.repr))  # type: ignore[assignment]
    if eq:
        compared = tuple(f.name for f in fields if f.compare)
        key = _key(compared)
        if "__eq__" not in own:
            cls.__eq__ = _eq(key)  # type: ignore[assignment]
        if not explicit_hash:
            if frozen:
                hashed = tuple(f.name for f in fields if (f.compare if f.hash is None else f.hash))
                cls.__hash__ = _hash(_key(hashed))  # type: ignore[assignment]
            else:
                cls.__hash__ = None  # type: ignore[assignment]
    if frozen:
        names = frozenset(f.name for f in fields)
        for name in ("__setattr__", "__delattr__"):
            if name in own:
                raise TypeError(f"cannot overwrite attribute {name} in class {cls.__name__}")
        cls.__setattr__, cls.__delattr__ = _frozen(cls, names)  # type: ignore[assignment]
    return cls


def _init(cls: type, fields: tuple[dataclasses.Field[Any], ...]) -> Callable[..., None]:
    """The ``__init__`` dataclass would write, without compiling one: the arguments are bound
    by name from tables made once per class (which field each position fills, each field's
    default or factory), and the signature ``inspect`` shows is the dataclass's."""
    import inspect  # loaded with typer and dataclasses already

    given = [f for f in fields if f.init]
    positional = tuple(f.name for f in given if not f.kw_only)
    order = positional + tuple(f.name for f in given if f.kw_only)
    defaults = {f.name: f.default for f in given if f.default is not _MISSING}
    factories = {f.name: f.default_factory for f in given if f.default_factory is not _MISSING}
    later = tuple(
        (f.name, f.default, None if f.default_factory is _MISSING else f.default_factory)
        for f in fields
        if not f.init and (f.default is not _MISSING or f.default_factory is not _MISSING)
    )
    post_init = hasattr(cls, "__post_init__")
    name = f"{cls.__qualname__}.__init__"
    n_positional = len(positional)

    def __init__(self: object, *args: Any, **kwargs: Any) -> None:
        count = len(args)
        if count > n_positional:
            raise TypeError(
                f"{name}() takes {n_positional + 1} positional arguments but {count + 1} were given"
            )
        # Straight into the instance's namespace, as a frozen dataclass's object.__setattr__
        # puts them (and unpickling does): one call for the common case, every field given
        # by position.
        namespace = self.__dict__
        namespace.update(zip(positional, args, strict=False))
        if count < len(order) or kwargs:
            missing = []
            for field_name in order[count:]:
                if field_name in kwargs:
                    namespace[field_name] = kwargs.pop(field_name)
                elif field_name in defaults:
                    namespace[field_name] = defaults[field_name]
                elif field_name in factories:
                    namespace[field_name] = factories[field_name]()
                else:
                    missing.append(field_name)
            if kwargs:
                extra = next(iter(kwargs))
                if extra in positional[:count]:
                    raise TypeError(f"{name}() got multiple values for argument {extra!r}")
                raise TypeError(f"{name}() got an unexpected keyword argument {extra!r}")
            if missing:
                listed = ", ".join(repr(m) for m in missing)
                raise TypeError(f"{name}() missing {len(missing)} required argument(s): {listed}")
        for field_name, default, factory in later:
            namespace[field_name] = default if factory is None else factory()
        if post_init:
            self.__post_init__()  # type: ignore[attr-defined]

    def parameter(f: dataclasses.Field[Any]) -> inspect.Parameter:
        default = defaults.get(f.name, _FACTORY if f.name in factories else inspect.Parameter.empty)
        kind = (
            inspect.Parameter.KEYWORD_ONLY if f.kw_only else inspect.Parameter.POSITIONAL_OR_KEYWORD
        )
        return inspect.Parameter(f.name, kind, default=default, annotation=f.type)

    self_parameter = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    ordered = sorted(given, key=lambda f: f.kw_only is True)  # keyword-only fields come last
    # raises ValueError, as dataclass raises TypeError, for a field without a default after one
    # with a default
    signature = inspect.Signature(
        [self_parameter, *map(parameter, ordered)], return_annotation=None
    )
    __init__.__signature__ = signature  # type: ignore[attr-defined]
    __init__.__qualname__ = name
    __init__.__module__ = cls.__module__
    __init__.__annotations__ = {f.name: f.type for f in given} | {"return": None}
    return __init__


def _key(names: tuple[str, ...]) -> Callable[[object], tuple[Any, ...]]:
    """The values a record is compared or hashed by, as a tuple."""
    if not names:
        return lambda _record: ()
    if len(names) == 1:
        only = attrgetter(names[0])
        return lambda record: (only(record),)
    getter: Callable[[object], tuple[Any, ...]] = attrgetter(*names)
    return getter


def _repr(names: tuple[str, ...]) -> Callable[[object], str]:
    @recursive_repr()
    def __repr__(self: object) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        return f"{self.__class__.__qualname__}({shown})"

    return __repr__


def _eq(key: Callable[[object], tuple[Any, ...]]) -> Callable[[object, object], bool]:
    def __eq__(self: object, other: object) -> bool:
        if other.__class__ is self.__class__:
            return key(self) == key(other)
        return NotImplemented

    return __eq__


def _hash(key: Callable[[object], tuple[Any, ...]]) -> Callable[[object], int]:
    def __hash__(self: object) -> int:
        return hash(key(self))

    return __hash__


def _frozen(
    cls: type[Any], names: frozenset[str]
) -> tuple[Callable[[object, str, Any], None], Callable[[object, str], None]]:
    def __setattr__(self: object, name: str, value: Any) -> None:
        if type(self) is cls or name in names:
            raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)

    def __delattr__(self: object, name: str) -> None:
        if type(self) is cls or name in names:
            raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)

    return __setattr__, __delattr__
