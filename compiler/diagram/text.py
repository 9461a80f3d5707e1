"""The text renderer: a diagram model as Unicode lines, the way the document draws.

Stage: last step of `archlang diagram -o -` and `-o OUT.txt`. Values are
`[boxes]` at the left, what happens to them is a `↓ (label)` line, a note
stands two spaces right of its box. Branches that join are drawn with rails
on the left, the skip of a residual being the rail itself:

    [seq×64]
       ├─────┐
       │     ↓ (layernorm → attention ×4)
       │  [seq×64]  focuses on relationships
       ⊕ ◀───┘

Only layout lives here; what is drawn was decided in `compiler.diagram.flow`.
"""

from __future__ import annotations

from .model import Arrow, Box, Cell, Diagram, DiagramOptions, Fork, Item, Repeat, Unroll

ARROW_COL = 3  # where `↓` sits under a box
BRANCH = 6  # how far each branch of a fork moves right


def render_text(d: Diagram) -> str:
    """The whole diagram; lanes (separate chains, such as an encoder read by name) are separated by a blank line."""
    r = _Text(d.options)
    blocks = ["\n".join(r.flow(lane)) for lane in d.lanes]
    return "\n\n".join(b for b in blocks if b) + "\n"


class _Text:
    def __init__(self, options: DiagramOptions):
        self.opts = options

    def flow(self, items: list[Item]) -> list[str]:
        lines: list[str] = []
        for it in items:
            if isinstance(it, Box):
                lines.append(self.box(it))
            elif isinstance(it, Arrow):
                lines.append(self.arrow(it))
            elif isinstance(it, Fork):
                lines += self.fork(it)
            elif isinstance(it, Repeat):
                lines += self.repeat(it)
            elif isinstance(it, Unroll):
                lines += self.unroll(it)
            elif isinstance(it, Cell):
                lines += self.cell(it, header=True)
        return [line.rstrip() for line in lines]

    # ------------------------------------------------------------ pieces
    def box(self, b: Box) -> str:
        out = output_words(b)
        if b.kind == "input":
            text = f"[{b.text} {b.shape}]" if self.opts.style == "detailed" else f"[{b.text}]"
        elif b.kind == "fold" or self.opts.style == "detailed":
            # What the box is, then what leaves it: `[layer1: Bottleneck ×3] → 256×56×56`.
            leaves = " ".join(w for w in (out, b.shape) if w)
            text = f"[{b.text}]" + (f" → {leaves}" if leaves else "")
            if b.params and self.opts.style == "detailed":
                text += f" · {b.params:,} params"
        else:
            text = f"[{out} {b.text}]" if out else f"[{b.text}]"
        return f"{text}  {b.note}" if b.note else text

    def arrow(self, a: Arrow) -> str:
        label = a.label
        if a.refs:
            extra = ", ".join(f"{arg}: {name}" for arg, name in a.refs)
            label = f"{label} · {extra}" if label else extra
        return " " * ARROW_COL + "↓" + (f" ({label})" if label else "")

    def fork(self, f: Fork) -> list[str]:
        branches = [b for b in f.branches if b]
        identity = len(branches) < len(f.branches)
        k = len(branches)
        lines: list[str] = []
        for j, b in enumerate(branches, 1):
            col = ARROW_COL + BRANCH * j
            src_alive = identity or j < k
            row = [" "] * (col + 1)
            row[ARROW_COL] = ("┌" if j == 1 else "├") if not f.sourced else ("├" if src_alive else "└")
            if not f.sourced and not src_alive:
                row[ARROW_COL] = "└" if j > 1 else "─"
            for c in range(ARROW_COL + 1, col):
                row[c] = "─"
            for prev in range(1, j):
                row[ARROW_COL + BRANCH * prev] = "┼"
            row[col] = "┐"
            lines.append("".join(row))
            prefix = [" "] * (BRANCH * j)
            if src_alive:
                prefix[ARROW_COL] = "│"
            for prev in range(1, j):
                prefix[ARROW_COL + BRANCH * prev] = "│"
            lines += ["".join(prefix) + s for s in self.flow(b)]
        end = ARROW_COL + BRANCH * k
        row = [" "] * (end + 1)
        row[ARROW_COL] = f.op or "●"
        row[ARROW_COL + 2] = "◀"
        for c in range(ARROW_COL + 3, end):
            row[c] = "─"
        for j in range(1, k):
            row[ARROW_COL + BRANCH * j] = "┴"
        row[end] = "┘"
        lines.append("".join(row))
        return lines

    def repeat(self, r: Repeat) -> list[str]:
        body = self.flow(r.body)
        times = f" ×{r.count}" if r.count != 1 else ""
        head = f"┌─ {r.name}{times} "
        lines = [head + "─" * max(2, 48 - len(head))]
        lines += ["│ " + s for s in body]
        lines.append(f"└─{times}")
        return lines

    def unroll(self, u: Unroll) -> list[str]:
        pad = " " * ARROW_COL
        lines = [pad + f"↓ ({u.label}, through time: {u.length} steps)"]
        names = [_step(s) for s in u.steps]
        wx = max(len("x" + s) for s in names)
        center = ARROW_COL + wx + 3 + 1 + len(u.cell) // 2
        for k, s in enumerate(names):
            if k > 0:
                if u.gap and k == len(names) - 1:
                    lines.append(" " * center + "⋮")
                else:
                    prev = names[k - 1]
                    lines.append(" " * center + "↓ " + ", ".join(f"{v}{prev}" for v in u.state.split(", ")))
            lines.append(pad + ("x" + s).rjust(wx) + f" → [{u.cell}] → h{s}")
        if u.gap and len(names) == 1:
            lines.append(" " * center + "⋮")
        if u.opened is not None:
            lines.append(pad + f"where [{u.cell}] is:")
            lines += ["  " + s for s in self.cell(u.opened, header=False)]
        first, last = names[0], names[-1]
        lines.append(pad + f"↓ (h{first} … h{last})" if len(names) > 1 else pad + "↓")
        return lines

    def cell(self, c: Cell, header: bool) -> list[str]:
        pad = " " * ARROW_COL
        lines = [pad + f"↓ ({c.label}, one step opened)"] if header else []
        lead = "x_t, h_t−1 ──▶ "
        boxes = [f"[{g.name} {g.act}]" for g in c.step.gates]
        wb = max(len(b) for b in boxes)
        for k, (g, b) in enumerate(zip(c.step.gates, boxes)):
            start = lead if k == 0 else " " * len(lead)
            tail = " ──▶ h_t" if k == len(c.step.gates) - 1 else ""
            lines.append(pad + start + b.ljust(wb) + "  " + g.role + tail)
        ww = max(len(w) for w, _ in c.step.equations)
        lines += [pad + f"{w.ljust(ww)}  {eq}" for w, eq in c.step.equations]
        if header:
            lines.append(pad + "↓ (every step)")
        return lines


def output_words(b: Box) -> str:
    """How a model's output says so, as the document's `[Output: Cat vs Dog]`: `output`, `output pooler`."""
    if b.output is None:
        return ""
    if b.output == "output" or b.text.startswith(b.output + " "):  # the value already carries the name
        return "output"
    return f"output {b.output}"


def _step(s: str) -> str:
    return s if s.isdigit() else "_" + s
