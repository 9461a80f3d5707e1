"""archlang's own classes copied into generated source, with the helpers and imports they need.

Stage: beside lowering, for `compiler.codegen`. A module class of
`compiler.torch_layers` (`Attention`, `Reshape`) is copied with
`inspect.getsource`; the global names its code reads are followed: a module
becomes an import line, an archlang class or function is copied too (before
its user), and anything else is an error rather than a file that fails later.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import sys
import textwrap
from types import ModuleType

from .codegen_ctor import CodegenError


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


class Sources:
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
                if base.__module__.startswith("archlang.compiler."):
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
            elif (getattr(v, "__module__", "").startswith("archlang.compiler.")
                  and (inspect.isclass(v) or inspect.isfunction(v))):
                self.add(v)
            elif not hasattr(builtins, name):
                raise CodegenError(f"{obj.__name__} reads `{name}`, which cannot be copied into standalone source")
        self.blocks.append(src.rstrip())
