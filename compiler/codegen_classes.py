"""One class per block definition: the instances of a block that share a structure, with constructor arguments.

Stage: beside lowering, for `compiler.codegen`. Codegen writes each block
instance's class text with its sizes as literals (`nn.Conv2d(64, 128,
stride=2)`); `shared_classes` groups the instances of one block whose texts
differ only in those literals, as torchvision's one `BasicBlock(inplanes,
planes, stride=1, downsample=None)` serves all of ResNet-18:

- A literal that differs between instances becomes a constructor argument,
  named after what equals it in every instance: a block parameter
  (`planes`, `stride`: its value in each instance is what the checked
  graph's frame of that call records), else the input's
  size (`in_channels`), else the layer argument it fills (`out_features`).
  Literals that agree stay literals.
- A member present in some instances only (ResNet's `downsample`, under an
  `if` of the block) becomes optional: a boolean argument, `None` where it
  is absent, and `if self.downsample is not None:` in `forward`, where its
  one call's result falls back to the value it reads — provided that is
  exactly how the instances without it read.
- A trailing shape comment that varies between instances names the
  arguments it equals (`[B, planes, 28, 28]` cannot be true for all; a
  dimension nothing names drops the shape, keeping the note).

Instances that differ in anything else keep classes of their own
(`Block_2`). This module works on the text codegen writes, token by token,
so it cannot disagree with it about what a class does; it needs no torch.
"""

from __future__ import annotations

import io
import keyword
import re
import tokenize
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from archlang.dsl import ast
from archlang.dsl.diagnostics import Reporter
from archlang.dsl.graph import ModelGraph, Node
from archlang.dsl.layers import REGISTRY as LAYERS
from archlang.dsl.parse import parse
from archlang.dsl.program import STD

_IND = "        "
_NO_DEFAULT = object()


@dataclass
class Instance:
    """One block instance's class text, as codegen writes it for that instance alone."""

    path: tuple[str, ...]
    base: str
    init: list[str]  # the body of `__init__`
    members: list[tuple[str, int, int]]  # attribute, first and last `init` line of each child registered
    forward: list[str]  # `def forward...` and its body
    candidates: dict[str, Any] = field(default_factory=dict)  # names for its sizes, most wanted first
    defaults: dict[str, Any] = field(default_factory=dict)  # the block parameters' literal defaults
    inputs: tuple[str, ...] = ()  # the candidates that are its input's sizes: first in the signature
    args: tuple[str, ...] = ()  # `forward`'s arguments: after the first, named after values outside
    lets: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)  # `let`s: Python text, names read


@dataclass
class Shared:
    """A class several instances share: its signature, text, and each instance's constructor call."""

    instances: list[Instance]
    params: list[tuple[str, Any]]  # (name, default or _NO_DEFAULT), in signature order
    init: list[str]
    forward: list[str]
    base: str
    values: dict[str, list[Any]]  # each argument's value per instance

    def parameters(self) -> list[str]:
        """`__init__`'s parameters after `self`, typed (`planes: int`, `stride: int = 1`)."""
        return [f"{name}: {_kind(self.values[name])}" + ("" if default is _NO_DEFAULT else f" = {default!r}")
                for name, default in self.params]

    def signature(self) -> str:
        return f"    def __init__({', '.join(['self', *self.parameters()])}) -> None:"

    def arguments(self, inst: Instance, keep: set[str] = frozenset()) -> list[str]:
        """`inst`'s constructor arguments: the required ones by position, others where not default (or kept)."""
        out = []
        k = next(i for i, x in enumerate(self.instances) if x is inst)
        for name, default in self.params:
            v = self.values[name][k]
            if default is _NO_DEFAULT:
                out.append(repr(v))
            elif name in keep or not _same(v, default):
                out.append(f"{name}={v!r}")
        return out


def _kind(values: list[Any]) -> str:
    """The annotation of an argument with these values; `| None` where an optional member alone reads it."""
    v = next(x for x in values if x is not None)
    return ("bool" if isinstance(v, bool) else type(v).__name__) + (" | None" if None in values else "")


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


# ---------------------------------------------------------------- the block parameters of each instance


Lets = dict[str, tuple[str, tuple[str, ...]]]


