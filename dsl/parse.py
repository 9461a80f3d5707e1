"""Parser: .arch text → `dsl.ast.File`, or parse diagnostics.

Stage: first. Builds the LALR parser from grammar.lark once (cached, and
stateless); each parse is one `_Parse`, which owns its layout pass and the
comments it saw. Turns lark's tree into AST nodes with spans, attaches
trailing comments as notes, and translates lark's exceptions into E0xx
diagnostics written in words. It resolves no names; that is `dsl.expand`'s job.

For speed (a fresh parse is most of a check), a parse first takes the fast path: `dsl.lexer` scans
the text into light tokens, layout applied, and `dsl.lalr` runs lark's table over them, building the
AST nodes in its reductions (`ToAst`'s methods), with the positions lark's `propagate_positions`
would give. Where that path has no answer (any error, or a tree too deep) the text goes lark's path,
as it always did: lark's tokens, `dsl.postlex.Layout`, lark's parser and tree, then `ToAst.transform`;
its exceptions are the diagnostics. tests/test_parse_reference.py holds the fast path's AST to lark's.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Collection, Iterator
from copy import copy
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import Any

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.lexer import BasicLexer, PatternStr

from . import ast
from .construct import complete, in_order, updated
from .diagnostics import DiagnosticError, Reporter
from .lalr import FastParser
from .lexer import Scanner, Tok
from .postlex import CLOSING, MAX_NESTING, BracketError, Layout
from .source import Span, source_lines

GRAMMAR = Path(__file__).with_name("grammar.lark")

# Terminal names as a user reads them.
WORDS = {
    "NAME": "a name", "INT": "a number", "FLOAT": "a number", "STRING": "a string",
    "LPAR": "`(`", "RPAR": "`)`", "LSQB": "`[`", "RSQB": "`]`", "LBRACE": "`{`", "RBRACE": "`}`",
    "COMMA": "`,`", "COLON": "`:`", "EQUAL": "`=`", "DOT": "`.`", "ARROW": "`->`", "_SEP": "a new line",
    "ADD_OP": "`+` or `-`", "MUL_OP": "an operator", "POW_OP": "`**`", "COMP_OP": "a comparison",
    "IN": "`in`", "ELSE": "`else`", "SHORTCUT": "`shortcut`", "$END": "the end of the file",
    "BLOCK_KW": "`block`", "MODEL_KW": "`model`", "INPUT_KW": "`input`", "OUTPUT_KW": "`output`",
    "IMPORT_KW": "`import`",
}
KEYWORDS = {"IMPORT": "import", "BLOCK": "block", "MODEL": "model", "LET": "let", "INPUT": "input",
            "OUTPUT": "output", "RESIDUAL": "residual", "PARALLEL": "parallel", "REPEAT": "repeat",
            "IF": "if", "AND": "and", "OR": "or", "NOT": "not", "TRUE": "true", "FALSE": "false", "NONE": "none"}
# When lark lists many alternatives, these summarise them.
# (tokens that show the parser wants one of these, the tokens the word covers, the word)
_EXPRESSION_STARTS = {"NAME", "INT", "FLOAT", "STRING", "ADD_OP", "LPAR", "LSQB", "TRUE", "FALSE", "NONE", "NOT", "IN"}
SUMMARIES = [
    ({"NAME", "INT", "FLOAT", "STRING"}, _EXPRESSION_STARTS, "an expression"),
    ({"RESIDUAL", "PARALLEL", "REPEAT", "NAME"}, {"RESIDUAL", "PARALLEL", "REPEAT", "NAME"}, "a statement"),
    ({"MODEL_KW", "BLOCK_KW", "IMPORT_KW", "LET"}, {"MODEL_KW", "BLOCK_KW", "IMPORT_KW", "LET"},
     "`model`, `block`, `import` or `let`"),
]


# Longer numbers are refused before Python converts them: no size needs more digits,
# and int() of thousands of digits is slow, then refused by Python itself.
MAX_DIGITS = 100
# A spec of 10,000 layers holds about 50,000 tokens; past this many the parse is refused, so that
# a megabyte of short tokens is answered in about a second rather than parsed for a minute.
MAX_TOKENS = 100_000


@lru_cache(maxsize=1)
def _machinery() -> tuple[Lark, BasicLexer, tuple[Scanner, FastParser]]:
    """The grammar compiled once per process (and cached on disk by lark), its lexer, and the fast path's
    scanner and parser made from them.

    None holds per-parse state; the layout pass and the comments belong to one `_Parse`.
    """
    lark = Lark(GRAMMAR.read_text(), parser="lalr", lexer="basic", strict=True, propagate_positions=True,
                maybe_placeholders=True, cache=True)
    # This lexer also yields the ignored tokens, so that a parse sees its comments.
    conf = copy(lark.lexer_conf)
    conf.ignore = ()
    conf.skip_validation = True  # lark validated these terminals when it built the parser
    lexer = BasicLexer(conf)
    fast = _scanner(lexer, lark.lexer_conf.ignore), FastParser(lark.parser.parser.parser.parse_table, ToAst)
    return lark, lexer, fast


# Python 3.10's `re` has no atomic groups: there the fast lexer matches blanks on their own.
JOIN_BLANKS = sys.version_info >= (3, 11)


def _scanner(lexer: BasicLexer, ignored: Collection[str], join_blanks: bool = JOIN_BLANKS) -> Scanner:
    """The fast lexer over `lexer`'s own regex and keywords, so that both make the same tokens."""
    (pattern,) = lexer.scanner._mres  # every terminal in one alternation (lark splits past 100 groups)
    # Lark retypes a NAME that spells a keyword with a callback that matches it against the keywords.
    assert set(lexer.callback) == {"NAME"}
    keywords = {}
    for terminal in lexer.callback["NAME"].scanner.terminals:
        assert isinstance(terminal.pattern, PatternStr) and not terminal.pattern.flags
        keywords[terminal.pattern.value] = terminal.name
    # The blanks before a token are matched with it, one match a token rather than two: lark's scanner
    # matches them alike, as no terminal but theirs starts with a blank. An atomic group, so that a
    # long run of them is never matched again shorter (Python 3.11; before, blanks are matched alone).
    blanks = [t.pattern.to_regexp() for t in lexer.terminals if t.name in ignored and t.name != "COMMENT"]
    if blanks and join_blanks:
        pattern = re.compile(f"(?>{'|'.join(blanks)})?(?:{pattern.pattern})", pattern.flags)
    return Scanner(pattern, keywords, frozenset(ignored), frozenset(lexer.newline_types), MAX_TOKENS, MAX_DIGITS)


