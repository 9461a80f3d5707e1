"""From a checked graph to the diagram model: lanes of boxes, arrows and forks.

Stage: after `compiler.diagram.units` has folded frames into units. Reads the
unit DAG as a series-parallel flow: walking back from an output, a unit with
several inputs is a join, and its immediate dominator is where the branches
forked (a residual's skip is a branch that is empty). Consecutive layers
share one arrow when the source wrote them as one statement (`conv -> relu
-> maxpool`), or when the next statement keeps the shape (`bn1: batchnorm`
after a conv), so a box appears where the reader expects a new value. The
depth is chosen here when the caller leaves it open. No layout, no text.
"""

from __future__ import annotations

from archlang.dsl.dims import is_concrete
from archlang.dsl.graph import Frame, ModelGraph, Node
from archlang.dsl.layers import REGISTRY

from . import recurrent
from .model import Arrow, Box, Diagram, DiagramOptions, Fork, Item, Repeat, shape_words
from .units import ENTRY, Folder, Unit, consumers_of, max_level

READABLE_BOXES = 40  # the automatic depth opens frames while the picture stays within this many boxes
TINT_ORDER = ("attention", "recurrent", "conv", "norm")  # an arrow or fold of several takes the first it holds


def build(g: ModelGraph, options: DiagramOptions | None = None) -> Diagram:
    """The diagram of `g`; with `options.depth` None, the deepest depth that stays readable."""
    options = options or DiagramOptions()
    if options.depth is not None:
        return _Builder(g, options, options.depth).diagram()
    best = _Builder(g, options, 0).diagram()
    for depth in range(1, max_level(g) + 1):
        d = _Builder(g, options, depth).diagram()
        if len(d.boxes()) > READABLE_BOXES:
            break
        best = d
    return best


def _symbol(n: Node) -> str | None:
    """The sign a merge (or a residual's ⊕) joins its branches with; None for any other node."""
    return REGISTRY[n.layer].symbol if n.kind in ("layer", "residual") else None


def _named_inputs(n: Node) -> list[tuple[str, int]]:
    """What a layer reads besides its operands: values (`memory`, `init`) and a tied weight (`tie`)."""
    return [*n.refs.items(), *(("tie", j) for j in n.shares.values())]


def same_statement(a: Node, b: Node) -> bool:
    """True when `b` follows `a` inside one chain (`a -> b`), as the source wrote it."""
    return a.statement == b.statement and a.statement >= 0 and a.frame == b.frame


def _value_name(g: ModelGraph, n: Node) -> str:
    """The label a reader would use for a value: `encoder` for the last node of `encoder: { ... }`."""
    fid, name = n.frame, n.name
    while fid is not None and g.frames[fid].kind in ("group", "chain") and _last_node(g, fid) == n.id:
        name = g.frames[fid].path
        fid = g.frames[fid].parent
    parts = name.split(".") if name and not name.startswith("@") else []
    while parts and parts[-1].isdigit():
        parts.pop()
    return ".".join(parts)


def _last_node(g: ModelGraph, fid: int) -> int | None:
    last = None
    for n in g.nodes:
        f = n.frame
        while f is not None:
            if f == fid:
                last = n.id
                break
            f = g.frames[f].parent
    return last


class _Flow:
    """One unit DAG (the model, or a repeat's body) and its immediate dominators."""

    def __init__(self, units: list[Unit]):
        self.units = units
        self.idom: dict[int, int] = {}
        depth = {ENTRY: 0}
        for u in units:
            preds = u.inputs or [ENTRY]
            d = preds[0]
            for p in preds[1:]:
                d = self._lca(d, p, depth)
            self.idom[u.index] = d
            depth[u.index] = depth[d] + 1

    def _lca(self, a: int, b: int, depth: dict[int, int]) -> int:
        while a != b:
            if depth[a] >= depth[b]:
                a = self.idom.get(a, ENTRY)
            else:
                b = self.idom.get(b, ENTRY)
        return a

    def walk(self, exit: int, stop: int, drawn: set[int]) -> list[tuple]:
        """Elements after `stop` up to `exit`, in reading order: ("unit", u), ("join", u, branches), ("seen", u)."""
        out: list[tuple] = []
        u = exit
        while u != stop and u != ENTRY:
            if u in drawn:
                out.append(("seen", u))
                break
            drawn.add(u)
            unit = self.units[u]
            if len(unit.inputs) >= 2:
                f = self.idom[u]
                branches = [self.walk(i, f, drawn) for i in unit.inputs]
                out.append(("join", u, branches, f))
                u = f
            else:
                out.append(("unit", u))
                u = unit.inputs[0] if unit.inputs else ENTRY
        out.reverse()
        return out