class BlockArguments:
    """What each block call's parameters were, and what its definition says of them, for one graph.

    The values come from the checked graph: each block frame records its parameters as bound at the call.
    The definition is read only for what the graph does not hold, the parameters' literal defaults and the
    `let`s: once per graph (never across graphs: an edited spec is read afresh by the next codegen), and
    only where its parameters are still the ones the frame records.
    """

    def __init__(self, g: ModelGraph) -> None:
        self.g = g
        self._layers: dict[int, list[Node]] = {}
        for n in g.nodes:
            frame = _block_frame(g, n.frame) if n.kind == "layer" else None
            if frame is not None:
                self._layers.setdefault(frame, []).append(n)
        self._definitions: dict[tuple[str, str], ast.BlockDef | None] = {}

    def __call__(self, frame: int) -> tuple[dict[str, Any], dict[str, Any], Lets]:
        """The values of block call `frame`'s parameters and `let`s, the parameters' literal defaults, and its
        `let`s of simple arithmetic as Python (`out = planes * expansion`) with the names they read.

        Every parameter's value is the frame's. A `let`'s value is read back from a layer of the definition
        given it by name (`conv(out, 1)` records `out` among its arguments); `let`s no layer argument names
        directly are not known here. A definition that cannot be read (its file gone), or that no longer
        declares the parameters the frame records, gives the values alone.
        """
        args = dict(self.g.frames[frame].args)
        nodes = self._layers.get(frame)
        if not nodes:
            return args, {}, {}
        key = (nodes[0].span.file, self.g.frames[frame].name)
        if key not in self._definitions:
            self._definitions[key] = _definition(*key)
        defn = self._definitions[key]
        declared = [p.name for p in defn.params] if defn is not None else []
        if defn is None or [p for p in declared if p in args] != list(args):
            return args, {}, {}
        lets: Lets = {}
        for stmt in defn.body.stmts:
            if isinstance(stmt, ast.Let):
                text = _python(stmt.value)
                if text is not None:
                    lets[stmt.name] = (text, tuple(_names(stmt.value)))
        defaults = {p.name: p.default.value for p in defn.params if isinstance(p.default, ast.Literal_)}
        wanted = set(lets) - set(declared)
        calls = {(c.span.line, c.span.col): c for c in _layer_calls(defn.body)} if wanted else {}
        values: dict[str, Any] = {}
        for n in nodes if wanted else ():
            call = calls.get((n.span.line, n.span.col))
            layer = LAYERS.get(n.layer)
            if call is None or layer is None or not call.args:
                continue
            names = layer.argument_names()
            for i, arg in enumerate(call.args):
                key_ = arg.name if arg.name is not None else (names[i] if i < len(names) else None)
                if isinstance(arg.value, ast.Name) and arg.value.id in wanted and key_ in n.args:
                    values.setdefault(arg.value.id, n.args[key_])
        return {**args, **{n: values[n] for n in lets if n in values}}, defaults, lets


def _python(e: Any) -> str | None:
    """A block's `let` of names, numbers and + - * // as Python; None for anything else."""
    if isinstance(e, ast.Name):
        return e.id
    if isinstance(e, ast.Literal_) and type(e.value) in (int, float):
        return repr(e.value)
    if isinstance(e, ast.BinOp) and e.op in ("+", "-", "*", "//"):
        left, right = _python(e.left), _python(e.right)
        if left is None or right is None:
            return None
        wrap = e.op in ("*", "//")
        left = f"({left})" if wrap and isinstance(e.left, ast.BinOp) and e.left.op in "+-" else left
        right = f"({right})" if isinstance(e.right, ast.BinOp) and (wrap or e.right.op in "+-") else right
        return f"{left} {e.op} {right}"
    return None


def _names(e: Any) -> list[str]:
    if isinstance(e, ast.Name):
        return [e.id]
    if isinstance(e, ast.BinOp):
        return _names(e.left) + _names(e.right)
    return []


def _block_frame(g: ModelGraph, frame: int | None) -> int | None:
    while frame is not None and g.frames[frame].kind != "block":
        frame = g.frames[frame].parent
    return frame


def _definition(file: str, name: str) -> ast.BlockDef | None:
    """Block `name`'s definition, parsed again from its file (the parser keeps what it parsed, by text)."""
    path = STD / file[len("std/"):] if file.startswith("std/") else Path(file)
    try:
        tree = parse(path.read_text(), file, Reporter())
    except Exception:  # noqa: BLE001  (names only: the classes are right without them)
        return None
    return next((i for i in tree.items if isinstance(i, ast.BlockDef) and i.name == name), None)