# Texts up to this size keep their parsed AST for the next parse of the same text (the standard library
# on every check, a spec checked again in an editor or a notebook); larger ones are rare and costly to hold.
CACHED_CHARS = 200_000


def parse(text: str, file: str, reporter: Reporter) -> ast.File:
    """Parse `text`; on a syntax error raise `DiagnosticError` (parse errors stop a file)."""
    reporter.sources.add(file, text)
    if len(text) > CACHED_CHARS:
        return _Parse(text, file, reporter).run()
    return _parse_cached(text, file)


@lru_cache(maxsize=64)
def _parse_cached(text: str, file: str) -> ast.File:
    """`parse` memoised on its inputs: the AST is frozen and depends on nothing else.

    A syntax error is raised, not cached; its diagnostics quote `text` through a reporter of its own.
    """
    reporter = Reporter()
    reporter.sources.add(file, text)
    return _Parse(text, file, reporter).run()


class _Parse:
    """One parse of one text: its layout pass (which knows the brackets open at an error) and its comments."""

    def __init__(self, text: str, file: str, reporter: Reporter) -> None:
        self.text = text
        self.file = file
        self.reporter = reporter
        self.layout = Layout()
        self.comments: dict[int, str] = {}  # line → the text of the comment that ends it

    def run(self) -> ast.File:
        file = self._fast()
        if file is not None:
            return file
        try:
            tree = self._tree()
        except BracketError as e:
            raise _bracket_error(e, self.file, self.reporter) from None
        except UnexpectedInput as e:
            raise _syntax_error(e, self.text, self.file, self.reporter, self.layout.stack) from None
        try:
            return ToAst(self.file, self.comments).transform(tree)
        except RecursionError:
            raise self.reporter.error("E006", _span_at(self.file, 1, 1), limit=MAX_NESTING) from None

    def _fast(self) -> ast.File | None:
        """The AST by the fast path (see the module docstring), or None where lark's path must answer."""
        _, _, (scanner, parser) = _machinery()
        scanned = scanner.scan(self.text, self.comments)
        if scanned is None:
            return None
        return parser.run(*scanned, ToAst(self.file, self.comments))

    def _tree(self) -> Tree:
        """Lark's path: the tokens of `_tokens`, the layout pass, and lark's interactive parser, whose
        exception says what would have fit."""
        lark, lexer, _ = _machinery()
        self.layout = Layout()
        self.comments = {}
        parser = lark.parse_interactive()
        tok = None
        try:
            for tok in self.layout.process(self._tokens(lexer, lark.lexer_conf.ignore)):
                parser.feed_token(tok)
            return parser.feed_eof(tok)
        except UnexpectedToken as e:
            # As lark's own parse loop does, so that the error can say which tokens would have fit.
            e.interactive_parser = parser
            raise

    def _tokens(self, lexer: BasicLexer, ignored: Collection[str]) -> Iterator[Token]:
        """The tokens the grammar reads; comments are kept aside, long numbers refused.

        The loop of lark's `BasicLexer.next_token` over its own scanner and callbacks, the same
        tokens, except that whitespace and comments are not made into tokens: they are skipped.
        """
        self._not_too_many_tokens()
        text = self.text
        patterns = lexer.scanner._mres  # the terminals as one or more alternations, tried in order
        callbacks = lexer.callback  # NAME → its keyword where a NAME spells one
        multiline = lexer.newline_types
        pos, end, line, line_start = 0, len(text), 1, 0
        count = 0
        last = None
        while pos < end:
            for pattern in patterns:
                m = pattern.match(text, pos, end)
                if m:
                    break
            else:
                allowed = lexer.scanner.allowed_types - lexer.ignore_types or {"<END-OF-FILE>"}
                raise UnexpectedCharacters(text, pos, line, pos - line_start + 1, allowed=allowed,
                                           token_history=last and [last], state=None,
                                           terminals_by_name=lexer.terminals_by_name)
            value = m.group()
            kind = m.lastgroup
            start, start_line, column = pos, line, pos - line_start + 1
            pos = m.end()
            if kind in multiline:
                newlines = value.count("\n")
                if newlines:
                    line += newlines
                    line_start = start + value.rindex("\n") + 1
            if kind == "COMMENT":
                body = value[1:].strip()
                if body:
                    self.comments[start_line] = body
                continue
            if kind in ignored:
                continue
            tok = Token(kind, value, start, start_line, column, line, pos - line_start + 1, pos)
            if kind in callbacks:
                tok = callbacks[kind](tok)
                kind = tok.type
            last = tok
            count += 1
            if count > MAX_TOKENS:
                raise self._too_many_tokens(tok.line, tok.column, len(tok.value))
            if kind in ("INT", "FLOAT") and len(value) > MAX_DIGITS:
                raise self.reporter.error("E404", _token_span(self.file, tok), what="this number",
                                          value=f"{len(value)} digits", limit=f"{MAX_DIGITS} digits")
            yield tok

    def _not_too_many_tokens(self) -> None:
        """Refuse a text of more than MAX_TOKENS tokens before lexing it (at C speed, not the parser's).

        Each match of `_SOME_TOKENS` is at least one token, so the count never refuses a text the
        parser would accept; the exact count in `_tokens` is the backstop.
        """
        if len(self.text) <= MAX_TOKENS:
            return
        matches = (m for m in _SOME_TOKENS.finditer(self.text) if m.group()[0] != "#")
        past = next(islice(matches, MAX_TOKENS, None), None)
        if past is not None:
            start = past.start()
            line = self.text.count("\n", 0, start) + 1
            col = start - (self.text.rfind("\n", 0, start) + 1) + 1
            raise self._too_many_tokens(line, col, len(past.group()))

    def _too_many_tokens(self, line: int, col: int, width: int) -> DiagnosticError:
        span = Span(file=self.file, line=line, col=col, end_line=line, end_col=col + width)
        return self.reporter.error("E008", span, form="tokens", path=self.file, limit=f"{MAX_TOKENS:,}")


