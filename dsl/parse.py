"""Parser: .arch text → `dsl.ast.File`, or parse diagnostics.

Stage: first. Builds the LALR parser from grammar.lark once (cached, and
stateless); each parse is one `_Parse`, which owns its layout pass and the
comments it saw. Turns lark's tree into AST nodes with spans, attaches
trailing comments as notes, and translates lark's exceptions into E0xx
diagnostics written in words. It resolves no names; that is `dsl.expand`'s job.

For speed (a fresh parse is most of a check), the lexer's and the LALR parser's loops run here over
lark's scanner and table, and node positions come from lean callbacks rather than lark's
`propagate_positions`; a syntax error parses again with lark's own parser, for its exception.
tests/test_parse_reference.py holds the result to lark's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator
from copy import copy
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import Any

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.grammar import Rule
from lark.lexer import BasicLexer
from lark.parsers.lalr_analysis import Shift

from . import ast
from .construct import trusted
from .diagnostics import DiagnosticError, Reporter
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
def _machinery() -> tuple[Lark, BasicLexer, dict[int, dict[str, tuple]]]:
    """The grammar compiled once per process (and cached on disk by lark), its lexer, and its LALR table.

    None holds per-parse state: no post-lexer, and the tree-building callbacks are stateless. The
    layout pass and the comments belong to one `_Parse`.
    """
    lark = Lark(GRAMMAR.read_text(), parser="lalr", lexer="basic", strict=True, propagate_positions=False,
                maybe_placeholders=True, cache=True)
    callbacks = lark.parser.parser.parser.callbacks  # the LALR parser's, one per rule, read at each parse
    for rule, build in callbacks.items():
        if not _passes_through(rule):
            callbacks[rule] = _positioned(build)
    # This lexer also yields the ignored tokens, so that a parse sees its comments.
    conf = copy(lark.lexer_conf)
    conf.ignore = ()
    conf.skip_validation = True  # lark validated these terminals when it built the parser
    return lark, BasicLexer(conf), _table(lark.parser.parser.parser)


def _passes_through(rule: Rule) -> bool:
    """Whether `rule` hands its one child up unchanged, position and all (`?expr: ternary`)."""
    return (len(rule.expansion) == 1 and rule.options.expand1 and not rule.alias
            and not rule.expansion[0].is_term and not rule.expansion[0].name.startswith("_"))


def _table(parser) -> dict[int, dict[str, tuple]]:
    """Lark's LALR table for `_run`: state → token kind → (next state, None) for a shift,
    or (None, (callback, length, rule name)) for a reduction, with callback None where the rule passes
    its child through (most reductions: `?expr` down to `?atom`).

    The same table lark's `ParserState` reads, with each rule's callback looked up once here rather
    than hashed (and compared: the cached table's rules are copies) on every reduction.
    """
    callbacks = parser.callbacks
    assert all(isinstance(rule, Rule) for rule in callbacks)  # no token callbacks to run on a shift
    rules = {rule: (None if _passes_through(rule) else callbacks[rule], len(rule.expansion), rule.origin.name)
             for rule in callbacks}
    table = parser.parse_table
    return {state: {kind: (arg, None) if action is Shift else (None, rules[arg])
                    for kind, (action, arg) in actions.items()}
            for state, actions in table.states.items()}


class _Pos:
    """Where a tree node lies: what lark's `propagate_positions=True` computes, and only that.

    `line` … `end_column` are the node's own extent; the `c…` fields its container's, which for a node
    passed up through an inlined rule (`"(" expr ")"`) include the tokens that rule dropped. A parent
    starts and ends with its first and last children's containers.
    """

    __slots__ = ("line", "column", "end_line", "end_column", "cline", "ccolumn", "cend_line", "cend_column")


def _positioned(build: Callable[[list], Any]) -> Callable[[list], Any]:
    """`build` (lark's callback for one rule), then the node's position from the raw children.

    Lark's own `PropagatePositions` does the same with a `Meta` and getattr fallbacks per child; this
    keeps a node's position in a slotted `_Pos` in `tree._meta` (None while it has none: lark's empty meta).
    """
    def callback(children: list) -> Any:
        res = build(children)
        if res.__class__ is not Tree:
            return res
        for c in children:
            if isinstance(c, Token):
                line, column = c.line, c.column
                break
            if c.__class__ is Tree and c._meta is not None:
                line, column = c._meta.cline, c._meta.ccolumn
                break
        else:
            return res  # no child with a position; nor one from the end
        for c in reversed(children):
            if isinstance(c, Token):
                end_line, end_column = c.end_line, c.end_column
                break
            if c.__class__ is Tree and c._meta is not None:
                end_line, end_column = c._meta.cend_line, c._meta.cend_column
                break
        pos = res._meta
        if pos is None:
            res._meta = pos = _Pos()
            pos.line, pos.column, pos.end_line, pos.end_column = line, column, end_line, end_column
        pos.cline, pos.ccolumn, pos.cend_line, pos.cend_column = line, column, end_line, end_column
        return res
    return callback


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

    def _tree(self):
        lark, lexer, table = _machinery()
        table_of = lark.parser.parser.parser.parse_table
        tree = _run(table, table_of.start_states["start"], table_of.end_states["start"],
                    self.layout.process(self._tokens(lexer, lark.lexer_conf.ignore)))
        if tree is not None:
            return tree
        # A syntax error: parse again with lark's own parser, whose exception says what would have fit.
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


def _run(table: dict[int, dict[str, tuple]], start: int, end: int, tokens: Iterator[Token]) -> Tree | None:
    """The LALR loop of lark's `ParserState.feed_token` over all of `tokens`, then the end of the file.

    The tree it builds, or None at the first token the grammar does not allow (then `_Parse._tree`
    parses again with lark's interactive parser, for its exception). Errors of the token stream
    itself (brackets, limits) pass through, at the same token as they would in lark's loop.
    """
    states = [start]
    values: list = []
    for token in tokens:
        kind = token.type
        while True:
            shift, reduce = table[states[-1]].get(kind, _NO_ACTION)
            if shift is not None:
                states.append(shift)
                values.append(token)
                break
            if reduce is None:
                return None
            callback, size, origin = reduce
            if callback is None:  # the child stays where it is on the stack
                del states[-1]
                states.append(table[states[-1]][origin][0])
                continue
            if size:
                children = values[-size:]
                del states[-size:]
                del values[-size:]
            else:
                children = []
            states.append(table[states[-1]][origin][0])
            values.append(callback(children))
    # The end of the file: the reductions left, as in the loop above (written out twice, not called,
    # because the loop's reductions are the parser's hottest path).
    while True:
        shift, reduce = table[states[-1]].get("$END", _NO_ACTION)
        if reduce is None:
            return None  # the file ends early (or a shift of the end, which lark's loop refuses too)
        callback, size, origin = reduce
        if callback is None:
            del states[-1]
        else:
            if size:
                children = values[-size:]
                del states[-size:]
                del values[-size:]
            else:
                children = []
            values.append(callback(children))
        states.append(table[states[-1]][origin][0])
        if states[-1] == end:
            return values[-1]


_NO_ACTION = (None, None)


# Pieces of text that each hold at least one token (comments are matched whole, to be skipped).
_SOME_TOKENS = re.compile(r'#[^\n]*|"(?:[^"\\\n]|\\.)*"|[A-Za-z0-9_.]+|->|\*\*|//|[<>=!]=|\S')


def _span_at(file: str, line: int, col: int, width: int = 1) -> Span:
    return trusted(Span)(file=file, line=line, col=col, end_line=line, end_col=col + width)


def _token_span(file: str, tok: Token) -> Span:
    return trusted(Span)(file=file, line=tok.line, col=tok.column, end_line=tok.end_line or tok.line,
                end_col=tok.end_column or tok.column + len(tok.value))


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


_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


def _unquote(s: str) -> str:
    """The value of a double-quoted string token (our own escapes; nothing reaches eval)."""
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), s[1:-1])


class ToAst:
    """lark tree → AST. Method names are grammar rules; each is called as `rule(meta, *children)`.

    (What lark's `Transformer` with `v_args(meta=True, inline=True)` does, without the wrapper it
    builds around a method on every call: a third of a parse. Like it, two frames per tree level.)
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
        return rule(tree._meta, *children)

    def _span(self, meta) -> Span:
        if meta is None:
            return _span_at(self.file, 1, 1)
        return trusted(Span)(file=self.file, line=meta.line, col=meta.column, end_line=meta.end_line,
                                    end_col=meta.end_column)

    def _tspan(self, tok: Token) -> Span:
        return _token_span(self.file, tok)

    # ---- top level
    def start(self, meta, *items):
        return trusted(ast.File)(path=self.file, items=[i for i in items if i is not None])

    def import_item(self, meta, path):
        return trusted(ast.Import)(span=self._span(meta), path=_unquote(path.value))

    def block_def(self, meta, name, params, body):
        return trusted(ast.BlockDef)(span=self._tspan(name), name=name.value, params=params or [], body=body)

    def model_def(self, meta, name, params, body):
        return trusted(ast.ModelDef)(span=self._tspan(name), name=name.value, params=params or [], body=body)

    def params(self, meta, *params):
        return [p for p in params if p is not None]

    def param(self, meta, name, default):
        return trusted(ast.Param)(span=self._tspan(name), name=name.value, default=default)

    # ---- statements
    def body(self, meta, lbrace, *rest):
        stmts = [s for s in rest[:-1] if s is not None and not isinstance(s, Token)]
        return trusted(ast.Body)(span=self._span(meta), stmts=stmts)

    def let_stmt(self, meta, name, value):
        return trusted(ast.Let)(span=self._span(meta), name=name.value, value=value)

    def input_decl(self, meta, name, ttype):
        return trusted(ast.InputDecl)(span=self._span(meta), name=name.value, type=ttype,
                                             note=self.comments.get(meta.end_line))

    def tensor_type(self, meta, dtype, *dims):
        return trusted(ast.TensorType)(span=self._span(meta),
                                              dtype=dtype.value if dtype is not None else "float",
                                              dims=[d for d in dims if d is not None])

    def output_stmt(self, meta, *values):
        return trusted(ast.Output)(span=self._span(meta), values=list(values))

    def label(self, meta, tok):
        return tok

    def labelled(self, meta, name, chain):
        return chain.model_copy(update={"label": name.value, "label_span": self._tspan(name), "span": self._span(meta)})

    def chain(self, meta, *parts):
        elements = [p for p in parts if not isinstance(p, Token)]
        # A trailing comment is the note of the last element that ends on its line.
        noted = []
        for i, el in enumerate(elements):
            last_on_line = i + 1 == len(elements) or elements[i + 1].span.end_line != el.span.end_line
            note = None
            if last_on_line:
                note = self.comments.get(el.span.end_line)
                if note is None and el.span.line != el.span.end_line:
                    note = self.comments.get(el.span.line)
            noted.append(el.model_copy(update={"note": note}) if note else el)
        return trusted(ast.Chain)(span=self._span(meta), elements=noted)

    # ---- elements
    def layer_call(self, meta, path, args):
        # `relu` and `relu()` are the same layer; `args` None means no parentheses.
        return trusted(ast.LayerCall)(span=self._span(meta), path=path, args=args)

    def path(self, meta, *parts):
        return [p.value for p in parts]

    def group(self, meta, body):
        return trusted(ast.Group)(span=self._span(meta), body=body)

    def residual(self, meta, body, shortcut_kw, shortcut):
        return trusted(ast.Residual)(span=self._span(meta), body=body, shortcut=shortcut)

    def parallel(self, meta, body):
        return trusted(ast.Parallel)(span=self._span(meta), body=body)

    def repeat(self, meta, count, index, body):
        return trusted(ast.Repeat)(span=self._span(meta), count=count,
                                          index=index.value if index is not None else None,
                          body=body)

    def if_elem(self, meta, cond, then, else_kw, orelse):
        if isinstance(orelse, ast.If):
            chain = trusted(ast.Chain)(span=orelse.span, elements=[orelse])
            orelse = trusted(ast.Body)(span=orelse.span, stmts=[chain])
        return trusted(ast.If)(span=self._span(meta), cond=cond, then=then, orelse=orelse)

    def args(self, meta, *args):
        return [a for a in args if a is not None]

    def kwarg(self, meta, name, value):
        return trusted(ast.Arg)(span=self._span(meta), name=name.value, value=value)

    def posarg(self, meta, value):
        return trusted(ast.Arg)(span=self._span(meta), name=None, value=value)

    # ---- expressions
    def ternary(self, meta, then, cond, else_kw, orelse):
        return trusted(ast.Ternary)(span=self._span(meta), cond=cond, then=then, orelse=orelse)

    def or_op(self, meta, left, right):
        return trusted(ast.BoolOp)(span=self._span(meta), op="or", left=left, right=right)

    def and_op(self, meta, left, right):
        return trusted(ast.BoolOp)(span=self._span(meta), op="and", left=left, right=right)

    def not_op(self, meta, operand):
        return trusted(ast.UnaryOp)(span=self._span(meta), op="not", operand=operand)

    def compare(self, meta, left, op, right):
        return trusted(ast.BinOp)(span=self._span(meta), op=op.value, left=left, right=right)

    def binop(self, meta, left, op, right):
        return trusted(ast.BinOp)(span=self._span(meta), op=op.value, left=left, right=right)

    def unop(self, meta, op, operand):
        return trusted(ast.UnaryOp)(span=self._span(meta), op=op.value, operand=operand)

    def attr(self, meta, obj, name):
        return trusted(ast.Attr)(span=self._span(meta), obj=obj, attr=name.value)

    def index(self, meta, obj, index):
        return trusted(ast.Index)(span=self._span(meta), obj=obj, index=index)

    def fcall(self, meta, name, args):
        return trusted(ast.Call)(span=self._span(meta), func=name.value, args=args or [])

    def int_lit(self, meta, tok):
        return trusted(ast.Literal_)(span=self._tspan(tok), value=int(tok.value))

    def float_lit(self, meta, tok):
        return trusted(ast.Literal_)(span=self._tspan(tok), value=float(tok.value))

    def str_lit(self, meta, tok):
        return trusted(ast.Literal_)(span=self._tspan(tok), value=_unquote(tok.value))

    def true_lit(self, meta):
        return trusted(ast.Literal_)(span=self._span(meta), value=True)

    def false_lit(self, meta):
        return trusted(ast.Literal_)(span=self._span(meta), value=False)

    def none_lit(self, meta):
        return trusted(ast.Literal_)(span=self._span(meta), value=None)

    def name(self, meta, tok):
        return trusted(ast.Name)(span=self._tspan(tok), id=tok.value)

    def list_lit(self, meta, *items):
        return trusted(ast.ListLit)(span=self._span(meta), items=[i for i in items if i is not None])