def _layer_calls(node: Any):
    if isinstance(node, ast.LayerCall):
        yield node
    if isinstance(node, list):
        for x in node:
            yield from _layer_calls(x)
    elif isinstance(node, ast.Node):
        for name in type(node).model_fields:
            yield from _layer_calls(getattr(node, name))


def input_sizes(shape: tuple) -> dict[str, int]:
    """Names for a block's input sizes: its channels (an image's first size), or its features (the last)."""
    if not shape or not isinstance(shape[0], int):
        return {}
    if len(shape) >= 3:
        return {"in_channels": shape[0]}
    return {"in_features": shape[-1]} if isinstance(shape[-1], int) else {}


# ---------------------------------------------------------------- tokens


@dataclass(frozen=True)
class _Tok:
    kind: int
    text: str
    line: int  # 0-based, in the instance's lines
    start: int
    end: int

    @property
    def slot(self) -> bool:
        """A literal that may differ between instances of one class."""
        return self.kind == tokenize.NUMBER or self.kind == tokenize.NAME and self.text in ("True", "False")


_SKIP = {tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.COMMENT, tokenize.ENDMARKER}


def _tokens(lines: list[str]) -> list[_Tok]:
    text = "\n".join(lines) + "\n"
    return [_Tok(t.type, t.string, t.start[0] - 1, t.start[1], t.end[1])
            for t in tokenize.generate_tokens(io.StringIO(text).readline) if t.type not in _SKIP]


def _shape_of(toks: list[_Tok], numbers: bool) -> tuple:
    return tuple((t.kind, "#" if t.slot and numbers else t.text) for t in toks)


def _literal(t: _Tok) -> Any:
    if t.text in ("True", "False"):
        return t.text == "True"
    return eval(t.text)  # noqa: S307  (a NUMBER token codegen wrote)


def _comments(lines: list[str]) -> list[str | None]:
    """Each line's trailing comment (or a comment line's text), None where it has none."""
    out: list[str | None] = [None] * len(lines)
    for t in tokenize.generate_tokens(io.StringIO("\n".join(lines) + "\n").readline):
        if t.type == tokenize.COMMENT:
            out[t.start[0] - 1] = t.string
    return out


# ---------------------------------------------------------------- grouping


_CALL = re.compile(r"^\s*(\w+) = self\.(\w+)\((\w+)\)(\s*#.*)?$")


@dataclass
class _Bucket:
    """Instances whose texts agree but for literals; `optional` members only some have."""

    template: Instance
    members: list[Instance]
    optional: list[str] = field(default_factory=list)
    # per instance: its init and forward line numbers for each template line (None: a line it has not)
    init_map: dict[int, list[int | None]] = field(default_factory=dict)
    forward_map: dict[int, list[int | None]] = field(default_factory=dict)


def shared_classes(instances: list[Instance], positional: Callable[[str], list[str]] = lambda callee: []
                   ) -> list[Shared]:
    """The classes for the instances of one block: as few as the texts allow, each with its arguments.

    Each class lists its instances in the order given. `positional(callee)` names the parameters of a
    constructor the text calls (`nn.Conv2d` → in_channels, out_channels, ...), for unnamed arguments.
    """
    buckets: dict[tuple, _Bucket] = {}
    named = {a for inst in instances for a in inst.args}
    instances = [_placeholders(inst) for inst in instances]
    for inst in instances:
        key = (inst.base, _shape_of(_tokens(inst.init), True), _shape_of(_tokens(inst.forward), False))
        b = buckets.setdefault(key, _Bucket(inst, []))
        b.members.append(inst)
    merged = _merge_optional(list(buckets.values()))
    for b in merged:
        b.members.sort(key=lambda i: next(k for k, x in enumerate(instances) if x is i))
    return [_write(b, named, positional) for b in sorted(merged, key=lambda b: next(k for k, x in enumerate(instances)
                                                                         if x is b.members[0]))]


def _arg_pattern(name: str) -> str:
    return rf"(?<![.\w]){re.escape(name)}\b"


def _placeholders(inst: Instance) -> Instance:
    """`inst` with `forward`'s arguments renamed `_arg0_`, ...: their names may come from outside the block
    (`encoder_layer_0_output_LayerNorm`, a model input's `src`), so instances alike but for them share a class."""
    forward = list(inst.forward)
    for k, a in enumerate(inst.args):
        forward = [re.sub(_arg_pattern(a), f"_arg{k}_", line) for line in forward]
    return replace(inst, forward=forward)