# Pieces of text that each hold at least one token (comments are matched whole, to be skipped).
_SOME_TOKENS = re.compile(r'#[^\n]*|"(?:[^"\\\n]|\\.)*"|[A-Za-z0-9_.]+|->|\*\*|//|[<>=!]=|\S')


def _span_at(file: str, line: int, col: int, width: int = 1) -> Span:
    return _new_span(file, line, col, line, col + width)


def _token_span(file: str, tok: Token) -> Span:
    return _new_span(file, tok.line, tok.column, tok.end_line or tok.line,
                     tok.end_column or tok.column + len(tok.value))


def _bracket_error(e: BracketError, file: str, reporter: Reporter) -> DiagnosticError:
    tok = e.token
    if e.kind == "deep":
        return reporter.error("E006", _token_span(file, tok), limit=MAX_NESTING)
    if e.kind == "unclosed":
        return reporter.error("E002", _token_span(file, tok), opener=tok.value, closer=CLOSING[tok.value])
    if e.opener is None or (not e.opener_open and e.opener.value == "{"):
        opener = next(o for o, c in CLOSING.items() if c == tok.value)
        return reporter.error("E009", _token_span(file, tok), closer=tok.value, opener=opener)
    return reporter.error("E003", _token_span(file, tok), closer=tok.value, opener=e.opener.value,
                          line=e.opener.line, hint=f"close `{e.opener.value}` with `{CLOSING[e.opener.value]}` first")


