"""Highlighting cannot drift from the language: the Pygments lexer and the
VS Code extension's TextMate grammar are made from grammar.lark's keywords and
the layer catalogue; the lexer reads every spec with no error token and is
found by name through its entry point; the extension folder is well formed."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import pytest
from archlang.dsl import highlight
from archlang.dsl.layers import REGISTRY
from conftest import ROOT
from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
from pygments.token import Error, Keyword, Name

VSCODE = ROOT / "editors" / "vscode"
SPECS = sorted([*(ROOT / "specs").glob("*.arch"), *(ROOT / "examples").glob("*.arch"),
                *(ROOT / "dsl" / "std").glob("*.arch")])


def test_every_keyword_of_the_grammar_has_exactly_one_colour():
    rules = re.sub(r"//[^\n]*", "", (ROOT / "dsl" / "grammar.lark").read_text())
    quoted = set(re.findall(r'"([a-z_]+)"', rules))
    assert {"block", "model", "residual", "shortcut", "repeat", "true", "none", "in"} <= quoted
    groups = [highlight.DECLARATIONS, highlight.CONTROL, highlight.CONSTANTS, highlight.OPERATOR_WORDS,
              highlight.VALUES]
    placed = [w for g in groups for w in g]
    assert len(placed) == len(set(placed))
    assert set(placed) == quoted == highlight.grammar_keywords()


def test_the_committed_textmate_grammar_is_the_generated_one():
    out = subprocess.run([sys.executable, "-m", "archlang.dsl.highlight", "--textmate"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    assert (VSCODE / "syntaxes" / "arch.tmLanguage.json").read_text() == out, \
        "regenerate: python -m archlang.dsl.highlight --textmate > editors/vscode/syntaxes/arch.tmLanguage.json"


def test_the_textmate_grammar_names_every_layer_and_keyword():
    grammar = json.loads((VSCODE / "syntaxes" / "arch.tmLanguage.json").read_text())
    by_scope = {p["name"]: p["match"] for p in grammar["patterns"] if "name" in p and "match" in p}
    layers = re.compile(by_scope["support.function.layer.arch"])
    for name in REGISTRY:
        assert layers.fullmatch(name), name
    assert not layers.fullmatch("BasicBlock") and not layers.fullmatch("conv1")
    keywords = [re.compile(v) for k, v in by_scope.items() if k.startswith(("keyword.", "constant.language",
                                                                             "variable.language"))]
    for word in highlight.grammar_keywords():
        assert any(k.fullmatch(word) for k in keywords), word
    for pattern in by_scope.values():
        re.compile(pattern)


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.name)
def test_the_lexer_reads_every_spec_without_an_error_token(path):
    text = path.read_text()
    tokens = list(highlight.ArchLexer().get_tokens(text))
    assert "".join(v for _, v in tokens) == text if text.endswith("\n") else text + "\n"
    errors = [v for t, v in tokens if t in Error]
    assert not errors, errors


def test_the_lexer_colours_layers_keywords_labels_and_blocks():
    text = 'import "std/resnet"\nblock B(n) {\n  conv1: conv(n, 3) -> relu\n  residual { B(n) } -> ?\n}\n'
    tokens = [(t, v) for t, v in highlight.ArchLexer().get_tokens(text) if v.strip()]
    kinds = {}
    for t, v in tokens:
        kinds.setdefault(v, t)
    assert kinds["import"] in Keyword and kinds["residual"] in Keyword
    assert kinds["conv"] is Name.Builtin and kinds["relu"] is Name.Builtin
    assert kinds["conv1"] is Name.Label and kinds["B"] is Name.Class and kinds["n"] is Name
    assert [t for t, v in tokens if v == "B"] == [Name.Class, Name.Function]
    assert kinds["?"] in Error  # the test above can fail


def test_pygments_finds_the_lexer_through_its_entry_point():
    assert get_lexer_by_name("arch").name == "archlang"
    assert get_lexer_for_filename("model.arch").name == "archlang"


def test_importing_dsl_highlight_does_not_import_pygments():
    code = "import sys, dsl.highlight; print(any(m.startswith('pygments') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_vscode_extension_contributes_the_language_grammar_and_server():
    pkg = json.loads((VSCODE / "package.json").read_text())
    (lang,) = pkg["contributes"]["languages"]
    (grammar,) = pkg["contributes"]["grammars"]
    assert lang["extensions"] == [".arch"] and grammar["language"] == lang["id"]
    assert grammar["scopeName"] == json.loads((VSCODE / grammar["path"]).read_text())["scopeName"]
    config = json.loads((VSCODE / lang["configuration"]).read_text())
    assert config["comments"]["lineComment"] == "#"
    assert f"onLanguage:{lang['id']}" in pkg["activationEvents"]
    assert "vscode-languageclient" in pkg["dependencies"]
    assert pkg["contributes"]["configuration"]["properties"]["archlang.server.args"]["default"] == ["lsp"]
    main = VSCODE / pkg["main"]
    source = main.read_text()
    assert "vscode-languageclient/node" in source and "server.args" in source
    if shutil.which("node"):
        subprocess.run(["node", "--check", str(main)], check=True)
