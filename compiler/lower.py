"""Lowering: a checked `ModelGraph` → an ordinary `torch.nn.Module`.

Stage: after checking. It executes the lowering plan (`compiler.plan`): each
element's module is built by its catalogue entry and registered at its §6
path (`layer1.0.conv1`), so `state_dict()` keys are the spec's names. The
levels above them are the plan's module tree: every block call, labelled
group, repeat and pass is a module with its own `forward` over the values it
reads, named (`forward(self, x)`; the model's `forward(self, image)`), so
hooks fire at every level, `model.layer1(x)` runs, and `torch.fx` traces.
A level whose children run one after another on one value is an
`nn.Sequential`, as torchvision's `layer1` is. Each `forward` walks its
block's steps in order — nothing from the spec is evaluated — and frees each
value after its last use. It traces under `torch.compile(fullgraph=True)`
and `torch.export`.

The one piece of generated code is each block class's `forward` signature:
a line that passes its named arguments on to the shared step walker, so that
`inspect` and `torch.fx` see real argument names. The names are the plan's,
checked identifiers; classes are made once per (name, arguments) and pickle
through `_remake`.
"""

from __future__ import annotations

import functools
import keyword
from collections.abc import Callable
from dataclasses import replace

from archlang.dsl.graph import ModelGraph
from torch import nn

from .plan import Bare, Block, Call, Enter, ModulePath, Pick, Plan, Residual, lowering_plan
from .torch_layers import REGISTRY


class Level(nn.Module):
    """A container of §6 whose steps the graph interleaves with outer ones: the block around it runs them."""


class BlockModule(nn.Module):
    """A level of the module tree with its own forward: it runs its block's steps (`compiler.plan.Block`)."""

    _key: tuple[str, tuple[str, ...], bool] = ("BlockModule", (), False)

    def _setup(self, block: Block, plan: Plan, apply: dict[int, Callable], calls: dict[int, Callable]) -> None:
        cut = len(block.path)
        # Plain attributes (not submodules): the steps with paths relative to this module.
        self._steps = tuple(_relative(s, cut) for s in block.steps) if cut else block.steps
        self._inputs = block.inputs
        self._outputs = block.outputs
        self._multi = plan.multi
        self._bare_apply = {s.node: apply[s.node] for s in block.steps if isinstance(s, Bare)}
        self._root = not block.path
        # A layer whose catalogue entry runs its module through a function (recurrent: the members).
        self._calls = {s.node: calls[s.node] for s in block.steps if isinstance(s, Call) and s.node in calls}

    def _at(self, path: ModulePath):
        m = self
        for seg in path:
            m = getattr(m, seg)
        return m

    def _run(self, args: tuple):
        vals = dict(zip(self._inputs, args))
        multi = self._multi

        def val(j: int):
            return vals[j][0] if j in multi else vals[j]

        # No local variable outlives its step: a value `step.frees` drops must be freed then, so that the
        # next layer's output can take its memory (a name still holding ResNet-50's conv3 output while
        # the add allocates cost 6 % of its forward).
        for step in self._steps:
            if isinstance(step, Call):
                m = self._at(step.path) if step.path else self._root_alias
                call = self._calls.get(step.node)
                if call is None:
                    vals[step.node] = m(*[val(j) for j in step.inputs], **{name: val(j) for name, j in step.refs})
                else:
                    vals[step.node] = call(m, *[val(j) for j in step.inputs],
                                           **{name: val(j) for name, j in step.refs})
            elif isinstance(step, Enter):
                if len(step.outputs) == 1:
                    vals[step.outputs[0]] = self._at(step.path)(*[vals[j] for j in step.inputs])
                else:
                    vals.update(zip(step.outputs, self._at(step.path)(*[vals[j] for j in step.inputs])))
            elif isinstance(step, Bare):
                vals[step.node] = self._bare_apply[step.node](val(step.inputs[0]), self._at(step.path))
            elif isinstance(step, Pick):
                vals[step.node] = vals[step.source][step.index]
            elif isinstance(step, Residual):
                vals[step.node] = val(step.inputs[0]) + val(step.inputs[1])
            for j in step.frees:
                del vals[j]
        # The model gives a multi-result layer's value; a block gives the whole tuple, for the picks outside.
        outs = tuple(val(j) if self._root else vals[j] for j in self._outputs)
        return outs[0] if len(outs) == 1 else outs

    def __reduce_ex__(self, protocol):
        return _remake, self._key, self.__getstate__()


