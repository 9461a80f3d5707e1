"""`archlang compile -o model.py`: standalone PyTorch source (compiler.codegen).

Each generated file runs in a fresh interpreter that imports only torch and
the file, loads the state_dict of `lower(graph)` with `strict=True`, and must
give `lower(graph)`'s outputs. The big published specs run with smaller model
parameters so the file stays fast; every spec file is covered.
Rewrite the golden with `pytest tests/test_codegen.py --update-goldens`, then read it.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from archlang.compiler.codegen import python_source
from archlang.compiler.inputs import random_inputs
from archlang.compiler.lower import lower
from click.testing import CliRunner
from conftest import DATA, SPECS

from archlang import dsl

GOLDEN = DATA / "codegen" / "cats_vs_dogs.py"

# Published sizes build slowly twice (vgg16 is 138M parameters); the structure is what is tested.
SMALL: dict[str, dict] = {
    "bert_base": dict(vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                      intermediate_size=64, max_position_embeddings=16),
    "gpt2_small": dict(vocab_size=100, n_positions=16, n_embd=32, n_head=2, n_layer=2),
    "transformer": dict(d=32, heads=2, depth=2, ff=64),
    "vit_b16": dict(classes=10, hidden_dim=32, num_heads=2, mlp_dim=64),
    "vgg16": dict(classes=10),
    "resnet50": dict(classes=10),
    "efficientnet_b0": dict(classes=10),
    "mobilenet_v2": dict(classes=10),
    "resnet18": dict(classes=10),
    "convnext_tiny": dict(classes=10, dims=[8, 16, 24, 32], depths=[1, 1, 2, 1], size=32),
}

DRIVER = textwrap.dedent("""
    import sys

    import torch

    import generated

    leaked = sorted(m for m in sys.modules if m.split(".")[0] in ("dsl", "compiler"))
    assert not leaked, leaked
    model = getattr(generated, sys.argv[1])()
    model.load_state_dict(torch.load("state.pt", weights_only=True), strict=True)
    torch.save([(k, tuple(v.shape)) for k, v in model.state_dict().items()], "keys.pt")
    model.eval()
    with torch.no_grad():
        out = model(*torch.load("inputs.pt", weights_only=True))
    torch.save(out if isinstance(out, tuple) else (out,), "outputs.pt")
    if sys.argv[2:] == ["tied"]:
        print("tied", model.lm_head.weight is model.transformer.wte.weight)
""")


def _graph(path: Path):
    params = SMALL.get(path.stem, {})
    g = dsl.check_file(path, params=params).graph
    assert g is not None
    if g.symbols:  # only the sizes this spec leaves open
        g = dsl.check_file(path, params={**params, **{s: 8 for s in g.symbols}}).graph
    assert g is not None and not g.symbols
    return g


def _run_generated(g, tmp_path: Path, *flags: str) -> subprocess.CompletedProcess:
    """Write the source, run it on lower(g)'s weights in a fresh interpreter, compare outputs."""
    source = python_source(g)
    (tmp_path / "generated.py").write_text(source)
    (tmp_path / "driver.py").write_text(DRIVER)
    torch.manual_seed(0)
    ref = lower(g).eval()
    torch.save(ref.state_dict(), tmp_path / "state.pt")
    inputs = random_inputs(g, 2, torch.Generator().manual_seed(0))
    torch.save(inputs, tmp_path / "inputs.pt")
    done = subprocess.run([sys.executable, "driver.py", g.name, *flags], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    with torch.no_grad():
        want = ref(*inputs)
    want = want if isinstance(want, tuple) else (want,)
    got = torch.load(tmp_path / "outputs.pt", weights_only=True)
    assert len(got) == len(want)
    keys = [(k, tuple(v.shape)) for k, v in ref.state_dict().items()]
    assert torch.load(tmp_path / "keys.pt", weights_only=True) == keys  # same keys, shapes and order
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b)
    return done


@pytest.mark.parametrize("path", sorted(SPECS.glob("*.arch")), ids=lambda p: p.stem)
def test_generated_source_runs_alone_and_matches_lowering(path: Path, tmp_path: Path):
    g = _graph(path)
    _run_generated(g, tmp_path)


@pytest.mark.parametrize("path", sorted(SPECS.glob("*.arch")), ids=lambda p: p.stem)
def test_source_is_deterministic_valid_and_readable(path: Path):
    g = _graph(path)
    text = python_source(g)
    assert python_source(g) == text
    compile(text, f"{g.name}.py", "exec")
    long = [line for line in text.splitlines() if len(line) > 120]
    assert not long, long
    imports = [line for line in text.splitlines() if line.startswith(("import ", "from "))]
    assert all(line.split()[1].split(".")[0] in ("torch", "math", "typing", "__future__") for line in imports), imports
    assert f"class {g.name}(" in text
    for n in g.nodes:  # the spec's notes travel with the code
        if n.note:
            assert n.note in text


@pytest.mark.parametrize("body", [
    "linear(4)",                                        # the model is its one element (§6)
    "lstm(6, layers=2, bidirectional=true) -> last",    # members, a parameter-free module numbered at the root
    "h: rnn(6, nonlinearity=\"relu\")\n    h.last -> linear(3) -> softmax",  # rnn's own argument, a pick
    "again: { again: { residual { linear(8) } } -> linear(3) }",  # a label inside itself: two classes
    "b: repeat(3, i) { c: { linear(8 + i) -> linear(4) } }",      # one class, its sizes arguments
])
def test_small_inline_models(body: str, check_src, tmp_path: Path):
    g = check_src(f"model Small {{\n    input x: [5, 8]\n    {body}\n}}\n").graph
    assert g is not None
    _run_generated(g, tmp_path)