class _Builder:
    def __init__(self, g: ModelGraph, options: DiagramOptions, depth: int):
        self.g, self.opts, self.depth = g, options, depth
        self.detailed = options.style == "detailed"
        self.cons = consumers_of(g)
        self.read = {j for n in g.nodes for j in n.refs.values()}
        self.folder = Folder(g, depth, self.cons, self.read)
        self.box_of: dict[int, Box] = {}  # node → the box that shows (or folds) it
        self.wanted: list[tuple[Arrow | None, Box, str, int]] = []  # named arguments to point at their boxes
        self.frame_notes: dict[int, str] = {}
        self.joined: set[int] = set()  # merge nodes whose op a Fork already drew
        self.seen: list[tuple[Box, int]] = []  # `↪` boxes and the node whose box they continue from
        for f in g.frames:
            if f.note and f.kind != "pass":
                last = max((n.id for n in g.nodes if self._inside(n, f.id)), default=None)
                if last is not None:
                    self.frame_notes.setdefault(last, f.note)

    def _inside(self, n: Node, fid: int) -> bool:
        f = n.frame
        while f is not None:
            if f == fid:
                return True
            f = self.g.frames[f].parent
        return False

    # ---------------------------------------------------------------- lanes
    def diagram(self) -> Diagram:
        units = self.folder.unitise([n.id for n in self.g.nodes])
        flow = _Flow(units)
        unit_of = {i: u.index for u in units for i in u.nodes}
        exits = [unit_of[p.node] for p in self.g.outputs if p.node in unit_of]
        exits += [u.index for u in units if any(i in self.read for i in u.nodes)]
        drawn: set[int] = set()
        walked = []
        for e in dict.fromkeys(exits):
            if e in drawn:
                continue
            els = flow.walk(e, ENTRY, drawn)
            walked.append(els)
        lanes = [self.items(flow, els, entry=False) for els in walked]
        lanes = [lane for lane in lanes if lane]
        if self.detailed and self.opts.shapes:
            self._shapes_on_arrows(lanes)
        lanes.sort(key=lambda lane: min((i for b in _boxes(lane) for i in b.nodes), default=0))
        self._mark_outputs(lanes)
        for box, node in self.seen:
            shown = self.box_of.get(node)
            box.seen = shown.id if shown is not None else None
        refs = self._resolve_refs()
        title = f"{self.g.name} ({self.g.file})"
        return Diagram(title=title, lanes=lanes, options=self.opts, depth=self.depth, refs=refs)

    def _mark_outputs(self, lanes: list[list[Item]]) -> None:
        """Each output port names its box; one that leaves a repeat drawn once gets a box after the repeat."""
        for p in self.g.outputs:
            box = self.box_of.get(p.node)
            if box is None:
                continue
            if p.node not in box.nodes:
                where = next(((lane, k) for lane in lanes for k, it in enumerate(lane)
                              if isinstance(it, Repeat) and box in _boxes(it.body)), None)
                if where is not None:  # the repeat's drawn pass is not the last: its result is a value of its own
                    lane, k = where
                    box = Box(f"o{p.node}", shape_words(p.shape), "value", shape=shape_words(p.shape),
                              nodes=(p.node,))
                    lane[k + 1:k + 1] = [Arrow(None), box]
                    self.box_of[p.node] = box
            if box.output is None:
                box.output = p.name

    def _shapes_on_arrows(self, lanes: list[list[Item]]) -> None:
        """The arrows carry the shapes now; a box keeps its own only where no arrow leaves it."""
        last = {id(lane[-1]) for lane in lanes if isinstance(lane[-1], Box)}
        for box in (b for lane in lanes for b in _boxes(lane)):
            if box.kind != "input" and id(box) not in last:
                box.shape = ""

    def _resolve_refs(self) -> list[tuple[str, str, str]]:
        edges = []
        for arrow, target, arg, node in self.wanted:
            src = self.box_of.get(node)
            if src is None or src is target:
                continue
            name = _value_name(self.g, self.g.nodes[node]) or src.text
            if arrow is not None:
                arrow.refs += ((arg, name),)
            edges.append((src.id, target.id, arg))
        return edges

    # ---------------------------------------------------------------- items
    def items(self, flow: _Flow, els: list[tuple], entry: bool) -> list[Item]:
        out: list[Item] = []
        pending: list[Node] = []
        for k, el in enumerate(els):
            nxt = els[k + 1] if k + 1 < len(els) else None
            if el[0] == "seen":
                out.append(self._seen_box(flow.units[el[1]]))
                continue
            u = flow.units[el[1]]
            if el[0] == "join":
                branches = [self.items(flow, b, entry=True) for b in el[2]]
                sourced = el[3] != ENTRY or entry
                n = self.g.nodes[u.out]
                sign = _symbol(n) if u.kind == "node" else None
                if sign is not None:
                    out.append(Fork(branches, sign, (n.id,), sourced))
                    self.joined.add(n.id)  # the fork draws the op; a `relu` after it may share the arrow
                    pending.append(n)
                    if self._breaks(n, nxt, flow, els, k):
                        pending = self._flush(out, pending)
                else:  # a folded block that reads several values: the branches join into it
                    out.append(Fork(branches, "", tuple(u.nodes), sourced))
                    out.extend(self._unit_items(u)[1:] if u.kind == "fold" else self._unit_items(u))
                continue
            if u.kind != "node":
                out.extend(self._unit_items(u))
                continue
            n = self.g.nodes[u.nodes[0]]
            if n.kind == "input":
                out.append(self._input_box(n))
            elif self._opened(n):
                pending = self._flush(out, pending)
                out.append(recurrent.unroll(self.g, n, self.opts.unroll, self.opts.gates) if self.opts.unroll
                           else recurrent.cell(n))
                out.append(self._value_box([n]))
                self._want_refs(None, out[-1], [n])
            else:
                pending.append(n)
                if self._breaks(n, nxt, flow, els, k):
                    pending = self._flush(out, pending)
        self._flush(out, pending)
        return out

    def _flush(self, out: list[Item], pending: list[Node]) -> list[Node]:
        if pending:
            if self.detailed:
                for n in pending:
                    arrow = Arrow(shape_words(self.g.nodes[n.inputs[0]].shape) if self.opts.shapes and n.inputs
                                  else None, (n.id,))
                    box = self._value_box([n])
                    out += [box] if n.id in self.joined else [arrow, box]
                    self._want_refs(arrow, box, [n])
            else:
                # A join's sign says what a merge does (⊕); attention's α does not say its heads, so its
                # words lead the arrow below it.
                drawn = [n for n in pending if n.id not in self.joined or self._label(n) != _symbol(n)]
                arrow = Arrow(" → ".join(self._label(n) for n in drawn), tuple(n.id for n in drawn))
                box = self._value_box(pending)
                box.tint = self._tint(drawn)
                out += [arrow, box] if drawn else [box]
                self._want_refs(arrow, box, pending)
        return []

    def _tint(self, nodes) -> str | None:
        """The colour class of what made a box: the catalogue's, the first of `TINT_ORDER` among `nodes`."""
        found = {REGISTRY[n.layer].colour_class() for n in nodes if n.kind == "layer" and n.layer in REGISTRY}
        return next((t for t in TINT_ORDER if t in found), None)

    def _want_refs(self, arrow: Arrow | None, box: Box, nodes: list[Node]) -> None:
        for n in nodes:
            for arg, j in _named_inputs(n):
                self.wanted.append((arrow, box, arg, j))

    def _label(self, n: Node) -> str:
        if n.kind == "member":
            words = REGISTRY[self.g.nodes[n.inputs[0]].layer].member_words
            return words.get(str(n.args.get("member")), n.label)
        return n.label or n.layer

    def _breaks(self, n: Node, nxt: tuple | None, flow: _Flow, els: list[tuple], k: int) -> bool:
        """Whether `n` ends an arrow (its value gets a box)."""
        if self.detailed or not self._plain(nxt, flow) or self._note(n):
            return True
        if len(self.cons.get(n.id, [])) > 1 or n.id in self.read:
            return True
        m = self.g.nodes[flow.units[nxt[1]].nodes[0]]
        if same_statement(n, m):
            return False
        # A new statement: fold it into this arrow only when it keeps the shape (bn1 after conv1).
        end = m
        j = k + 1
        while j + 1 < len(els) and self._plain(els[j + 1], flow) and not self._note(end):
            nm = self.g.nodes[flow.units[els[j + 1][1]].nodes[0]]
            if not same_statement(end, nm):
                break
            end, j = nm, j + 1
        return end.shape != n.shape

    def _plain(self, el: tuple | None, flow: _Flow) -> bool:
        if el is None or el[0] != "unit":
            return False
        u = flow.units[el[1]]
        if u.kind != "node":
            return False
        n = self.g.nodes[u.nodes[0]]
        return n.kind != "input" and not self._opened(n)

    def _opened(self, n: Node) -> bool:
        """Whether `n` is drawn through time or opened into gates rather than named on an arrow."""
        return bool(self.opts.unroll or self.opts.gates) and recurrent.step_of(n) is not None

    def _note(self, n: Node) -> str | None:
        return n.note or self.frame_notes.get(n.id)

    # ---------------------------------------------------------------- boxes
    def _register(self, box: Box, nodes) -> Box:
        for i in nodes:
            self.box_of[i] = box
        return box

    def _input_box(self, n: Node) -> Box:
        words = shape_words(n.shape)
        text = f"{n.name} {('int ' if n.dtype == 'int' else '')}{words}".replace("  ", " ")
        if self.detailed:
            box = Box(f"n{n.id}", f"input {n.name}", "input", shape=("int " if n.dtype == "int" else "") + words,
                      params=None, note=self._note(n), nodes=(n.id,))
        else:
            box = Box(f"n{n.id}", text, "input", shape=words, note=self._note(n), nodes=(n.id,))
        return self._register(box, [n.id])

    def _value_box(self, nodes: list[Node]) -> Box:
        n = nodes[-1]
        words = shape_words(n.shape)
        if self.detailed:
            name = n.name if n.name and not n.name.startswith("@") else ""
            sign = _symbol(n)
            what = (f"{sign} " if sign is not None else "") + self._label(n)
            text = f"{name}: {what}" if name else what
            box = Box(f"n{n.id}", text.strip(), "layer", shape=words, params=n.params, note=self._note(n),
                      nodes=(n.id,), tint=self._tint([n]))
        else:
            name = _value_name(self.g, n) if n.id in self.read else ""
            box = Box(f"n{n.id}", f"{name} {words}" if name else words, "value", shape=words,
                      note=self._note(n), nodes=tuple(m.id for m in nodes))
        return self._register(box, box.nodes)

    def _seen_box(self, u: Unit) -> Box:
        """A lane that continues from a value drawn in another lane."""
        n = self.g.nodes[u.out]
        shown = self.box_of.get(u.out)
        port = next((p.name for p in self.g.outputs if p.node == u.out), None)
        name = port or _value_name(self.g, n) or (shown.text if shown else shape_words(n.shape))
        box = Box(f"s{n.id}", f"↪ {name}", "value", shape=shape_words(n.shape), nodes=())
        self.seen.append((box, u.out))
        return box

    def _unit_items(self, u: Unit) -> list[Item]:
        if u.kind == "fold":
            return [Arrow(None, ()), self._fold_box(u)]
        rep = self._repeat(u)
        if len(rep.body) == 2 and isinstance(rep.body[1], Box) and rep.body[1].kind == "fold":
            # One folded block taken N times: one box says it all (`layer1: Bottleneck ×3`).
            box = rep.body[1]
            times = f" ×{rep.count}" if rep.count != 1 else ""
            box.text = rep.name.rstrip(":") + times if ":" in rep.name else f"{rep.name}: {box.text}{times}"
            box.params = (box.params or 0) * rep.count
            box.nodes = tuple(u.nodes)
            return rep.body
        return [rep]

    def _fold_box(self, u: Unit) -> Box:
        f = u.frame
        assert f is not None
        text = _describe(self.g, f)
        params = sum(self.g.nodes[i].params for i in u.nodes)
        box = Box(f"f{f.id}", text, "fold", shape=shape_words(self.g.nodes[u.out].shape), params=params,
                  note=f.note, nodes=tuple(u.nodes), tint=self._tint(self.g.nodes[i] for i in u.nodes))
        for i in u.nodes:
            for arg, j in _named_inputs(self.g.nodes[i]):
                if j not in u.nodes:
                    self.wanted.append((None, box, arg, j))
        return self._register(box, u.nodes)

    def _repeat(self, u: Unit) -> Repeat:
        f = u.frame
        assert f is not None
        # The frames around this one are already drawn open: a repeat inside a repeat (T5's `block.0.layer`)
        # must not fold back into its outer run.
        around = {f.id}
        parent = f.parent
        while parent is not None:
            around.add(parent)
            parent = self.g.frames[parent].parent
        units = self.folder.unitise(u.first_pass, skip=frozenset(around))
        flow = _Flow(units)
        inside = set(u.first_pass)
        leaving = [i for i in u.first_pass if any(c not in inside for c in self.cons.get(i, []))]
        out = leaving[-1] if leaving else u.first_pass[-1]
        exit = next(v.index for v in units if out in v.nodes)
        body = self.items(flow, flow.walk(exit, ENTRY, set()), entry=True)
        for i in u.nodes:  # the passes not drawn point at the drawn one's boxes
            if i not in self.box_of:
                self.box_of[i] = self.box_of.get(u.first_pass[-1]) or Box(f"r{f.id}", u.run_name)
        return Repeat(_run_text(self.g, f, u), u.count, body)


