"""Lowering: a checked `ModelGraph` → an ordinary `torch.nn.Module`.

Stage: after checking. It executes the lowering plan (`compiler.plan`): each
element's module is built by its catalogue entry and registered at its §6
path (`layer1.0.conv1`) inside plain container modules, so `state_dict()`
keys are the spec's names. `forward` walks the plan's steps in order — no
code generation, nothing from the spec is evaluated — and frees each value
after its last use. It traces under `torch.compile(fullgraph=True)` and
`torch.export`.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from dsl.graph import ModelGraph

from .plan import Bare, Call, ModulePath, Pick, Residual, lowering_plan
from .torch_layers import REGISTRY


class Level(nn.Module):
    """A container for the modules of one level (§6); it has no forward."""


class ArchModule(nn.Module):
    def __init__(self, graph: ModelGraph):
        super().__init__()
        self.spec_name = graph.name
        plan = lowering_plan(graph, REGISTRY)
        shapes = {n.id: n.shape for n in graph.nodes}
        built: dict[int, nn.Module] = {}
        # bare elements: their class's `apply(x, weight)` (not `_apply`, which is nn.Module's own: `.to()`)
        self._bare_apply: dict[int, Callable] = {}
        for e in plan.elements:
            n = graph.node(e.node)
            module = REGISTRY[e.layer].build(n, [shapes[i] for i in n.inputs])
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
                self._place(e.path, module.weight)
                self._bare_apply[e.node] = type(module).apply
            else:
                self._place(e.path, module)
        self._plan = plan

    def _place(self, path: ModulePath, item: nn.Module | nn.Parameter) -> None:
        parent: nn.Module = self
        for seg in path[:-1]:
            child = parent._modules.get(seg)
            if child is None:
                child = Level()
                parent.add_module(seg, child)
            parent = child
        if isinstance(item, nn.Parameter):
            parent.register_parameter(path[-1], item)
        else:
            parent.add_module(path[-1], item)

    def _at(self, path: ModulePath):
        m = self
        for seg in path:
            m = getattr(m, seg)
        return m

    def forward(self, *inputs: torch.Tensor):
        plan = self._plan
        vals: list = [None] * plan.size
        multi: dict = {}  # full results of layers with members, for their picks
        for idx, x in zip(plan.inputs, inputs):
            vals[idx] = x
        for step in plan.steps:
            if isinstance(step, Call):
                m = self._at(step.path) if step.path else self._root_alias
                out = m(*[vals[j] for j in step.inputs], **{name: vals[j] for name, j in step.refs})
                if step.multi:
                    multi[step.node] = out
                    out = out[0]
                vals[step.node] = out
            elif isinstance(step, Bare):
                vals[step.node] = self._bare_apply[step.node](vals[step.inputs[0]], self._at(step.path))
            elif isinstance(step, Pick):
                vals[step.node] = multi[step.source][step.index]
            elif isinstance(step, Residual):
                vals[step.node] = vals[step.inputs[0]] + vals[step.inputs[1]]
            for j in step.frees:
                vals[j] = None
        outs = tuple(vals[i] for i in plan.outputs)
        return outs[0] if len(outs) == 1 else outs


def lower(graph: ModelGraph) -> ArchModule:
    return ArchModule(graph)
