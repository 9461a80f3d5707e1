"""Train any spec on several processes with torch.distributed: DDP by default,
FSDP2 (`fully_shard`) with --fsdp. The module `compiler.build` returns is a
plain `torch.nn.Module`, so it is wrapped exactly as a hand-written one would be.

    torchrun --nproc_per_node=2 examples/ddp_train.py specs/cats_vs_dogs.arch --steps 20
    torchrun --nproc_per_node=2 examples/ddp_train.py examples/tiny_gpt.arch --set depth=1 --seq 32
    torchrun --nproc_per_node=2 examples/ddp_train.py specs/cats_vs_dogs.arch --fsdp

On CPU the backend is gloo (NCCL where CUDA is present). The data are
synthetic and need no download: each rank draws its own batches from a
generator seeded by its rank, as a `DistributedSampler` would hand it its own
shard. The targets are a fixed function of the inputs (for an image: which
channel is brightest; for token ids: the next id), so the loss falls.

With --out DIR, each rank writes DIR/rank<N>.pt: its parameters after
training (for FSDP the gathered full tensors) and the losses, so that
tests/test_ddp.py can check that the replicas agree.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as `torchrun examples/ddp_train.py` from anywhere, without installing
    sys.path.insert(0, str(ROOT))


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("spec", type=Path)
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="NAME=VALUE",
                   help="a model parameter (integer or float), as `archlang --set`")
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--batch", type=int, default=4, help="examples per rank and step")
    p.add_argument("--seq", type=int, default=16, help="the length given to open sizes such as `seq`")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--fsdp", action="store_true", help="shard parameters with FSDP2's fully_shard instead of DDP")
    p.add_argument("--out", type=Path, help="write each rank's final parameters to OUT/rank<N>.pt")
    return p.parse_args(argv)


def parse_sets(sets: list[str]) -> dict:
    values = {}
    for item in sets:
        name, _, raw = item.partition("=")
        values[name] = float(raw) if "." in raw or "e" in raw.lower() else int(raw)
    return values


def concrete_shape(shape, seq: int) -> tuple[int, ...]:
    """The checked shape with every open size (`seq`) given the length `seq`."""
    return tuple(d if isinstance(d, int) else seq for d in shape)


def make_batch(graph, batch: int, seq: int, gen):
    """Synthetic inputs for every model input, and targets for the (last) output."""
    import torch
    from archlang.compiler.inputs import id_limits

    limits = id_limits(graph)
    xs = []
    for port in graph.inputs:
        size = (batch, *concrete_shape(port.shape, seq))
        if port.dtype == "int":
            xs.append(torch.randint(0, limits.get(port.node, 2), size, generator=gen))
        else:
            xs.append(torch.randn(size, generator=gen))
    classes = concrete_shape(graph.outputs[-1].shape, seq)[-1]
    first = xs[0]
    if first.dtype == torch.long:
        target = (first + 1) % classes  # per token: the next id (a task the model can learn)
    else:
        # per example: the index of the channel with the largest mean, folded into the classes
        target = first.flatten(2).mean(-1).argmax(-1) % classes if first.dim() > 2 else first.argmax(-1) % classes
    return xs, target


def loss_of(model, xs, target):
    import torch.nn.functional as F
    out = model(*xs)
    out = out[-1] if isinstance(out, tuple) else out
    return F.cross_entropy(out.reshape(-1, out.shape[-1]), target.reshape(-1))


def full_parameters(model) -> dict:
    """Every parameter as a whole local tensor (FSDP's shards gathered), keyed as in the built module."""
    out = {}
    for name, p in model.named_parameters():
        t = p.detach()
        if hasattr(t, "full_tensor"):  # a DTensor shard under FSDP2
            t = t.full_tensor()
        out[name.removeprefix("module.")] = t.clone()
    return out


def wrap(model, fsdp: bool):
    if not fsdp:
        from torch.nn.parallel import DistributedDataParallel
        return DistributedDataParallel(model)
    from torch.distributed.fsdp import fully_shard
    # Shard each top-level child on its own (its weights gathered only while it runs), then the root; a spec
    # with tied weights (`tie=`) shares a parameter across children, so there only the root is sharded.
    tied = len({id(p) for p in model.parameters()}) < len(list(model.named_parameters(remove_duplicate=False)))
    if not tied:
        for child in model.children():
            if any(True for _ in child.parameters()):
                fully_shard(child)
    fully_shard(model)
    return model


def main(argv=None) -> list[float]:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    import torch
    import torch.distributed as dist

    from archlang import compiler, dsl

    torch.set_num_threads(1)  # one process per core: threads inside a rank would only fight each other
    backend = "nccl" if torch.cuda.is_available() and not args.fsdp else "gloo"
    dist.init_process_group(backend)
    rank, world = dist.get_rank(), dist.get_world_size()
    try:
        params = parse_sets(args.sets)
        checked = dsl.check_file(args.spec, params=params)
        if not checked.ok:
            for d in checked.diagnostics:
                print(d.render(), file=sys.stderr)
            raise SystemExit(1)
        # One seed for the weights on every rank: FSDP2 does not broadcast them (DDP does, from rank 0).
        torch.manual_seed(args.seed)
        model = wrap(compiler.build(args.spec, **params), args.fsdp)
        opt = torch.optim.AdamW(model.parameters(), lr=args.lr)
        gen = torch.Generator().manual_seed(args.seed * 1000 + rank)
        losses, local = [], []
        for step in range(args.steps):
            xs, target = make_batch(checked.graph, args.batch, args.seq, gen)
            loss = loss_of(model, xs, target)
            opt.zero_grad()
            loss.backward()
            opt.step()
            # The mean over ranks: the loss of the global batch.
            local.append(loss.item())
            mean = loss.detach().clone()
            dist.all_reduce(mean)
            losses.append(mean.item() / world)
            if rank == 0:
                print(f"step {step + 1}/{args.steps}  loss {losses[-1]:.4f}", flush=True)
        weights = full_parameters(model)
        if args.out is not None:
            args.out.mkdir(parents=True, exist_ok=True)
            torch.save({"rank": rank, "world": world, "losses": losses, "local_losses": local,
                        "parameters": weights},
                       args.out / f"rank{rank}.pt")
        if rank == 0:
            mode = "FSDP2" if args.fsdp else "DDP"
            print(f"{mode} on {world} processes ({backend}): {args.steps} steps, "
                  f"loss {losses[0]:.4f} → {losses[-1]:.4f}")
        return losses
    finally:
        dist.destroy_process_group()


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
