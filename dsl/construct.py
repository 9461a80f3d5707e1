"""Pydantic instances from values that are valid by construction, built fast.

Stage: shared by the parser (AST nodes) and the expander (graph nodes and
frames). Both make thousands of instances from values they made themselves,
so they skip validation as `model_construct` does; `trusted(cls)` returns a
constructor that gives the very same instance (fields in declared order,
defaults filled, the same fields-set) for a fraction of `model_construct`'s
cost, which walks every field's aliases on every call. Where a class uses
something that shortcut does not handle (aliases, extra fields, a post-init
hook, a default factory), the constructor is `model_construct` itself.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from types import MemberDescriptorType
from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)

# Defaults that an instance may share with every other: pydantic copies only mutable ones.
_IMMUTABLE = (str, int, float, bool, type(None), frozenset)


@cache
def trusted(cls: type[M]) -> Callable[..., M]:
    """`cls.model_construct`, for keyword values (no `_fields_set`), made cheap."""
    fields = cls.model_fields
    plain = (
        not cls.__pydantic_root_model__
        and not cls.__pydantic_post_init__
        and cls.model_config.get("extra") != "allow"
        and all(f.alias is None and f.validation_alias is None and f.default_factory is None
                for f in fields.values())
    )
    if not plain:
        return cls.model_construct
    names = tuple(fields)
    every = frozenset(names)
    defaults = {n: f.default for n, f in fields.items() if not f.is_required()}
    copied = {n for n, v in defaults.items() if not _shared(v)}  # as pydantic does: a fresh copy each time
    new = cls.__new__
    setattr_ = object.__setattr__

    def make(**values: Any) -> M:
        m = new(cls)
        if tuple(values) == names:
            data = values  # every field, in order: the keywords' own dict is new, and already what is needed
            fields_set = set(every)
        elif values.keys() == every:
            data = {n: values[n] for n in names}
            fields_set = set(every)
        else:
            data = {}
            for n in names:
                if n in values:
                    data[n] = values[n]
                elif n in defaults:
                    data[n] = defaults[n] if n not in copied else fields[n].get_default(call_default_factory=True)
            fields_set = {n for n in values if n in every}
        setattr_(m, "__dict__", data)
        setattr_(m, "__pydantic_fields_set__", fields_set)
        setattr_(m, "__pydantic_extra__", None)
        setattr_(m, "__pydantic_private__", None)
        return m

    make.__doc__ = f"`{cls.__name__}.model_construct(**values)`, without its per-field alias lookups."
    return make


@cache
def adopting(cls: type[M]) -> Callable[[dict[str, Any]], M]:
    """`trusted(cls)` for values in a dict that the instance may keep as its `__dict__`, uncopied,
    when it holds every field in declared order (the graph's nodes are built so)."""
    make = trusted(cls)
    names = tuple(cls.model_fields)
    if make == cls.model_construct:
        return lambda data: make(**data)
    keep = in_order(cls)

    def adopt(data: dict[str, Any]) -> M:
        if tuple(data) != names:
            return make(**data)
        return keep(data)

    return adopt


@cache
def in_order(cls: type[M]) -> Callable[[dict[str, Any]], M]:
    """`adopting(cls)` for a caller that made the dict itself with every field in declared order, so
    the order is not looked at again (the checker names every node and frame of a graph through it)."""
    make = trusted(cls)
    if make == cls.model_construct:
        return lambda data: make(**data)
    every = frozenset(cls.model_fields)
    new = cls.__new__
    setattr_ = object.__setattr__
    # pydantic keeps these three in slots: their descriptors set them without `setattr`'s lookup.
    slots = [_slot(cls, n) for n in ("__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__")]
    if any(s is None for s in slots):
        def keep(data: dict[str, Any]) -> M:
            m = new(cls)
            setattr_(m, "__dict__", data)
            setattr_(m, "__pydantic_fields_set__", set(every))
            setattr_(m, "__pydantic_extra__", None)
            setattr_(m, "__pydantic_private__", None)
            return m
        return keep
    fields_set, extra, private = slots

    def keep_fast(data: dict[str, Any]) -> M:
        m = new(cls)
        setattr_(m, "__dict__", data)
        fields_set(m, set(every))
        extra(m, None)
        private(m, None)
        return m

    return keep_fast


def _slot(cls: type, name: str) -> Callable[[Any, Any], None] | None:
    """The setter of slot `name` as `cls` inherits it; None where it is no plain slot."""
    for klass in cls.__mro__:
        if name in klass.__dict__:
            found = klass.__dict__[name]
            return found.__set__ if isinstance(found, MemberDescriptorType) else None
    return None


def _shared(value: Any) -> bool:
    if isinstance(value, tuple):
        return all(_shared(v) for v in value)
    return isinstance(value, _IMMUTABLE)
