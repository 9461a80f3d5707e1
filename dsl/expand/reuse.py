"""A block call's expansion made once and copied for every call that would make the same.

Stage: expansion, from `dsl.expand.calls`. What a block body expands to
depends only on the block, its arguments and the value it is given (its
shape, dtype, layout fact and the shape of a weight it may share): ResNet-50
calls `Bottleneck(256)` five times on the same `[1024, 14, 14]`. The first
such call is walked and recorded; each later one copies the recorded nodes,
frames and §6 elements with their ids moved to where the copy lands, instead
of walking, evaluating and binding again. The copy is what a walk would have
made, field for field: names come from the copied elements, so they are the
new call's paths (`layer3.4.conv1`, not `layer3.1.conv1`).

A call is recorded only when it can be replayed exactly: its arguments are
plain numbers, strings, booleans, sizes or lists of them (no tensor value),
its input has no members (`in.last` could read them), the check has no error
so far (so nothing was reported inside), and everything it made refers only
to itself and to its input. A replay is refused where the walk could end
differently: a block it calls is being expanded (E109), the nesting would
pass its limit (E006) or the graph its ceiling (E405); the call is then
walked, and reports as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..dims import Sym
from ..naming import Element, Level
from ..values import Bundle, Namespace, Value
from .state import MAX_NODES, ModelBuild


class NotPlain(Exception):
    """An argument that a key cannot hold exactly."""


def plain(v: Any) -> Any:
    """`v` as a key part that tells apart what the expansion could tell apart (1, 1.0 and true; 0.0 and -0.0)."""
    if v is None or isinstance(v, (bool, int, str, Sym)):
        return (type(v), v)
    if isinstance(v, float):
        return (float, repr(v))
    if isinstance(v, (list, tuple)):
        return (type(v), tuple(plain(x) for x in v))
    raise NotPlain


def call_key(defn: Any, positional: list[tuple[Any, Any]], named: dict[str, tuple[Any, Any]], current: Any,
             build: ModelBuild) -> tuple | None:
    """What a block call's expansion depends on, or None where it may not be reused."""
    if not isinstance(current, Value) or current.poisoned:
        return None
    t = current.type
    try:
        args = (tuple(plain(v) for v, _ in positional), tuple((k, plain(v)) for k, (v, _) in named.items()))
    except NotPlain:
        return None
    shape = tuple((type(d), d) for d in t.shape)
    return (id(defn), args, shape, t.dtype, t.channels_first, build.weights.get(current.node))


@dataclass
class Mark:
    """Where the build stood when a block body's walk began (its frame already pushed)."""
    nodes: int
    frames: int
    statements: int
    frame: int  # the call's own frame
    level: Level  # the call's level, which the body's elements join
    current: Value  # the value the call was given
    reads: int  # how many member reads the walk had made
    note: str | None  # the input node's note (a walk that notes the input changes what lies outside it)
    called: int  # how many block calls had been entered, this one included


@dataclass
class Expansion:
    """One recorded block body: what it added to the build, relative to where it began."""
    nodes: list[dict[str, Any]]
    elements: list[Element | None]
    frames: list[dict[str, Any]]
    frame_elements: list[Element]
    weights: dict[int, tuple[int, ...]]
    level: Level
    statements: int
    called: list[str]  # the blocks it called, at any depth (for E109 on a replay)
    depth: int  # how much deeper than the call its block calls began (for E006); 0: it calls none
    result: Any
    mark: Mark
    args: dict[str, Any]  # the call's parameters as its frame records them (a call with its key binds the same)

    def fits(self, build: ModelBuild, stack: list[str], limit: int) -> bool:
        """Whether walking the call again would make exactly this, without a diagnostic."""
        return (len(build.nodes) + len(self.nodes) <= MAX_NODES
                and (self.depth == 0 or len(stack) + self.depth < limit)
                and not any(name in stack for name in self.called))


