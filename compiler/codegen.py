"""Standalone PyTorch source from a checked graph: what `archlang compile SPEC -o model.py` writes.

Stage: after checking, beside lowering. `python_source(graph)` returns the
text of one Python file that needs only torch, written nanoGPT-style: one
`nn.Module` class per block of the lowering plan's module tree
(`compiler.plan.Block`: a block call, labelled group, repeat pass), each with
its own `__init__` and `forward`, and the model's class last, named after the
model. A level whose children chain is an `nn.Sequential(...)` of them, as
torchvision writes `layer1`. The instances of one block share one class with
constructor arguments where their texts differ only in sizes or in optional
members (`BasicBlock(in_channels, planes, stride=1, downsample=False)`, made
eight times in ResNet-18: `compiler.codegen_classes`); instances that differ
in structure get classes of their own (`InvertedResidual_2`). It prints
the plan that `compiler.lower` executes, so the same modules sit at the same
§6 paths in the same order (a state_dict saved from `lower(graph)` loads with
`strict=True`), and each `forward` is straight-line code, one line per step,
with the value's inferred shape as a trailing comment (`# [B, 64, 56, 56]`).

Nothing is written from a second table of layers: each element's module is
built by its catalogue entry (`compiler.torch_layers`, on the meta device, so
no weights are allocated) and its constructor call is read back from the
module (`compiler.codegen_ctor`); archlang's own classes are copied into the
file with the helpers they use (`compiler.codegen_sources`). This module
decides only the Python: class, attribute and variable names, line layout.

Modules with no state that §6 numbers inside a named level (the `2` of
`layer1.0.2`, a ReLU) are registered under a readable name (`relu`, the
next `relu_2`) instead: their position has no key in the state_dict, and
`self.relu` reads better than `getattr(self, "2")`.
"""

from __future__ import annotations

import keyword
import sys
import textwrap
from pathlib import Path

import torch
from archlang.dsl.graph import ModelGraph, Node, Port
from torch import nn

from .codegen_classes import BlockArguments, Instance, Shared, input_sizes, shared_classes
from .codegen_ctor import CodegenError, call_text, ctor_args, defaults, init_param_names, is_torch
from .codegen_sources import Sources
from .plan import Bare, Block, Call, Element, Enter, ModulePath, Pick, Residual, lowering_plan
from .torch_layers import REGISTRY
from .torch_layers.init import draws_every_weight, init_std_

WIDTH = 120
_IND = "        "  # a statement in a method body


def python_source(g: ModelGraph) -> str:
    return _Writer(g).text()


# ---------------------------------------------------------------- the module tree


def _good_attr(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name) and not hasattr(nn.Module, name) and name != "training"


class _Scope:
    """How one class's code reaches the modules below it: attribute expressions and readable path parts."""

    def __init__(self, owner: Block | None = None) -> None:
        self.owner = owner  # the block whose class this is; None for the model's
        self.expr: dict[ModulePath, str] = {}  # a module path → its expression from the class's `self`
        self.parts: dict[ModulePath, tuple[str, ...]] = {}  # ... and its path as Python reaches it (`relu_2`)
        self.members: list[tuple[str, int, int]] = []  # the class's own children: attribute, first and last line


