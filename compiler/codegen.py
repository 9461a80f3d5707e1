"""Standalone PyTorch source from a checked graph: what `archlang compile SPEC -o model.py` writes.

Stage: after checking, beside lowering. `python_source(graph)` returns the
text of one Python file that needs only torch: an `nn.Module` subclass named
after the model. It prints the lowering plan (`compiler.plan`) that
`compiler.lower` executes, so `__init__` registers the same modules at the
same §6 paths in the same order (a state_dict saved from `lower(graph)` loads
with `strict=True`), and `forward` is straight-line code, one line per step,
each with the value's inferred shape as a trailing comment (`# [B, 64, 56, 56]`).

Nothing is written from a second table of layers: each element's module is
built by its catalogue entry (`compiler.torch_layers`, on the meta device, so
no weights are allocated) and its constructor call is read back from the
module (`compiler.codegen_ctor`); archlang's own classes are copied into the
file with the helpers they use (`compiler.codegen_sources`). This module
decides only the Python: attribute and variable names, line layout.

Modules with no state that §6 numbers inside a named level (the `2` of
`layer1.0.2`, a ReLU) are registered under a readable name (`relu_2`) instead:
their position has no key in the state_dict, and `self.layer1[0].relu_2`
reads better than `getattr(self.layer1[0], "2")`.
"""

from __future__ import annotations

import keyword
import sys
import textwrap
from pathlib import Path

import torch
from torch import nn

from dsl.graph import ModelGraph, Node, Port

from .codegen_ctor import CodegenError, call_text, ctor_args, is_torch
from .codegen_sources import Sources
from .plan import Bare, Call, Element, Pick, Residual, Step, lowering_plan
from .torch_layers import REGISTRY
from .torch_layers.init import init_std_

WIDTH = 120
_IND = "        "  # a statement in a method body


def python_source(g: ModelGraph) -> str:
    return _Writer(g).text()


# ---------------------------------------------------------------- the module tree


def _good_attr(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name) and not hasattr(nn.Module, name) and name != "training"


class _Level:
    """One container of §6: the model itself or a module with no forward."""

    def __init__(self, path: tuple[str, ...]):
        self.path = path
        self.children: dict[str, _Level | Element] = {}  # a nested level, or an element placed here
        self.is_list = False
        self.expr = "self"
        self.segs: tuple[str, ...] = ()  # its path as Python reaches it (`relu_2` for §6's `2`)


