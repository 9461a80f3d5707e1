"""Fast LALR parser: the tokens of `dsl.lexer` → AST nodes, in one bottom-up pass.

Stage: second step of `dsl.parse`'s fast path. It runs lark's own LALR table, and in each reduction
does what lark's tree-building callbacks would (drop anonymous tokens, splice `_rule`s into their
parent, hand a `?rule`'s one child up, put None where an `[optional]` is absent, compute the
positions of `propagate_positions=True`), then calls the AST builder's method for the rule at once
(`dsl.parse.ToAst`), so that no lark Tree is built and walked again.

Positions: beside every value on the stack lies its container (line, column, end line, end column,
tree depth): a node starts at its first child's container and ends at its last's, and a child handed
up through `"(" expr ")"` keeps its own span but takes the parentheses into its container; a token's
container is itself (`dsl.lexer.Tok` is laid out so). The depth is that of the tree lark would have
built, so that a tree too deep for `ToAst.transform`'s recursion still goes lark's way.

`FastParser.run` returns None at the first token the grammar does not allow, and for a tree deeper
than MAX_DEPTH: the parse then runs lark's path, for its exception or its tree.
tests/test_parse_reference.py holds the result to lark's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

from lark.grammar import Rule
from lark.parse_tree_builder import ChildFilterLALR, maybe_create_child_filter
from lark.parsers.lalr_analysis import Shift

# Trees deeper than this go lark's way. `ToAst.transform` takes two frames a level, so lark's path
# recurses to E006 near 500 levels; real specs nest about 20 deep.
MAX_DEPTH = 100

_DEPTH = itemgetter(4)  # of a container


class FastParser:
    """Lark's LALR table, compiled for `run`.

    `actions[state][kind]`: for a shift, the next state (an int); for a reduction that hands its one
    child up unchanged, value and position (`?expr: ternary`, most reductions), the rule's origin (a
    str); for any other reduction, (length, origin, select, method, first, last): `select` (None:
    take them all) picks the children lark's node would hold from the raw ones, `method` (of the AST
    builder, called as `method(builder, position, *children)`) makes the value from them, or is None
    where the children are the value (a spliced `_rule`'s list, a `?rule`'s one child); the children
    at `first` and `last` are all that may be trees (or -1: more may be). Nonterminals map to their
    goto state.
    """

    def __init__(self, parse_table, builder: type) -> None:
        self.start = parse_table.start_states["start"]
        self.end = parse_table.end_states["start"]
        rules = {arg for actions in parse_table.states.values() for action, arg in actions.values()
                 if action is not Shift}
        compiled = {rule: _compile(rule, builder) for rule in rules}
        assert sorted(parse_table.states) == list(range(len(parse_table.states)))  # so, a list of rows
        self.actions: list[dict[str, Any]] = [
            {kind: arg if action is Shift else compiled[arg] for kind, (action, arg) in actions.items()}
            for _, actions in sorted(parse_table.states.items())]
        # (state below, state on top, next kind) → the state after the chain of pass-through reductions
        # there (an atom is handed up through ten `?rule`s), found once and remembered.
        self.passes: dict[tuple[int, int, str], int] = {}

    def run(self, kinds: list[str], toks: list, builder: Any) -> Any | None:
        """The value of the start rule over `toks` (of `kinds`), or None; see the module docstring."""
        actions, passes, end = self.actions, self.passes, self.end
        state = self.start  # the top of `states`
        states = [state]
        values: list = []
        metas: list = []  # the container of each value, as in the module docstring
        kinds.append("$END")
        toks.append(None)
        for kind, tok in zip(kinds, toks):
            while True:
                act = actions[state].get(kind)
                if act.__class__ is int:
                    states.append(act)
                    state = act
                    values.append(tok)
                    metas.append(tok)
                    break
                if act is None:
                    return None
                if act.__class__ is str:
                    key = (states[-2], state, kind)
                    state = passes.get(key)
                    if state is None:
                        state = passes[key] = self._pass_through(*key)
                    states[-1] = state
                    continue
                size, origin, select, method, i, j = act
                if size:
                    children = values[-size:]
                    del values[-size:]
                    ms = metas[-size:]
                    del metas[-size:]
                    del states[-size:]
                    if i < 0:
                        depth = max(map(_DEPTH, ms))
                    else:  # cheaper than the max of all, and most rules hold one or two trees
                        depth, other = ms[i][4], ms[j][4]
                        if other > depth:
                            depth = other
                    first, last = ms[0], ms[-1]
                    meta = (first[0], first[1], last[2], last[3], depth if method is None else depth + 1)
                else:  # only the start rule is empty, and it is no one's child
                    children, meta = [], None
                if select is not None:
                    children = select(children)
                value = children if method is None else method(builder, meta, *children)
                state = actions[states[-1]][origin]
                if state == end:
                    return value if meta is None or meta[4] <= MAX_DEPTH else None
                states.append(state)
                values.append(value)
                metas.append(meta)
        return None

    def _pass_through(self, below: int, top: int, kind: str) -> int:
        actions = self.actions
        while (origin := actions[top].get(kind)).__class__ is str:
            top = actions[below][origin]
        return top


def _compile(rule: Rule, builder: type) -> Any:
    """The action of a reduction by `rule`: its origin where it passes its child through, else a tuple."""
    size = len(rule.expansion)
    # A plain str: `run` tells a pass-through by its class, and a grammar lark has just built (not loaded
    # from its cache) names its rules with `Token`s.
    origin = str(rule.origin.name)
    trees = [i for i, symbol in enumerate(rule.expansion) if not symbol.is_term] or [0]  # a token is of depth 0
    deep = (trees[0], trees[-1]) if len(trees) <= 2 else (-1, -1)
    kept, nones_after = _kept(rule)
    inlines = any(inline for _, inline, _ in kept)
    single = not inlines and len(kept) + sum(n for _, _, n in kept) + nones_after == 1
    if origin.startswith("_"):  # spliced into its parent: the value is the list of its children
        select = _selector(kept, nones_after, size)
        return size, origin, None if select is None else _spliced(kept, nones_after), None, *deep
    if rule.options.expand1 and not rule.alias:
        assert single, f"{rule}: a `?rule` whose length varies"
        if size == 1 and kept == [(0, False, 0)]:
            return origin
        if len(kept) == 1 and kept[0][1:] == (False, 0):  # `"(" expr ")"`: the child itself
            return size, origin, itemgetter(kept[0][0]), None, *deep
        select = _selector(kept, nones_after, size)
        return size, origin, lambda c: select(c)[0], None, *deep
    assert size or origin == "start", f"{rule}: an empty rule below the start"
    return size, origin, _selector(kept, nones_after, size), getattr(builder, rule.alias or origin), *deep


def _kept(rule: Rule) -> tuple[list[tuple[int, bool, int]], int]:
    """Lark's child filter for `rule`: (index, spliced, Nones before it) for each child kept, and the
    Nones after the last; read from `maybe_create_child_filter`, so that it is lark's own."""
    filt = maybe_create_child_filter(rule.expansion, rule.options.keep_all_tokens, False,
                                     rule.options.empty_indices)
    if filt is None:
        return [(i, False, 0) for i in range(len(rule.expansion))], 0
    if filt.func is ChildFilterLALR:
        kept, nones_after = filt.args
        return list(kept), nones_after
    return [(i, inline, 0) for i, inline in filt.args[0]], 0