def _relative(step, cut: int):
    return replace(step, path=step.path[cut:]) if hasattr(step, "path") and step.path else step


@functools.cache
def block_class(name: str, args: tuple[str, ...], root: bool = False) -> type:
    """The module class of a block: `name`, with `forward(self, <args>)` over the shared step walker."""
    if not all(a.isidentifier() and not keyword.iskeyword(a) and a != "self" for a in args):
        raise ValueError(f"not argument names: {args}")
    params = ", ".join(args)
    src = f"def forward(self{', ' if args else ''}{params}):\n    return self._run(({params}{',' if args else ''}))\n"
    namespace: dict = {}
    exec(compile(src, f"<archlang {name}.forward>", "exec"), namespace)  # noqa: S102  (names checked above)
    base = ArchModule if root else BlockModule
    cls_name = name if name.isidentifier() else "Block"
    return type(cls_name, (base,), {"forward": namespace["forward"], "__module__": __name__,
                                    "__qualname__": cls_name, "_key": (name, args, root)})


def _remake(name: str, args: tuple[str, ...], root: bool):
    cls = block_class(name, args, root)
    return cls.__new__(cls)


class ArchModule(BlockModule):
    """The model: the root of the module tree (its class is named after the spec's model)."""

    def _build(self, graph: ModelGraph, plan: Plan) -> None:
        self.spec_name = graph.name
        shapes = {n.id: n.shape for n in graph.nodes}
        built: dict[int, nn.Module] = {}
        apply: dict[int, Callable] = {}  # bare elements: their class's `apply(x, weight)`
        calls = {e.node: REGISTRY[e.layer].call for e in plan.elements if REGISTRY[e.layer].call is not None}
        levels = {b.path: b for b in plan.blocks}
        self._made: dict[ModulePath, nn.Module] = {}
        for e in plan.elements:
            n = graph.node(e.node)
            module = REGISTRY[e.layer].make(n, [shapes[i] for i in n.inputs], e.inplace)
            for tie in e.ties:
                # One Parameter under both names, as Hugging Face ties lm_head to wte.
                setattr(module, tie.param, getattr(built[tie.owner], tie.param))
            built[e.node] = module
            if e.is_root:
                # A model of one unlabelled element *is* that element (§6).
                for pname, p in module.named_parameters(recurse=False):
                    self.register_parameter(pname, p)
                for bname, b in module.named_buffers(recurse=False):
                    self.register_buffer(bname, b)
                for cname, child in module.named_children():
                    self.add_module(cname, child)
                object.__setattr__(self, "_root_alias", module)
            elif e.bare:
                # One tensor kept as a plain parameter at the element's own path
                # (`class_token`, `encoder.pos_embedding`), as torchvision's ViT does.
                self._place(e.path, module.weight, levels)
                apply[e.node] = type(module).apply
            else:
                self._place(e.path, module, levels)
        for b in plan.blocks:
            m = self if not b.path else self._made[b.path]
            if isinstance(m, BlockModule):
                m._setup(b, plan, apply, calls)
        del self._made
        self._plan = plan

    def train(self, mode: bool = True) -> ArchModule:
        super().train(mode)
        alias = self.__dict__.get("_root_alias")
        if alias is not None:  # no child of ours, so `eval()` must reach it here (its dropout, drop_path)
            alias.train(mode)
        return self

    def _place(self, path: ModulePath, item: nn.Module | nn.Parameter, levels: dict[ModulePath, Block]) -> None:
        parent: nn.Module = self
        for i, seg in enumerate(path[:-1]):
            child = parent._modules.get(seg)
            if child is None:
                b = levels.get(path[: i + 1])
                if b is None:
                    child = Level()
                elif b.sequential:
                    child = nn.Sequential()
                else:
                    child = block_class(b.cls, b.args)()
                self._made[path[: i + 1]] = child
                parent.add_module(seg, child)
            parent = child
        if isinstance(item, nn.Parameter):
            parent.register_parameter(path[-1], item)
        else:
            parent.add_module(path[-1], item)


def lower(graph: ModelGraph, inplace: bool = True) -> ArchModule:
    """The model of `graph`; `inplace=False`: no module runs in place, even where the plan could grant it."""
    plan = lowering_plan(graph, REGISTRY, inplace)
    root = plan.blocks[0]
    m = block_class(graph.name, root.args, root=True)()
    m._build(graph, plan)
    return m
