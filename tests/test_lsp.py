"""The language server (`python -m archlang.compiler.lsp`, what `archlang lsp` runs) in
a real session over stdio, driven by a small JSON-RPC client: diagnostics on
open and change with the codes and spans of `check`, hover, completion, go to
definition across imports (into `std/`), formatting, shutdown and exit."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from archlang.dsl.fmt import format_text
from conftest import ROOT

from archlang import dsl

TIMEOUT = 30

SPEC = """\
import "std/resnet"

model Small(classes = 10) {
    input image: [3, 32, 32]

    stem: conv(16, 3, padding=1, bias=false) -> batchnorm -> relu
    layer1: repeat(2) { BasicBlock(16) }
    global_avgpool -> flatten
    fc: linear(clases)
}
"""


class Client:
    """Just enough of an LSP client: framed JSON-RPC over the server's stdin and stdout."""

    def __init__(self, cwd: Path) -> None:
        self.proc = subprocess.Popen([sys.executable,
            "-m", "archlang.compiler.cli", "lsp"], cwd=cwd, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.next_id = 0
        self.inbox: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        out = self.proc.stdout
        while True:
            headers = {}
            while True:
                line = out.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                key, _, value = line.decode().partition(":")
                headers[key.strip().lower()] = value.strip()
            self.inbox.put(json.loads(out.read(int(headers["content-length"]))))

    def send(self, message: dict) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self.proc.stdin.write(f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        self.proc.stdin.flush()

    def notify(self, method: str, params: dict | None = None) -> None:
        self.send({"method": method, "params": params})

    def request(self, method: str, params: dict | None = None):
        self.next_id += 1
        self.send({"id": self.next_id, "method": method, "params": params})
        while True:
            msg = self.inbox.get(timeout=TIMEOUT)
            if msg.get("id") == self.next_id and "method" not in msg:
                assert "error" not in msg, msg["error"]
                return msg["result"]

    def diagnostics(self, uri: str) -> list[dict]:
        """The next diagnostics the server publishes for `uri`."""
        while True:
            msg = self.inbox.get(timeout=TIMEOUT)
            if msg.get("method") == "textDocument/publishDiagnostics" and msg["params"]["uri"] == uri:
                return msg["params"]["diagnostics"]


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    c = Client(ROOT)
    caps = c.request("initialize", {"processId": None, "rootUri": None, "capabilities": {}})["capabilities"]
    assert caps["hoverProvider"] and caps["definitionProvider"] and caps["documentFormattingProvider"]
    assert "completionProvider" in caps
    c.notify("initialized", {})
    yield c
    if c.proc.poll() is None:
        c.proc.kill()


@pytest.fixture()
def opened(client, tmp_path):
    """Open SPEC as a document in a fresh folder (unsaved: the file on disk is empty) and give its uri."""
    path = tmp_path / "small.arch"
    path.write_text("")  # the server must read the editor's buffer, not the disk
    uri = path.as_uri()
    client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "arch", "version": 1,
                                                            "text": SPEC}})
    client.opened_diagnostics = client.diagnostics(uri)
    return uri, path


def pos(text: str, needle: str, offset: int = 0) -> dict:
    """The 0-based position of `needle` (plus `offset` characters) in `text`."""
    i = text.index(needle) + offset
    return {"line": text.count("\n", 0, i), "character": i - text.rfind("\n", 0, i) - 1}


def test_diagnostics_on_open_have_checks_codes_and_spans_and_a_fix_clears_them(client, opened):
    uri, path = opened
    expected = dsl.check_text(SPEC, name=path.name, root=path.parent).diagnostics
    assert [d.code for d in expected] == ["E102"]
    got = client.opened_diagnostics
    assert [d["code"] for d in got] == ["E102"] and got[0]["source"] == "archlang"
    s = expected[0].span
    assert got[0]["range"] == {"start": {"line": s.line - 1, "character": s.col - 1},
                               "end": {"line": s.end_line - 1, "character": s.end_col - 1}}
    assert got[0]["range"]["start"] == pos(SPEC, "clases")
    assert expected[0].message in got[0]["message"] and got[0]["severity"] == 1

    fixed = SPEC.replace("clases", "classes")
    client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2},
                                             "contentChanges": [{"text": fixed}]})
    assert client.diagnostics(uri) == []

    broken = fixed.replace("-> relu", "-> relu ->")
    client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 3},
                                             "contentChanges": [{"text": broken}]})
    codes = [d["code"] for d in client.diagnostics(uri)]
    assert codes == [d.code for d in dsl.check_text(broken, name=path.name, root=path.parent).diagnostics]
    assert codes and all(c.startswith("E0") for c in codes)  # a parse error


