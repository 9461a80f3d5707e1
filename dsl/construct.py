"""Pydantic instances from values that are valid by construction, built fast.

Stage: shared by the parser (AST nodes) and the expander (graph nodes and
frames). Both make thousands of instances from values they made themselves,
so they skip validation as `model_construct` does; `trusted(cls)` returns a
constructor that gives the very same instance (fields in declared order,
defaults filled, the same fields-set) for a fraction of `model_construct`'s
cost, which walks every field's aliases on every call. Where a class uses
something that shortcut does not handle (aliases, extra fields, a post-init
hook, a default factory), the constructor is `model_construct` itself.
`complete(cls)` is the parser's quicker kind, for calls that pass every
required field; `in_order(cls)` the expander's, for a dict of every field
in order; `updated(node, changes)` is `model_copy(update=...)`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from types import MemberDescriptorType
from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)

_setattr = object.__setattr__

# Defaults that an instance may share with every other: pydantic copies only mutable ones.
_IMMUTABLE = (str, int, float, bool, type(None), frozenset)


def _slot(cls: type, name: str) -> Callable[[Any, Any], None] | None:
    """The setter of slot `name` as `cls` inherits it; None where it is no plain slot."""
    for klass in cls.__mro__:
        if name in klass.__dict__:
            found = klass.__dict__[name]
            return found.__set__ if isinstance(found, MemberDescriptorType) else None
    return None


def _filler() -> Callable[[BaseModel, dict[str, Any], set[str]], None]:
    """What pydantic's constructors set on a new instance, set by every constructor here: the fields'
    dict, the fields-set, no extra fields, no private attributes. pydantic keeps the last three in
    `BaseModel`'s slots, whose own descriptors set them without `setattr`'s lookup."""
    slots = [_slot(BaseModel, n) for n in ("__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__")]
    if any(s is None for s in slots):  # another pydantic's layout: the generic way
        def fill_attributes(m: BaseModel, data: dict[str, Any], fields_set: set[str]) -> None:
            _setattr(m, "__dict__", data)
            _setattr(m, "__pydantic_fields_set__", fields_set)
            _setattr(m, "__pydantic_extra__", None)
            _setattr(m, "__pydantic_private__", None)
        return fill_attributes
    set_fields_set, set_extra, set_private = slots

    def fill_slots(m: BaseModel, data: dict[str, Any], fields_set: set[str]) -> None:
        _setattr(m, "__dict__", data)
        set_fields_set(m, fields_set)
        set_extra(m, None)
        set_private(m, None)
    return fill_slots


fill = _filler()


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
        fill(m, data, fields_set)
        return m

    make.__doc__ = f"`{cls.__name__}.model_construct(**values)`, without its per-field alias lookups."
    return make


@cache
def in_order(cls: type[M]) -> Callable[[dict[str, Any]], M]:
    """`trusted(cls)` for values in a dict that the instance keeps as its `__dict__`, uncopied: the caller
    made the dict itself with every field in declared order, so the order is not looked at again (the
    checker names every node and frame of a graph through it)."""
    make = trusted(cls)
    if make == cls.model_construct:
        return lambda data: make(**data)
    every = frozenset(cls.model_fields)
    new = cls.__new__

    def keep(data: dict[str, Any]) -> M:
        m = new(cls)
        fill(m, data, set(every))
        return m
    return keep


def _shared(value: Any) -> bool:
    if isinstance(value, tuple):
        return all(_shared(v) for v in value)
    return isinstance(value, _IMMUTABLE)


_REQUIRED = object()  # in `complete`'s template: a field each call passes


@cache
def complete(cls: type[M]) -> Callable[..., M]:
    """`trusted(cls)` for calls that pass every required field, as the parser's do.

    The very same instance (fields in declared order, defaults filled in, the fields passed as the
    fields-set), made by updating a copy of one dict of the defaults rather than looking at each field
    on every call: most nodes leave `kind` and `note` to their defaults, and a parse makes hundreds.
    Where a default would have to be copied, or `trusted` does not take the short way, it is `trusted`.
    """
    make = trusted(cls)
    fields = cls.model_fields
    if make == cls.model_construct or not all(
            f.is_required() or isinstance(f.default, (str, int, float, bool, type(None))) for f in fields.values()):
        return make
    template = {name: _REQUIRED if f.is_required() else f.default for name, f in fields.items()}
    new = cls.__new__

    def make_complete(**values: Any) -> M:
        m = new(cls)
        data = template.copy()  # the template's key order is the declared one; update() keeps it
        data.update(values)
        fill(m, data, set(values))
        return m
    return make_complete


def updated(node: M, changes: dict[str, Any]) -> M:
    """`node.model_copy(update=changes)` for an AST node (no extra fields, no private attributes): the
    same new instance, without pydantic's generic copy."""
    copied = node.__class__.__new__(node.__class__)
    data = node.__dict__.copy()
    data.update(changes)
    fill(copied, data, node.__pydantic_fields_set__ | changes.keys())
    return copied

