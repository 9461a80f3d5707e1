"""Lexical scopes: which name means what, and the label rules of §2.

Stage: expansion. A `Scope` maps names to bindings (constant, parameter,
input, label, index, block). Residual, shortcut, if and parallel bodies share
their enclosing scope (they add no level); groups, repeat passes and block
bodies open a new one. Block bodies see only their file's globals.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .source import Span


@dataclass
class Binding:
    value: Any
    kind: str  # "constant" | "parameter" | "input" | "label" | "index" | "block" | "in"
    span: Span | None = None


class Scope:
    def __init__(self, parent: Scope | None = None) -> None:
        self.parent = parent
        self.names: dict[str, Binding] = {}

    def child(self) -> Scope:
        return Scope(self)

    def lookup(self, name: str) -> Binding | None:
        scope: Scope | None = self
        while scope is not None:
            found = scope.names.get(name)  # a binding is never None
            if found is not None:
                return found
            scope = scope.parent
        return None

    def define(self, name: str, value: Any, kind: str, span: Span | None = None) -> None:
        self.names[name] = Binding(value, kind, span)

    def visible(self) -> Iterator[str]:
        scope: Scope | None = self
        while scope is not None:
            yield from scope.names
            scope = scope.parent

    def labels(self) -> dict[str, Any]:
        """This scope's own labels: the members reachable by a dotted path."""
        return {n: b.value for n, b in self.names.items() if b.kind == "label"}
