"""The built model is a tree of modules with their own forward, as a hand-written one is (issue 15).

Every block call, labelled group, repeat and pass is a module whose `forward`
takes the values it reads by name: hooks fire on blocks, a block runs on a
tensor of its input's shape, `torch.fx` traces the model, and torchinfo folds
its summary at the spec's blocks. The reference ResNet-18 below is written
the way torchvision writes it (torchvision cannot be installed beside this
torch), with torchvision's module names and classes.
"""

from __future__ import annotations

import copy
import inspect
import pickle

import pytest
import torch
from plain_nets import ResNet18
from torch import nn

from archlang import compiler

GPT2_SMALL = dict(vocab_size=100, n_positions=32, n_embd=32, n_head=2, n_layer=2, dropout=0.0)
TRANSLATOR = dict(src_vocab=50, tgt_vocab=60, dim=8, hidden=16)


@pytest.fixture(scope="module")
def resnet():
    torch.manual_seed(0)
    return compiler.build("specs/resnet18.arch", classes=10).eval()


@pytest.fixture(scope="module")
def gpt2():
    torch.manual_seed(0)
    return compiler.build("specs/gpt2_small.arch", **GPT2_SMALL).eval()


@pytest.fixture(scope="module")
def translator():
    torch.manual_seed(0)
    return compiler.build("specs/lstm_translator.arch", **TRANSLATOR).eval()


def _reference(m) -> ResNet18:
    ref = ResNet18(10)
    ref.load_state_dict(m.state_dict(), strict=True)
    return ref.eval()


# ---------------------------------------------------------------- blocks are modules with a forward


def test_forward_takes_the_spec_inputs_by_name(resnet, translator, gpt2):
    assert list(inspect.signature(resnet.forward).parameters) == ["image"]
    assert list(inspect.signature(translator.forward).parameters) == ["src", "tgt"]
    assert list(inspect.signature(gpt2.forward).parameters) == ["input_ids"]
    assert type(resnet).__name__ == "ResNet18"


def test_hooks_fire_on_layer1_of_resnet18(resnet):
    seen, handles = [], []
    for name in ("layer1", "layer1.0", "layer2.0.downsample"):
        handles.append(resnet.get_submodule(name).register_forward_hook(lambda mod, args, out, name=name: seen.append(
            (name, tuple(args[0].shape), tuple(out.shape)))))
    try:
        with torch.no_grad():
            resnet(torch.randn(1, 3, 224, 224))
    finally:
        for h in handles:
            h.remove()
    assert seen == [("layer1.0", (1, 64, 56, 56), (1, 64, 56, 56)), ("layer1", (1, 64, 56, 56), (1, 64, 56, 56)),
                    ("layer2.0.downsample", (1, 64, 56, 56), (1, 128, 28, 28))]


def test_hooks_fire_on_a_gpt2_block(gpt2):
    seen = []
    handle = gpt2.get_submodule("transformer.h.0").register_forward_hook(
        lambda mod, args, out: seen.append((type(mod).__name__, tuple(args[0].shape), tuple(out.shape))))
    try:
        with torch.no_grad():
            gpt2(torch.randint(0, 100, (2, 7)))
    finally:
        handle.remove()
    assert seen == [("GPT2Block", (2, 7, 32), (2, 7, 32))]
    assert isinstance(gpt2.transformer.h, nn.Sequential) and len(gpt2.transformer.h) == 2


def test_layer1_equals_the_reference_layer1(resnet):
    ref = _reference(resnet)
    x = torch.randn(2, 64, 56, 56)
    with torch.no_grad():
        torch.testing.assert_close(resnet.layer1(x), ref.layer1(x))
        torch.testing.assert_close(resnet.layer2[0](x), ref.layer2[0](x))
        image = torch.randn(2, 3, 224, 224)
        torch.testing.assert_close(resnet(image), ref(image))


def test_a_block_gives_out_a_member_read_outside(translator):
    """The encoder's state starts the decoder: a member read outside its level is part of what it returns."""
    src, tgt = torch.randint(0, 50, (2, 5)), torch.randint(0, 60, (2, 4))
    with torch.no_grad():
        out = translator(src, tgt)
        enc = translator.encoder(translator.src_embed(src))
    assert out.shape == (2, 4, 60)
    assert isinstance(enc, tuple) and enc[0].shape == (2, 5, 16)


# ---------------------------------------------------------------- torch's tools read the tree


@pytest.mark.parametrize("name", ["resnet", "gpt2"])
def test_fx_traces(name, request):
    m = request.getfixturevalue(name)
    gm = torch.fx.symbolic_trace(m)
    x = torch.randn(1, 3, 224, 224) if name == "resnet" else torch.randint(0, 100, (2, 7))
    with torch.no_grad():
        torch.testing.assert_close(gm(x), m(x))
    called = {n.target for n in gm.graph.nodes if n.op == "call_module"}
    assert ("layer1.0.conv1" in called) if name == "resnet" else ("transformer.h.1.ln_1" in called)


def test_fx_traces_the_translator_with_recurrent_layers_as_leaves(translator):
    """The model's own levels and its member tuples trace with the default tracer; nn.LSTM stays one call."""
    gm = torch.fx.symbolic_trace(translator)
    src, tgt = torch.randint(0, 50, (2, 5)), torch.randint(0, 60, (2, 4))
    with torch.no_grad():
        torch.testing.assert_close(gm(src, tgt), translator(src, tgt))
    called = [n.target for n in gm.graph.nodes if n.op == "call_module"]
    assert "encoder" in called and "decoder" in called


def _rows(model, x) -> list[tuple[str, int, int]]:
    import torchinfo
    stats = torchinfo.summary(model, input_data=[x], depth=2, verbose=0)
    return [(layer.class_name, layer.depth, layer.trainable_params) for layer in stats.summary_list
            if layer.depth <= 2]


def test_torchinfo_folds_at_the_blocks_like_the_reference(resnet):
    pytest.importorskip("torchinfo")
    x = torch.randn(1, 3, 224, 224)
    built, ref = _rows(resnet, x), _rows(_reference(resnet), x)
    assert built[0][0] == "ResNet18"
    # torchvision's model reuses one ReLU; the spec writes one per use, and flattens with a layer.
    keep = lambda rows: [r for r in rows[1:] if r[0] not in ("ReLU", "Flatten")]  # noqa: E731
    assert keep(built) == keep(ref)
    assert ("BasicBlock", 2, 230144) in built


# ---------------------------------------------------------------- the tree keeps what worked


def test_blocks_pickle_and_copy(resnet):
    x = torch.randn(1, 64, 56, 56)
    for other in (pickle.loads(pickle.dumps(resnet)), copy.deepcopy(resnet)):
        assert type(other.layer1[0]).__name__ == "BasicBlock"
        with torch.no_grad():
            torch.testing.assert_close(other.layer1(x), resnet.layer1(x))


def test_to_moves_the_whole_tree(resnet):
    """`.to()` reaches every level (nn.Module's own `_apply` is not shadowed)."""
    m = copy.deepcopy(resnet).to(torch.float64)
    assert m.layer1[0].conv1.weight.dtype == torch.float64
    with torch.no_grad():
        assert m(torch.randn(1, 3, 224, 224, dtype=torch.float64)).dtype == torch.float64