def _selector(kept: list[tuple[int, bool, int]], nones_after: int, size: int) -> Callable[[list], Sequence] | None:
    """The children a rule's node holds, from its raw children: None where it holds them all."""
    if not any(inline or nones for _, inline, nones in kept) and not nones_after:
        indices = [i for i, _, _ in kept]
        if indices == list(range(size)):
            return None
        if not indices:
            return lambda c: ()
        if len(indices) == 1:
            i = indices[0]
            return lambda c: (c[i],)
        return itemgetter(*indices)
    if not any(inline for _, inline, _ in kept):
        # Placeholders without splicing: read the Nones from one past the end.
        indices = [j for i, _, nones in kept for j in (*[size] * nones, i)] + [size] * nones_after
        if len(indices) == 1:
            return lambda c: (None,) if indices[0] == size else (c[indices[0]],)
        pick = itemgetter(*indices)

        def padded(c: list) -> Sequence:
            c.append(None)
            return pick(c)
        return padded
    return _spliced(kept, nones_after)


def _spliced(kept: list[tuple[int, bool, int]], nones_after: int) -> Callable[[list], list]:
    def spliced(c: list) -> list:
        # Lark's `ChildFilterLALR`: a spliced first child's list is extended in place (left recursion).
        out: list = []
        for i, inline, nones in kept:
            if nones:
                out += [None] * nones
            if not inline:
                out.append(c[i])
            elif out:
                out += c[i]
            else:
                out = c[i]
        if nones_after:
            out += [None] * nones_after
        return out
    return spliced
