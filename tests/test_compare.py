"""`archlang compare`: the document's trade-offs table (§7), measured.

The words of the document become numbers: an RNN reads its sequence one
step at a time (its sequential steps grow with `seq`), attention looks at
everything at once (its steps do not), and attention pays for that in
compute that grows with `seq²`.
"""

from __future__ import annotations

import pytest
import torch
from archlang.compiler.cli import main
from archlang.compiler.compare import activation_bytes, family, profile, sequential_steps
from archlang.compiler.lower import lower
from click.testing import CliRunner
from conftest import ROOT, SPECS

from archlang import dsl


def checked(name: str, **params):
    res = dsl.check_file(SPECS / f"{name}.arch", params=params or None)
    assert res.ok, "\n".join(map(str, res.diagnostics))
    return res.graph


def compare(*args: str):
    return CliRunner().invoke(main, ["compare", *args])


@pytest.mark.parametrize("spec, fam", [
    ("cats_vs_dogs", "CNN"), ("resnet50", "CNN"), ("stock_rnn", "RNN"), ("gru_classifier", "RNN"),
    ("char_lstm", "LSTM"), ("lstm_translator", "LSTM"), ("transformer", "Transformer"),
    ("gpt2_small", "Transformer"), ("vit_b16", "Transformer"),
])
def test_each_spec_lands_in_its_family(spec, fam):
    assert family(checked(spec)) == fam


def test_an_rnn_walks_its_sequence_and_attention_does_not():
    rnn = [sequential_steps(checked("stock_rnn", seq=n)) for n in (16, 256)]
    assert rnn == [16 + 1, 256 + 1]  # one step per price, then the head
    lstm = sequential_steps(checked("char_lstm", seq=100))
    assert lstm == 1 + 2 * 100 + 1  # embedding, two stacked layers of 100 steps, head
    gpt = [sequential_steps(checked("gpt2_small", seq=n)) for n in (16, 256)]
    assert gpt[0] == gpt[1]  # "process everything at once"
    macs = [checked("gpt2_small", seq=n).macs for n in (256, 512)]
    assert macs[1] > 2 * macs[0]  # ... and pay for it: attention grows with seq²


def test_steps_stay_symbolic_when_the_length_is():
    assert str(sequential_steps(checked("stock_rnn"))) == "seq + 1"


def test_activations_are_the_layer_outputs_a_forward_pass_makes():
    g = checked("cats_vs_dogs")
    m = lower(g).eval()
    seen = []
    for mod in m.modules():
        if not list(mod.children()):
            mod.register_forward_hook(lambda _m, _i, out: seen.append(out.numel() * out.element_size()))
    with torch.no_grad():
        m(torch.randn(1, 3, 128, 128))
    assert activation_bytes(g) == sum(seen)
    assert sequential_steps(g) == len(seen) == 12


def test_attention_adds_its_score_matrices():
    src = "model M {\n input x: [10, 16]\n attention(4)\n}\n"
    g = dsl.check_text(src).graph
    assert activation_bytes(g) == 10 * 16 * 4 + 4 * 10 * 10 * 4


def test_the_table_states_its_input_size_and_shows_every_model():
    r = compare("specs/stock_rnn.arch", "specs/transformer.arch", "specs/cats_vs_dogs.arch", "--seq", "64")
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[0].split()[:4] == ["model", "family", "best", "for"]
    rows = {ln.split()[0]: ln for ln in lines[2:5]}
    assert set(rows) == {"StockRNN", "Transformer", "CatsVsDogs"}
    assert rows["StockRNN"].split()[-3] == "65"
    assert "44.14 M" in rows["Transformer"] and "images" in rows["CatsVsDogs"]
    assert "at seq=64, src_len=64" in r.stdout


def test_set_overrides_the_default_length_and_markdown_is_a_table():
    r = compare("specs/stock_rnn.arch", "--set", "seq=10", "--format", "markdown")
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("| model | family | best for |")
    assert "| StockRNN | RNN | sequences |" in r.stdout and "| 11 |" in r.stdout
    assert "at seq=10" in r.stdout


def test_a_bad_spec_is_a_diagnostic_and_exit_1(tmp_path, monkeypatch):
    bad = tmp_path / "bad.arch"
    bad.write_text("model M {\n input x: [4]\n lienar(3)\n}\n")
    r = compare(str(bad), str(ROOT / "specs" / "cats_vs_dogs.arch"))
    assert r.exit_code == 1
    assert "error[E101]" in r.stderr and "CatsVsDogs" in r.stdout


def test_profile_carries_the_checked_counts():
    g = checked("resnet18")
    p = profile(g)
    assert (p.params, p.macs, p.family) == (g.params, g.macs, "CNN")


@pytest.mark.parametrize("path", sorted(SPECS.glob("*.arch")), ids=lambda p: p.stem)
def test_every_shipped_spec_is_compared_and_fits_the_memory_budget_check(path):
    """compare and the budget read each node's arguments back, whatever extra facts the node records."""
    from archlang.compiler.budget import enforce

    assert compare(str(path), "--seq", "16").exit_code == 0
    enforce(checked(path.stem), 10**12, batch=1, flag="test")  # symbolic activations count as 0