def test_hover_shows_a_statements_shape_parameters_and_macs_and_a_layers_signature(client, opened):
    uri, path = opened
    fixed = SPEC.replace("clases", "classes")
    client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2},
                                             "contentChanges": [{"text": fixed}]})
    assert client.diagnostics(uri) == []
    graph = dsl.check_text(fixed, name=path.name, root=path.parent).graph
    stem = next(n for n in graph.nodes if n.name == "stem.0")

    hover = client.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": pos(fixed, "conv(16")})
    text = hover["contents"]["value"]
    assert "conv(out: int, kernel: int | list[int]" in text  # the catalogue's signature
    assert f"**{stem.shape_text}**" in text and f"params {stem.params:,}" in text and "MACs" in text

    # On a statement's label: the whole chain, ending at its last layer's shape.
    hover = client.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": pos(fixed, "stem:")})
    text = hover["contents"]["value"]
    chain = [n for n in graph.nodes if n.name.startswith("stem.")]
    assert len(chain) == 3 and text.startswith("3 layers")
    assert f"**{chain[-1].shape_text}**" in text and f"params {sum(n.params for n in chain):,}" in text

    # On a block call inside a repeat: the block's signature and doc, and the figures of both passes.
    hover = client.request("textDocument/hover", {"textDocument": {"uri": uri},
                                                  "position": pos(fixed, "BasicBlock", 3)})
    text = hover["contents"]["value"]
    assert "block BasicBlock(planes, stride = 1)" in text and "skip connection" in text
    layer1 = [n for n in graph.nodes if n.name.startswith("layer1.")]
    assert f"params {sum(n.params for n in layer1):,}" in text and f"**{layer1[-1].shape_text}**" in text

    assert client.request("textDocument/hover", {"textDocument": {"uri": uri},
                                                 "position": {"line": 1, "character": 0}}) is None


def test_completion_offers_arguments_inside_parentheses_else_layers_blocks_and_labels(client, opened):
    uri, _ = opened
    inside = client.request("textDocument/completion", {"textDocument": {"uri": uri},
                                                        "position": pos(SPEC, "padding=1")})
    labels = {i["label"] for i in inside["items"]}
    assert {"out=", "kernel=", "stride=", "padding=", "groups=", "bias="} <= labels
    assert "relu" not in labels

    block_args = client.request("textDocument/completion", {"textDocument": {"uri": uri},
                                                            "position": pos(SPEC, "BasicBlock(16", 11)})
    assert {"planes=", "stride="} <= {i["label"] for i in block_args["items"]}

    statement = client.request("textDocument/completion", {"textDocument": {"uri": uri},
                                                           "position": pos(SPEC, "global_avgpool")})
    by_label = {i["label"]: i for i in statement["items"]}
    assert {"conv", "linear", "lstm", "attention", "BasicBlock", "Bottleneck", "stem", "layer1", "image",
            "repeat", "residual"} <= by_label.keys()
    assert by_label["conv"]["detail"].startswith("conv(out: int")
    assert by_label["BasicBlock"]["kind"] == 7 and by_label["conv"]["kind"] == 3  # Class, Function

    # Half-typed text does not parse: blocks and labels come from the last version that did.
    typing_ = SPEC.replace("    global_avgpool", "    conv(8, \n    global_avgpool")
    client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2},
                                             "contentChanges": [{"text": typing_}]})
    assert client.diagnostics(uri)
    midway = client.request("textDocument/completion", {"textDocument": {"uri": uri},
                                                        "position": pos(typing_, "conv(8, ", 8)})
    assert {"kernel=", "stem", "layer1"} <= {i["label"] for i in midway["items"]}
    before = client.request("textDocument/completion", {"textDocument": {"uri": uri},
                                                        "position": pos(typing_, "layer1:")})
    assert {"BasicBlock", "stem"} <= {i["label"] for i in before["items"]}


def test_go_to_definition_of_a_block_lands_in_std(client, opened):
    uri, _ = opened
    loc = client.request("textDocument/definition", {"textDocument": {"uri": uri},
                                                     "position": pos(SPEC, "BasicBlock", 2)})
    std = ROOT / "dsl" / "std" / "resnet.arch"
    assert Path(loc["uri"].removeprefix("file://")).resolve() == std.resolve()
    line = std.read_text().split("\n")[loc["range"]["start"]["line"]]
    start, end = loc["range"]["start"]["character"], loc["range"]["end"]["character"]
    assert line.startswith("block BasicBlock(") and line[start:end] == "BasicBlock"
    assert client.request("textDocument/definition", {"textDocument": {"uri": uri},
                                                      "position": pos(SPEC, "relu")}) is None


def test_go_to_definition_of_a_block_in_the_same_buffer(client, tmp_path):
    text = "block Twice(n) {\n    linear(n) -> relu\n}\nmodel M {\n    input x: [4]\n    Twice(8)\n}\n"
    uri = (tmp_path / "own.arch").as_uri()
    client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "arch", "version": 1,
                                                            "text": text}})
    assert client.diagnostics(uri) == []
    loc = client.request("textDocument/definition", {"textDocument": {"uri": uri}, "position": pos(text, "Twice(8")})
    assert loc["uri"] == uri and loc["range"]["start"] == {"line": 0, "character": 6}


def test_formatting_returns_fmts_layout_and_nothing_for_text_that_does_not_parse(client, tmp_path):
    messy = "model M{\n  input x:[4]\n     linear( 8 )->relu   # note\n}\n"
    uri = (tmp_path / "messy.arch").as_uri()
    client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "arch", "version": 1,
                                                            "text": messy}})
    client.diagnostics(uri)
    options = {"tabSize": 4, "insertSpaces": True}
    (edit,) = client.request("textDocument/formatting", {"textDocument": {"uri": uri}, "options": options})
    assert edit["newText"] == format_text(messy) != messy
    assert edit["range"]["start"] == {"line": 0, "character": 0} and edit["range"]["end"]["line"] == 4

    client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2},
                                             "contentChanges": [{"text": format_text(messy)}]})
    client.diagnostics(uri)
    assert client.request("textDocument/formatting", {"textDocument": {"uri": uri}, "options": options}) == []

    client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 3},
                                             "contentChanges": [{"text": "model M {\n  linear(\n}\n"}]})
    assert client.diagnostics(uri)
    assert client.request("textDocument/formatting", {"textDocument": {"uri": uri}, "options": options}) is None


def test_the_server_imports_no_torch():
    code = "import sys, compiler.lsp; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_zz_shutdown_then_exit_ends_the_server(client):
    assert client.request("shutdown") is None
    client.notify("exit")
    assert client.proc.wait(timeout=TIMEOUT) == 0
