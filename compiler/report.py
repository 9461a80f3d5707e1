"""Text reports of a checked graph: the `check` line and the `summary` table.

Stage: after checking; needs no torch. Numbers are exact in tables and
humanised (`1.814 G`) in one-line reports.
"""

from __future__ import annotations

from dsl.dims import fmt_shape, is_concrete
from dsl.graph import ModelGraph, Node


def human(n) -> str:
    if not is_concrete(n):
        return str(n)
    for unit, scale in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.4g} {unit}"
    return str(n)


def exact(n) -> str:
    return f"{n:,}" if is_concrete(n) else str(n)


def ports(ps) -> str:
    return ", ".join(f"{p.name} {p}" if p.name != "output" else str(p) for p in ps)


def open_sizes(g: ModelGraph) -> str | None:
    """What to type when a command needs every size concrete, or None when they are."""
    if not g.symbols:
        return None
    return "give the symbolic sizes values first: " + " ".join(f"--set {s}=N" for s in g.symbols)


def check_line(g: ModelGraph) -> str:
    outs = ", ".join(str(p) for p in g.outputs)
    return f"{g.file}: {g.name}  {ports(g.inputs)} → {outs}   params {exact(g.params)}   MACs {human(g.macs)}"


def _frame_depth(g: ModelGraph, fid: int | None) -> int:
    depth = 0
    while fid is not None:
        if g.frames[fid].kind != "pass":
            depth += 1
        fid = g.frames[fid].parent
    return depth


def _fold_target(g: ModelGraph, node: Node, depth: int) -> int | None:
    """The outermost frame deeper than `depth` that holds `node`, or None to show it."""
    chain = []
    fid = node.frame
    while fid is not None:
        chain.append(fid)
        fid = g.frames[fid].parent
    chain.reverse()
    level = 0
    for fid in chain:
        if g.frames[fid].kind == "pass":
            continue
        level += 1
        if level > depth:
            return fid
    return None


def summary_rows(g: ModelGraph, depth: int | None = None) -> list[tuple[str, str, str, str, str]]:
    rows: list[list] = []
    folded: dict[int, list] = {}
    read = g.read_nodes()
    for n in g.nodes:
        if n.kind == "member" and n.id not in read:
            continue  # `.last`/`.state` that the spec never reads
        target = _fold_target(g, n, depth) if depth is not None else None
        if target is None:
            if n.kind == "member":  # a member of a recurrent result: `reader.last`
                owner = g.nodes[n.inputs[0]].name or "(model)"
                rows.append([f"{owner}.{n.args['member']}", "member", fmt_shape(n.shape), 0, 0])
                continue
            rows.append([n.name or "(model)", n.layer, fmt_shape(n.shape), n.params, n.macs])
            continue
        f = g.frames[target]
        if target not in folded:
            what = f"{f.name} ×{f.count}" if f.kind == "repeat" else (f.name if f.kind == "block" else f"{{{f.name}}}")
            if f.kind == "chain":
                what = "chain"
            row = [f.path, what, "", 0, 0]
            folded[target] = row
            rows.append(row)
        row = folded[target]
        row[2] = fmt_shape(n.shape)
        row[3] += n.params
        row[4] = row[4] + n.macs
    return [(r[0], r[1], r[2], exact(r[3]), exact(r[4])) for r in rows]


def summary_table(g: ModelGraph, depth: int | None = None) -> str:
    header = ("name", "layer", "output shape", "params", "MACs")
    rows = summary_rows(g, depth)
    total = ("total", "", ", ".join(str(p) for p in g.outputs), exact(g.params), exact(g.macs))
    widths = [max(len(r[i]) for r in [header, total, *rows]) for i in range(5)]

    def line(r) -> str:
        return "  ".join(r[i].ljust(widths[i]) if i < 3 else r[i].rjust(widths[i]) for i in range(5)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    out = [f"{g.name} ({g.file})", line(header), rule, *(line(r) for r in rows), rule, line(total)]
    return "\n".join(out)