def _argument_names(b: _Bucket, named: set[str]) -> list[str]:
    """Each placeholder's name: the instances' own where they agree, else `x`, `x2`, `x3`, ..."""
    out = []
    for k in range(len(b.template.args)):
        own = {i.args[k] for i in b.members}
        name = own.pop() if len(own) == 1 else "x" if k == 0 else f"x{k + 1}"
        while name != b.template.args[k] and name in named:
            name += "_"
        out.append(name)
    return out


def _identity(inst: Instance) -> tuple[list[int | None], list[int | None]]:
    return list(range(len(inst.init))), list(range(len(inst.forward)))


def _merge_optional(buckets: list[_Bucket]) -> list[_Bucket]:
    """Fold a bucket into one whose instances have more members, where the extra ones are optional."""
    for b in buckets:
        for inst in b.members:
            b.init_map[id(inst)], b.forward_map[id(inst)] = _identity(inst)
    buckets.sort(key=lambda b: -len(b.template.members))
    out: list[_Bucket] = []
    for b in buckets:
        for big in out:
            maps = _without(big.template, b.template)
            if maps is not None:
                extra = [m for m, _, _ in big.template.members if m not in {n for n, _, _ in b.template.members}]
                if not set(big.optional) <= set(extra) and big.optional:
                    continue
                big.optional = extra
                init_map, forward_map = maps
                for inst in b.members:
                    big.members.append(inst)
                    big.init_map[id(inst)] = init_map
                    big.forward_map[id(inst)] = forward_map
                break
        else:
            out.append(b)
    return out


def _without(big: Instance, small: Instance) -> tuple[list[int | None], list[int | None]] | None:
    """How `small`'s lines sit in `big`'s, where `small` is `big` without some members, read past; else None."""
    have = [m for m, _, _ in small.members]
    extra = [(m, a, z) for m, a, z in big.members if m not in have]
    if not extra or [m for m, _, _ in big.members if m in have] != have:
        return None
    gone = {i for _, a, z in extra for i in range(a, z + 1)}
    init_map: list[int | None] = []
    k = 0
    for i in range(len(big.init)):
        init_map.append(None if i in gone else k)
        k += i not in gone
    if k != len(small.init):
        return None
    kept = [big.init[i] for i in range(len(big.init)) if i not in gone]
    if _shape_of(_tokens(kept), True) != _shape_of(_tokens(small.init), True):
        return None
    # forward: each optional member is one call `v = self.m(u)`; without it, its readers read `u`.
    lines = list(big.forward)
    dropped: set[int] = set()
    for m, _, _ in extra:
        calls = [(i, _CALL.match(line)) for i, line in enumerate(lines) if f"self.{m}" in line]
        if len(calls) != 1 or calls[0][1] is None or calls[0][1].group(2) != m:
            return None
        i, match = calls[0]
        v, u = match.group(1), match.group(3)
        dropped.add(i)
        lines = [line if j in dropped else re.sub(rf"\b{v}\b", u, line) for j, line in enumerate(lines)]
    kept = [lines[i] for i in range(len(lines)) if i not in dropped]
    if _shape_of(_tokens(kept), False) != _shape_of(_tokens(small.forward), False) or len(kept) != len(small.forward):
        return None
    forward_map: list[int | None] = []
    k = 0
    for i in range(len(lines)):
        forward_map.append(None if i in dropped else k)
        k += i not in dropped
    return init_map, forward_map


# ---------------------------------------------------------------- one class's text