def _describe_expected(expected: set[str]) -> str:
    names = set(expected)
    for trigger, covered, word in SUMMARIES:
        if trigger <= names:
            names -= covered
            names.add("\0" + word)
    words = sorted({n[1:] if n.startswith("\0") else WORDS.get(n) or (f"`{KEYWORDS[n]}`" if n in KEYWORDS else None)
                    or f"`{n.lower()}`" for n in names if n != "_SEP" or len(names) < 4})
    if len(words) > 4:
        words = words[:4] + ["…"]
    return " or ".join(words) if len(words) < 3 else ", ".join(words[:-1]) + " or " + words[-1]


def _describe_token(tok: Token) -> str:
    if tok.type == "$END":
        return "end of file"
    if tok.type == "_SEP":
        return "end of line" if tok.value != ";" else "`;`"
    if tok.type == "NAME":
        return f"name `{tok.value}`"
    return f"`{tok.value}`"


def _syntax_error(e: UnexpectedInput, text: str, file: str, reporter: Reporter,
                  open_brackets: list[Token]) -> DiagnosticError:
    if isinstance(e, UnexpectedCharacters):
        char = text[e.pos_in_stream] if e.pos_in_stream is not None and e.pos_in_stream < len(text) else "?"
        hint = "strings use double quotes" if char == "'" else None
        return reporter.error("E004", _span_at(file, e.line, e.column), char=repr(char), hint=hint)
    if isinstance(e, UnexpectedEOF) or (isinstance(e, UnexpectedToken) and e.token.type == "$END"):
        lines = source_lines(text)
        line = len(lines)
        return reporter.error("E005", _span_at(file, line, max(1, len(lines[-1]) + 1)),
                              expected=_describe_expected(set(e.expected)))
    assert isinstance(e, UnexpectedToken)
    tok = e.token
    expected = set(e.accepts or e.expected)
    open_ = open_brackets[-1] if open_brackets else None
    if open_ is not None and open_.type in ("LPAR", "LSQB") and tok.line > open_.line \
            and {"RPAR", "RSQB"} & expected:
        # Newlines inside brackets are layout, so a forgotten `)` shows up lines later: blame the opener.
        closer = CLOSING[open_.value]
        return reporter.error("E002", _token_span(file, open_), opener=open_.value, closer=closer,
                              hint=f"add the matching `{closer}`; {_describe_token(tok)} on line {tok.line}"
                                   " cannot continue it")
    hint = _hint_for(tok, expected)
    return reporter.error("E001", _token_span(file, tok), found=_describe_token(tok),
                          expected=_describe_expected(expected), hint=hint)


def _hint_for(tok: Token, expected: set[str]) -> str | None:
    """Known mistakes, mapped to advice."""
    if tok.type == "NAME" and "COMMA" in expected and "RPAR" in expected:
        return "separate arguments with `,`"
    if tok.type == "_SEP" and "RPAR" in expected:
        return "a `(` is still open on this line"
    if tok.type in ("LBRACE",) and "NAME" in expected:
        return "a body needs a name before it: `model Name(...) { ... }`"
    if tok.type == "EQUAL" and "COLON" in expected:
        return "define a constant with `let name = value`; name a layer with `name: layer`"
    if tok.type == "NAME" and "_SEP" in expected:
        return "put each statement on its own line, or separate them with `;`, or join layers with `->`"
    return None


def _new_span(file: str, line: int, col: int, end_line: int, end_col: int) -> Span:
    """`trusted(Span)(file=…, …, end_col=…)`: every node has a span, so this is the parse's commonest
    constructor, given `Span`'s five fields in declared order (`in_order`)."""
    return _make_span({"file": file, "line": line, "col": col, "end_line": end_line, "end_col": end_col})


