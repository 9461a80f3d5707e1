"""The graphviz renderer: a diagram model as DOT source.

Stage: beside `compiler.diagram.text`; `compiler.diagram.render` hands the source to
graphviz's `dot` program for svg, png and pdf. Boxes are nodes, arrows are
labelled edges, joins are small circles (⊕ ⊗ ‖), repeats and recurrent
cells are clusters, notes are plain text beside their box, and named
arguments (memory=, init=, tie=) are dashed edges. Every piece of user text
goes through `quote`, which escapes what DOT or a record shape would read as
syntax. Node ids come from graph node and frame ids, so the source is stable.

Layout rules that keep dot from drawing faults:
- nodes are declared inside their cluster, every edge after all of them at the
  top level, because an edge written inside a cluster pulls both of its ends
  into it (the value before a block would be drawn inside the block's frame);
- a frame's title is a node inside the frame, the one its entry edge ends at
  and its branches leave from, never a cluster label an arrow could cross;
- the boxes of one line of flow share a `group`, so dot keeps them in one
  column and a residual's skip edge (from that line to its ⊕) runs straight;
- a named argument's dashed edge from another line of flow (an encoder's state
  or memory into the decoder) ranks its reader below it, so it runs down into
  the decoder and never doubles back over a label; within one line (a tied
  embedding, a bias passed down a stack) it leaves ranks alone, so the line
  stays a straight column.
"""

from __future__ import annotations

from .model import Arrow, Box, Cell, Diagram, Fork, Item, Repeat, Unroll
from .text import output_words

_SPECIAL = {"\\": "\\\\", '"': '\\"', "{": "\\{", "}": "\\}", "|": "\\|", "<": "\\<", ">": "\\>",
            "\n": "\\n", "\r": "", "\t": " "}
# Pale fills for the catalogue's colour classes (`Layer.colour_class`): a hint, never the only signal.
TINT_FILL = {"conv": "#dce9f7", "recurrent": "#e2f2dc", "attention": "#fce8d2", "norm": "#ece6f4"}
FOLD_FILL = "#eeeeee"


def quote(text: str) -> str:
    """A DOT string literal that shows `text` as written, in plain and in record labels alike."""
    return '"' + "".join(_SPECIAL.get(ch, ch) for ch in text) + '"'


def render_dot(d: Diagram) -> str:
    return _Dot(d).source()