class _Writer:
    def __init__(self, g: ModelGraph):
        self.g = g
        self.plan = lowering_plan(g, REGISTRY)
        self.block_arguments = BlockArguments(g)
        shapes = {n.id: n.shape for n in g.nodes}
        self.modules: dict[int, nn.Module] = {}
        with torch.device("meta"):  # only the constructor arguments are wanted, not weights
            for e in self.plan.elements:
                n = g.node(e.node)
                self.modules[e.node] = REGISTRY[e.layer].make(n, [shapes[i] for i in n.inputs], e.inplace)
        self.sources = Sources()
        self.parts: dict[int, tuple[str, list, dict]] = {nid: self._ctor(m) for nid, m in self.modules.items()}
        self.ctor: dict[int, str] = {nid: call_text(*parts) for nid, parts in self.parts.items()}
        # A layer the block around it runs through a function (recurrent: `recurrent(self.lstm, x)`).
        self.calls = {e.node: REGISTRY[e.layer].call for e in self.plan.elements if REGISTRY[e.layer].call}
        for call in self.calls.values():
            self.sources.add(call)
        self.root_alias = self.plan.root_alias
        self.elements: dict[ModulePath, Element] = {e.path: e for e in self.plan.elements}
        self.blocks: dict[ModulePath, Block] = {b.path: b for b in self.plan.blocks}
        self.children: dict[ModulePath, list[str]] = {}  # every module path → its child segments, in key order
        for e in self.plan.elements:
            for i in range(len(e.path)):
                kids = self.children.setdefault(e.path[:i], [])
                if e.path[i] not in kids:
                    kids.append(e.path[i])
        cls_name = g.name if g.name.isidentifier() else "Model"
        self.reserved = {"self", "torch", "nn", cls_name, *(o.__name__ for o in self.sources.done),
                         *(i.split()[-1] for i in self.sources.imports)}
        self.classes: list[tuple[str, Shared]] = []  # in the order written: every class before its users
        self.shared: dict[ModulePath, tuple[str, Shared, Instance]] = {}  # a block → its class, its instance
        self.by_cls: dict[str, list[Block]] = {}  # the blocks of one name (a block's, a label's), in plan order
        for b in self.plan.blocks:
            self.by_cls.setdefault(b.cls if b.path else "", []).append(b)
        self.frame_at = {f.path: f.id for f in g.frames if f.kind == "block"}
        self._keep: dict[tuple, set[str]] = {}
        self.global_expr: dict[ModulePath, str] = {(): "self"}  # for the ties, written by the model

    def _ctor(self, m: nn.Module) -> tuple[str, list, dict]:
        cls = type(m)
        if is_torch(cls):
            name = f"nn.{cls.__name__}"
        elif cls.__module__.startswith("archlang.compiler."):
            self.sources.add(cls)
            name = cls.__name__
        else:
            raise CodegenError(f"{cls.__module__}.{cls.__name__} is neither torch.nn's nor archlang's")
        return (name, *ctor_args(m))

    # -- placement

    def _stateless(self, path: ModulePath) -> bool:
        e = self.elements.get(path)
        return e is not None and not e.bare and not self.modules[e.node].state_dict()

    def _is_list(self, path: ModulePath) -> bool:
        names = self.children.get(path, [])
        return names == [str(i) for i in range(len(names))] and not any(
            (e := self.elements.get((*path, s))) is not None and e.bare for s in names)

    def _value(self, path: ModulePath, indent: str, owner: Block | None) -> list[str]:
        """The expression that makes the module at `path` (lines: a Sequential of blocks spans several)."""
        e = self.elements.get(path)
        if e is not None:
            return [self._init_std(e, self._ctor_text(e, owner, on_meta=self._on_meta(e.node)))
                    + (".weight" if e.bare else "")]
        b = self.blocks.get(path)
        if b is not None and not b.sequential:
            return [self._block_call(b, owner)]
        if b is not None:
            kids = [(*path, s) for s in self.children[path]]
            items = [self._value(k, indent + "    ", owner) for k in kids]
            one = f"nn.Sequential({', '.join(i[0] for i in items)})"
            if all(len(i) == 1 and k in self.blocks for i, k in zip(items, kids)) and len(indent + one) <= WIDTH - 30:
                return [one]
            lines = ["nn.Sequential("]
            for item, k in zip(items, kids):
                lines += [indent + "    " + item[0], *item[1:]]
                lines[-1] += ","
                e = self.elements.get(k)
                if e is not None:  # each element's shape (and note) as `forward` would show it
                    n = self.g.node(e.node)
                    comment = "# " + "  ".join(x for x in (_shape_text(n, e.node in self.plan.multi), n.note) if x)
                    if len(lines[-1]) + 2 + len(comment) <= WIDTH:
                        lines[-1] += "  " + comment
                    else:
                        lines.insert(len(lines) - len(item), indent + "    " + comment)
            return [*lines, indent + ")"]
        return ["nn.ModuleList()" if self._is_list(path) else "nn.Module()"]

    def _register(self, scope: _Scope, path: ModulePath, lines: list[str], base_is_list: bool) -> None:
        """Statements that register the children of `path` (a class's own level, or a container in it)."""
        here = scope.expr[path]
        names = self.children.get(path, [])
        is_list = base_is_list
        taken = {s for s in names if _good_attr(s)}
        renamed = [s for s in names if not _good_attr(s) and self._stateless((*path, s))]
        # By order among those of its kind (`relu`, `relu_2`), not by position: a block with an optional
        # member (ResNet's downsample) names its last ReLU the same with the member or without it.
        seen: dict[str, int] = {}
        for seg in names:
            child = (*path, seg)
            if is_list:
                expr, make, part = f"{here}[{seg}]", f"{here}.append({{}})", seg
            else:
                attr = seg if _good_attr(seg) else None
                if attr is None and seg in renamed:
                    layer = self.elements[child].layer
                    seen[layer] = k = seen.get(layer, 0) + 1
                    for cand in (layer if k == 1 else f"{layer}_{k}", f"{layer}_{seg}"):
                        if _good_attr(cand) and cand not in taken:
                            attr = cand
                            taken.add(cand)
                            break
                if attr is not None:
                    expr, make, part = f"{here}.{attr}", f"{here}.{attr} = {{}}", attr
                else:  # a numbered module with state in a named level: the key must stay
                    e = self.elements.get(child)
                    how = "register_parameter" if e is not None and e.bare else "add_module"
                    expr, make, part = f'getattr({here}, "{seg}")', f'{here}.{how}("{seg}", {{}})', seg
            scope.expr[child] = expr
            scope.parts[child] = (*scope.parts[path], part)
            value = self._value(child, _IND, scope.owner)
            before, after = make.split("{}")
            first = len(lines)
            if len(value) == 1:
                lines += _fit(before + value[0] + after, None)
            else:
                lines += [_IND + before + value[0], *value[1:-1], value[-1] + after]
            if child not in self.elements and child not in self.blocks:
                # A container with no forward of its own: its children are registered here.
                self._register(scope, child, lines, self._is_list(child))
            if scope.owner is not None and path == scope.owner.path:
                scope.members.append((part, first, len(lines) - 1))

    def _init_std(self, e: Element, made: str) -> str:
        """`init_std=`: the draw right after the module is made (`made`), as the torch registry does it."""
        std = self.g.node(e.node).args.get("init_std")
        if std is None:
            return made
        self.sources.add(init_std_)
        return f"init_std_({made}, {std!r})"

    def _on_meta(self, node: int) -> bool:
        """Whether the torch registry makes this module on the meta device, for `init_std_` to give it its
        weights (drawn once): then the generated source makes it so too, and draws the same numbers."""
        return self.g.node(node).args.get("init_std") is not None and draws_every_weight(self.modules[node])

    # -- constructor calls, alike across the instances of one class

    def _kept(self, owner: Block | None, path: ModulePath, kind: str) -> set[str]:
        """Keyword arguments written for the module at `path`: those any instance of its class's block gives.

        So the instances' texts line up (`stride=1` where another instance has `stride=2`) and differ
        only in their literals. `kind`: an element's constructor, or a block's class.
        """
        if owner is None:
            return set()
        rel = path[len(owner.path):]
        key = (owner.cls, rel, kind)
        own = self._element_kwargs if kind == "element" else self._call_kwargs
        if key not in self._keep:
            keep: set[str] = set()
            for other in self.by_cls.get(owner.cls, ()):
                if self._maker((*other.path, *rel)) == self._maker(path):
                    keep |= own((*other.path, *rel))
            self._keep[key] = keep
        return self._keep[key]

    def _maker(self, path: ModulePath) -> object:
        """What makes the module at `path`: an element's class, a block's class name."""
        e = self.elements.get(path)
        if e is not None:
            return type(self.modules[e.node])
        got = self.shared.get(path)
        return got[0] if got is not None else None

    def _element_kwargs(self, path: ModulePath) -> set[str]:
        e = self.elements.get(path)
        return set(self.parts[e.node][2]) if e is not None else set()

    def _ctor_text(self, e: Element, owner: Block | None, on_meta: bool = False) -> str:
        name, args, kwargs = self.parts[e.node]
        keep = self._kept(owner, e.path, "element")
        if keep - set(kwargs):
            cls = type(self.modules[e.node])
            dflt = defaults(cls)
            kwargs = {k: kwargs[k] if k in kwargs else dflt[k] for k in init_param_names(cls)
                      if k in kwargs or k in keep and k in dflt}
        return call_text(name, args, {**kwargs, "device": "meta"} if on_meta else kwargs)

    def _call_kwargs(self, path: ModulePath) -> set[str]:
        got = self.shared.get(path)
        if got is None:
            return set()
        _, shared, inst = got
        return {a.split("=")[0] for a in shared.arguments(inst) if "=" in a}

    def _block_call(self, b: Block, owner: Block | None) -> str:
        name, shared, inst = self.shared[b.path]
        keep = self._kept(owner, b.path, "call")
        return f"{name}({', '.join(shared.arguments(inst, keep))})"

    # -- one class per block definition

    def _render(self, b: Block) -> Instance:
        """The class text of block `b` alone, its sizes as literals."""
        scope = _Scope(b)
        scope.expr[b.path], scope.parts[b.path] = "self", ()
        is_list = self._is_list(b.path)
        init = [f"{_IND}super().__init__()"]
        self._register(scope, b.path, init, is_list)
        forward = self._forward(b, scope)
        base = "nn.Sequential" if is_list and self.children.get(b.path) else "nn.Module"
        frame = self.frame_at.get(".".join(b.path))
        values, dflt, lets = self.block_arguments(frame) if frame is not None else ({}, {}, {})
        sizes = input_sizes(self.g.node(b.inputs[0]).shape) if b.inputs else {}
        return Instance(b.path, base, init, scope.members, forward, {**values, **sizes}, dflt, tuple(sizes), b.args,
                        lets)

    def _decide(self) -> None:
        """Every block's class, the classes of the blocks inside a block's instances first."""
        waiting = {name: [b for b in bs if not b.sequential] for name, bs in self.by_cls.items() if name}
        waiting = {name: bs for name, bs in waiting.items() if bs}
        inner = {b.path: [p for p in self.blocks if len(p) > len(b.path) and p[:len(b.path)] == b.path
                          and not self.blocks[p].sequential] for bs in waiting.values() for b in bs}
        def ready(bs: list[Block]) -> list[Block]:
            return [b for b in bs if all(p in self.shared for p in inner[b.path])]

        while waiting:
            name = next((n for n, bs in waiting.items() if len(ready(bs)) == len(bs)), None)
            if name is None:  # a name inside itself (a label used again within its own group): the ready ones
                name = next(n for n, bs in waiting.items() if ready(bs))
            now = ready(waiting[name])
            waiting[name] = [b for b in waiting[name] if b not in now]
            if not waiting[name]:
                del waiting[name]
            for shared in shared_classes([self._render(b) for b in now], self._positional_names):
                cls, k = name if name.isidentifier() else "Block", 2
                while cls in self.reserved:
                    cls, k = f"{name if name.isidentifier() else 'Block'}_{k}", k + 1
                self.reserved.add(cls)
                self.classes.append((cls, shared))
                for inst in shared.instances:
                    self.shared[inst.path] = (cls, shared, inst)

    def _positional_names(self, callee: str) -> list[str]:
        """The parameters of a constructor the code calls (`nn.Conv2d`, a class written here); [] if unknown."""
        if callee.startswith("nn."):
            cls = getattr(nn, callee[3:], None)
            return init_param_names(cls) if isinstance(cls, type) else []
        shared = next((sh for name, sh in self.classes if name == callee), None)
        return [n for n, _ in shared.params] if shared is not None else []

    def _forward(self, b: Block, scope: _Scope) -> list[str]:
        g = self.g
        multi = self.plan.multi
        var: dict[int, str] = {}
        taken: set[str] = set(self.reserved)
        root = not b.path

        def name(nid: int, base: str) -> str:
            base = "".join(c if c.isalnum() or c == "_" else "_" for c in base) or "x"
            if base[0].isdigit() or keyword.iskeyword(base):
                base = f"{g.nodes[nid].layer}_{base}"
            cand, k = base, 2
            while cand in taken:
                cand, k = f"{base}_{k}", k + 1
            taken.add(cand)
            var[nid] = cand
            return cand

        for j, arg in zip(b.inputs, b.args):
            taken.add(arg)
            var[j] = arg
        own_paths = [scope.parts[s.path] for s in b.steps if isinstance(s, (Call, Bare, Enter)) and s.path]
        own_paths += [(*scope.parts.get(s.path[:-1], ()), s.path[-1]) for s in b.steps if isinstance(s, Residual)]

        def short(segs: tuple[str, ...]) -> str:
            """The shortest tail of the path that names one place in the class (`wte`, `h_3_attn`)."""
            for k in range(len(segs) - 1, -1, -1):
                tail = segs[k:]
                if not tail[0][0].isdigit() and sum(p[-len(tail):] == tail for p in own_paths) == 1:
                    return "_".join(tail)
            return "_".join(segs)

        def val(j: int) -> str:
            return f"{var[j]}[0]" if j in multi else var[j]

        lines: list[str] = []
        for step in b.steps:
            if isinstance(step, Enter):
                args = [var[j] for j in step.inputs]
                first = name(step.outputs[0], short(scope.parts[step.path]))
                rest = [name(j, g.node(j).name.replace(".", "_")) for j in step.outputs[1:]]
                n = g.node(step.outputs[0])
                shape = _shape_text(n, n.id in multi) + ("" if not rest else ", ...")
                target = ", ".join([first, *rest])
                lines += _fit(f"{target} = {scope.expr[step.path]}({', '.join(args)})", None, shape)
                continue
            n = g.node(step.node)
            if isinstance(step, Pick):
                stmt = f"{var[step.source]}[{step.index}]"
                name(step.node, f"{var[step.source]}_{step.member}")
            elif isinstance(step, Residual):  # the implicit ⊕ of a residual
                stmt = " + ".join(val(j) for j in step.inputs)
                name(step.node, short((*scope.parts.get(step.path[:-1], ()), step.path[-1])))
            elif isinstance(step, Bare):
                cls = type(self.modules[step.node]).__name__
                stmt = f"{cls}.apply({', '.join(val(j) for j in step.inputs)}, {scope.expr[step.path]})"
                name(step.node, short(scope.parts[step.path]))
            else:
                args = [val(j) for j in step.inputs] + [f"{k}={val(j)}" for k, j in step.refs]
                if not step.path:  # the root alias: the model is this one module; it gives only its value
                    stmt = f"super().forward({', '.join(args)})"
                    name(step.node, n.layer)
                elif step.node in self.calls:
                    stmt = f"{self.calls[step.node].__name__}({', '.join([scope.expr[step.path], *args])})"
                    name(step.node, short(scope.parts[step.path]))
                else:
                    stmt = f"{scope.expr[step.path]}({', '.join(args)})"
                    name(step.node, short(scope.parts[step.path]))
            lines += _fit(f"{var[step.node]} = {stmt}", n.note, _shape_text(n, n.id in multi))
        outs = [val(j) if root else var[j] for j in b.outputs]
        lines += ([""] if len(lines) > 3 else []) + [f"{_IND}return {', '.join(outs)}"]

        def kind(j: int, out: bool) -> str:
            return "tuple" if j in multi and not (out and root) else "torch.Tensor"

        ins = "".join(f", {arg}: {kind(j, False)}" for j, arg in zip(b.inputs, b.args))
        rets = [kind(j, True) for j in b.outputs]
        ret = rets[0] if len(rets) == 1 else f"tuple[{', '.join(rets)}]"
        head = f"    def forward(self{ins}) -> {ret}:"
        if len(head) > WIDTH:  # long argument names (a value read from far away): one argument a line
            params = ["self", *(f"{arg}: {kind(j, False)}" for j, arg in zip(b.inputs, b.args))]
            return ["    def forward(", *(f"{_IND}{p}," for p in params), f"    ) -> {ret}:", *lines]
        return [head, *lines]

    # -- the text

    def text(self) -> str:
        g = self.g
        cls_name = g.name if g.name.isidentifier() else "Model"
        root = self.plan.blocks[0]
        self._decide()
        if self.root_alias is not None:
            call = self._ctor_text(self.root_alias, None, on_meta=self._on_meta(self.root_alias.node))
            base = call.split("(")[0]
            init = [f"{_IND}super().__init__({call[call.index('(') + 1:-1]})"]
            if self.g.node(self.root_alias.node).args.get("init_std") is not None:
                init += _fit(self._init_std(self.root_alias, "self"), None)
            scope = _Scope()
            scope.expr[()], scope.parts[()] = "self", ()
            forward = self._forward(root, scope)
        else:
            scope = _Scope()
            scope.expr[()], scope.parts[()] = "self", ()
            is_list = self._is_list(())
            base = "nn.Sequential" if is_list and self.children.get(()) else "nn.Module"
            init = [f"{_IND}super().__init__()"]
            self._register(scope, (), init, is_list)
            for e in self.plan.elements:
                for tie in e.ties:
                    owner = self.plan.element(tie.owner)
                    source = self._reach(owner.path) + ("" if owner.bare else f".{tie.param}")
                    init += _fit(f"{self._reach(e.path)}.{tie.param} = {source}", "one tensor under both names (tie=)")
            forward = self._forward(root, scope)
        stdlib = sorted(i for i in self.sources.imports if i.split()[1].split(".")[0] in sys.stdlib_module_names)
        third = sorted(self.sources.imports - set(stdlib), key=lambda s: (s.startswith("from"), s))
        head = ['"""' + self._doc() + '"""', ""]
        if len(self.sources.blocks):
            head += ["from __future__ import annotations", ""]
        if stdlib:
            head += [*stdlib, ""]
        head += third
        parts = ["\n".join(head)]
        parts += self.sources.blocks
        for name, shared in self.classes:
            used = [i.path for i in shared.instances]
            where = ", ".join(".".join(p) for p in used)
            doc = _fit(f'"""{self.blocks[used[0]].cls} at {where}."""', None)
            if len(doc) > 1 or len(doc[0]) > WIDTH - 4:
                doc = [f'{_IND}"""{self.blocks[used[0]].cls}, used {len(used)} times ({".".join(used[0])}, ...)."""']
            head = shared.signature()
            if len(head) > WIDTH:
                head = "\n".join(["    def __init__(", f"{_IND}self,", *(f"{_IND}{p}," for p in shared.parameters()),
                                  "    ) -> None:"])
            parts.append("\n".join([f"class {name}({shared.base}):", doc[0][4:], "", head, *shared.init, "",
                                    *shared.forward]))
        body = [f"class {cls_name}({base}):",
                f'    """{g.name} of {Path(g.file).name}; new weights, or trained ones through `load_state_dict`."""',
                "",
                "    def __init__(self) -> None:",
                *init,
                "",
                *forward]
        parts.append("\n".join(body))
        return "\n\n\n".join(parts) + "\n"

    def _reach(self, path: ModulePath) -> str:
        """`path` as the model's `__init__` reaches it, through each class's attribute names."""
        expr = "self"
        for i, seg in enumerate(path):
            parent = path[:i]
            if seg.isdigit() and (self._is_list(parent) or self.blocks.get(parent, None) is not None
                                  and self.blocks[parent].sequential):
                expr += f"[{seg}]"
            elif _good_attr(seg):
                expr += f".{seg}"
            else:
                expr = f'getattr({expr}, "{seg}")'
        return expr

    def _doc(self) -> str:
        g = self.g
        params = ", ".join(f"{k}={v!r}" if not isinstance(v, bool) else f"{k}={str(v).lower()}"
                           for k, v in g.params_used.items())
        lines = [f"{g.name}: standalone PyTorch source written by `archlang compile` from {Path(g.file).name}.", ""]
        if params:
            lines += textwrap.wrap(f"Model parameters: {params}.", WIDTH - 20, subsequent_indent="    ")
        lines.append(f"{g.params:,} parameters. Shapes (`B` is the batch):")
        notes = {p.node: g.nodes[p.node].note for p in g.inputs}
        for p in g.inputs:
            note = f"  # {notes[p.node]}" if notes[p.node] else ""
            lines.append(f"    in   {p.name}: {_shape(p)}{note}")
        for p in g.outputs:
            lines.append(f"    out  {p.name}: {_shape(p)}")
        lines += ["", "It needs only torch. Its state_dict keys are the spec's names, so the weights of",
                  "`archlang compile ... -o model.pt` load with `load_state_dict(..., strict=True)`.", ""]
        return "\n".join(lines)