def record(build: ModelBuild, mark: Mark, result: Any, called: list[str], depth: int,
           reads: list[Any]) -> Expansion | None:
    """What the walk since `mark` made, if it refers to nothing outside itself but the call's input.

    `reads` are the members the walk read: one from outside (`in.conv1`, where the input carries the
    labels of the block that made it) would make the expansion depend on more than its key.
    """
    nodes = build.nodes[mark.nodes:]
    frames = build.frames[mark.frames:]
    inside = range(mark.nodes, len(build.nodes))
    source = mark.current.node

    def own(i: int) -> bool:
        return i in inside or i == source

    first, first_frame, first_statement = mark.nodes, mark.frame, mark.statements
    for n in nodes:
        # Most nodes read only the node made just before them, or the input: tell those apart first.
        for i in n["inputs"]:
            if not (first <= i or i == source):
                return None
        if n["refs"] and not all(own(i) for i in n["refs"].values()):
            return None
        if n["shares"] and not all(own(i) for i in n["shares"].values()):
            return None
        if n["frame"] is None or n["frame"] < first_frame or n["statement"] < first_statement:
            return None
    if any(f["parent"] is None or f["parent"] < mark.frame for f in frames):
        return None
    if not _values_own(result, own):
        return None
    if any(isinstance(v, Value) and not own(v.node) for v in reads):
        return None
    if build.nodes[source]["note"] != mark.note:
        return None  # the walk noted the input itself (`_note_on_read`): a change outside the copy
    weights = {i: w for i, w in build.weights.items() if i in inside}
    return Expansion(nodes, build.elements[mark.nodes:], frames, build.frame_elements[mark.frames:], weights,
                     mark.level, build.statements - mark.statements, called, depth, result, mark,
                     build.frames[mark.frame]["args"])


def _values_own(v: Any, own) -> bool:
    if isinstance(v, Value):
        return not v.poisoned and own(v.node) and all(_values_own(m, own) for m in v.members.values())
    if isinstance(v, Namespace):
        return all(_values_own(m, own) for m in v.members.values())
    if isinstance(v, Bundle):
        return False
    return True


def replay(build: ModelBuild, rec: Expansion, level: Level, frame: int, current: Value) -> Any:
    """Add a copy of `rec` to `build` for a call whose frame is `frame`, level `level`, input `current`."""
    m = rec.mark
    node_shift = len(build.nodes) - m.nodes
    frame_shift = frame - m.frame
    stmt_shift = build.statements - m.statements
    source, new_source = m.current.node, current.node

    def node(i: int) -> int:
        return new_source if i == source else i + node_shift

    elements: dict[int, Element] = {}
    _copy_level(rec.level, level, elements)
    nodes, new_elements = build.nodes, build.elements
    for n, el in zip(rec.nodes, rec.elements):
        # A copy of the recorded fields (their order kept), then the ones that move.
        copy = n.copy()
        copy["id"] += node_shift
        copy["args"] = copy["args"].copy()
        copy["inputs"] = tuple([node(i) for i in copy["inputs"]])
        refs, shares = copy["refs"], copy["shares"]
        copy["refs"] = {k: node(i) for k, i in refs.items()} if refs else {}
        copy["shares"] = {k: node(i) for k, i in shares.items()} if shares else {}
        copy["frame"] += frame_shift
        copy["statement"] += stmt_shift
        nodes.append(copy)
        new_elements.append(None if el is None else elements[id(el)])
    for f, el in zip(rec.frames, rec.frame_elements):
        # Each frame its own dict of arguments, as a walk would have made it.
        build.frames.append({**f, "id": f["id"] + frame_shift, "parent": f["parent"] + frame_shift,
                             "args": f["args"].copy()})
        build.frame_elements.append(elements[id(el)])
    for i, w in rec.weights.items():
        build.weights[i + node_shift] = w
    build.statements += rec.statements
    return _rebase(rec.result, m.current, current, node, {})


def _copy_level(old: Level, new: Level, elements: dict[int, Element]) -> None:
    for el in old.elements:
        copy = new.add(el.label, el.fixed)
        elements[id(el)] = copy
        if el._sub is not None:
            _copy_level(el._sub, copy.sub, elements)


def _rebase(v: Any, source: Value, current: Value, node, seen: dict[int, Any]) -> Any:
    """The recorded result for the new call: its values moved, the input being the new call's input."""
    if v is source:
        return current
    if not isinstance(v, (Value, Namespace)):
        return v
    done = seen.get(id(v))
    if done is not None:
        return done  # a value reachable twice stays one value (labels compare by identity)
    members = {k: _rebase(m, source, current, node, seen) for k, m in v.members.items()}
    out = Value(node(v.node), v.type, v.origin, members) if isinstance(v, Value) else Namespace(members)
    seen[id(v)] = out
    return out
