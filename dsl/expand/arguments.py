"""A layer call's number and option arguments, bound to the layer's `Args`.

Stage: expansion, from `dsl.expand.layers`, after the tensor arguments
(`memory=`, `init=`, `tie=`) are taken out. Positional arguments fill the
`Args` fields in order (or the variadic one); named ones must be arguments
of the layer. Pydantic's strict validation does the type checking; its first
complaint becomes E106 or E107, worded from the field's annotation. Symbolic
sizes are refused here (E306): a layer's arguments must be concrete.
"""

from __future__ import annotations

import types
import typing
from functools import cache
from typing import Any

from pydantic import ValidationError

from .. import ast
from ..diagnostics import Reporter
from ..dims import Sym
from ..evaluate import type_name
from ..layers import Layer
from ..suggest import did_you_mean

Positional = list[tuple[Any, ast.Arg]]
Named = dict[str, tuple[Any, ast.Arg]]


def bind(reporter: Reporter, layer: Layer, el: ast.LayerCall, positional: Positional, named: Named) -> Any:
    """`layer.Args` built from the call's arguments, or a diagnostic raised at the argument to blame."""
    every, fields = _fields(layer.Args, layer.named_only)
    data: dict[str, Any] = {}
    spans: dict[str, ast.Arg] = {}
    if layer.variadic:
        data[layer.variadic] = [v for v, _ in positional]
        if positional:
            spans[layer.variadic] = positional[0][1]
    else:
        if len(positional) > len(fields):
            raise reporter.error("E108", positional[len(fields)][1].span, layer=layer.name,
                                 limit=len(fields), count=len(positional))
        for (value, arg), fname in zip(positional, fields):
            data[fname] = value
            spans[fname] = arg
    for name, (value, arg) in named.items():
        if name not in every:
            raise reporter.error("E105", arg.span, layer=layer.name, name=name,
                                 hint=did_you_mean(name, layer.argument_names()) or arg_list(layer))
        if name in data:
            raise reporter.error("E115", arg.span, name=name, layer=layer.name)
        data[name] = value
        spans[name] = arg
    for fname, value in data.items():
        if isinstance(value, Sym) or (isinstance(value, list) and any(isinstance(v, Sym) for v in value)):
            span = spans[fname].span if fname in spans else el.span
            raise reporter.error("E306", span, layer=layer.name, what=f"`{fname}`", value=value)
    try:
        return layer.Args(**data)
    except ValidationError as e:
        err = e.errors()[0]
        fname = str(err["loc"][0]) if err["loc"] else ""
        if err["type"] == "missing":
            hint = f"`{layer.name}` {arg_list(layer).removeprefix('it ')}" if fields else None
            raise reporter.error("E106", el.span, hint, layer=layer.name, name=fname) from None
        span = spans[fname].value.span if fname in spans else el.span
        raise reporter.error("E107", span, layer=layer.name, name=fname, expected=expected_words(layer, fname),
                             got=value_words(data.get(fname))) from None


@cache
def _fields(args: type, named_only: tuple[str, ...]) -> tuple[frozenset[str], tuple[str, ...]]:
    """An `Args` class's fields, and those a positional argument may fill, in order (asked at every bind)."""
    return frozenset(args.model_fields), tuple(f for f in args.model_fields if f not in named_only)


def expected_words(layer: Layer, name: str) -> str:
    """What argument `name` of `layer` must be, for E107: "an integer", "true or false", ..."""
    tensor = layer.tensor_arg(name)
    if tensor is not None:
        return tensor.expects
    field = layer.Args.model_fields.get(name)
    return describe_type(field.annotation) if field is not None else "a value"


def arg_list(layer: Layer) -> str:
    names = layer.argument_names()
    return "it takes " + ", ".join(f"`{n}`" for n in names) if names else "it takes no arguments"


def describe_type(annotation: Any) -> str:
    """An argument's annotation in words: `int | list[int] | None` is "an integer or a list of integers or none"."""
    kinds: set[Any] = set()
    options: list[str] = []
    for member in _members(annotation):
        if typing.get_origin(member) is typing.Literal:
            options += [f'"{o}"' for o in typing.get_args(member)]
        elif typing.get_origin(member) is list:
            kinds.add(list)
        else:
            kinds.add(member)
    words = []
    if str in kinds:
        words.append("a string")
    if bool in kinds:
        words.append("true or false")
    if float in kinds:
        words.append("a number")  # an integer is a number too
    if list in kinds:
        # With named options beside them, integers are offered as a list only (conv's
        # `padding`), as the diagnostics have always worded it.
        words.append("an integer or a list of integers" if int in kinds and not options else "a list of integers")
    elif int in kinds and float not in kinds:
        words.append("an integer")
    words += options
    if type(None) in kinds:
        words.append("none")
    return " or ".join(words) if words else "a value"


def _members(annotation: Any) -> list[Any]:
    """The alternatives of a union, flattened (`int | list[int] | Literal[...]`); else the annotation alone."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [m for arg in typing.get_args(annotation) for m in _members(arg)]
    return [annotation]


def value_words(value: Any) -> str:
    """What E107 says a wrong argument is: `"x"`, `true`, `int (3)`, `a list`."""
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, (int, float)):
        return f"{type_name(value)} ({value})"
    return type_name(value)
