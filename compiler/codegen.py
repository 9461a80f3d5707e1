"""Standalone PyTorch source from a checked graph: what `archlang compile SPEC -o model.py` writes.

Stage: after checking, beside lowering. `python_source(graph)` returns the
text of one Python file that needs only torch: an `nn.Module` subclass named
after the model whose `__init__` registers the modules that `compiler.lower`
registers, at the same §6 paths and in the same order (so a state_dict saved
from `lower(graph)` loads with `strict=True`), and whose `forward` is
straight-line code, one line per node, in the graph's order.

Nothing is written from a second table of layers: each node's module is built
by its catalogue builder (`compiler.torch_layers.BUILDERS`, on the meta
device, so no weights are allocated) and its constructor call is read back
from the module — the class's `__init__` signature, and the attributes of the
same names that torch's layers and archlang's own keep. Each call read back is
rebuilt and compared with the original, so a class that stops keeping its
arguments fails here, not in the user's file. archlang's own classes are
copied into the file with `inspect.getsource`, with the helpers they use.

Modules with no state that §6 numbers inside a named level (the `2` of
`layer1.0.2`, a ReLU) are registered under a readable name (`relu_2`) instead:
their position has no key in the state_dict, and `self.layer1[0].relu_2`
reads better than `getattr(self.layer1[0], "2")`.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import keyword
import math
import sys
import textwrap
import typing
from pathlib import Path
from types import ModuleType

import torch
from torch import nn

from dsl.graph import ModelGraph, Node

from .torch_layers import BUILDERS

WIDTH = 120
_IND = "        "  # a statement in a method body


class CodegenError(Exception):
    """A graph this writer cannot express as standalone source, with the reason."""


def python_source(g: ModelGraph) -> str:
    return _Writer(g).text()


# ---------------------------------------------------------------- constructor calls


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


def _is_torch(cls: type) -> bool:
    return getattr(nn, cls.__name__, None) is cls


def _public(m: nn.Module) -> dict:
    return {k: v for k, v in vars(m).items() if not k.startswith("_") and not isinstance(v, torch.Tensor)}


def _ctor_args(m: nn.Module) -> tuple[list, dict]:
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
        if _is_torch(cls) and isinstance(v, tuple) and len(v) == 1:
            v = v[0]  # torch widens one size to a 1-tuple (LayerNorm's (768,), Conv1d's (3,))
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


def _call(name: str, args: list, kwargs: dict) -> str:
    parts = [_literal(a) for a in args] + [f"{k}={_literal(v)}" for k, v in kwargs.items()]
    return f"{name}({', '.join(parts)})"


# ---------------------------------------------------------------- copied archlang sources


class _Names(ast.NodeVisitor):
    """Global names a definition reads at run time (annotations are strings in the generated file)."""

    def __init__(self):
        self.names: list[str] = []

    def visit_Name(self, node: ast.Name) -> None:
        if node.id not in self.names:
            self.names.append(node.id)

    def visit_arg(self, node: ast.arg) -> None:
        pass

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        for d in node.decorator_list:
            self.visit(d)
        for d in (*node.args.defaults, *node.args.kw_defaults):
            if d is not None:
                self.visit(d)
        for stmt in node.body:
            self.visit(stmt)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)


def _import_line(name: str, mod: ModuleType) -> str:
    full = mod.__name__
    if full == name:
        return f"import {name}"
    parent, _, last = full.rpartition(".")
    if last == name:
        return f"from {parent} import {name}"
    return f"import {full} as {name}"


class _Sources:
    """archlang definitions the generated file needs, each once, helpers before their users."""

    def __init__(self):
        self.blocks: list[str] = []
        self.done: set[object] = set()
        self.imports: set[str] = {"import torch", "from torch import nn"}

    def add(self, obj) -> None:
        if obj in self.done:
            return
        self.done.add(obj)
        if isinstance(obj, type):
            for base in obj.__bases__:
                if base.__module__.startswith("compiler."):
                    self.add(base)
        src = textwrap.dedent(inspect.getsource(obj))
        visitor = _Names()
        visitor.visit(ast.parse(src))
        scope = vars(sys.modules[obj.__module__])
        for name in visitor.names:
            if name not in scope or name == obj.__name__:
                continue  # a local, or a builtin
            v = scope[name]
            if isinstance(v, ModuleType):
                self.imports.add(_import_line(name, v))
            elif getattr(v, "__module__", "").startswith("compiler.") and (inspect.isclass(v) or inspect.isfunction(v)):
                self.add(v)
            elif not hasattr(builtins, name):
                raise CodegenError(f"{obj.__name__} reads `{name}`, which cannot be copied into standalone source")
        self.blocks.append(src.rstrip())


# ---------------------------------------------------------------- the module tree


def _good_attr(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name) and not hasattr(nn.Module, name) and name != "training"


class _Level:
    """One container of §6: the model itself or a module with no forward."""

    def __init__(self, path: tuple[str, ...]):
        self.path = path
        self.children: dict[str, _Level | int] = {}  # a nested level, or the id of a node placed here
        self.is_list = False
        self.expr = "self"
        self.segs: tuple[str, ...] = ()  # its path as Python reaches it (`relu_2` for §6's `2`)


class _Writer:
    def __init__(self, g: ModelGraph):
        self.g = g
        shapes = {n.id: n.shape for n in g.nodes}
        self.modules: dict[int, nn.Module] = {}
        with torch.device("meta"):  # only the constructor arguments are wanted, not weights
            for n in g.nodes:
                if n.kind == "layer":
                    self.modules[n.id] = BUILDERS[n.layer](n, [shapes[i] for i in n.inputs])
        self.sources = _Sources()
        self.ctor: dict[int, str] = {}
        for nid, m in self.modules.items():
            self.ctor[nid] = self._ctor(m)
        self.root_alias = next((n.id for n in g.nodes if n.id in self.modules and n.name == ""), None)
        self.root = _Level(())
        self.expr: dict[int, str] = {}  # node → how forward reaches its module or parameter
        self.segs: dict[int, tuple[str, ...]] = {}
        self.make: dict[int, str] = {}  # node → the __init__ statement that registers it
        self.make_level: dict[tuple[str, ...], str] = {}
        if self.root_alias is None:
            self._layout()

    def _ctor(self, m: nn.Module) -> str:
        cls = type(m)
        if _is_torch(cls):
            name = f"nn.{cls.__name__}"
        elif cls.__module__.startswith("compiler."):
            self.sources.add(cls)
            name = cls.__name__
        else:
            raise CodegenError(f"{cls.__module__}.{cls.__name__} is neither torch.nn's nor archlang's")
        return _call(name, *_ctor_args(m))

    def _bare(self, nid: int) -> bool:
        return bool(getattr(self.modules[nid], "bare", False))

    # -- placement

    def _layout(self) -> None:
        levels = {(): self.root}
        for nid in self.modules:
            path = tuple(self.g.nodes[nid].name.split("."))
            level = self.root
            for i, seg in enumerate(path[:-1]):
                child = level.children.get(seg)
                if child is None:
                    child = levels[path[: i + 1]] = _Level(path[: i + 1])
                    level.children[seg] = child
                level = child
            level.children[path[-1]] = nid
        self._name_children(self.root)

    def _stateless(self, item) -> bool:
        return isinstance(item, int) and not self._bare(item) and not self.modules[item].state_dict()

    def _name_children(self, level: _Level) -> None:
        names = list(level.children)
        level.is_list = names == [str(i) for i in range(len(names))] and not any(
            isinstance(c, int) and self._bare(c) for c in level.children.values())
        taken = {s for s in names if _good_attr(s)}
        renamed = [s for s in names if not _good_attr(s) and self._stateless(level.children[s])]
        kinds = [self.g.nodes[level.children[s]].layer for s in renamed]
        for seg, item in level.children.items():
            if level.is_list:
                expr = f"{level.expr}[{seg}]"
                make = f"{level.expr}.append({{}})"
                part = seg
            else:
                attr = seg if _good_attr(seg) else None
                if attr is None and seg in renamed:
                    layer = self.g.nodes[item].layer
                    for cand in ((layer,) if kinds.count(layer) == 1 else ()) + (f"{layer}_{seg}",):
                        if _good_attr(cand) and cand not in taken:
                            attr = cand
                            taken.add(cand)
                            break
                if attr is not None:
                    expr, make, part = f"{level.expr}.{attr}", f"{level.expr}.{attr} = {{}}", attr
                else:  # a numbered module with state in a named level: the key must stay
                    how = "register_parameter" if isinstance(item, int) and self._bare(item) else "add_module"
                    expr, make, part = f'getattr({level.expr}, "{seg}")', f'{level.expr}.{how}("{seg}", {{}})', seg
            segs = (*level.segs, part)
            if isinstance(item, _Level):
                item.expr, item.segs = expr, segs
                self._name_children(item)
                self.make_level[item.path] = make.format("nn.ModuleList()" if item.is_list else "nn.Module()")
            else:
                self.expr[item], self.segs[item] = expr, segs
                value = self.ctor[item] + (".weight" if self._bare(item) else "")
                self.make[item] = make.format(value)

    # -- the text

    def text(self) -> str:
        g = self.g
        cls_name = g.name if g.name.isidentifier() else "Model"
        init, forward = self._init_lines(), self._forward_lines()
        if self.root_alias is not None:
            base = self.ctor[self.root_alias].split("(")[0]
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
        lines.append(f"{g.params:,} parameters. Shapes (batch first):")
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
            call = self.ctor[self.root_alias]
            return [f"{_IND}super().__init__({call[call.index('(') + 1:-1]})"]
        lines = [f"{_IND}super().__init__()"]
        made: set[tuple[str, ...]] = set()
        group = None
        for nid in self.modules:
            n = self.g.nodes[nid]
            if self._group(n) != group and len(lines) > 1 and not self.root.is_list:
                lines.append("")
            group = self._group(n)
            path = tuple(n.name.split("."))
            for i in range(1, len(path)):
                if path[:i] not in made:
                    made.add(path[:i])
                    lines += _fit(self.make_level[path[:i]], "")
            lines += _fit(self.make[nid], "")
            for pname, owner in n.shares.items():
                source = self.expr[owner] + ("" if self._bare(owner) else f".{pname}")
                lines += _fit(f"{self.expr[nid]}.{pname} = {source}", "one tensor under both names (tie=)")
        return lines

    def _forward_lines(self) -> list[str]:
        g = self.g
        multi = g.multi_result_nodes()
        used = g.read_nodes()
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

        paths = {*self.segs.values(), *(tuple(n.name.split(".")) for n in g.nodes if n.kind == "residual")}

        def short(segs: tuple[str, ...]) -> str:
            """The shortest tail of the path that names one place in the model (`wte`, `h_3_attn`)."""
            for k in range(len(segs) - 1, -1, -1):
                tail = segs[k:]
                if not tail[0][0].isdigit() and sum(p[-len(tail):] == tail for p in paths) == 1:
                    return "_".join(tail)
            return "_".join(segs)

        def val(j: int) -> str:
            return f"{self.var[j]}[0]" if j in multi else self.var[j]

        lines: list[str] = []
        group = None
        for n in g.nodes:
            if n.kind == "input":
                name(n.id, n.name)
                continue
            if n.kind == "member" and n.id not in used:
                continue
            if self._group(n) != group and lines and not self.root.is_list:
                lines.append("")
            group = self._group(n)
            args = [val(j) for j in n.inputs] + [f"{k}={val(j)}" for k, j in n.refs.items()]
            if n.kind == "member":
                name(n.id, f"{self.var[n.inputs[0]]}_{n.args['member']}")
                code = f"{self.var[n.inputs[0]]}[{n.args['index']}]"
            elif n.kind == "residual":  # the implicit ⊕ of a residual
                name(n.id, short(tuple(n.name.split("."))))
                code = " + ".join(args)
            elif n.id == self.root_alias:
                name(n.id, n.layer)
                code = f"super().forward({', '.join(args)})"
            elif self._bare(n.id):
                name(n.id, short(self.segs[n.id]))
                code = f"{type(self.modules[n.id]).__name__}.apply({', '.join(args)}, {self.expr[n.id]})"
            else:
                name(n.id, short(self.segs[n.id]))
                code = f"{self.expr[n.id]}({', '.join(args)})"
            lines += _fit(f"{self.var[n.id]} = {code}", n.note)
        outs = [val(p.node) for p in g.outputs]
        lines += ([""] if len(lines) > 3 else []) + [f"{_IND}return {', '.join(outs)}"]
        return lines


def _shape(p) -> str:
    dtype = "" if p.dtype == "float" else p.dtype
    return dtype + "[" + ", ".join(["batch", *(str(d) for d in p.shape)]) + "]"


def _fit(stmt: str, note: str | None) -> list[str]:
    """One statement as method-body lines within WIDTH, its note as a trailing comment where it fits."""
    line = _IND + stmt
    comment = f"  # {note}" if note else ""
    if len(line) + len(comment) <= WIDTH:
        return [line + comment]
    out = [f"{_IND}# {note}"] if note else []
    if len(line) <= WIDTH:
        return out + [line]
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
    return out + [f"{_IND}{head}", *body, f"{_IND})"]