class _Writer:
    def __init__(self, g: ModelGraph):
        self.g = g
        self.plan = lowering_plan(g, REGISTRY)
        shapes = {n.id: n.shape for n in g.nodes}
        self.modules: dict[int, nn.Module] = {}
        with torch.device("meta"):  # only the constructor arguments are wanted, not weights
            for e in self.plan.elements:
                n = g.node(e.node)
                self.modules[e.node] = REGISTRY[e.layer].build(n, [shapes[i] for i in n.inputs])
        self.sources = Sources()
        self.ctor: dict[int, str] = {nid: self._ctor(m) for nid, m in self.modules.items()}
        self.root_alias = self.plan.root_alias
        self.root = _Level(())
        self.expr: dict[int, str] = {}  # node → how forward reaches its module or parameter
        self.segs: dict[int, tuple[str, ...]] = {}
        self.make: dict[int, str] = {}  # node → the __init__ statement that registers it
        self.make_level: dict[tuple[str, ...], str] = {}
        if self.root_alias is None:
            self._layout()

    def _ctor(self, m: nn.Module) -> str:
        cls = type(m)
        if is_torch(cls):
            name = f"nn.{cls.__name__}"
        elif cls.__module__.startswith("compiler."):
            self.sources.add(cls)
            name = cls.__name__
        else:
            raise CodegenError(f"{cls.__module__}.{cls.__name__} is neither torch.nn's nor archlang's")
        return call_text(name, *ctor_args(m))

    # -- placement

    def _layout(self) -> None:
        levels = {(): self.root}
        for e in self.plan.elements:
            level = self.root
            for i, seg in enumerate(e.path[:-1]):
                child = level.children.get(seg)
                if child is None:
                    child = levels[e.path[: i + 1]] = _Level(e.path[: i + 1])
                    level.children[seg] = child
                level = child
            level.children[e.path[-1]] = e
        self._name_children(self.root)

    def _stateless(self, item: _Level | Element) -> bool:
        return isinstance(item, Element) and not item.bare and not self.modules[item.node].state_dict()

    def _name_children(self, level: _Level) -> None:
        names = list(level.children)
        level.is_list = names == [str(i) for i in range(len(names))] and not any(
            isinstance(c, Element) and c.bare for c in level.children.values())
        taken = {s for s in names if _good_attr(s)}
        renamed = [s for s in names if not _good_attr(s) and self._stateless(level.children[s])]
        kinds = [level.children[s].layer for s in renamed]
        for seg, item in level.children.items():
            if level.is_list:
                expr = f"{level.expr}[{seg}]"
                make = f"{level.expr}.append({{}})"
                part = seg
            else:
                attr = seg if _good_attr(seg) else None
                if attr is None and seg in renamed:
                    layer = item.layer
                    for cand in ((layer,) if kinds.count(layer) == 1 else ()) + (f"{layer}_{seg}",):
                        if _good_attr(cand) and cand not in taken:
                            attr = cand
                            taken.add(cand)
                            break
                if attr is not None:
                    expr, make, part = f"{level.expr}.{attr}", f"{level.expr}.{attr} = {{}}", attr
                else:  # a numbered module with state in a named level: the key must stay
                    how = "register_parameter" if isinstance(item, Element) and item.bare else "add_module"
                    expr, make, part = f'getattr({level.expr}, "{seg}")', f'{level.expr}.{how}("{seg}", {{}})', seg
            segs = (*level.segs, part)
            if isinstance(item, _Level):
                item.expr, item.segs = expr, segs
                self._name_children(item)
                self.make_level[item.path] = make.format("nn.ModuleList()" if item.is_list else "nn.Module()")
            else:
                self.expr[item.node], self.segs[item.node] = expr, segs
                self.make[item.node] = make.format(self.ctor[item.node] + (".weight" if item.bare else ""))

    # -- the text

    def text(self) -> str:
        g = self.g
        cls_name = g.name if g.name.isidentifier() else "Model"
        init, forward = self._init_lines(), self._forward_lines()
        if self.root_alias is not None:
            base = self.ctor[self.root_alias.node].split("(")[0]
        else:
            base = "nn.Sequential" if self.root.is_list and self.root.children else "nn.Module"
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
        ins = ", ".join(f"{self.var[p.node]}: torch.Tensor" for p in g.inputs)
        ret = "torch.Tensor" if len(g.outputs) == 1 else f"tuple[{', '.join(['torch.Tensor'] * len(g.outputs))}]"
        body = [f"class {cls_name}({base}):",
                f'    """{g.name} of {Path(g.file).name}; new weights, or trained ones through `load_state_dict`."""',
                "",
                "    def __init__(self) -> None:",
                *init,
                "",
                f"    def forward(self, {ins}) -> {ret}:",
                *forward]
        parts.append("\n".join(body))
        return "\n\n\n".join(parts) + "\n"

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

    def _group(self, n: Node) -> int | None:
        """The block a node belongs to (a block call or repeat pass, else a labelled group), for blank lines."""
        frames = {f.id: f for f in self.g.frames}
        chain = []
        f = n.frame
        while f is not None:
            chain.append(frames[f])
            f = frames[f].parent
        inner = next((fr.id for fr in chain if fr.kind in ("block", "pass")), None)
        groups = [fr.id for fr in chain if fr.kind == "group"]
        return inner if inner is not None else (groups[-1] if groups else None)

    def _init_lines(self) -> list[str]:
        if self.root_alias is not None:
            call = self.ctor[self.root_alias.node]
            return [f"{_IND}super().__init__({call[call.index('(') + 1:-1]})",
                    *self._init_std(self.root_alias, "self")]
        lines = [f"{_IND}super().__init__()"]
        made: set[tuple[str, ...]] = set()
        group = None
        for e in self.plan.elements:
            n = self.g.node(e.node)
            if self._group(n) != group and len(lines) > 1 and not self.root.is_list:
                lines.append("")
            group = self._group(n)
            for i in range(1, len(e.path)):
                if e.path[:i] not in made:
                    made.add(e.path[:i])
                    lines += _fit(self.make_level[e.path[:i]], "")
            lines += _fit(self.make[e.node], "")
            lines += self._init_std(e, self.expr[e.node])
            for tie in e.ties:
                owner = self.plan.element(tie.owner)
                source = self.expr[owner.node] + ("" if owner.bare else f".{tie.param}")
                lines += _fit(f"{self.expr[e.node]}.{tie.param} = {source}", "one tensor under both names (tie=)")
        return lines

    def _init_std(self, e: Element, expr: str) -> list[str]:
        """`init_std=`: the same draw right after the module is made, as the torch registry does it."""
        std = self.g.node(e.node).args.get("init_std")
        if std is None:
            return []
        self.sources.add(init_std_)
        return _fit(f"init_std_({expr}, {std!r})", "init_std=: weights ~ N(0, std²), biases zero")

    def _forward_lines(self) -> list[str]:
        g = self.g
        steps = {s.node: s for s in self.plan.steps}
        multi = {s.node for s in self.plan.steps if isinstance(s, Call) and s.multi}
        reserved = {"self", *(i.split()[-1] for i in self.sources.imports), *(o.__name__ for o in self.sources.done)}
        self.var: dict[int, str] = {}
        taken: set[str] = set(reserved)

        def name(nid: int, base: str) -> None:
            base = "".join(c if c.isalnum() or c == "_" else "_" for c in base) or "x"
            if base[0].isdigit() or keyword.iskeyword(base):
                base = f"{g.nodes[nid].layer}_{base}"
            cand, k = base, 2
            while cand in taken:
                cand, k = f"{base}_{k}", k + 1
            taken.add(cand)
            self.var[nid] = cand

        paths = {*self.segs.values(), *(s.path for s in self.plan.steps if isinstance(s, Residual))}

        def short(segs: tuple[str, ...]) -> str:
            """The shortest tail of the path that names one place in the model (`wte`, `h_3_attn`)."""
            for k in range(len(segs) - 1, -1, -1):
                tail = segs[k:]
                if not tail[0][0].isdigit() and sum(p[-len(tail):] == tail for p in paths) == 1:
                    return "_".join(tail)
            return "_".join(segs)

        def val(j: int) -> str:
            return f"{self.var[j]}[0]" if j in multi else self.var[j]

        def code(step: Step) -> str:
            if isinstance(step, Pick):
                name(step.node, f"{self.var[step.source]}_{step.member}")
                return f"{self.var[step.source]}[{step.index}]"
            args = [val(j) for j in step.inputs]
            if isinstance(step, Residual):  # the implicit ⊕ of a residual
                name(step.node, short(step.path))
                return " + ".join(args)
            if isinstance(step, Bare):
                name(step.node, short(self.segs[step.node]))
                cls = type(self.modules[step.node]).__name__
                return f"{cls}.apply({', '.join(args)}, {self.expr[step.node]})"
            args += [f"{k}={val(j)}" for k, j in step.refs]
            if not step.path:  # the root alias: the model is this one module
                name(step.node, g.node(step.node).layer)
                return f"super().forward({', '.join(args)})"
            name(step.node, short(self.segs[step.node]))
            return f"{self.expr[step.node]}({', '.join(args)})"

        lines: list[str] = []
        group = None
        for n in g.nodes:  # inputs named in the graph's order, among the steps
            if n.kind == "input":
                name(n.id, n.name)
                continue
            step = steps.get(n.id)
            if step is None:  # a member nothing reads
                continue
            if self._group(n) != group and lines and not self.root.is_list:
                lines.append("")
            group = self._group(n)
            stmt = code(step)
            lines += _fit(f"{self.var[n.id]} = {stmt}", n.note, _shape_text(n, n.id in multi))
        outs = [val(p.node) for p in g.outputs]
        lines += ([""] if len(lines) > 3 else []) + [f"{_IND}return {', '.join(outs)}"]
        return lines


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