def _write(b: _Bucket, named: set[str], positional: Callable[[str], list[str]]) -> Shared:
    t = b.template
    insts = b.members
    toks = _tokens(t.init)
    # each instance's literal at each slot of the template (None where the instance lacks that line)
    slots = [i for i, tok in enumerate(toks) if tok.slot]
    per: list[list[Any]] = []
    for inst in insts:
        own = [x for x in _tokens(inst.init) if x.slot]
        line_of = b.init_map[id(inst)]
        it = iter(own)
        row = []
        for i in slots:
            row.append(None if line_of[toks[i].line] is None else _literal(next(it)))
        per.append(row)
    # the names `__init__` reads (nn, a class written here): no argument may hide one
    code = {x.text for k, x in enumerate(toks) if x.kind == tokenize.NAME and not x.slot
            and not (k and toks[k - 1].text == ".") and not (k + 1 < len(toks) and toks[k + 1].text == "=")}
    names: dict[int, str] = {}  # slot → argument name
    values: dict[str, list[Any]] = {}
    order: list[tuple[str, Any, int]] = []  # (name, default, rank) for the signature
    fallback: dict[tuple, str] = {}
    for k, i in enumerate(slots):
        vec = [row[k] for row in per]
        present = [v for v in vec if v is not None]
        name = _candidate(insts, vec, code)
        if all(_same(v, present[0]) for v in present):
            # constant where present: a literal, unless an optional member's literal is an argument already
            # (ResNet's downsample has stride 2 wherever it is: it is `stride`)
            if name is None or len(present) == len(vec) or name not in values:
                continue
        if name is None:  # one name for the literals that agree wherever both are present
            name = next((n for n, other in fallback.items() if all(
                a is None or b is None or _same(a, b) for a, b in zip(vec, other))), None)
            if name is None:
                name = _fallback_name(toks, i, {n for n, _, _ in order} | set(t.candidates) | code, positional)
                fallback[name] = list(vec)
            else:
                fallback[name] = [a if a is not None else b for a, b in zip(fallback[name], vec)]
                values[name] = fallback[name]
            full = fallback[name]
        else:
            full = [inst.candidates[name] for inst in insts]
        names[i] = name
        if name not in values:
            values[name] = full
            default = t.defaults.get(name, _NO_DEFAULT)
            if default is not _NO_DEFAULT and not all(type(v) is type(default) for v in full):
                default = _NO_DEFAULT
            if name in fallback:  # None in the instances that lack the optional member that alone reads it
                default = None
            rank = (name not in t.inputs, list(t.candidates).index(name) if name in t.candidates else len(t.candidates))
            order.append((name, default, rank))
    for m in b.optional:
        values[m] = [m in {n for n, _, _ in inst.members} for inst in insts]
        order.append((m, False, (2, 0)))
    order = [(n, d if d is not None or None in values[n] else _NO_DEFAULT, r) for n, d, r in order]
    known = set(values)
    lets = _lets(t, insts, values, code)
    for name in [n for n in values if n not in known]:  # parameters only a `let` reads, now arguments
        default = t.defaults.get(name, _NO_DEFAULT)
        if default is not _NO_DEFAULT and not all(type(v) is type(default) for v in values[name]):
            default = _NO_DEFAULT
        order.append((name, default, (True, list(t.candidates).index(name))))
    order = [o for o in order if o[0] not in {n for n, _ in lets}]
    order.sort(key=lambda x: (x[1] is not _NO_DEFAULT, x[2]))
    init = _substitute(t.init, toks, names)
    init = _comments_for(init, b, insts, "init", values)
    init = _optional_init(init, t, b.optional)
    init = init[:1] + [f"{_IND}{n} = {text}" for n, text in lets] + init[1:]  # after super().__init__()
    init = [x for line in init for x in _refit(line)]
    forward = _comments_for(list(t.forward), b, insts, "forward", values)
    forward = _optional_forward(forward, b.optional)
    for k, name in enumerate(_argument_names(b, named)):
        forward = [line.replace(f"_arg{k}_", name) for line in forward]
    forward = _rejoin(forward)
    return Shared(insts, [(n, d) for n, d, _ in order], init, forward, t.base, values)


def _rejoin(lines: list[str], width: int = 120) -> list[str]:
    """What shorter argument names let fit again: a one-line `def forward(...)`, a comment beside its statement."""
    out = list(lines)
    if out and out[0] == "    def forward(":
        end = next(i for i, line in enumerate(out) if line.startswith("    ) ->"))
        one = f"    def forward({' '.join(line.strip() for line in out[1:end])[:-1]}{out[end][4:]}"
        if len(one) <= width:
            out[1:end + 1] = []
            out[0] = one
    joined: list[str] = []
    for line in out:
        prev = joined[-1] if joined else ""
        if (prev.strip().startswith("#") and line.strip() and not line.strip().startswith("#") and "#" not in line
                and len(line) + 2 + len(prev.strip()) <= width):
            joined[-1] = f"{line}  {prev.strip()}"
        else:
            joined.append(line)
    return joined


