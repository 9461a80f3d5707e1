"""Lowering: a checked `ModelGraph` → an ordinary `torch.nn.Module`.

Stage: after checking. Each layer node becomes the module its catalogue
entry builds, registered at its §6 path (`layer1.0.conv1`) inside plain
container modules, so `state_dict()` keys are the spec's names. `forward`
walks the nodes in order over constant tables — no code generation, nothing
from the spec is evaluated — and frees each value after its last use. It
traces under `torch.compile(fullgraph=True)` and `torch.export`.
"""

from __future__ import annotations

import torch
from torch import nn

from dsl.graph import ModelGraph

from .torch_layers import BUILDERS


class Level(nn.Module):
    """A container for the modules of one level (§6); it has no forward."""


class ArchModule(nn.Module):
    def __init__(self, graph: ModelGraph):
        super().__init__()
        self.spec_name = graph.name
        shapes = {n.id: n.shape for n in graph.nodes}
        multi = graph.multi_result_nodes()
        steps = []
        built: dict[int, nn.Module] = {}
        last_use: dict[int, int] = {}
        for n in graph.nodes:
            for j in n.reads:
                last_use[j] = n.id
        for o in graph.outputs:
            last_use[o.node] = len(graph.nodes)
        for n in graph.nodes:
            if n.kind == "input":
                continue
            frees = tuple(j for j in dict.fromkeys(n.reads) if last_use.get(j) == n.id)
            refs = tuple(n.refs.items())
            if n.kind == "member":  # a member of a multi-result layer (`enc.last`)
                steps.append((n.id, "pick", n.args["index"], tuple(n.inputs), refs, frees))
                continue
            if n.kind == "residual":  # the implicit ⊕ of a residual
                steps.append((n.id, "add", None, tuple(n.inputs), refs, frees))
                continue
            module = BUILDERS[n.layer](n, [shapes[i] for i in n.inputs])
            for pname, owner in n.shares.items():
                # `tie=`: one Parameter under both names, as Hugging Face ties lm_head to wte.
                setattr(module, pname, getattr(built[owner], pname))
            built[n.id] = module
            kind = "multi" if n.id in multi else "module"
            if n.name == "":
                # A model of one unlabelled element *is* that element (§6).
                for pname, p in module.named_parameters(recurse=False):
                    self.register_parameter(pname, p)
                for bname, b in module.named_buffers(recurse=False):
                    self.register_buffer(bname, b)
                for cname, child in module.named_children():
                    self.add_module(cname, child)
                object.__setattr__(self, "_root_alias", module)
                steps.append((n.id, kind, (), tuple(n.inputs), refs, frees))
                continue
            path = tuple(n.name.split("."))
            if getattr(module, "bare", False):
                # A one-tensor layer kept as a plain parameter at its own path
                # (`class_token`, `encoder.pos_embedding`), as torchvision's ViT does.
                self._place(path, module.weight)
                steps.append((n.id, "bare", (path, type(module).apply), tuple(n.inputs), refs, frees))
                continue
            self._place(path, module)
            steps.append((n.id, kind, path, tuple(n.inputs), refs, frees))
        self._steps = tuple(steps)
        self._inputs = tuple(p.node for p in graph.inputs)
        self._outputs = tuple(p.node for p in graph.outputs)
        self._size = len(graph.nodes)

    def _place(self, path: tuple[str, ...], item: nn.Module | nn.Parameter) -> None:
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

    def _at(self, path: tuple[str, ...]):
        m = self
        for seg in path:
            m = getattr(m, seg)
        return m

    def forward(self, *inputs: torch.Tensor):
        vals: list = [None] * self._size
        multi: dict = {}  # full results of layers with members, for their picks
        for idx, x in zip(self._inputs, inputs):
            vals[idx] = x
        for nid, kind, how, ins, refs, frees in self._steps:
            if kind == "add":
                vals[nid] = vals[ins[0]] + vals[ins[1]]
            elif kind == "pick":
                vals[nid] = multi[ins[0]][how]
            elif kind == "bare":
                vals[nid] = how[1](vals[ins[0]], self._at(how[0]))
            else:
                m = self._root_alias if not how else self._at(how)
                out = m(*[vals[j] for j in ins], **{name: vals[j] for name, j in refs})
                if kind == "multi":
                    multi[nid] = out
                    out = out[0]
                vals[nid] = out
            for j in frees:
                if j not in self._outputs:
                    vals[j] = None
        outs = tuple(vals[i] for i in self._outputs)
        return outs[0] if len(outs) == 1 else outs


def lower(graph: ModelGraph) -> ArchModule:
    return ArchModule(graph)