_make_span = in_order(Span)
assert tuple(Span.model_fields) == ("file", "line", "col", "end_line", "end_col")

# The constructors of the AST's classes, made once.
_Arg = complete(ast.Arg)
_Attr = complete(ast.Attr)
_BinOp = complete(ast.BinOp)
_BlockDef = complete(ast.BlockDef)
_Body = complete(ast.Body)
_BoolOp = complete(ast.BoolOp)
_Call = complete(ast.Call)
_Chain = complete(ast.Chain)
_File = complete(ast.File)
_Group = complete(ast.Group)
_If = complete(ast.If)
_Import = complete(ast.Import)
_Index = complete(ast.Index)
_InputDecl = complete(ast.InputDecl)
_LayerCall = complete(ast.LayerCall)
_Let = complete(ast.Let)
_ListLit = complete(ast.ListLit)
_Literal = complete(ast.Literal_)
_ModelDef = complete(ast.ModelDef)
_Name = complete(ast.Name)
_Output = complete(ast.Output)
_Parallel = complete(ast.Parallel)
_Param = complete(ast.Param)
_Repeat = complete(ast.Repeat)
_Residual = complete(ast.Residual)
_TensorType = complete(ast.TensorType)
_Ternary = complete(ast.Ternary)
_UnaryOp = complete(ast.UnaryOp)


_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


def _unquote(s: str) -> str:
    """The value of a double-quoted string token (our own escapes; nothing reaches eval)."""
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), s[1:-1])