def _with_values(text: str, consts: dict[str, Any]) -> str:
    return re.sub(r"\b\w+\b", lambda m: repr(consts[m.group()]) if m.group() in consts else m.group(), text)


def _refit(line: str, width: int = 120) -> list[str]:
    """A line that names made too long, broken inside its first call's parentheses (one argument a line
    if need be)."""
    if len(line) <= width or "(" not in line or "#" in line:
        return [line]
    indent = line[:len(line) - len(line.lstrip())]
    start = line.index("(")
    depth, parts, last = 0, [], start + 1
    for k in range(start, len(line)):
        ch = line[k]
        depth += ch in "([{"
        depth -= ch in ")]}"
        if depth == 1 and ch == ",":
            parts.append(line[last:k].strip())
            last = k + 1
        if depth == 0:
            break
    else:
        return [line]
    parts.append(line[last:k].strip())
    one = f"{indent}    {', '.join(parts)}"
    body = [one] if len(one) <= width else [f"{indent}    {p}," for p in parts]
    return [line[:start + 1], *body, f"{indent}{line[k:]}"]


def _lets(t: Instance, insts: list[Instance], values: dict[str, list[Any]], code: set[str]) -> list[tuple[str, str]]:
    """The block's `let`s among the arguments that `__init__` can compute from the others (`planes * 4`).

    A name the `let` reads that is no argument is written as its value where that is the same in every
    instance; a block parameter that differs becomes an argument, added to `values` (`linear(hidden)` with
    `let hidden = width * 4` takes `width`, not `hidden`). Each `let` is checked against every instance's
    value; one that does not agree stays an argument.
    """
    out = []
    for name, (text, reads) in t.lets.items():
        if name not in values or any(r not in values and r not in t.defaults and r not in t.candidates
                                     for r in reads):
            continue
        consts: dict[str, Any] = {}
        extra: dict[str, list[Any]] = {}
        for r in reads:
            if r in values:
                continue
            seen = {repr(i.candidates.get(r, t.defaults.get(r))) for i in insts}
            if len(seen) == 1:
                consts[r] = insts[0].candidates.get(r, t.defaults.get(r))
            elif _argument(r, insts, code):
                extra[r] = [i.candidates[r] for i in insts]
            else:
                break
        else:
            py = _with_values(text, consts)
            given = {**values, **extra}
            try:
                ok = all(_same(eval(py, {"__builtins__": {}}, {n: v[k] for n, v in given.items()}),  # noqa: S307
                               values[name][k]) for k in range(len(insts)))
            except Exception:  # noqa: BLE001  (a `let` it cannot compute stays an argument)
                ok = False
            if ok:
                out.append((name, py))
                values.update(extra)
    return out


def _argument(name: str, insts: list[Instance], code: set[str]) -> bool:
    """Whether `name`, a number in every instance, may become an argument that a `let` reads."""
    return (name.isidentifier() and not keyword.iskeyword(name) and name != "self" and name not in code
            and all(type(i.candidates.get(name)) in (int, float) for i in insts))


def _candidate(insts: list[Instance], vec: list[Any], code: set[str]) -> str | None:
    """The first name whose value equals the literal in every instance that has it; none that the code reads."""
    names = [n for n in insts[0].candidates if all(n in i.candidates for i in insts)
             and n.isidentifier() and not keyword.iskeyword(n) and n != "self" and n not in code]
    for n in names:
        if all(v is None or _same(v, i.candidates[n]) for v, i in zip(vec, insts)):
            return n
    return None


def _fallback_name(toks: list[_Tok], i: int, taken: set[str], positional: Callable[[str], list[str]]) -> str:
    """The constructor parameter a literal fills (`out_channels`), else `size`; numbered where taken."""
    base = "size"
    if i >= 2 and toks[i - 1].text == "=" and toks[i - 2].kind == tokenize.NAME:
        base = toks[i - 2].text
    else:  # a positional argument: its index in the call around it
        depth, commas, j = 0, 0, i - 1
        while j >= 0 and depth >= 0:
            depth += {")": 1, "]": 1, "(": -1, "[": -1}.get(toks[j].text, 0)
            commas += depth == 0 and toks[j].text == ","
            j -= 1
        if j >= 0 and toks[j + 1].text == "(" and toks[j].kind == tokenize.NAME:
            dotted = j >= 2 and toks[j - 1].text == "."
            names = positional(f"{toks[j - 2].text}.{toks[j].text}" if dotted else toks[j].text)
            base = names[commas] if commas < len(names) else base
    if keyword.iskeyword(base) or base == "self":
        base = "size"
    name, k = base, 2
    while name in taken:
        name, k = f"{base}_{k}", k + 1
    return name


