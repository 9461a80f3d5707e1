"""One model's expansion in progress: what is being built, and where.

Stage: expansion. A `ModelBuild` is made once per model and holds all that
model's walk adds to: nodes with their §6 elements, frames, the weights a
`tie=` may share, the statement counter, inputs and outputs, and the `--set`
sizes of symbolic inputs. At the end it names every node and frame and
returns the `ModelGraph`. It walks no AST and checks nothing about the spec
but the node ceiling; `Ctx` says where in the model a statement is expanded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import ast
from ..construct import in_order
from ..diagnostics import Reporter
from ..dims import Sym
from ..graph import Frame, ModelGraph, Node, Port
from ..naming import Element, Level, Paths
from ..program import Unit
from ..scope import Scope
from ..source import Span
from ..values import Bundle, TensorType, Value

MAX_NODES = 200_000

Current = Value | Bundle | None


@dataclass
class Ctx:
    """Where a statement is being expanded."""
    scope: Scope
    level: Level
    frame: int | None
    unit: Unit
    in_model: bool


class ModelBuild:
    """The graph under construction for one model, and the facts about the model its walk needs."""

    def __init__(self, reporter: Reporter, name: str, symbols: dict[str, Any], n_inputs: int) -> None:
        self.reporter = reporter
        self.name = name
        self.symbols = symbols  # `--set seq=128` gives a symbolic input size a value
        self.used_symbols: set[str] = set()
        self.single_input = n_inputs == 1  # a lone input is the current value from its declaration on
        self.first_input: str | None = None
        self.inputs: list[Port] = []
        self.outputs: list[Port] | None = None  # set by a model-level `output`
        self.nodes: list[dict[str, Any]] = []  # each node's fields, until `graph` makes the nodes
        self.elements: list[Element | None] = []  # each node's element of §6; None for picks and adds
        self.frames: list[dict] = []
        self.frame_elements: list[Element] = []
        self.weights: dict[int, tuple[int, ...]] = {}  # node → shape of a weight it can share
        self.statement = -1  # the statement whose nodes are being made (diagrams group by it)
        self.statements = 0

    def open_statement(self) -> int:
        """Nodes made from now on belong to the next statement; returns the statement to go back to.

        (A pair of calls, not a context manager: a chain opens one statement, and a check walks thousands.)
        """
        outer, self.statement = self.statement, self.statements
        self.statements += 1
        return outer

    def symbol(self, name: str) -> Any:
        """A free name in an input's shape: its `--set` value, or a symbolic size."""
        self.used_symbols.add(name)
        return self.symbols[name] if name in self.symbols else Sym.of(name)

    def add_node(self, kind: str, layer: str, args: dict, inputs: tuple[int, ...], t: TensorType, span: Span,
                 element: Element | None, ctx: Ctx, *, name: str = "", params: int = 0, macs: Any = 0,
                 note: str | None = None, label: str = "", refs: dict[str, int] | None = None,
                 shares: dict[str, int] | None = None) -> int:
        """The new node's id. `refs` and `shares`, where given, become the node's own (no copy is made)."""
        if len(self.nodes) >= MAX_NODES:
            raise self.reporter.error("E405", span, limit=f"{MAX_NODES:,}")
        nid = len(self.nodes)
        # A node's fields, in `Node`'s order; the `Node` itself is made once, named, in `graph`.
        self.nodes.append({"id": nid, "kind": kind, "layer": layer, "name": name, "args": args,
                           "inputs": tuple(inputs),  # (the tuple itself where it is one: no copy)
                           "refs": {} if refs is None else refs, "shares": {} if shares is None else shares,
                           "shape": tuple(t.shape), "dtype": t.dtype, "params": params, "macs": macs,
                           "span": span, "note": note, "label": label, "frame": ctx.frame,
                           "statement": self.statement})
        self.elements.append(element)
        return nid

    def add_note(self, node: int, note: str) -> None:
        self.nodes[node]["note"] = note

    def release(self) -> None:
        """Unlink the elements from their levels (a cycle each), once the graph is named."""
        for el in (*self.elements, *self.frame_elements):
            if el is not None:
                el.release()

    def push_frame(self, kind: str, name: str, element: Element, span: Span, parent: int | None,
                   note: str | None = None, count: int | None = None, label: str | None = None,
                   args: dict[str, Any] | None = None) -> int:
        """The new frame's id. `args`, where given, become the frame's own (no copy is made)."""
        fid = len(self.frames)
        # A frame's fields, in `Frame`'s order; its path is known only once the model is expanded.
        self.frames.append({"id": fid, "kind": kind, "name": name, "path": "", "parent": parent, "span": span,
                            "count": count, "note": note, "args": {} if args is None else args})
        self.frame_elements.append(element)
        return fid

    def graph(self, file: str, params_used: dict[str, Any], outputs: list[Port]) -> ModelGraph:
        """The finished graph: every node and frame named by its element's path (§6)."""
        # Built from values the expander made itself, so pydantic's validation is skipped (most of a node's cost).
        # add_node, push_frame and a replay's copies all write every field in the class's order.
        make_node, make_frame = in_order(Node), in_order(Frame)
        path = Paths()
        frame_paths = [path(el) for el in self.frame_elements]
        nodes = []
        params = 0
        macs: Any = 0
        # Each node keeps its dict of fields as its own: this build is done with them (and so are the block
        # expansions recorded from them), and no two nodes share one.
        for n, el in zip(self.nodes, self.elements):
            if el is not None:
                n["name"] = path(el)
            elif n["name"].startswith("@"):
                # A pick or an add has no element of its own: it is named under the frame it sits in.
                parent = frame_paths[n["frame"]] if n["frame"] is not None else ""
                n["name"] = (parent + "." if parent else "") + n["name"][1:]
            params += n["params"]
            macs = macs + n["macs"]
            nodes.append(make_node(n))
        self.nodes = []
        frames = []
        for f, frame_path in zip(self.frames, frame_paths):
            f["path"] = frame_path
            frames.append(make_frame(f))
        self.frames = []
        symbols = sorted({s for p in self.inputs for d in p.shape if isinstance(d, Sym) for s in d.symbols})
        return ModelGraph(name=self.name, file=file, params_used=params_used, inputs=self.inputs,
                          outputs=outputs, nodes=nodes, frames=frames, params=params, macs=macs,
                          symbols=tuple(symbols))


def port(name: str, v: Value) -> Port:
    return Port(name=name, node=v.node, shape=v.type.shape, dtype=v.type.dtype)


def with_members(v: Current, members: dict[str, Any]) -> Current:
    """`v` with the labels of the level that made it reachable by a dotted path."""
    if isinstance(v, Value) and members:
        return Value(v.node, v.type, v.origin, {**v.members, **members})
    return v


def expr_text(e: ast.Expr) -> str:
    """A name or dotted path as written; any other expression names a model output `output`."""
    if isinstance(e, ast.Name):
        return e.id
    if isinstance(e, ast.Attr):
        return f"{expr_text(e.obj)}.{e.attr}"
    return "output"
