"""The diagram draws per-layer facts from the catalogue (dsl/layers), keeping no table of its own.

Each test changes one fact on the catalogue entry and sees the picture follow:
a merge's sign, a member's words, a recurrent step's gates and state.
"""

from __future__ import annotations

from dataclasses import replace

from archlang.compiler.diagram import draw
from archlang.dsl import check_file
from archlang.dsl.layers import REGISTRY
from archlang.dsl.layers.facts import Gate
from conftest import ROOT


def _text(spec: str, **options) -> str:
    return draw(check_file(ROOT / spec).graph, **options).text


def test_merge_signs_come_from_the_catalogue(monkeypatch):
    before = _text("tests/data/diagrams/branches.arch", depth=0)
    assert "‖" in before
    monkeypatch.setattr(type(REGISTRY["concat"]), "symbol", "⧺")
    after = _text("tests/data/diagrams/branches.arch", depth=0)
    assert "⧺" in after and "‖" not in after


def test_member_words_come_from_the_catalogue(monkeypatch):
    assert "last step" in _text("specs/stock_rnn.arch")
    monkeypatch.setattr(type(REGISTRY["rnn"]), "member_words", {"last": "the newest hidden state"})
    assert "the newest hidden state" in _text("specs/stock_rnn.arch")


def test_recurrent_steps_come_from_the_catalogue(monkeypatch):
    lstm = REGISTRY["lstm"]
    step = lstm.cell({})
    assert step is not None and "[forget gate σ]" in _text("specs/char_lstm.arch", gates=True)
    changed = replace(step, gates=(Gate("keep gate", "σ", "what to keep", "f"), *step.gates[1:]), state=("h", "m"))
    monkeypatch.setattr(lstm, "cell", lambda args: changed)
    text = _text("specs/char_lstm.arch", unroll=2, gates=True)
    assert "[keep gate σ]" in text and "forget gate" not in text
    assert "h1, m1" in text


def test_only_layers_with_a_step_open():
    assert {name for name, layer in REGISTRY.items() if layer.cell({}) is not None} == {"rnn", "lstm", "gru"}
    assert "tanh" in REGISTRY["rnn"].cell({"nonlinearity": "tanh"}).gates[0].act
    assert REGISTRY["rnn"].cell({"nonlinearity": "relu"}).gates[0].act == "relu"


def test_an_opened_rnn_step_wires_its_one_part_to_the_new_state():
    dot = draw(check_file(ROOT / "specs/stock_rnn.arch").graph, gates=True).dot
    edges = [line.strip() for line in dot.splitlines() if "->" in line]
    assert not [e for e in edges if e.split(" -> ")[0] == e.split(" -> ")[1].split(" ")[0].rstrip(";")]
    assert '"c1a" -> "c1h";' in edges