def _boxes(items: list[Item]) -> list[Box]:
    found: list[Box] = []
    for it in items:
        if isinstance(it, Box):
            found.append(it)
        elif isinstance(it, Fork):
            for b in it.branches:
                found += _boxes(b)
        elif isinstance(it, Repeat):
            found += _boxes(it.body)
    return found


def _children(g: ModelGraph, f: Frame) -> list[Frame]:
    kids = [c for c in g.frames if c.parent == f.id]
    out = []
    for c in kids:
        out += _children(g, c) if c.kind == "pass" else [c]
    return out


def _describe(g: ModelGraph, f: Frame) -> str:
    """`layer1: Bottleneck ×3`, `BasicBlock`, `mlp` — what a folded frame is, in the reader's words."""
    label = "" if f.path.isdigit() else f.path  # a top-level position ("5") names nothing
    if f.kind == "block":
        what = f.name
    else:
        kids = _children(g, f)
        names = {k.name for k in kids if k.kind == "block"}
        direct = any(n.frame == f.id for n in g.nodes) if f.kind != "repeat" else False
        if len(names) == 1 and len(kids) > 0 and all(k.kind == "block" for k in kids) and not direct:
            what = f"{names.pop()} ×{f.count if f.kind == 'repeat' else len(kids)}"
        elif f.kind == "repeat":
            what = f"×{f.count}"
        else:
            what = ""
    if label and what:
        return f"{label}: {what}"
    return label or what or f.kind


def _run_text(g: ModelGraph, rep: Frame, u: Unit) -> str:
    if u.body_name:
        return f"{u.run_name}: {u.body_name}"
    kids = [c for c in _children(g, rep) if c.kind == "block"]
    names = {k.name for k in kids}
    inner = f" {names.pop()}" if len(names) == 1 else ""
    return f"{u.run_name}:{inner}" if inner else u.run_name


__all__ = ["build", "same_statement", "is_concrete"]