class _Dot:
    def __init__(self, d: Diagram):
        self.d = d
        self.detailed = d.options.style == "detailed"
        self.lines: list[str] = []
        self.edges: list[str] = []
        self.indent = 1
        self.clusters = 0
        self.lane_of: dict[str, str] = {}  # box id → the input's line of flow it sits on ("l0", "l1", …)

    def source(self) -> str:
        opts = self.d.options
        dpi = f", dpi={opts.dpi}" if opts.dpi is not None else ""
        head = [
            "digraph archlang {",
            f"  graph [rankdir={opts.rankdir}, fontname=\"Helvetica\", fontsize=12, nodesep=0.3, ranksep=0.3, "
            f"label={quote(self.d.title)}, labelloc=t, ordering=out{dpi}];",
            "  node [shape=box, style=rounded, fontname=\"Helvetica\", fontsize=11, height=0.3];",
            "  edge [fontname=\"Helvetica\", fontsize=10, arrowsize=0.7];",
        ]
        for k, lane in enumerate(self.d.lanes):
            self.flow(lane, [], f"l{k}")
        for src, dst, arg in self.d.refs:
            if self.lane_of.get(src, "") != self.lane_of.get(dst, ""):
                self.link(src, dst, attrs=f"style=dashed, label={quote(arg)}")
            else:
                self.link(src, dst, attrs=f"style=dashed, constraint=false, label={quote(arg)}")
        return "\n".join(head + self.lines + ["  " + e for e in self.edges] + ["}"]) + "\n"

    def emit(self, line: str) -> None:
        self.lines.append("  " * self.indent + line)

    def link(self, a: str, b: str, attrs: str = "") -> None:
        """An edge, kept for the top level (see the module's docstring)."""
        self.edges.append(f"{quote(a)} -> {quote(b)}" + (f" [{attrs}]" if attrs else "") + ";")

    # ------------------------------------------------------------ flow
    def flow(self, items: list[Item], prev: list[str], group: str | None) -> list[str]:
        """Draw `items` after the nodes `prev`; returns the nodes the flow ends at. `group`: the
        column the line's own boxes keep."""
        label: str | None = None
        for it in items:
            if isinstance(it, Arrow):
                label = it.label
                if it.refs:
                    extra = ", ".join(f"{arg}: {name}" for arg, name in it.refs)
                    label = f"{label}\n{extra}" if label else extra
            elif isinstance(it, Box):
                if it.seen is not None:  # the lane goes on from a box drawn elsewhere: draw from that box
                    prev, label = [it.seen], None
                    continue
                self.box(it, group)
                for p in prev:
                    self.edge(p, it.id, label)
                prev, label = [it.id], None
            elif isinstance(it, Fork):
                prev = self.fork(it, prev, group)
            elif isinstance(it, Repeat):
                prev = self.repeat(it, prev, group)
            elif isinstance(it, Unroll):
                prev = self.unroll(it, prev)
            elif isinstance(it, Cell):
                prev = self.cell(it, prev, f"c{it.nodes[0] if it.nodes else len(self.lines)}")
        return prev

    def edge(self, a: str, b: str, label: str | None = None, attrs: str = "") -> None:
        parts = [f"label={quote(' ' + label)}"] if label else []
        if attrs:
            parts.append(attrs)
        self.link(a, b, ", ".join(parts))

    def box(self, b: Box, group: str | None = None) -> None:
        if group:
            self.lane_of[b.id] = group.split("b")[0]
        grouped = f", group={group}" if group else ""
        fill = TINT_FILL.get(b.tint or "")
        out = ", peripheries=2" if b.output is not None else ""
        if self.detailed and b.kind in ("layer", "fold", "input"):
            fields = [b.text]
            if b.shape or b.output:
                fields.append(" ".join(w for w in (output_words(b), b.shape) if w))
            if b.params:
                fields.append(f"{b.params:,} params")
            if b.note:  # dot cannot lay a note beside a record on one rank, so it becomes a field
                fields.append(f"# {b.note}")
            label = "{" + "|".join(_record(f) for f in fields) + "}"
            style = "filled" if b.kind == "fold" or fill else "solid"
            self.emit(f"{quote(b.id)} [shape=record, style={style}, fillcolor=\"{fill or FOLD_FILL}\", "
                      f"label=\"{label}\"{grouped}{out}];")
            return
        elif b.kind == "fold":
            self.emit(f"{quote(b.id)} [style=\"rounded,filled\", fillcolor=\"{fill or '#e8eef7'}\", "
                      f"label={quote(b.text + chr(10) + ' '.join(w for w in (output_words(b), b.shape) if w))}"
                      f"{grouped}{out}];")
        else:
            style = ", style=\"rounded,bold\"" if b.kind == "input" else ""
            if fill:
                style = f", style=\"rounded,filled\", fillcolor=\"{fill}\""
            words = output_words(b)
            text = f"{words} {b.text}" if words else b.text
            self.emit(f"{quote(b.id)} [label={quote(text)}{style}{grouped}{out}];")
        if b.note:
            note = b.id + "_note"
            self.emit(f"{quote(note)} [shape=plaintext, style=\"\", fontcolor=\"#555555\", label={quote(b.note)}];")
            self.link(b.id, note, "style=dotted, arrowhead=none")
            self.emit(f"{{rank=same; {quote(b.id)}; {quote(note)};}}")

    def fork(self, f: Fork, prev: list[str], group: str | None) -> list[str]:
        join = f"j{f.nodes[0]}" if f.nodes else f"j{len(self.lines)}"
        skip = f.op and not all(f.branches)
        if skip:
            # The identity is the line itself, written first: dot then keeps it left of the branches, clear of
            # their arrow labels (which sit right of their edges), and straight, as the text's left rail.
            for p in prev:
                self.edge(p, join)
        ends: list[str] = []
        for k, b in enumerate(f.branches):
            if b:  # each branch keeps a column of its own
                ends += self.flow(b, prev, f"{group}b{k}" if group else None)
            elif not skip:
                ends += prev
        if not f.op:
            return ends
        grouped = f", group={group}" if group else ""
        self.emit(f"{quote(join)} [shape=circle, style=\"\", width=0.3, fixedsize=true, label={quote(f.op)}{grouped}];")
        for e in dict.fromkeys(ends):
            self.edge(e, join)
        return [join]

    def cluster(self, title: str, prev: list[str], style: str = "dashed", group: str | None = None,
                entry: str = "arrowhead=none") -> str:
        """Open a frame whose title is its first node; the edges from `prev` end at the title."""
        self.clusters += 1
        k = self.clusters
        self.emit(f"subgraph cluster_{k} {{")
        self.indent += 1
        self.emit(f"label=\"\"; style={style}; color=\"#888888\";")
        node = f"t{k}"
        grouped = f", group={group}" if group else ""
        self.emit(f"{quote(node)} [shape=plaintext, style=\"\", fontcolor=\"#333333\", label={quote(title)}{grouped}];")
        for p in prev:
            self.link(p, node, entry)
        return node

    def close(self) -> None:
        self.indent -= 1
        self.emit("}")

    def repeat(self, r: Repeat, prev: list[str], group: str | None) -> list[str]:
        title = self.cluster(r.name + (f" ×{r.count}" if r.count != 1 else ""), prev, group=group)
        out = self.flow(r.body, [title], group)
        self.close()
        return out

    def unroll(self, u: Unroll, prev: list[str]) -> list[str]:
        base = f"u{u.nodes[0] if u.nodes else len(self.lines)}"
        title = self.cluster(f"{u.label}, through time ({u.length} steps)", prev)
        hs: list[str] = []
        last_cell = None
        for k, s in enumerate(u.steps):
            x, c, h = f"{base}x{k}", f"{base}c{k}", f"{base}h{k}"
            sub = s if s.isdigit() else "_" + s
            # `group` keeps each column straight: inputs, cells, outputs, as in `x1 → [RNN cell] → h1`.
            self.emit(f"{quote(x)} [shape=plaintext, style=\"\", group=xs, label={quote('x' + sub)}];")
            self.emit(f"{quote(c)} [group=cells, style=\"rounded,filled\", fillcolor=\"{TINT_FILL['recurrent']}\", "
                      f"label={quote(u.cell)}];")
            self.emit(f"{quote(h)} [shape=plaintext, style=\"\", group=hs, label={quote('h' + sub)}];")
            self.emit(f"{{rank=same; {quote(x)}; {quote(c)}; {quote(h)};}}")
            if k == 0:
                self.link(title, x, "style=dotted")
            else:
                self.link(f"{base}x{k - 1}", x, "style=invis")
                self.link(f"{base}h{k - 1}", h, "style=invis")
            self.edge(x, c)
            self.edge(c, h)
            if last_cell is not None:
                gap = u.gap and k == len(u.steps) - 1
                prev_sub = u.steps[k - 1] if u.steps[k - 1].isdigit() else "_" + u.steps[k - 1]
                state = "…" if gap else ", ".join(v + prev_sub for v in u.state.split(", "))
                self.edge(last_cell, c, state, "style=bold" + (", style=\"bold,dashed\"" if gap else ""))
            last_cell = c
            hs.append(h)
        self.close()
        hs = hs[-1:]  # the result stacks every h; one edge from the last step says so without clutter
        if u.opened is not None:  # the cell, opened beside the steps (a line to it would cross the steps)
            self.cell(u.opened, [], f"{base}g", title=f"where {u.cell} is: one step, gates opened")
        return hs

    def cell(self, c: Cell, prev: list[str], base: str, title: str | None = None) -> list[str]:
        top = self.cluster(title or f"{c.label}: one step, gates opened", prev, "rounded")
        n = lambda s: f"{base}{s}"  # noqa: E731 - ids of the cell's parts
        self.emit(f"{quote(n('in'))} [shape=plaintext, style=\"\", label=\"x_t, h_t−1\"];")
        self.edge(top, n("in"))
        step = c.step
        fill = TINT_FILL["recurrent"]
        for g in step.gates:
            self.emit(f"{quote(n(g.symbol))} [style=\"rounded,filled\", fillcolor=\"{fill}\", "
                      f"label={quote(f'{g.name} {g.act}' + chr(10) + g.role)}];")
            self.edge(n("in"), n(g.symbol))
        for key, text in (("h", "h_t (hidden state)"), *step.values):
            self.emit(f"{quote(n(key))} [shape=plaintext, style=\"\", label={quote(text)}];")
        for key, sign in step.ops:
            self.emit(f"{quote(n(key))} [shape=circle, style=\"\", width=0.35, fixedsize=true, label={quote(sign)}];")
        for a, b in step.gating:  # a gate that scales what another reads
            self.edge(n(a), n(b), attrs="style=dashed")
        for a, b in step.wires or ((step.gates[0].symbol, "h"),):  # no wiring: the one gate gives h_t
            self.edge(n(a), n(b))
        eqs = "\n".join(f"{w}: {eq}" for w, eq in step.equations)
        self.emit(f"{quote(n('eq'))} [shape=plaintext, style=\"\", fontsize=10, label={quote(eqs)}];")
        self.link(n("h"), n("eq"), "style=dotted, arrowhead=none")
        self.close()
        return [n("h")]


def _record(text: str) -> str:
    """A record field: the same escapes as `quote`, without the surrounding quotes."""
    return quote(text)[1:-1]
