"""The abstract syntax tree of a .arch file: frozen pydantic models with spans.

Stage: produced by `dsl.parse`, consumed by `dsl.expand`. Classes are named
after the grammar rules they come from; unions are tagged by `kind`. The AST
records what was written — it resolves no names and evaluates nothing.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from .source import Span


class Node(BaseModel):
    # The parser builds nodes with `model_construct` (its values are valid by construction), so the
    # validation schema is built only if something validates (deferred: no cost at import).
    model_config = ConfigDict(frozen=True, defer_build=True)
    span: Span


# ---- expressions ---------------------------------------------------------------

class Literal_(Node):
    kind: Literal["literal"] = "literal"
    value: int | float | bool | str | None


class Name(Node):
    kind: Literal["name"] = "name"
    id: str


class Attr(Node):
    kind: Literal["attr"] = "attr"
    obj: Expr
    attr: str


class Index(Node):
    kind: Literal["index"] = "index"
    obj: Expr
    index: Expr


class Call(Node):
    kind: Literal["call"] = "call"
    func: str
    args: list[Arg]


class BinOp(Node):
    kind: Literal["binop"] = "binop"
    op: str
    left: Expr
    right: Expr


class UnaryOp(Node):
    kind: Literal["unary"] = "unary"
    op: str  # "-", "+", "not"
    operand: Expr


class BoolOp(Node):
    kind: Literal["boolop"] = "boolop"
    op: str  # "and" | "or"
    left: Expr
    right: Expr


class Ternary(Node):
    kind: Literal["ternary"] = "ternary"
    cond: Expr
    then: Expr
    orelse: Expr


class ListLit(Node):
    kind: Literal["list"] = "list"
    items: list[Expr]


Expr = Annotated[
    Literal_ | Name | Attr | Index | Call | BinOp | UnaryOp | BoolOp | Ternary | ListLit,
    Field(discriminator="kind"),
]


class Arg(Node):
    name: str | None  # None for a positional argument
    value: Expr


# ---- chain elements --------------------------------------------------------------

class LayerCall(Node):
    """`conv(32, 3)`, `relu`, `BasicBlock(64)`, or a value reference `src`."""
    kind: Literal["layer_call"] = "layer_call"
    path: list[str]
    args: list[Arg] | None  # None: written without parentheses
    note: str | None = None

    @property
    def name(self) -> str:
        return ".".join(self.path)


class Group(Node):
    kind: Literal["group"] = "group"
    body: Body
    note: str | None = None


class Residual(Node):
    kind: Literal["residual"] = "residual"
    body: Body
    shortcut: Body | None
    note: str | None = None


class Parallel(Node):
    kind: Literal["parallel"] = "parallel"
    body: Body
    note: str | None = None


class Repeat(Node):
    kind: Literal["repeat"] = "repeat"
    count: Expr
    index: str | None
    body: Body
    note: str | None = None


class If(Node):
    kind: Literal["if"] = "if"
    cond: Expr
    then: Body
    orelse: Body | None
    note: str | None = None


Element = Annotated[LayerCall | Group | Residual | Parallel | Repeat | If, Field(discriminator="kind")]


# ---- statements -------------------------------------------------------------------

class Chain(Node):
    kind: Literal["chain"] = "chain"
    label: str | None = None
    label_span: Span | None = None
    elements: list[Element]


class Let(Node):
    kind: Literal["let"] = "let"
    name: str
    value: Expr


class TensorType(Node):
    dtype: str  # "float" | "int"
    dims: list[Expr]


class InputDecl(Node):
    kind: Literal["input"] = "input"
    name: str
    type: TensorType
    note: str | None = None


class Output(Node):
    kind: Literal["output"] = "output"
    values: list[Expr]


Stmt = Annotated[Chain | Let | InputDecl | Output, Field(discriminator="kind")]


class Body(Node):
    stmts: list[Stmt]


# ---- top level ----------------------------------------------------------------------

class Param(Node):
    name: str
    default: Expr | None


class BlockDef(Node):
    kind: Literal["block"] = "block"
    name: str
    params: list[Param]
    body: Body


class ModelDef(Node):
    kind: Literal["model"] = "model"
    name: str
    params: list[Param]
    body: Body


class Import(Node):
    kind: Literal["import"] = "import"
    path: str


Item = Annotated[Import | Let | BlockDef | ModelDef, Field(discriminator="kind")]


class File(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)
    path: str
    items: list[Item]

    @property
    def models(self) -> list[ModelDef]:
        return [i for i in self.items if isinstance(i, ModelDef)]

    @property
    def blocks(self) -> list[BlockDef]:
        return [i for i in self.items if isinstance(i, BlockDef)]