class ToAst:
    """Grammar rule → AST node. Method names are grammar rules; each is called as `rule(meta, *children)`,
    with the children lark's tree would hold, and `meta` the node's position: (line, column, end line,
    end column, …), or None where it has none. A token child is a lark `Token` or a `dsl.lexer.Tok`,
    read alike (`.value`, `.line` …).

    The fast path (`dsl.lalr`) calls the methods in its reductions; lark's path walks lark's tree with
    `transform`. (What lark's `Transformer` with `v_args(meta=True, inline=True)` does, without the
    wrapper it builds around a method on every call. Like it, two frames per tree level.)
    """

    def __init__(self, file: str, comments: dict[int, str]):
        self.file = file
        self.comments = comments
        self._rules: dict[str, Callable[..., Any]] = {}

    def transform(self, tree: Tree) -> Any:
        children = [self.transform(c) if isinstance(c, Tree) else c for c in tree.children]
        rule = self._rules.get(tree.data)
        if rule is None:
            rule = self._rules[tree.data] = getattr(self, tree.data)
        meta = tree.meta
        return rule(None if meta.empty else (meta.line, meta.column, meta.end_line, meta.end_column), *children)

    def _span(self, meta) -> Span:
        if meta is None:
            return _span_at(self.file, 1, 1)
        return _new_span(self.file, meta[0], meta[1], meta[2], meta[3])

    def _tspan(self, tok: Token | Tok) -> Span:
        # (`_token_span` without its fallbacks: a token from a lexer knows where it ends.)
        return _new_span(self.file, tok.line, tok.column, tok.end_line, tok.end_column)

    # ---- top level
    def start(self, meta, *items):
        return _File(path=self.file, items=[i for i in items if i is not None])

    def import_item(self, meta, path):
        return _Import(span=self._span(meta), path=_unquote(path.value))

    def block_def(self, meta, name, params, body):
        return _BlockDef(span=self._tspan(name), name=name.value, params=params or [], body=body)

    def model_def(self, meta, name, params, body):
        return _ModelDef(span=self._tspan(name), name=name.value, params=params or [], body=body)

    def params(self, meta, *params):
        return [p for p in params if p is not None]

    def param(self, meta, name, default):
        return _Param(span=self._tspan(name), name=name.value, default=default)

    # ---- statements
    def body(self, meta, lbrace, *rest):
        # `rest`: the statements (None where there are none), then the closing brace.
        stmts = [s for s in rest[:-1] if s is not None]
        return _Body(span=self._span(meta), stmts=stmts)

    def let_stmt(self, meta, name, value):
        return _Let(span=self._span(meta), name=name.value, value=value)

    def input_decl(self, meta, name, ttype):
        return _InputDecl(span=self._span(meta), name=name.value, type=ttype, note=self.comments.get(meta[2]))

    def tensor_type(self, meta, dtype, *dims):
        return _TensorType(span=self._span(meta), dtype=dtype.value if dtype is not None else "float",
                           dims=[d for d in dims if d is not None])

    def output_stmt(self, meta, *values):
        return _Output(span=self._span(meta), values=list(values))

    def label(self, meta, tok):
        return tok

    def labelled(self, meta, name, chain):
        return updated(chain, {"label": name.value, "label_span": self._tspan(name), "span": self._span(meta)})

    def chain(self, meta, *parts):
        elements = parts[::2]  # between them, the arrows
        # A trailing comment is the note of the last element that ends on its line.
        noted = []
        for i, el in enumerate(elements):
            last_on_line = i + 1 == len(elements) or elements[i + 1].span.end_line != el.span.end_line
            note = None
            if last_on_line:
                note = self.comments.get(el.span.end_line)
                if note is None and el.span.line != el.span.end_line:
                    note = self.comments.get(el.span.line)
            noted.append(updated(el, {"note": note}) if note else el)
        return _Chain(span=self._span(meta), elements=noted)

    # ---- elements
    def layer_call(self, meta, path, args):
        # `relu` and `relu()` are the same layer; `args` None means no parentheses.
        return _LayerCall(span=self._span(meta), path=path, args=args)

    def path(self, meta, *parts):
        return [p.value for p in parts]

    def group(self, meta, body):
        return _Group(span=self._span(meta), body=body)

    def residual(self, meta, body, shortcut_kw, shortcut):
        return _Residual(span=self._span(meta), body=body, shortcut=shortcut)

    def parallel(self, meta, body):
        return _Parallel(span=self._span(meta), body=body)

    def repeat(self, meta, count, index, body):
        return _Repeat(span=self._span(meta), count=count, index=index.value if index is not None else None,
                       body=body)

    def if_elem(self, meta, cond, then, else_kw, orelse):
        if isinstance(orelse, ast.If):
            chain = _Chain(span=orelse.span, elements=[orelse])
            orelse = _Body(span=orelse.span, stmts=[chain])
        return _If(span=self._span(meta), cond=cond, then=then, orelse=orelse)

    def args(self, meta, *args):
        return [a for a in args if a is not None]

    def kwarg(self, meta, name, value):
        return _Arg(span=self._span(meta), name=name.value, value=value)

    def posarg(self, meta, value):
        return _Arg(span=self._span(meta), name=None, value=value)

    # ---- expressions
    def ternary(self, meta, then, cond, else_kw, orelse):
        return _Ternary(span=self._span(meta), cond=cond, then=then, orelse=orelse)

    def or_op(self, meta, left, right):
        return _BoolOp(span=self._span(meta), op="or", left=left, right=right)

    def and_op(self, meta, left, right):
        return _BoolOp(span=self._span(meta), op="and", left=left, right=right)

    def not_op(self, meta, operand):
        return _UnaryOp(span=self._span(meta), op="not", operand=operand)

    def compare(self, meta, left, op, right):
        return _BinOp(span=self._span(meta), op=op.value, left=left, right=right)

    def binop(self, meta, left, op, right):
        return _BinOp(span=self._span(meta), op=op.value, left=left, right=right)

    def unop(self, meta, op, operand):
        return _UnaryOp(span=self._span(meta), op=op.value, operand=operand)

    def attr(self, meta, obj, name):
        return _Attr(span=self._span(meta), obj=obj, attr=name.value)

    def index(self, meta, obj, index):
        return _Index(span=self._span(meta), obj=obj, index=index)

    def fcall(self, meta, name, args):
        return _Call(span=self._span(meta), func=name.value, args=args or [])

    def int_lit(self, meta, tok):
        return _Literal(span=self._tspan(tok), value=int(tok.value))

    def float_lit(self, meta, tok):
        return _Literal(span=self._tspan(tok), value=float(tok.value))

    def str_lit(self, meta, tok):
        return _Literal(span=self._tspan(tok), value=_unquote(tok.value))

    def true_lit(self, meta):
        return _Literal(span=self._span(meta), value=True)

    def false_lit(self, meta):
        return _Literal(span=self._span(meta), value=False)

    def none_lit(self, meta):
        return _Literal(span=self._span(meta), value=None)

    def name(self, meta, tok):
        return _Name(span=self._tspan(tok), id=tok.value)

    def list_lit(self, meta, *items):
        return _ListLit(span=self._span(meta), items=[i for i in items if i is not None])
