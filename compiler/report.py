"""Text reports of a checked graph: the `check` line and the `summary` table.

Stage: after checking; needs no torch. Numbers are exact in tables and
humanised (`1.814 G`) in one-line reports.
"""

from __future__ import annotations

from archlang.dsl.dims import fmt_shape, is_concrete
from archlang.dsl.graph import ModelGraph, Node
from archlang.dsl.layers import REGISTRY


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


# ---------------------------------------------------------------- the facts under the table (torchinfo's footer)

_BYTES = {"float": 4, "int": 8}  # float32 weights and activations, int64 token ids


def _size(shape, dtype: str):
    total = _BYTES.get(dtype, 4)
    for d in shape:
        total = total * d
    return total


def _mb(n) -> str:
    return f"{n / 1e6:,.2f} MB" if is_concrete(n) else f"{n} B"


def summary_facts(g: ModelGraph) -> dict:
    """What a reader of a summary wants besides the rows: parameters by kind, memory, inputs and outputs.

    Every parameter of a built model is trainable (a spec cannot freeze one). Buffers (batchnorm's running
    statistics) are each layer's catalogue fact (`Layer.buffers`), counted as the state_dict holds them.
    Memory is per sample, in float32: the parameters, and every layer's output (what a forward pass keeps
    for the backward one).
    """
    shapes = {n.id: n.shape for n in g.nodes}
    buffers: object = 0
    for n in g.nodes:
        if n.kind == "layer":
            buffers = buffers + REGISTRY[n.layer].buffers(n.args, [shapes[i] for i in n.inputs])
    read = g.read_nodes()
    activations: object = 0
    for n in g.nodes:
        if n.kind in ("layer", "residual") and (n.id in read or n.kind == "layer"):
            activations = activations + _size(n.shape, n.dtype)
    inputs: object = 0
    for p in g.inputs:
        inputs = inputs + _size(p.shape, p.dtype)
    return {"params": g.params, "trainable": g.params, "non_trainable": 0, "buffers": buffers, "macs": g.macs,
            "param_bytes": g.params * 4, "activation_bytes": activations, "input_bytes": inputs,
            "inputs": [[p.name, str(p)] for p in g.inputs], "outputs": [[p.name, str(p)] for p in g.outputs]}


def _footer(g: ModelGraph) -> list[tuple[str, str]]:
    f = summary_facts(g)
    return [("trainable params", exact(f["trainable"])), ("non-trainable params", exact(f["non_trainable"])),
            ("buffers", exact(f["buffers"])),
            ("MACs", f"{exact(f['macs'])} ({human(f['macs'])})" if is_concrete(f["macs"]) else str(f["macs"])),
            ("params size", _mb(f["param_bytes"])), ("activations size", _mb(f["activation_bytes"]) + " per sample"),
            ("input size", _mb(f["input_bytes"]) + " per sample"),
            *((f"input {name}", shape) for name, shape in f["inputs"]),
            *((f"output {name}", shape) for name, shape in f["outputs"])]


def summary_footer(g: ModelGraph) -> str:
    """The facts under the text table (`trainable params  11,689,512`), one a line."""
    pairs = _footer(g)
    width = max(len(k) for k, _ in pairs)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in pairs)


def summary_markdown(g: ModelGraph, depth: int | None = None) -> str:
    header = ("name", "layer", "output shape", "params", "MACs")

    def row(cells) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") if c else " " for c in cells) + " |"

    total = ("**total**", "", ", ".join(str(p) for p in g.outputs), exact(g.params), exact(g.macs))
    lines = [f"### {g.name} ({g.file})", "", row(header), "|" + "|".join(["---"] * 3 + ["---:"] * 2) + "|",
             *(row(r) for r in summary_rows(g, depth)), row(total), ""]
    lines += [f"- {k}: {v}" for k, v in _footer(g)]
    return "\n".join(lines)


def summary_json(g: ModelGraph, depth: int | None = None) -> str:
    import json

    def plain(v):
        return v if isinstance(v, (int, str)) or v is None else str(v)

    rows = [dict(zip(("name", "layer", "shape", "params", "macs"), r)) for r in summary_rows(g, depth)]
    for r in rows:
        r["params"], r["macs"] = (int(x.replace(",", "")) if x.replace(",", "").isdigit() else x
                                  for x in (r["params"], r["macs"]))
    facts = {k: plain(v) if not isinstance(v, list) else v for k, v in summary_facts(g).items()}
    return json.dumps({"model": g.name, "file": g.file, "rows": rows, **facts})