def _shape_text(n: Node, multi: bool) -> str:
    """A step's trailing shape; a module that returns its members too returns a tuple."""
    return f"({_shape(n)}, members)" if multi else _shape(n)


def _shape(p: Port | Node) -> str:
    """An input's, output's or step's shape with its batch as `B`: `[B, 64, 112, 112]`, `int[B, seq]`."""
    dtype = "" if p.dtype == "float" else p.dtype
    return dtype + "[" + ", ".join(["B", *(str(d) for d in p.shape)]) + "]"


def _fit(stmt: str, note: str | None, shape: str | None = None) -> list[str]:
    """One statement as method-body lines within WIDTH, its shape and note as a trailing comment.

    Where both do not fit, the note moves to a comment line above, then the
    shape too; a statement is broken only when it is too long by itself, and
    then the shape follows its closing parenthesis.
    """
    line = _IND + stmt
    both = "  ".join(x for x in (shape, note) if x)
    if len(line) + len(f"  # {both}" if both else "") <= WIDTH:
        return [line + (f"  # {both}" if both else "")]
    tail = f"  # {shape}" if shape else ""
    if len(line) + len(tail) <= WIDTH:
        return ([f"{_IND}# {note}"] if note else []) + [line + tail]
    if len(line) <= WIDTH:
        return [f"{_IND}# {both}", line]
    out = [f"{_IND}# {note}"] if note else []
    if stmt.endswith(")"):  # break inside the last call's parentheses
        depth = 0
        for i in range(len(stmt) - 1, -1, -1):
            depth += {")": 1, "(": -1}.get(stmt[i], 0)
            if depth == 0:
                break
        head, inner, sep = stmt[: i + 1], stmt[i + 1:-1], ", "
    else:  # `a + b`: parenthesise the right-hand side
        target, _, inner = stmt.partition(" = ")
        head, sep = f"{target} = (", " + "
    body = [f"{_IND}    {inner}"]
    if len(body[0]) > WIDTH:
        body = [f"{_IND}    {part}{sep.strip() if sep == ', ' else ''}" for part in inner.split(sep)]
        if sep == " + ":
            body = [body[0]] + [f"{_IND}    + {b.strip()}" for b in body[1:]]
    return out + [f"{_IND}{head}", *body, f"{_IND}){tail}"]
