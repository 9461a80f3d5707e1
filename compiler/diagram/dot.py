"""The graphviz renderer: a diagram model as DOT source.

Stage: beside `compiler.diagram.text`; `compiler.diagram.render` hands the source to
graphviz's `dot` program for svg, png and pdf. Boxes are nodes, arrows are
labelled edges, joins are small circles (⊕ ⊗ ‖), repeats and recurrent
cells are clusters, notes are plain text beside their box, and named
arguments (memory=, init=, tie=) are dashed edges. Every piece of user text
goes through `quote`, which escapes what DOT or a record shape would read as
syntax. Node ids come from graph node and frame ids, so the source is stable.
"""

from __future__ import annotations

from .model import Arrow, Box, Cell, Diagram, Fork, Item, Repeat, Unroll

_SPECIAL = {"\\": "\\\\", '"': '\\"', "{": "\\{", "}": "\\}", "|": "\\|", "<": "\\<", ">": "\\>",
            "\n": "\\n", "\r": "", "\t": " "}


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
        self.indent = 1
        self.clusters = 0

    def source(self) -> str:
        head = [
            "digraph archlang {",
            f"  graph [rankdir=TB, fontname=\"Helvetica\", fontsize=12, nodesep=0.3, ranksep=0.3, "
            f"label={quote(self.d.title)}, labelloc=t];",
            "  node [shape=box, style=rounded, fontname=\"Helvetica\", fontsize=11, height=0.3];",
            "  edge [fontname=\"Helvetica\", fontsize=10, arrowsize=0.7];",
        ]
        for lane in self.d.lanes:
            self.flow(lane, [])
        for src, dst, arg in self.d.refs:
            self.emit(f"{quote(src)} -> {quote(dst)} [style=dashed, constraint=false, label={quote(arg)}];")
        return "\n".join(head + self.lines + ["}"]) + "\n"

    def emit(self, line: str) -> None:
        self.lines.append("  " * self.indent + line)

    # ------------------------------------------------------------ flow
    def flow(self, items: list[Item], prev: list[str]) -> list[str]:
        """Draw `items` after the nodes `prev`; returns the nodes the flow ends at."""
        label: str | None = None
        for it in items:
            if isinstance(it, Arrow):
                label = it.label
                if it.refs:
                    extra = ", ".join(f"{arg}: {name}" for arg, name in it.refs)
                    label = f"{label}\n{extra}" if label else extra
            elif isinstance(it, Box):
                self.box(it)
                for p in prev:
                    self.edge(p, it.id, label)
                prev, label = [it.id], None
            elif isinstance(it, Fork):
                prev = self.fork(it, prev)
            elif isinstance(it, Repeat):
                prev = self.repeat(it, prev)
            elif isinstance(it, Unroll):
                prev = self.unroll(it, prev)
            elif isinstance(it, Cell):
                prev = self.cell(it, prev, f"c{it.nodes[0] if it.nodes else len(self.lines)}")
        return prev

    def edge(self, a: str, b: str, label: str | None = None, attrs: str = "") -> None:
        parts = [f"label={quote(' ' + label)}"] if label else []
        if attrs:
            parts.append(attrs)
        self.emit(f"{quote(a)} -> {quote(b)}" + (f" [{', '.join(parts)}]" if parts else "") + ";")

    def box(self, b: Box) -> None:
        if self.detailed and b.kind in ("layer", "fold", "input"):
            fields = [b.text]
            if b.shape:
                fields.append(b.shape)
            if b.params:
                fields.append(f"{b.params:,} params")
            if b.note:  # dot cannot lay a note beside a record on one rank, so it becomes a field
                fields.append(f"# {b.note}")
            label = "{" + "|".join(_record(f) for f in fields) + "}"
            style = "filled" if b.kind == "fold" else "solid"
            self.emit(f"{quote(b.id)} [shape=record, style={style}, fillcolor=\"#eeeeee\", label=\"{label}\"];")
            return
        elif b.kind == "fold":
            self.emit(f"{quote(b.id)} [style=\"rounded,filled\", fillcolor=\"#e8eef7\", "
                      f"label={quote(b.text + chr(10) + b.shape)}];")
        else:
            style = ", style=\"rounded,bold\"" if b.kind == "input" else ""
            self.emit(f"{quote(b.id)} [label={quote(b.text)}{style}];")
        if b.note:
            note = b.id + "_note"
            self.emit(f"{quote(note)} [shape=plaintext, style=\"\", fontcolor=\"#555555\", label={quote(b.note)}];")
            self.emit(f"{quote(b.id)} -> {quote(note)} [style=dotted, arrowhead=none];")
            self.emit(f"{{rank=same; {quote(b.id)}; {quote(note)};}}")

    def fork(self, f: Fork, prev: list[str]) -> list[str]:
        ends: list[str] = []
        for b in f.branches:
            ends += self.flow(b, prev) if b else prev
        if not f.op:
            return ends
        join = f"j{f.nodes[0]}" if f.nodes else f"j{len(self.lines)}"
        self.emit(f"{quote(join)} [shape=circle, style=\"\", width=0.3, fixedsize=true, label={quote(f.op)}];")
        for e in dict.fromkeys(ends):
            self.edge(e, join)
        return [join]

    def cluster(self, label: str, style: str = "dashed") -> None:
        self.clusters += 1
        self.emit(f"subgraph cluster_{self.clusters} {{")
        self.indent += 1
        self.emit(f"label={quote(label)}; style={style}; color=\"#888888\";")

    def close(self) -> None:
        self.indent -= 1
        self.emit("}")

    def repeat(self, r: Repeat, prev: list[str]) -> list[str]:
        self.cluster(r.name + (f" ×{r.count}" if r.count != 1 else ""))
        out = self.flow(r.body, prev)
        self.close()
        return out

    def unroll(self, u: Unroll, prev: list[str]) -> list[str]:
        base = f"u{u.nodes[0] if u.nodes else len(self.lines)}"
        self.cluster(f"{u.label}, through time ({u.length} steps)")
        hs: list[str] = []
        last_cell = None
        for k, s in enumerate(u.steps):
            x, c, h = f"{base}x{k}", f"{base}c{k}", f"{base}h{k}"
            sub = s if s.isdigit() else "_" + s
            # `group` keeps each column straight: inputs, cells, outputs, as in `x1 → [RNN cell] → h1`.
            self.emit(f"{quote(x)} [shape=plaintext, style=\"\", group=xs, label={quote('x' + sub)}];")
            self.emit(f"{quote(c)} [group=cells, label={quote(u.cell)}];")
            self.emit(f"{quote(h)} [shape=plaintext, style=\"\", group=hs, label={quote('h' + sub)}];")
            self.emit(f"{{rank=same; {quote(x)}; {quote(c)}; {quote(h)};}}")
            if k == 0:
                for p in prev:
                    self.edge(p, x, attrs="style=dotted")
            else:
                self.emit(f"{quote(f'{base}x{k - 1}')} -> {quote(x)} [style=invis];")
                self.emit(f"{quote(f'{base}h{k - 1}')} -> {quote(h)} [style=invis];")
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
        if u.opened is not None:
            self.cluster(f"where {u.cell} is")
            self.cell(u.opened, [], f"{base}g")
            self.close()
        return hs

    def cell(self, c: Cell, prev: list[str], base: str) -> list[str]:
        self.cluster(f"{c.label}: one step, gates opened", "rounded")
        n = lambda s: f"{base}{s}"  # noqa: E731 - ids of the cell's parts
        self.emit(f"{quote(n('in'))} [shape=plaintext, style=\"\", label=\"x_t, h_t−1\"];")
        for p in prev:
            self.edge(p, n("in"))
        step = c.step
        for g in step.gates:
            self.emit(f"{quote(n(g.symbol))} [label={quote(f'{g.name} {g.act}' + chr(10) + g.role)}];")
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
        self.emit(f"{quote(n('h'))} -> {quote(n('eq'))} [style=invis];")
        self.close()
        return [n("h")]


def _record(text: str) -> str:
    """A record field: the same escapes as `quote`, without the surrounding quotes."""
    return quote(text)[1:-1]
