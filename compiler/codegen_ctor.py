"""Constructor calls read back from built modules: codegen's way to write `nn.Conv2d(3, 64, ...)`.

Stage: beside lowering, for `compiler.codegen`. A module built by its
catalogue builder (on the meta device) is turned back into the call that
builds it: the class's `__init__` signature, and the attributes of the same
names that torch's layers and archlang's own keep. Each call read back is
rebuilt and compared with the original, so a class that stops keeping its
arguments fails here, not in the user's file. Nothing here places modules or
writes statements.
"""

from __future__ import annotations

import inspect
import math
import typing

import torch
from torch import nn


class CodegenError(Exception):
    """A graph this writer cannot express as standalone source, with the reason."""


def _init_params(cls: type) -> list[inspect.Parameter]:
    """The parameters of `cls(...)`, from the first `__init__` on its MRO.

    nn.RNN/LSTM/GRU define `__init__(*args, **kwargs)` with typed overloads; the
    overload names the real arguments. Only `*args, **kwargs` (nn.Identity, a
    class with no `__init__` of its own) means: nothing to pass.
    """
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        for f in (*typing.get_overloads(init), init):
            params = list(inspect.signature(f).parameters.values())[1:]
            if not any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
                return params
        return []
    return []


def _literal(v) -> str:
    if isinstance(v, bool) or v is None or isinstance(v, (int, str)):
        return repr(v)
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else f'float("{v}")'
    if isinstance(v, (tuple, list)):
        inner = ", ".join(_literal(x) for x in v)
        return f"({inner},)" if isinstance(v, tuple) and len(v) == 1 else (
            f"({inner})" if isinstance(v, tuple) else f"[{inner}]")
    raise CodegenError(f"cannot write {v!r} ({type(v).__name__}) as a constructor argument; "
                       "give symbolic sizes values with --set")


def _is_default(v, default) -> bool:
    if default is inspect.Parameter.empty or isinstance(v, bool) != isinstance(default, bool):
        return False
    if isinstance(v, tuple) and not isinstance(default, tuple):
        return all(x == default for x in v)  # conv's stride=1 is kept as (1, 1)
    return v == default


def is_torch(cls: type) -> bool:
    return getattr(nn, cls.__name__, None) is cls


def _public(m: nn.Module) -> dict:
    return {k: v for k, v in vars(m).items() if not k.startswith("_") and not isinstance(v, torch.Tensor)}


def ctor_args(m: nn.Module) -> tuple[list, dict]:
    """The arguments that rebuild `m`: torch's sizes written as one number where that rebuilds it (`stride=2`)."""
    try:
        return _ctor_args(m, collapse=True)
    except CodegenError:  # a layer that keeps the number as given (AdaptiveAvgPool2d's (1, 1)): the tuple
        return _ctor_args(m, collapse=False)


def init_param_names(cls: type) -> list[str]:
    """The names `cls(...)` takes, in order."""
    return [p.name for p in _init_params(cls)]


def defaults(cls: type) -> dict:
    """The keyword arguments of `cls(...)` that have defaults, with them."""
    return {p.name: p.default for p in _init_params(cls) if p.default is not inspect.Parameter.empty}


def _ctor_args(m: nn.Module, collapse: bool) -> tuple[list, dict]:
    cls = type(m)
    args: list = []
    kwargs: dict = {}
    required = 0
    for p in _init_params(cls):
        if p.name in ("device", "dtype") or p.name.startswith("_"):
            continue
        if not hasattr(m, p.name):
            raise CodegenError(f"{cls.__name__} does not keep its constructor argument `{p.name}` as an attribute")
        v = getattr(m, p.name)
        if isinstance(p.default, bool) and (v is None or isinstance(v, torch.Tensor)):
            v = v is not None  # `bias=`: the argument is a flag, the attribute the tensor or None
        if is_torch(cls) and isinstance(v, tuple) and v and (len(v) == 1 or collapse and len(set(v)) == 1):
            v = v[0]  # torch widens one size to a tuple (LayerNorm's (768,), Conv2d's (3, 3))
        if p.default is inspect.Parameter.empty:
            required += 1
            if required <= 2:
                args.append(v)
                continue
        elif _is_default(v, p.default):
            continue
        kwargs[p.name] = v
    with torch.device("meta"):
        rebuilt = cls(*args, **kwargs)
    shapes = [{k: v.shape for k, v in x.state_dict().items()} for x in (rebuilt, m)]
    if _public(rebuilt) != _public(m) or shapes[0] != shapes[1]:
        raise CodegenError(f"{cls.__name__}'s constructor arguments read back from the module do not rebuild it")
    return args, kwargs


def call_text(name: str, args: list, kwargs: dict) -> str:
    parts = [_literal(a) for a in args] + [f"{k}={_literal(v)}" for k, v in kwargs.items()]
    return f"{name}({', '.join(parts)})"
