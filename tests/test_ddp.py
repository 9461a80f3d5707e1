"""examples/ddp_train.py under `torchrun --nproc_per_node=2` on CPU (gloo): the
built module trains under DDP and FSDP2 with nothing special, and at the end
both ranks hold the same weights — which training changed — although each
rank saw its own batches."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch
from conftest import ROOT

from archlang import compiler

# (spec, its parameters, more options): FSDP runs a small tiny_gpt, whose tied head shares a weight.
RUNS = {
    "ddp": (ROOT / "specs" / "cats_vs_dogs.arch", {}, []),
    "fsdp": (ROOT / "examples" / "tiny_gpt.arch", {"depth": 1, "d": 32, "block_size": 16}, ["--fsdp", "--seq", "16"]),
}


@pytest.mark.parametrize("mode", sorted(RUNS))
def test_two_ranks_end_with_the_same_trained_weights(mode, tmp_path):
    spec, params, extra = RUNS[mode]
    sets = [a for k, v in params.items() for a in ("--set", f"{k}={v}")]
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           str(ROOT / "examples" / "ddp_train.py"), str(spec), "--steps", "3", "--batch", "2",
           "--out", str(tmp_path), *sets, *extra]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{'FSDP2' if mode == 'fsdp' else 'DDP'} on 2 processes (gloo): 3 steps" in done.stdout

    ranks = [torch.load(tmp_path / f"rank{r}.pt") for r in range(2)]
    a, b = (r["parameters"] for r in ranks)
    assert ranks[0]["world"] == 2 and ranks[0]["losses"] == ranks[1]["losses"]
    # Each rank trained on its own data, so only the gradient all-reduce can have kept them together.
    assert ranks[0]["local_losses"] != ranks[1]["local_losses"]
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name

    # The weights moved from where the same seed starts them.
    torch.manual_seed(0)
    fresh = dict(compiler.build(spec, **params).named_parameters())
    assert fresh.keys() == a.keys()
    assert any(not torch.equal(fresh[k].detach(), a[k]) for k in a)
