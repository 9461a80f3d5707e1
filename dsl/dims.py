"""Symbolic dimensions: sizes such as `seq`, `seq + 1` or `2·seq`.

Stage: used by the evaluator and by shape inference. A dimension is an `int`
or a `Sym` — a polynomial over named symbols with integer coefficients — so
arithmetic on symbols stays symbolic and exact. Division is allowed only
when it is exact; anything that needs a concrete number raises `NotConcrete`.
"""

from __future__ import annotations


class NotConcrete(Exception):
    """An operation needed a number but got a symbolic size."""


Monomial = tuple[str, ...]  # sorted symbol names, repeated for powers


class Sym:
    __slots__ = ("terms",)

    def __init__(self, terms: dict[Monomial, int]):
        self.terms = {m: c for m, c in terms.items() if c != 0}

    @staticmethod
    def of(name: str) -> Sym:
        return Sym({(name,): 1})

    # ---- arithmetic
    @staticmethod
    def _lift(x: Dim) -> Sym:
        return x if isinstance(x, Sym) else Sym({(): int(x)})

    def __add__(self, other: Dim) -> Dim:
        o = Sym._lift(other)
        terms = dict(self.terms)
        for m, c in o.terms.items():
            terms[m] = terms.get(m, 0) + c
        return simplify(Sym(terms))

    __radd__ = __add__

    def __neg__(self) -> Sym:
        return Sym({m: -c for m, c in self.terms.items()})

    def __sub__(self, other: Dim) -> Dim:
        return self + (-Sym._lift(other))

    def __rsub__(self, other: Dim) -> Dim:
        return Sym._lift(other) + (-self)

    def __mul__(self, other: Dim) -> Dim:
        o = Sym._lift(other)
        terms: dict[Monomial, int] = {}
        for m1, c1 in self.terms.items():
            for m2, c2 in o.terms.items():
                m = tuple(sorted(m1 + m2))
                terms[m] = terms.get(m, 0) + c1 * c2
        return simplify(Sym(terms))

    __rmul__ = __mul__

    def __floordiv__(self, other: Dim) -> Dim:
        if isinstance(other, int) and other != 0 and all(c % other == 0 for c in self.terms.values()):
            return simplify(Sym({m: c // other for m, c in self.terms.items()}))
        raise NotConcrete(f"{self} // {other}")

    def __rfloordiv__(self, other):
        raise NotConcrete(f"{other} // {self}")

    def __truediv__(self, other):
        return self.__floordiv__(other)

    def __rtruediv__(self, other):
        raise NotConcrete(f"{other} / {self}")

    def __mod__(self, other):
        if isinstance(other, int) and other != 0 and all(c % other == 0 for c in self.terms.values()):
            return 0
        raise NotConcrete(f"{self} % {other}")

    def __rmod__(self, other):
        raise NotConcrete(f"{other} % {self}")

    def __pow__(self, other):
        if isinstance(other, int) and 0 <= other <= 8:
            out: Dim = 1
            for _ in range(other):
                out = out * self
            return out
        raise NotConcrete(f"{self} ** {other}")

    # ---- comparison: only equality is decidable without values
    def __eq__(self, other: object) -> bool:
        if isinstance(other, (int, Sym)):
            return Sym._lift(other).terms == self.terms
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.terms.items())))

    def _order(self, other):
        raise NotConcrete(f"{self} compared with {other}")

    __lt__ = __le__ = __gt__ = __ge__ = _order

    def __bool__(self) -> bool:
        return bool(self.terms)

    def __int__(self) -> int:
        raise NotConcrete(str(self))

    __index__ = __int__

    @property
    def symbols(self) -> set[str]:
        return {s for m in self.terms for s in m}

    def substitute(self, values: dict[str, int]) -> Dim:
        out: Dim = 0
        for m, c in self.terms.items():
            term: Dim = c
            for s in m:
                term = term * (values[s] if s in values else Sym.of(s))
            out = out + term
        return out

    def __str__(self) -> str:
        parts = []
        for m, c in sorted(self.terms.items(), key=lambda mc: (-len(mc[0]), mc[0])):
            name = "·".join(m)
            if not m:
                parts.append((c, str(abs(c))))
            elif abs(c) == 1:
                parts.append((c, name))
            else:
                parts.append((c, f"{abs(c)}·{name}"))
        text = ""
        for i, (c, p) in enumerate(parts):
            if i == 0:
                text = ("-" if c < 0 else "") + p
            else:
                text += (" - " if c < 0 else " + ") + p
        return text or "0"

    __repr__ = __str__


Dim = int | Sym


def simplify(x: Dim) -> Dim:
    """An int when the polynomial is constant."""
    if isinstance(x, Sym):
        if not x.terms:
            return 0
        if set(x.terms) == {()}:
            return x.terms[()]
    return x


def is_concrete(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def fmt_dim(x: Dim) -> str:
    s = str(x)
    return f"({s})" if isinstance(x, Sym) and (" " in s) else s


def fmt_shape(shape) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"
