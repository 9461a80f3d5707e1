"""`archlang compile` writes every format a user ships: .pt, .pt2, .onnx (and .py, in test_codegen).

Each file is read back by its own tool — `torch.export.load`, onnxruntime —
and must compute what the built module computes with the same weights
(`compile` seeds them with `--seed`, 0 by default).
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap

import numpy as np
import onnxruntime as ort
import pytest
import torch
from archlang.compiler.cli import main
from archlang.compiler.inputs import random_inputs
from archlang.compiler.lower import lower
from click.testing import CliRunner
from conftest import ROOT, SPECS

from archlang import dsl


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


# ---------------------------------------------------------------- exports that deploy (issue 15)

GPT2 = {"vocab_size": 100, "n_positions": 64, "n_embd": 32, "n_head": 2, "n_layer": 2, "dropout": 0.0}


def _gpt2(tmp_path, suffix: str, *extra: str):
    out = tmp_path / f"gpt2{suffix}"
    r = compile_(str(SPECS / "gpt2_small.arch"), "-o", str(out), "--set", "seq=8",
                 *[f"--set={k}={v}" for k, v in GPT2.items()], *extra)
    assert r.exit_code == 0, r.output
    return out


def test_one_pt2_serves_any_batch_and_sequence_length(tmp_path):
    program = torch.export.load(str(_gpt2(tmp_path, ".pt2"))).module()
    g = dsl.check_file(SPECS / "gpt2_small.arch", params={**GPT2, "seq": 8}).graph
    torch.manual_seed(0)
    m = lower(g).eval()
    for batch, seq in [(1, 7), (4, 64), (4, 7), (1, 64)]:
        x = torch.randint(0, 100, (batch, seq))
        with torch.no_grad():
            torch.testing.assert_close(program(x), m(x))


def test_onnx_stores_a_tied_weight_once_and_keeps_the_spec_names(tmp_path):
    import onnx
    model = onnx.load(str(_gpt2(tmp_path, ".onnx")))
    stored = sum(np.prod(t.dims) * 4 for t in model.graph.initializer)
    g = dsl.check_file(SPECS / "gpt2_small.arch", params={**GPT2, "seq": 8}).graph
    assert abs(stored - g.params * 4) <= 0.02 * g.params * 4  # lm_head reads wte: counted once
    names = [n.name for n in model.graph.node]
    assert any(n.startswith("/transformer/h/h.0/attn/") for n in names), names[:20]
    assert any(n.startswith("/lm_head/") for n in names)
    session = ort.InferenceSession(str(tmp_path / "gpt2.onnx"))
    x = np.random.default_rng(0).integers(0, 100, (3, 11))
    assert session.run(None, {"input_ids": x})[0].shape == (3, 11, 100)  # free batch and sequence axes


def test_compile_weights_writes_trained_weights(tmp_path):
    g, xs, _ = reference("cats_vs_dogs", 2)
    torch.manual_seed(5)
    trained = lower(g).state_dict()
    trained = {k: v + 0.5 if v.is_floating_point() else v for k, v in trained.items()}
    torch.save(trained, tmp_path / "W.pt")
    for suffix in (".pt", ".pt2"):
        out = tmp_path / f"model{suffix}"
        r = compile_(str(SPECS / "cats_vs_dogs.arch"), "-o", str(out), "--weights", str(tmp_path / "W.pt"))
        assert r.exit_code == 0, r.output
    got = torch.load(tmp_path / "model.pt", weights_only=True)
    assert list(got) == list(trained)
    for k in trained:
        torch.testing.assert_close(got[k], trained[k])
    m = lower(g).eval()
    m.load_state_dict(trained)
    with torch.no_grad():
        torch.testing.assert_close(torch.export.load(str(tmp_path / "model.pt2")).module()(*xs), m(*xs))


def test_compile_weights_that_do_not_fit_are_refused(tmp_path):
    torch.save({"fc.weight": torch.zeros(2, 2)}, tmp_path / "W.pt")
    r = compile_(str(SPECS / "cats_vs_dogs.arch"), "-o", str(tmp_path / "m.pt"), "--weights", str(tmp_path / "W.pt"))
    assert r.exit_code == 2 and r.stderr.startswith(f"error: cannot load {tmp_path / 'W.pt'}: ")
    assert not (tmp_path / "m.pt").exists()


def test_files_are_written_with_the_users_umask(tmp_path):
    old = os.umask(0o027)
    try:
        r = compile_(str(SPECS / "cats_vs_dogs.arch"), "-o", str(tmp_path / "m.pt"))
    finally:
        os.umask(old)
    assert r.exit_code == 0, r.output
    assert stat.S_IMODE((tmp_path / "m.pt").stat().st_mode) == 0o640


def test_a_read_only_target_is_an_error_not_replaced(tmp_path):
    out = tmp_path / "m.pt"
    out.write_bytes(b"keep")
    out.chmod(0o444)
    r = compile_(str(SPECS / "cats_vs_dogs.arch"), "-o", str(out))
    assert r.exit_code == 2
    assert r.stderr.strip() == f"error: cannot write {out}: it is read-only"
    assert out.read_bytes() == b"keep" and sorted(tmp_path.iterdir()) == [out]


def test_sigterm_while_writing_leaves_no_temporary_file(tmp_path):
    code = textwrap.dedent(f"""
        import os, signal, time
        from pathlib import Path
        from archlang.compiler.cli import _atomic_write

        def write(tmp):
            tmp.write_bytes(b"half")
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(30)

        _atomic_write(Path({str(tmp_path / "m.pt")!r}), write)
    """)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 128 + signal.SIGTERM, done.stderr
    assert list(tmp_path.iterdir()) == []


def test_same_seed_same_bytes_across_processes(tmp_path):
    """`compile --seed` is reproducible: two processes write byte-identical files (no temporary name inside)."""
    runs = []
    for k in range(2):
        d = tmp_path / str(k)
        files = {}
        for suffix in (".pt", ".pt2", ".py", ".onnx"):
            out = d / f"model{suffix}"
            done = subprocess.run([sys.executable,
                "-m", "archlang.compiler.cli", "compile", str(SPECS / "cats_vs_dogs.arch"),
                                   "-o", str(out), "--seed", "3"], cwd=ROOT, capture_output=True, text=True,
                                  timeout=300)
            assert done.returncode == 0, done.stderr
            files[suffix] = out.read_bytes()
        runs.append(files)
    assert runs[0] == runs[1]
    assert torch.load(tmp_path / "0" / "model.pt", weights_only=True)["0.weight"].std() > 0


def test_build_with_a_seed_gives_the_same_weights():
    from archlang import compiler
    a, b = (compiler.build(SPECS / "cats_vs_dogs.arch", seed=3).state_dict() for _ in range(2))
    torch.manual_seed(99)
    c = compiler.build(SPECS / "cats_vs_dogs.arch", seed=4).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a["0.weight"], c["0.weight"])