def _substitute(lines: list[str], toks: list[_Tok], names: dict[int, str]) -> list[str]:
    out = list(lines)
    for i in sorted(names, key=lambda i: (toks[i].line, -toks[i].start)):
        t = toks[i]
        line = out[t.line]
        out[t.line] = line[:t.start] + names[i] + line[t.end:]
    # right to left within a line keeps the columns of the tokens still to replace
    return out


def _comments_for(lines: list[str], b: _Bucket, insts: list[Instance], part: str,
                  values: dict[str, list[Any]]) -> list[str]:
    """Each comment as true for every instance: varying numbers named by the arguments, else no shape."""
    maps = b.init_map if part == "init" else b.forward_map
    own = [_comments(getattr(inst, part)) for inst in insts]
    template = _comments(lines)
    # An instance whose lines broke differently (a comment moved above its statement) cannot be lined up
    # with the template's: then no shape is printed, only notes.
    aligned = all(len(c) == sum(m is not None for m in maps[id(inst)]) for c, inst in zip(own, insts))
    out = []
    for j, line in enumerate(lines):
        mine = template[j]
        if mine is None:
            out.append(line)
            continue
        if not aligned:
            text = _note_only([mine])
        else:
            texts = [own[k][maps[id(inst)][j]] for k, inst in enumerate(insts) if maps[id(inst)][j] is not None]
            texts = [x for x in texts if x is not None]
            text = _common_comment(texts, [values[n] for n in values], list(values)) if texts else mine
        head = line[:line.rindex(mine)]
        if head.strip() and text is None:
            out.append(head.rstrip())
        elif head.strip():
            out.append(f"{head.rstrip()}  {text}")
        elif text is not None:  # a comment line of its own
            out.append(head + text)
    return out


_NUM = re.compile(r"\d+")


def _common_comment(texts: list[str], vectors: list[list[Any]], names: list[str]) -> str | None:
    if all(x == texts[0] for x in texts):
        return texts[0]
    parts = [_NUM.split(x) for x in texts]
    nums = [_NUM.findall(x) for x in texts]
    if any(p != parts[0] for p in parts):
        return _note_only(texts)
    out = parts[0][0]
    for k in range(len(nums[0])):
        vec = [int(n[k]) for n in nums]
        if all(v == vec[0] for v in vec):
            word = str(vec[0])
        else:
            word = next((nm for nm, vv in zip(names, vectors) if len(vv) == len(vec) and vv == vec), None)
            if word is None:
                return _note_only(texts)
        out += word + parts[0][k + 1]
    return out


def _note_only(texts: list[str]) -> str | None:
    """The comment without its shape (`# [B, 64, 56, 56]  note` → `# note`), if every instance's note agrees."""
    notes = []
    for x in texts:
        body = x[1:].strip()
        if body[:1] in "[(" or re.match(r"^\w+\[", body):
            body = body.split("  ", 1)[1] if "  " in body else ""
        notes.append(body)
    if notes[0] and all(n == notes[0] for n in notes):
        return f"# {notes[0]}"
    return None


def _optional_init(lines: list[str], t: Instance, optional: list[str]) -> list[str]:
    if not optional:
        return lines
    spans = {m: (a, z) for m, a, z in t.members if m in optional}
    out: list[str] = []
    starts = {a: m for m, (a, _) in spans.items()}
    i = 0
    while i < len(lines):
        m = starts.get(i)
        if m is None:
            out.append(lines[i])
            i += 1
            continue
        a, z = spans[m]
        out += [f"{_IND}self.{m} = None", f"{_IND}if {m}:", *("    " + line for line in lines[a:z + 1])]
        i = z + 1
    return out


def _optional_forward(lines: list[str], optional: list[str]) -> list[str]:
    out: list[str] = []
    for line in lines:
        match = _CALL.match(line)
        if match is None or match.group(2) not in optional:
            out.append(line)
            continue
        v, m, u = match.group(1), match.group(2), match.group(3)
        out += [f"{_IND}{v} = {u}", f"{_IND}if self.{m} is not None:", "    " + line]
    return out