def test_gpt2_head_is_the_token_embedding(tmp_path: Path):
    g = _graph(SPECS / "gpt2_small.arch")
    text = python_source(g)
    assert "self.lm_head.weight = self.transformer.wte.weight" in text
    done = _run_generated(g, tmp_path, "tied")
    assert "tied True" in done.stdout


@pytest.mark.parametrize("spec", ["resnet18", "resnet50", "vit_b16", "gpt2_small", "bert_base"])
def test_one_class_per_block_definition(spec: str):
    """The instances of a block share one class with constructor arguments, as torchvision writes them."""
    g = _graph(SPECS / f"{spec}.arch")
    text = python_source(g)
    blocks = {f.name for f in g.frames if f.kind == "block"}
    assert blocks
    for name in blocks:
        assert len(re.findall(rf"^class {name}(_\d+)?\(", text, re.M)) == 1, name


@pytest.mark.parametrize("spec,block,calls", [
    ("resnet18", "BasicBlock", [(64, 64)] * 2 + [(64, 128, "stride=2", "downsample=True"), (128, 128),
                                (128, 256, "stride=2", "downsample=True"), (256, 256),
                                (256, 512, "stride=2", "downsample=True"), (512, 512)]),
    ("resnet50", "Bottleneck", [(64, 64, "downsample=True"), (256, 64), (256, 64),
                                (256, 128, "stride=2", "downsample=True"), *[(512, 128)] * 3,
                                (512, 256, "stride=2", "downsample=True"), *[(1024, 256)] * 5,
                                (1024, 512, "stride=2", "downsample=True"), *[(2048, 512)] * 2]),
])
def test_resnet_blocks_take_torchvisions_arguments(spec: str, block: str, calls: list[tuple]):
    """One BasicBlock/Bottleneck(in_channels, planes, stride=1, downsample=False), made with each block's own."""
    text = python_source(_graph(SPECS / f"{spec}.arch"))
    assert ("    def __init__(self, in_channels: int, planes: int, stride: int = 1, downsample: bool = False)"
            " -> None:") in text
    model = text[text.rindex("\nclass "):]  # the model's class comes last
    made = re.findall(rf"\b{block}\(([^)]*)\)", model)
    assert made == [", ".join(str(a) for a in c) for c in calls]
    # the member only some blocks have is None in the others, and forward reads past it
    assert "        self.downsample = None\n        if downsample:\n" in text
    assert "        if self.downsample is not None:\n            downsample = self.downsample(x)\n" in text


SHARED = """
block Res(width, stride = 1) {
    let wide = width * 2 + 1
    residual {
        a: linear(wide)
        relu
        b: linear(width)
    } shortcut {
        if in.shape[1] != width {
            proj: linear(width)
        }
    }
}
model Small {
    input x: [5, 8]
    layers: repeat(3, i) { Res(6 if i == 0 else 4 + i) }
    nest: repeat(2, i) { t: { Res(5) -> Res(5 + i) } }
    again: { again: { linear(4) -> relu } -> linear(3) }
}
"""


def test_block_instances_share_a_class_with_arguments(tmp_path: Path):
    """Sizes become arguments named by the block's parameters, a `let` is computed, a member some lack is
    optional; a class that holds such blocks passes their arguments on; the file computes the same."""
    spec = tmp_path / "small.arch"
    spec.write_text(SHARED)
    g = dsl.check_file(spec).graph
    text = python_source(g)
    assert len(re.findall(r"^class Res", text, re.M)) == 1
    assert "    def __init__(self, in_features: int, width: int, proj: bool = False) -> None:" in text
    assert "        wide = width * 2 + 1\n        self.a = nn.Linear(in_features, wide)\n" in text
    assert "b = self.b(relu)  # [B, 5, width]" in text
    assert "self.t = nn.Sequential(Res(in_features, 5, proj=proj), Res(5, width, proj=proj_2))" in text
    assert "nn.Sequential(Res(8, 6, proj=True), Res(6, 5, proj=True), Res(5, 6, proj=True))" in text
    assert "NestPass(6, True, 5, False), NestPass(5, False, 6, True)" in text
    _run_generated(g, tmp_path)


def test_a_varying_shape_is_no_single_comment():
    """A step's shape that differs between a class's instances is not printed as one of them."""
    text = python_source(_graph(SPECS / "resnet18.arch"))
    block = text.split("class BasicBlock(")[1].split("\nclass ")[0]
    assert "56, 56]" not in block and "28, 28]" not in block
    model = text.split("class ResNet18(")[1]
    assert "layer1 = self.layer1(maxpool)  # [B, 64, 56, 56]" in model


def test_recurrent_members_are_tuple_picks():
    text = python_source(_graph(SPECS / "lstm_translator.arch"))
    assert "init=encoder_state" in text
    assert "encoder_state = encoder[2]" in text


def test_cats_vs_dogs_golden(request):
    text = python_source(dsl.check_file(SPECS / "cats_vs_dogs.arch").graph)
    if request.config.getoption("--update-goldens"):
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(text)
    assert GOLDEN.exists(), f"missing {GOLDEN.name}; run with --update-goldens"
    assert text == GOLDEN.read_text()


def test_cli_compile_writes_python(tmp_path: Path):
    from archlang.compiler.cli import main
    out = tmp_path / "out.py"
    result = CliRunner().invoke(main, ["compile", str(SPECS / "cats_vs_dogs.arch"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text() == python_source(dsl.check_file(SPECS / "cats_vs_dogs.arch").graph)
