"""`archlang compile` writes every format a user ships: .pt, .pt2, .onnx (and .py, in test_codegen).

Each file is read back by its own tool — `torch.export.load`, onnxruntime —
and must compute what the built module computes with the same weights
(`compile` seeds them with `--seed`, 0 by default).
"""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
import torch
from click.testing import CliRunner
from conftest import SPECS

import dsl
from compiler.cli import main
from compiler.inputs import random_inputs
from compiler.lower import lower


def compile_(*args: str):
    return CliRunner().invoke(main, ["compile", *args])


def reference(name: str, batch: int, **sizes):
    """The module `compile` builds (seed 0), with inputs and its outputs."""
    g = dsl.check_file(SPECS / f"{name}.arch", params=sizes or None).graph
    torch.manual_seed(0)
    m = lower(g).eval()
    xs = random_inputs(g, batch, torch.Generator().manual_seed(1))
    with torch.no_grad():
        out = m(*xs)
    return g, xs, out if isinstance(out, tuple) else (out,)


@pytest.mark.parametrize("name, sizes", [("cats_vs_dogs", {}), ("stock_rnn", {"seq": 12})])
def test_pt2_is_an_exported_program_with_the_same_function(name, sizes, tmp_path):
    out = tmp_path / f"{name}.pt2"
    r = compile_(str(SPECS / f"{name}.arch"), "-o", str(out), *[f"--set={k}={v}" for k, v in sizes.items()])
    assert r.exit_code == 0, r.output
    assert r.stderr == ""  # no tracing warnings reach the user
    g, xs, want = reference(name, 2, **sizes)
    program = torch.export.load(str(out))
    got = program.module()(*xs)
    torch.testing.assert_close(got, want[0])


@pytest.mark.parametrize("name, sizes", [("cats_vs_dogs", {}), ("lstm_translator", {"src_len": 7, "tgt_len": 5}),
                                         ("bert_base", {"seq": 6, "num_hidden_layers": 1})])
def test_onnx_runs_in_onnxruntime_at_any_batch(name, sizes, tmp_path):
    out = tmp_path / f"{name}.onnx"
    r = compile_(str(SPECS / f"{name}.arch"), "-o", str(out), *[f"--set={k}={v}" for k, v in sizes.items()])
    assert r.exit_code == 0, r.output
    assert r.stderr == ""
    g, xs, want = reference(name, 3, **sizes)  # traced at batch 1, run at 3
    session = ort.InferenceSession(str(out))
    assert [i.name for i in session.get_inputs()] == [p.name for p in g.inputs]
    got = session.run(None, {p.name: x.numpy() for p, x in zip(g.inputs, xs)})
    assert len(got) == len(want)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("suffix", [".pt2", ".onnx"])
def test_symbolic_sizes_need_values_and_nothing_is_written(suffix, tmp_path):
    out = tmp_path / f"model{suffix}"
    r = compile_(str(SPECS / "stock_rnn.arch"), "-o", str(out))
    assert r.exit_code == 2
    assert r.stderr.strip() == "error: give the symbolic sizes values first: --set seq=N"
    assert list(tmp_path.iterdir()) == []
