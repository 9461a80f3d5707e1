"""The torch half of the layer catalogue: one entry per layer name, found by name.

Stage: lowering. `REGISTRY[name].build(node, inputs)` returns the `nn.Module`
for one checked node; every size comes from the checked graph (the input
shapes, the arguments the checker validated and recorded), never inferred
again, and no builder calls back into the checker. The checker's half of each
entry is `dsl.layers.REGISTRY`; a test proves the two name sets equal.

An entry also says whether a use of the layer is *bare* (§6): its module then
holds one tensor, `weight`, that lowering registers as a plain parameter at
the element's own path, and its class has a static `apply(x, weight)` that
computes the layer from that tensor. An entry may also name a `call`:
a function `call(module, *inputs, **refs)` that the block around the module
runs in place of `module(...)` (recurrent layers: torch's module, then the
members picked from its result), so the module itself stays torch's own.

Two more facts decide where an activation runs in place (`nn.ReLU(inplace=True)`,
as torchvision's): `in_place` — the layer's module has an `inplace` switch
and may overwrite its input; `fresh` — a use's output is a new tensor (no
view of another) that autograd does not save for the backward (conv, the
norms, linear, `add`: their backward needs their inputs, not their output),
so overwriting it changes no result and no gradient. The plan grants it.

`compiler.plan` reads these facts through the catalogue it is given, so
the plan itself needs no torch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from archlang.dsl.graph import Node

if TYPE_CHECKING:
    from torch import nn

Shape = tuple[int, ...]
Builder = Callable[[Node, list[Shape]], "nn.Module"]


def _never(args: Mapping[str, Any]) -> bool:
    return False


def _not_fresh(node: Node) -> bool:
    return False


@dataclass(frozen=True)
class TorchLayer:
    name: str
    build: Builder
    # Whether a use with these (recorded) arguments keeps its one tensor as a bare parameter.
    bare: Callable[[Mapping[str, Any]], bool] = _never
    call: Callable[..., Any] | None = None  # run in place of `module(...)`: `call(module, *inputs, **refs)`
    # Whether a use's output is a new tensor, no view, that autograd does not keep for the backward.
    fresh: Callable[[Node], bool] = _not_fresh
    in_place: bool = False  # its module has an `inplace` switch: it may overwrite its input

    def is_bare(self, args: Mapping[str, Any]) -> bool:
        return self.bare(args)

    def is_fresh(self, node: Node) -> bool:
        return self.fresh(node)

    def make(self, node: Node, ins: list[Shape], inplace: bool = False) -> nn.Module:
        """The module of one element; `inplace`: the plan found that it may overwrite its input."""
        module = self.build(node, ins)
        if inplace:
            module.inplace = True  # torch's ReLU, ReLU6 read it at each call; their state_dict is unchanged
        return module


REGISTRY: dict[str, TorchLayer] = {}


def _initialised(build: Builder) -> Builder:
    """`build`, then the node's `init_std=` applied to what it built: once here, for every layer."""
    def build_and_init(node: Node, ins: list[Shape]) -> nn.Module:
        std = node.args.get("init_std")
        if std is None:
            return build(node, ins)
        import torch  # only once a module is built: the plan reads this file torch-free

        from .init import draws_every_weight, init_std_
        with torch.device("meta"):  # no weights, nothing drawn: `init_std_` makes and draws them once
            module = build(node, ins)
        if not draws_every_weight(module):
            module = build(node, ins)
        return init_std_(module, std)
    return build_and_init


def register(name: str, build: Builder, bare: Callable[[Mapping[str, Any]], bool] = _never,
             call: Callable[..., Any] | None = None, fresh: Callable[[Node], bool] = _not_fresh,
             in_place: bool = False) -> TorchLayer:
    if name in REGISTRY:  # pragma: no cover - a programming error
        raise ValueError(f"layer {name} registered twice")
    entry = REGISTRY[name] = TorchLayer(name, _initialised(build), bare, call, fresh, in_place)
    return entry


def unregister(name: str) -> TorchLayer:
    """Remove an entry (a test's throwaway layer); the entry removed."""
    return REGISTRY.pop(name)


def always(node: Node) -> bool:
    """`fresh=` of a layer whose every use gives a new tensor that its backward does not keep."""
    return True


def builds(*names: str, bare: Callable[[Mapping[str, Any]], bool] = _never,
           call: Callable[..., Any] | None = None, fresh: Callable[[Node], bool] = _not_fresh,
           in_place: bool = False) -> Callable[[Builder], Builder]:
    """Register the decorated builder under each of `names`."""
    def decorate(fn: Builder) -> Builder:
        for name in names:
            register(name, fn, bare, call, fresh, in_place)
        return fn
    return decorate


def by_rank(table: dict[int, type], rank: int) -> type:
    """The 1-, 2- or 3-D class for an input of `rank` (batch excluded): [C, L] → 1-D, [C, H, W] → 2-D."""
    return table[rank - 1]
