"""Folding: which graph nodes a diagram shows one by one, and which as one box.

Stage: first step of building a diagram from a `ModelGraph`. Frames nested
deeper than the chosen depth fold into one unit (`BasicBlock`,
`layer1: Bottleneck ×3`); an opened repeat whose consecutive passes are
identical becomes one `run` unit whose body (the first pass) is drawn once;
so do sibling blocks of a group written one by one (`layer_0: Block`,
`layer_1: Block`, ...) when each reads only the one before.
Depth counts frames the way `archlang summary --depth` does: a repeat's
passes add no level. Units keep the graph's topological order. No layout here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from archlang.dsl.graph import Frame, ModelGraph, Node
from archlang.dsl.layers import REGISTRY

ENTRY = -1  # a unit input that comes from outside the nodes being unitised


@dataclass
class Unit:
    index: int
    kind: Literal["node", "fold", "run"]
    nodes: list[int]
    inputs: list[int] = field(default_factory=list)  # unit indices, or ENTRY
    out: int = -1  # the node whose value leaves the unit
    frame: Frame | None = None  # fold: the folded frame; run: the repeat
    count: int = 1  # run: passes in the run
    first_pass: list[int] = field(default_factory=list)  # run: the nodes drawn as its body
    run_name: str = ""
    body_name: str = ""  # run: the block each pass is, when the passes are sibling blocks
    refs: dict[str, int] = field(default_factory=dict)  # argument → unit index of the value read


def frame_chain(g: ModelGraph, node: Node) -> list[Frame]:
    chain = []
    fid = node.frame
    while fid is not None:
        chain.append(g.frames[fid])
        fid = g.frames[fid].parent
    chain.reverse()
    return chain


def max_level(g: ModelGraph) -> int:
    best = 0
    for f in g.frames:
        level, fid = 0, f.id
        while fid is not None:
            level += g.frames[fid].kind != "pass"
            fid = g.frames[fid].parent
        best = max(best, level)
    return best


class Folder:
    """Unitises node lists of one graph at one depth; caches pass signatures."""

    def __init__(self, g: ModelGraph, depth: int | None, consumers: dict[int, list[int]], read: set[int]):
        self.g = g
        self.depth = depth
        self.consumers = consumers
        self.read = read  # nodes read through a named argument (memory=, init=, tie=)
        self._runs: dict[int, list[tuple[int, int]]] = {}  # repeat frame → [(first pass index, count)]
        self._passes: dict[int, list[Frame]] = {}
        self._frame_nodes: dict[int, list[int]] = {}
        # Per frame (None: the model's body), asked for every node at every depth tried: the frames
        # around it, outermost first; their ids; and how many of them count as a level (passes do not).
        self._chains: dict[int | None, tuple[list[Frame], frozenset[int], int]] = {}
        self._outputs = {p.node for p in g.outputs}
        for n in g.nodes:
            fid = n.frame
            while fid is not None:
                self._frame_nodes.setdefault(fid, []).append(n.id)
                fid = g.frames[fid].parent

    # ------------------------------------------------------------ keys
    def _chain(self, node: Node) -> tuple[list[Frame], frozenset[int], int]:
        known = self._chains.get(node.frame)
        if known is None:
            chain = frame_chain(self.g, node)
            known = self._chains[node.frame] = (chain, frozenset(f.id for f in chain),
                                                sum(f.kind != "pass" for f in chain))
        return known

    def _key(self, node: Node, skip: frozenset[int]) -> tuple:
        level = 0
        for f in self._chain(node)[0]:
            if f.kind == "pass":
                continue
            level += 1
            if f.id in skip:
                continue
            parent = self.g.frames[f.parent] if f.parent is not None else None
            if f.kind == "block" and parent is not None and parent.kind == "group" and parent.id not in skip:
                # Sibling blocks written one by one (`layer_0: Block`, `layer_1: Block`, ...) fold like passes.
                run = self._run_of(parent, node)
                if run is not None and (run[1] > 1 or self.depth is None or level <= self.depth):
                    return ("run", parent.id, run[0])  # opened alone, it is still framed and named
            if self.depth is not None and level > self.depth:
                return ("fold", f.id)
            if f.kind == "repeat":
                run = self._run_of(f, node)
                if run is not None:  # a run of one pass still gets its name drawn (`layer2.0: Bottleneck`)
                    return ("run", f.id, run[0])
        return ("node", node.id)

    def _run_of(self, rep: Frame, node: Node) -> tuple[int, int] | None:
        passes = self._passes.get(rep.id)
        if passes is None:
            kind = "pass" if rep.kind == "repeat" else "block"
            passes = [f for f in self.g.frames if f.parent == rep.id and f.kind == kind]
            self._passes[rep.id] = passes
            self._runs[rep.id] = self._group(passes, chained=rep.kind != "repeat")
        chain_ids = self._chain(node)[1]
        for k, p in enumerate(passes):
            if p.id in chain_ids:
                for start, count in self._runs[rep.id]:
                    if start <= k < start + count:
                        return start, count
        return None

    def _group(self, passes: list[Frame], chained: bool = False) -> list[tuple[int, int]]:
        """Runs of consecutive identical passes; `chained`: only where each pass reads just the one before."""
        sigs = [self._signature(p) for p in passes]
        runs: list[tuple[int, int]] = []
        for k, s in enumerate(sigs):
            if runs and sigs[runs[-1][0]] == s and (not chained or self._follows(passes[k - 1], passes[k])):
                runs[-1] = (runs[-1][0], runs[-1][1] + 1)
            else:
                runs.append((k, 1))
        return runs

    def _follows(self, a: Frame, b: Frame) -> bool:
        """`b` comes right after `a` in the flow and reads nothing but `a`'s result, which only `b` reads."""
        na, nb = self._frame_nodes.get(a.id, []), self._frame_nodes.get(b.id, [])
        if not na or not nb or nb[0] != na[-1] + 1:
            return False
        inside_a, inside_b = set(na), set(nb)
        outside = {j for i in nb for j in self.g.nodes[i].inputs if j not in inside_b}
        leaks = [c for i in na for c in self.consumers.get(i, []) if c not in inside_a | inside_b]
        return outside == {na[-1]} and not leaks and not inside_a & self.read

    def _signature(self, p: Frame) -> tuple:
        """Two passes are the same picture when their layers, arguments, shapes and wiring match.

        Inside a block the picture shows closed, arguments that act only while
        training (`Layer.training_only`) do not count: ConvNeXt's CNBlocks, each
        with its own drop-path rate, fold to `features.5: CNBlock ×9`, while a
        layer with other heads still stands apart.
        """
        ids = self._frame_nodes.get(p.id, [])
        if not ids:
            return ()
        base, fbase = ids[0], p.id
        inside = set(ids)
        sig = []
        for i in ids:
            n = self.g.nodes[i]
            ins = tuple(j - base if j in inside else ("in", str(self.g.nodes[j].shape)) for j in n.inputs)
            shown = (repr(sorted(n.args.items())), n.label)
            if self._folded(n) and n.layer in REGISTRY:
                hidden = REGISTRY[n.layer].training_only
                shown = repr(sorted((k, v) for k, v in n.args.items() if k not in hidden))
            sig.append((n.layer, n.name[len(p.path):], shown, str(n.shape), n.params,
                        ins, (n.frame - fbase) if n.frame is not None else None, n.note))
        return tuple(sig)

    def _folded(self, node: Node) -> bool:
        """`node` sits deeper than the picture opens frames."""
        return self.depth is not None and self._chain(node)[2] > self.depth

    def pass_nodes(self, rep_id: int, start: int) -> list[int]:
        return self._frame_nodes.get(self._passes[rep_id][start].id, [])

    def pass_path(self, rep_id: int, k: int) -> str:
        return self._passes[rep_id][k].path

    # ------------------------------------------------------------ units
    def unitise(self, node_ids: list[int], skip: frozenset[int] = frozenset()) -> list[Unit]:
        units: list[Unit] = []
        owner: dict[int, int] = {}
        last_key = None
        for i in node_ids:
            n = self.g.nodes[i]
            if n.kind == "member" and not self.consumers.get(i) and i not in self.read and not self._is_output(i):
                continue  # `.state` nobody reads: the graph makes it, the picture needn't
            key = self._key(n, skip)
            if key != last_key or key[0] == "node":
                u = Unit(len(units), key[0], [])
                if key[0] == "fold":
                    u.frame = self.g.frames[key[1]]
                elif key[0] == "run":
                    rep = self.g.frames[key[1]]
                    start, count = self._runs[rep.id][[r[0] for r in self._runs[rep.id]].index(key[2])]
                    u.frame, u.count = rep, count
                    head = self._passes[rep.id][start]
                    u.body_name = head.name if head.kind == "block" else ""
                    u.first_pass = self.pass_nodes(rep.id, start)
                    first, last = self.pass_path(rep.id, start), self.pass_path(rep.id, start + count - 1)
                    u.run_name = (rep.path if count == len(self._passes[rep.id]) and count > 1 else
                                  first if count == 1 else f"{first}–{_run_end(first, last)}")
                units.append(u)
                last_key = key
            units[-1].nodes.append(i)
            owner[i] = units[-1].index
        for u in units:
            members = set(u.nodes)
            seen: list[int] = []
            for i in u.nodes:
                n = self.g.nodes[i]
                for j in n.inputs:
                    if j in members:
                        continue
                    src = owner.get(j, ENTRY)
                    if src not in seen:
                        seen.append(src)
                for arg, j in n.refs.items():
                    if j not in members and j in owner:
                        u.refs[arg] = owner[j]
            u.inputs = seen
            leaving = [i for i in u.nodes if self._is_output(i) or
                       any(c not in members for c in self.consumers.get(i, []))]
            u.out = leaving[-1] if leaving else u.nodes[-1]
        return units

    def _is_output(self, i: int) -> bool:
        return i in self._outputs


def _run_end(first: str, last: str) -> str:
    """How a run's name ends: `layer1.1–2`, `layers.block_0–4` (the last pass's number, not its whole name)."""
    a, b = first.rsplit(".", 1)[-1], last.rsplit(".", 1)[-1]
    m = re.fullmatch(r"(.*?)(\d+)", b)
    return m.group(2) if m and a.startswith(m.group(1)) and a[len(m.group(1)):].isdigit() else b


def consumers_of(g: ModelGraph) -> dict[int, list[int]]:
    """Node → the nodes that take it as an input (named arguments such as memory= are not flow)."""
    cons: dict[int, list[int]] = {}
    for n in g.nodes:
        for j in n.inputs:
            cons.setdefault(j, []).append(n.id)
    return cons
