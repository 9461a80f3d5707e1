"""The expression evaluator: LANGUAGE.md §3, and nothing more.

Stage: expansion. Walks `dsl.ast` expression nodes over a `Scope`; names may
stand for numbers, strings, symbolic sizes or tensor values (`in.shape[0]`,
`enc.last`). Nothing here reaches Python's eval, exec or imports, and every
result is bounded so that no spec can make the tools allocate without bound.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from . import ast
from .diagnostics import DiagnosticError, Reporter
from .dims import NotConcrete, Sym, is_concrete
from .scope import Scope
from .suggest import did_you_mean
from .values import Bundle, Namespace, Value

MAX_INT = 2**48  # far above any real size; keeps arithmetic cheap and bounded
MAX_LIST = 1024
_UNBOUND = object()  # a name the scope does not define (the slow path reports it)


def type_name(x: Any) -> str:
    if isinstance(x, bool):
        return "a boolean"
    if isinstance(x, int):
        return "an integer"
    if isinstance(x, float):
        return "a number"
    if isinstance(x, str):
        return "a string"
    if x is None:
        return "none"
    if isinstance(x, Sym):
        return f"the symbolic size {x}"
    if isinstance(x, (list, tuple)):
        return "a list"
    if isinstance(x, Value):
        return "a tensor value"
    if isinstance(x, Bundle):
        return "parallel branches"
    if isinstance(x, Namespace):
        return "a group of labels"
    return "a value"


def _number(x: Any) -> bool:
    return (isinstance(x, (int, float, Sym))) and not isinstance(x, bool)


class Evaluator:
    def __init__(self, reporter: Reporter, on_unknown_name: Callable[[str], Any] | None = None) -> None:
        self.reporter = reporter
        # Input declarations turn unknown names into symbolic sizes.
        self.on_unknown_name = on_unknown_name
        # Every member read (`enc.last`, `in.conv1`), so that a block call's recorded expansion can
        # tell whether it read a value from outside itself (`dsl.expand.reuse`).
        self.member_reads: list[Any] = []
        # Each operator expression's operand names, by id() (`_poisoned_operand`); the expression is kept
        # beside them, so that no other can take its id while the entry lives.
        self._roots: dict[int, tuple[ast.Expr, tuple[str, ...]]] = {}

    def error(self, code: str, node: ast.Node, hint: str | None = None, **fields) -> DiagnosticError:
        return self.reporter.error(code, node.span, hint, **fields)

    def __call__(self, expr: ast.Expr, scope: Scope) -> Any:
        kind = expr.kind
        if kind == "literal" or kind == "name":
            # Most arguments are a number or a name: their value, where the checks below would pass it as is.
            if kind == "literal":
                v = expr.value
            else:
                binding = scope.lookup(expr.id)
                v = binding.value if binding is not None else _UNBOUND
            t = type(v)
            if t is int:
                if -MAX_INT <= v <= MAX_INT:
                    return v
            elif t is float:
                if v == v:
                    return v
            elif v is not _UNBOUND and (t is bool or not isinstance(v, int)):
                return v
        if kind in _OPERATORS:
            poisoned = self._poisoned_operand(expr, scope)
            if poisoned is not None:
                return poisoned
        method = _METHODS.get(kind)
        try:
            result = method(self, expr, scope) if method is not None else getattr(self, "_" + kind)(expr, scope)
        except NotConcrete as e:
            raise self.error("E401", expr, form="symbolic", symbol=e) from None
        except RecursionError:
            raise self.error("E006", expr, limit="the evaluator's") from None
        t = type(result)
        if t is bool:
            return result
        if (t is int or isinstance(result, int)) and abs(result) > MAX_INT:
            shown = f"{result:.3g}" if abs(result) < 1e300 else "huge"
            raise self.error("E404", expr, what="this number", value=shown, limit=f"{MAX_INT:,}")
        if (t is float or isinstance(result, float)) and result != result:
            raise self.error("E401", expr, form="nan")
        return result

    def _poisoned_operand(self, expr: ast.Expr, scope: Scope) -> Value | None:
        """Errors upstream poison a value; expressions over it, however deep (`max(n - 1, 1)`), stay quiet
        (no cascade)."""
        entry = self._roots.get(id(expr))
        if entry is None or entry[0] is not expr:
            entry = self._roots[id(expr)] = (expr, _operand_roots(expr))
        for name in entry[1]:
            b = scope.lookup(name)
            if b is not None and isinstance(b.value, Value) and b.value.poisoned:
                return b.value
        return None

    # ---- atoms
    def _literal(self, e: ast.Literal_, scope: Scope) -> Any:
        return e.value

    def _name(self, e: ast.Name, scope: Scope) -> Any:
        binding = scope.lookup(e.id)
        if binding is not None:
            return binding.value
        if self.on_unknown_name is not None:
            return self.on_unknown_name(e.id)
        raise self.error("E102", e, hint=did_you_mean(e.id, scope.visible()), name=e.id)

    def _list(self, e: ast.ListLit, scope: Scope) -> Any:
        if len(e.items) > MAX_LIST:
            raise self.error("E404", e, what="this list", value=len(e.items), limit=MAX_LIST)
        return [self(i, scope) for i in e.items]

    def _attr(self, e: ast.Attr, scope: Scope) -> Any:
        obj = self(e.obj, scope)
        return self.attribute(obj, e.attr, e)

    def attribute(self, obj: Any, attr: str, node: ast.Node) -> Any:
        if isinstance(obj, (Value, Namespace)) and attr in obj.members:
            member = obj.members[attr]
            self.member_reads.append(member)
            return member
        if isinstance(obj, Value) and not obj.poisoned:
            if attr == "shape":
                return tuple(obj.type.shape)
            if attr == "rank":
                return len(obj.type.shape)
        if isinstance(obj, Value) and obj.poisoned:
            return obj
        if isinstance(obj, Value) and attr in ("last", "state"):
            raise self.error("E318", node, attr=attr, what=obj.origin or "this value")
        names = []
        if isinstance(obj, (Value, Namespace)):
            names = list(obj.members) + (["shape", "rank"] if isinstance(obj, Value) else [])
        raise self.error("E401", node, hint=did_you_mean(attr, names), form="no_attribute", what=type_name(obj),
                         attr=attr)

    def _index(self, e: ast.Index, scope: Scope) -> Any:
        obj = self(e.obj, scope)
        idx = self(e.index, scope)
        if isinstance(obj, Value) and obj.poisoned:
            return obj
        if not isinstance(obj, (list, tuple)):
            raise self.error("E401", e, form="not_indexable", what=type_name(obj))
        if not is_concrete(idx):
            raise self.error("E401", e.index, form="index", got=type_name(idx))
        if not -len(obj) <= idx < len(obj):
            raise self.error("E403", e.index, index=idx, what=f"a list of {len(obj)}")
        return obj[idx]

    def _call(self, e: ast.Call, scope: Scope) -> Any:
        if any(a.name for a in e.args):
            raise self.error("E401", e, form="named_arguments", func=e.func)
        args = [self(a.value, scope) for a in e.args]
        if e.func == "len":
            if len(args) != 1 or not isinstance(args[0], (list, tuple, str)):
                raise self.error("E401", e, form="len")
            return len(args[0])
        if e.func in ("min", "max"):
            items = args[0] if len(args) == 1 and isinstance(args[0], (list, tuple)) else args
            if not items or not all(_number(a) for a in items):
                raise self.error("E401", e, form="min_max", func=e.func)
            return (min if e.func == "min" else max)(items)
        if e.func == "abs":
            if len(args) != 1 or not _number(args[0]):
                raise self.error("E401", e, form="abs")
            return abs(args[0]) if not isinstance(args[0], Sym) else args[0]
        raise self.error("E407", e, hint=did_you_mean(e.func, ["min", "max", "abs", "len"]), name=e.func)

    # ---- operators
    def _unary(self, e: ast.UnaryOp, scope: Scope) -> Any:
        x = self(e.operand, scope)
        if e.op == "not":
            return not self.truth(x, e.operand, "not")
        if not _number(x):
            raise self.error("E401", e, form="unary", op=e.op, got=type_name(x))
        return -x if e.op == "-" else x

    def _boolop(self, e: ast.BoolOp, scope: Scope) -> Any:
        left = self.truth(self(e.left, scope), e.left, e.op)
        if e.op == "and" and not left:
            return False
        if e.op == "or" and left:
            return True
        return self.truth(self(e.right, scope), e.right, e.op)

    def _ternary(self, e: ast.Ternary, scope: Scope) -> Any:
        return self(e.then, scope) if self.truth(self(e.cond, scope), e.cond, "if") else self(e.orelse, scope)

    def truth(self, x: Any, node: ast.Node, what: str) -> bool:
        if not isinstance(x, bool):
            raise self.error("E406", node, what=what, got=type_name(x))
        return x

    def _binop(self, e: ast.BinOp, scope: Scope) -> Any:
        a = self(e.left, scope)
        b = self(e.right, scope)
        op = e.op
        if op in ("==", "!="):
            same = _equal(a, b)
            return same if op == "==" else not same
        if op in ("<", "<=", ">", ">="):
            if not (_number(a) and _number(b)):
                raise self.error("E401", e, form="compare", left=type_name(a), right=type_name(b))
            return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
        if op == "+" and isinstance(a, str) and isinstance(b, str):
            if len(a) + len(b) > 4096:
                raise self.error("E404", e, what="this string", value=len(a) + len(b), limit=4096)
            return a + b
        if not (_number(a) and _number(b)):
            raise self.error("E401", e, form="operands", op=op, left=type_name(a), right=type_name(b))
        if op in ("/", "//", "%") and (is_concrete(b) and b == 0 or isinstance(b, float) and b == 0.0):
            raise self.error("E402", e.right)
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "/":
            if is_concrete(a) and is_concrete(b) and a % b == 0:
                return a // b  # sizes stay integers when the division is exact
            if isinstance(a, Sym) or isinstance(b, Sym):
                return a // b
            return a / b
        if op == "//":
            return a // b
        if op == "%":
            return a % b
        if op == "**":
            if isinstance(b, (int, float)) and isinstance(a, (int, float)) and not isinstance(a, bool):
                if a == 0 and b < 0:
                    raise self.error("E402", e)  # 0 ** -1 is 1 / 0
                if abs(b) > 64 or (abs(a) > 1 and abs(b) * _bits(a) > 96):
                    raise self.error("E404", e, what="this power", value=f"{a} ** {b}", limit=f"{MAX_INT:,}")
            return a ** b
        raise self.error("E401", e, form="operator", op=op)  # pragma: no cover


# The expressions whose operands an error upstream may have poisoned (`_poisoned_operand`).
_OPERATORS = frozenset({"binop", "unary", "call", "boolop", "ternary"})
# Each kind of expression's method, looked up once instead of by name on every evaluation.
_METHODS = {kind: getattr(Evaluator, "_" + kind)
            for kind in ("literal", "name", "list", "attr", "index", "call", "unary", "boolop", "ternary", "binop")}


def _bits(x: int | float) -> int:
    """How many binary digits the whole part of `x` has (floats too: `1e8` is no exception)."""
    return abs(x).bit_length() if isinstance(x, int) else math.frexp(abs(x))[1]


def _operand_roots(expr: ast.Expr) -> tuple[str, ...]:
    """The names an operator expression reads through its operands, however deep, in the order a walk of
    them meets them: a name itself, or the name under `a.b[0]`; an operand that is an operator is walked."""
    out: list[str] = []
    for child in _operands(expr):
        if child.kind in _OPERATORS:
            out += _operand_roots(child)
        elif isinstance(child, (ast.Name, ast.Attr, ast.Index)):
            root = child
            while isinstance(root, (ast.Attr, ast.Index)):
                root = root.obj
            if isinstance(root, ast.Name):
                out.append(root.id)
    return tuple(out)


def _operands(e: ast.Expr) -> list[ast.Expr]:
    if isinstance(e, (ast.BinOp, ast.BoolOp)):
        return [e.left, e.right]
    if isinstance(e, ast.UnaryOp):
        return [e.operand]
    if isinstance(e, ast.Call):
        return [a.value for a in e.args]
    if isinstance(e, ast.Ternary):
        return [e.cond]
    return []


def _equal(a: Any, b: Any) -> bool:
    if type(a) is int and type(b) is int:  # most comparisons: sizes, strides, indices
        return a == b
    if isinstance(a, Sym) or isinstance(b, Sym):
        return a == b if _number(a) and _number(b) else False
    if type(a) is bool or type(b) is bool:
        return type(a) is type(b) and a == b
    if isinstance(a, (Value, Bundle, Namespace)) or isinstance(b, (Value, Bundle, Namespace)):
        return a is b
    return a == b
