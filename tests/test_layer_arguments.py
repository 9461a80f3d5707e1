"""A layer call's arguments: tensor arguments declared once, and the words of E107.

Tensor arguments (`memory=`, `init=`, `tie=`) are declared on the layer, not
in its `Args`; every message about them — unknown names, suggestions, the
list of what a layer takes, the wrong kind of value — reads that one
declaration. The expected type of a number or option argument is worded
from its annotation, walked as a type.
"""

from __future__ import annotations

from typing import Literal

import pytest
from archlang.dsl import check_text
from archlang.dsl.expand.arguments import arg_list, describe_type
from archlang.dsl.layers import REGISTRY


def diagnostics(body: str) -> list[tuple[str, str, str | None]]:
    res = check_text("model M {\n" + body + "\n}\n")
    return [(d.code, d.message, d.hint) for d in res.diagnostics]


@pytest.mark.parametrize(("annotation", "words"), [
    (int, "an integer"),
    (float, "a number"),
    (bool, "true or false"),
    (str, "a string"),
    (type(None), "none"),
    (list[int], "a list of integers"),
    (int | None, "an integer or none"),
    (int | list[int], "an integer or a list of integers"),
    (int | list[int] | None, "an integer or a list of integers or none"),
    (Literal["tanh", "relu"], '"tanh" or "relu"'),
    (int | list[int] | Literal["same", "valid"], 'a list of integers or "same" or "valid"'),
    (int | float, "a number"),
    (bool | Literal["auto"], 'true or false or "auto"'),
    (dict[str, int], "a value"),
])
def test_describe_type_walks_the_annotation(annotation, words):
    assert describe_type(annotation) == words


def test_every_catalogue_argument_has_words():
    for layer in REGISTRY.values():
        for name, field in layer.Args.model_fields.items():
            assert describe_type(field.annotation) != "a value", (layer.name, name)


@pytest.mark.parametrize(("call", "name"), [("attention(2, memory=3)", "memory"), ("lstm(4, init=3)", "init"),
                                            ("gru(4, init=3)", "init"), ("rnn(4, init=3)", "init")])
def test_tensor_argument_given_a_number(call, name):
    layer = call.split("(")[0]
    assert diagnostics(f"input x: [seq, 8]\n{call}") == [
        ("E107", f"argument `{name}` of `{layer}` must be a labelled tensor value, not an integer (3)", None)]


def test_tie_given_a_number():
    assert diagnostics("input x: int[seq]\nwte: embedding(100, 8)\nlinear(100, tie=3)") == [
        ("E107", "argument `tie` of `linear` must be the label of a layer with a weight, such as an embedding,"
                 " not an integer (3)", None)]


@pytest.mark.parametrize("call", ["attention(2, memory=none)", "lstm(4, init=none)",
                                  "linear(4, tie=none)"])
def test_none_is_the_default_of_a_tensor_argument(call):
    res = check_text(f"model M {{\ninput x: [seq, 8]\n{call}\n}}\n")
    assert res.ok, res.diagnostics
    node = res.graph.nodes[-1]
    assert node.refs == {} and node.shares == {}


@pytest.mark.parametrize(("call", "suggestion"), [("attention(2, memroy=x)", "`memory`"),
                                                  ("lstm(4, inti=x)", "`init`"), ("linear(4, tei=x)", "`tie`")])
def test_misspelt_tensor_argument_is_suggested(call, suggestion):
    [(code, _, hint)] = diagnostics(f"input x: [seq, 8]\n{call}")
    assert code == "E105"
    assert hint == f"did you mean {suggestion}?"


def test_tensor_arguments_are_listed_with_the_rest():
    assert arg_list(REGISTRY["lstm"]) == "it takes `hidden`, `layers`, `bidirectional`, `dropout`, `init`"
    assert "memory" not in REGISTRY["attention"].Args.model_fields
    assert REGISTRY["attention"].argument_names()[-1] == "memory"


def test_unknown_argument_given_a_value_is_unknown():
    [(code, message, _)] = diagnostics("input x: [seq, 8]\nlstm(4, foo=x)")
    assert (code, message) == ("E105", "`lstm` has no argument `foo`")


def test_tensor_argument_is_named_only():
    # `attention`'s fourth positional argument is `bias`: `memory` takes no position.
    [(code, message, _)] = diagnostics("input x: [seq, 8]\ninput m: [4, 8]\nx -> attention(2, false, 0.0, m)")
    assert code == "E107"
    assert "(positional)" in message
