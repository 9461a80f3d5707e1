"""Issue 12's layers that modern networks need: shape rules, counts, torch equivalence, codegen, init_std.

Each layer is checked against the plain torch operation with the same
weights; torchvision's ConvNeXt pieces (LayerNorm2d, CNBlock, StochasticDepth)
are written out below in plain torch, as torchvision has them, so the test
needs no torchvision. The diagnostics of each layer's main misuse are goldens
in tests/data/diagnostics/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from archlang.compiler.codegen import python_source
from archlang.compiler.diagram import draw
from archlang.compiler.lower import lower
from conftest import SPECS
from test_codegen import _run_generated
from torch import nn

from archlang import dsl


def checked(body: str, shape: str = "[6, 8]", **params):
    res = dsl.check_text(f"model M {{\n    input x: {shape}\n    {body}\n}}\n", params=params)
    assert res.ok, "\n".join(map(str, res.diagnostics))
    return res.graph


def codes(body: str, shape: str = "[6, 8]") -> list[str]:
    res = dsl.check_text(f"model M {{\n    input x: {shape}\n    {body}\n}}\n")
    return [d.code for d in res.diagnostics]


# ---- shape rules and counts -------------------------------------------------------------------

SHAPES = [
    ("[6, 8]", "layernorm(bias=false)", (6, 8), 8),
    ("[4, 5, 5]", "layernorm(dim=0)", (4, 5, 5), 8),
    ("[4, 5, 5]", "layernorm(dim=0, bias=false)", (4, 5, 5), 4),
    ("[4, 5, 5]", "scale(1e-6, dim=0)", (4, 5, 5), 4),
    ("[6, 8]", "scale(0.5)", (6, 8), 8),
    ("[6, 8]", "mul(0.044)", (6, 8), 0),
    ("[6, 8]", "add(1.0) -> add(x, 2)", (6, 8), 0),
    ("[6, 8]", "log_softmax(dim=0)", (6, 8), 0),
    ("[3, 10]", "pad(4, 0)", (3, 14), 0),
    ("[3, 10]", "pad(1, 2, dim=0, value=-1)", (6, 10), 0),
    ("[3, 10]", "slice(2, -3)", (3, 5), 0),
    ("[3, 10]", "slice(-4)", (3, 4), 0),
    ("[3, 10]", "slice(0, 100, dim=0)", (3, 10), 0),      # beyond the end: clipped, as Python's
    ("[8, 68, 67]", "crop(64, 64)", (8, 64, 64), 0),
    ("[7, 7, 96]", "roll([-3, -3], dim=[0, 1])", (7, 7, 96), 0),
    ("[2, 6, 8]", "transpose(1, 2) -> matmul(x)", (2, 8, 8), 0),
    ("[6, 8]", "sum(dim=-1)", (6,), 0),
    ("[3, 4, 5]", "sum(dim=[0, 2], keepdim=true)", (1, 4, 1), 0),
    ("[3, 4, 5]", "mean(dim=[1, 2])", (3,), 0),
    ("[6, 8]", "mean", (8,), 0),                             # the sequence form, as before
    ("[6, 8]", "drop_path(0.1)", (6, 8), 0),
    ("[2, 6, 8]", "permute(0, 1, 2) -> linear(5)", (2, 6, 5), 45),  # rank 3, features last (§5)
]


@pytest.mark.parametrize("shape, body, out, params", SHAPES, ids=[s[1] for s in SHAPES])
def test_shape_rule_and_count(shape, body, out, params):
    g = checked(body, shape)
    assert g.outputs[0].shape == out
    assert g.params == params
    m = lower(g).eval()
    assert sum(p.numel() for p in m.parameters()) == params
    with torch.no_grad():
        y = m(torch.randn(2, *g.inputs[0].shape))
    assert tuple(y.shape[1:]) == out


def test_symbolic_sizes_stay_symbolic():
    g = checked("pad(2, 0) -> slice(1) -> slice(0, -1)", "[3, seq]")
    assert str(g.outputs[0].shape[1]) == "seq"
    g = checked("crop(5)", "[3, seq]")
    assert g.outputs[0].shape == (3, 5)


# ---- torch equivalence ------------------------------------------------------------------------


class LayerNorm2d(nn.LayerNorm):
    """torchvision.models.convnext.LayerNorm2d."""

    def forward(self, x):
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


def _loaded(g, reference: nn.Module) -> nn.Module:
    m = lower(g).eval()
    m.load_state_dict(reference.state_dict(), strict=True)
    return m


def test_channels_first_layernorm_is_torchvisions_layernorm2d():
    torch.manual_seed(0)
    ref = LayerNorm2d(4, eps=1e-6)
    nn.init.normal_(ref.weight)
    nn.init.normal_(ref.bias)
    m = _loaded(checked("layernorm(eps=1e-6, dim=0)", "[4, 5, 5]"), ref)
    x = torch.randn(3, 4, 5, 5)
    torch.testing.assert_close(m(x), ref(x))


def test_layernorm_without_bias_is_torchs():
    ref = nn.LayerNorm(8, bias=False)
    nn.init.normal_(ref.weight)
    m = _loaded(checked("layernorm(bias=false)"), ref)
    assert list(m.state_dict()) == ["weight"]
    x = torch.randn(2, 6, 8)
    torch.testing.assert_close(m(x), ref(x))


def test_constants_scale_and_add():
    m = lower(checked("mul(0.044) -> add(1.0) -> mul(x, 2)")).eval()
    x = torch.randn(2, 6, 8)
    torch.testing.assert_close(m(x), (x * 0.044 + 1.0) * x * 2)


def test_a_named_constant_is_a_number_operand():
    src = "model M {\n    input x: [8]\n    let k = 3\n    add(k)\n}\n"
    res = dsl.check_text(src)
    assert res.ok, res.diagnostics
    x = torch.randn(2, 8)
    torch.testing.assert_close(lower(res.graph)(x), x + 3)
    assert codes("add(1.0, 2.0)") == ["E108"]  # one constant per merge
    assert codes("mul") == ["E311"]            # still nothing to merge


@pytest.mark.parametrize("body, op", [
    ("log_softmax", lambda x: torch.log_softmax(x, -1)),
    ("log_softmax(dim=0)", lambda x: torch.log_softmax(x, 1)),
    ("pad(3, 1)", lambda x: F.pad(x, (3, 1))),
    ("pad(2, 0, dim=0, value=0.5)", lambda x: F.pad(x, (0, 0, 2, 0), value=0.5)),
    ("slice(1, -2)", lambda x: x[:, :, 1:-2]),
    ("slice(-3, dim=0)", lambda x: x[:, -3:]),
    ("roll([2, -1], dim=[0, 1])", lambda x: torch.roll(x, (2, -1), (1, 2))),
    ("sum(dim=0)", lambda x: x.sum(1)),
    ("mean(dim=-1, keepdim=true)", lambda x: x.mean(2, keepdim=True)),
    ("mean", lambda x: x.mean(1)),
    ("transpose(0, 1) -> matmul(x)", lambda x: x.transpose(1, 2) @ x),
])
def test_parameter_free_layers_are_the_torch_op(body, op):
    m = lower(checked(body)).eval()
    x = torch.randn(2, 6, 8)
    torch.testing.assert_close(m(x), op(x))


def test_centre_crop_leaves_an_odd_margins_extra_element_at_the_end():
    m = lower(checked("crop(4, 5)", "[2, 7, 8]")).eval()
    x = torch.randn(1, 2, 7, 8)
    torch.testing.assert_close(m(x), x[:, :, 1:5, 1:6])


def test_scale_multiplies_by_its_weight_and_a_bare_one_sits_at_the_label():
    g = checked("layer_scale: scale(1e-6, dim=0, bare=true)", "[4, 5, 5]")
    m = lower(g).eval()
    assert {k: tuple(v.shape) for k, v in m.state_dict().items()} == {"layer_scale": (4, 1, 1)}
    torch.testing.assert_close(m.layer_scale, torch.full((4, 1, 1), 1e-6))
    with torch.no_grad():
        m.layer_scale.copy_(torch.arange(4.0).view(4, 1, 1))
    x = torch.randn(2, 4, 5, 5)
    torch.testing.assert_close(m(x), x * torch.arange(4.0).view(4, 1, 1))
    m = lower(checked("s: scale(0.5)")).eval()
    assert list(m.state_dict()) == ["s.weight"]
    x = torch.randn(2, 6, 8)
    torch.testing.assert_close(m(x), x * 0.5)


def stochastic_depth(x, p: float, training: bool):
    """torchvision.ops.stochastic_depth(x, p, "row", training)."""
    if not training or p == 0.0:
        return x
    survival = 1.0 - p
    noise = torch.empty([x.shape[0]] + [1] * (x.ndim - 1), dtype=x.dtype, device=x.device)
    noise = noise.bernoulli_(survival)
    if survival > 0.0:
        noise.div_(survival)
    return x * noise


def test_drop_path_is_stochastic_depth_per_sample_and_identity_in_eval():
    m = lower(checked("drop_path(0.5)", "[4, 3, 3]"))
    x = torch.randn(64, 4, 3, 3)
    torch.manual_seed(1)
    got = m.train()(x)
    torch.manual_seed(1)
    torch.testing.assert_close(got, stochastic_depth(x, 0.5, True))
    kept = (got != 0).flatten(1).all(1)
    assert 0 < kept.sum() < 64                                   # whole samples dropped, others kept
    torch.testing.assert_close(got[kept], x[kept] * 2)
    torch.testing.assert_close(m.eval()(x), x)


# ---- ConvNeXt's block, from the parts (torchvision's CNBlock, written out) --------------------


class Permute(nn.Module):
    def __init__(self, dims):
        super().__init__()
        self.dims = dims

    def forward(self, x):
        return torch.permute(x, self.dims)


class CNBlock(nn.Module):
    """torchvision.models.convnext.CNBlock with stochastic_depth_prob=0 and LayerNorm(eps=1e-6)."""

    def __init__(self, dim, layer_scale=1e-6):
        super().__init__()
        self.block = nn.Sequential(
            nn.Conv2d(dim, dim, kernel_size=7, padding=3, groups=dim, bias=True),
            Permute([0, 2, 3, 1]), nn.LayerNorm(dim, eps=1e-6), nn.Linear(dim, 4 * dim, bias=True), nn.GELU(),
            nn.Linear(4 * dim, dim, bias=True), Permute([0, 3, 1, 2]))
        self.layer_scale = nn.Parameter(torch.ones(dim, 1, 1) * layer_scale)

    def forward(self, x):
        return self.layer_scale * self.block(x) + x


CNBLOCK = """
block CNBlock(scale_init = 1e-6, p = 0.0) {
    residual {
        block: {
            conv(in.shape[0], 7, padding=3, groups=in.shape[0])
            permute(1, 2, 0)
            layernorm(eps=1e-6)
            linear(4 * in.shape[0])
            gelu
            linear(in.shape[0])
            permute(2, 0, 1)
        }
        layer_scale: scale(scale_init, dim=0, bare=true)
        drop_path(p)
    }
}
model M {
    input x: [16, 14, 14]
    CNBlock(0.5)
}
"""


def test_convnext_block_loads_torchvisions_cnblock_and_matches():
    torch.manual_seed(0)
    ref = CNBlock(16, layer_scale=0.5).eval()
    res = dsl.check_text(CNBLOCK)
    assert res.ok, res.diagnostics
    m = _loaded(res.graph, ref)
    assert [(k, tuple(v.shape)) for k, v in m.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in ref.state_dict().items()]
    x = torch.randn(2, 16, 14, 14)
    with torch.no_grad():
        torch.testing.assert_close(m(x), ref(x), atol=1e-5, rtol=1e-5)


# ---- linear on any rank, and the channels-first fact -------------------------------------------


@pytest.mark.parametrize("body, shape, code", [
    ("conv(4, 3) -> relu -> linear(3)", "[3, 8, 8]", "E301"),          # §7: an image after convs
    ("linear(3)", "[3, 8, 8]", "E301"),                                # a declared image
    ("conv(4, 3) -> layernorm(dim=0) -> dropout(0.1) -> mul(0.5) -> linear(3)", "[3, 8, 8]", "E301"),
    ("conv(4, 3) -> permute(1, 2, 0) -> linear(3)", "[3, 8, 8]", None),  # channels last: per position
    ("conv(4, 3) -> reshape(4, 36) -> transpose(0, 1) -> linear(3)", "[3, 8, 8]", None),
    ("conv(4, 3) -> flatten -> linear(3)", "[3, 8, 8]", None),
    ("conv(4, 3) -> linear(3)", "[3, 8]", None),                       # rank 2 stays as it was
    ("embedding(10, 8) -> reshape(2, 3, 8) -> linear(4)", "int[6]", None),
])
def test_linear_refuses_only_a_channels_first_image(body, shape, code):
    assert codes(body, shape) == ([code] if code else [])


def test_linear_on_rank_three_is_torchs_linear():
    g = checked("permute(0, 1, 2) -> linear(5)", "[2, 6, 8]")
    m = lower(g).eval()
    ref = nn.Linear(8, 5)
    m.load_state_dict({f"1.{k}": v for k, v in ref.state_dict().items()}, strict=True)
    x = torch.randn(3, 2, 6, 8)
    torch.testing.assert_close(m(x), ref(x))


# ---- init_std ---------------------------------------------------------------------------------


INIT = """
model M(vocab = 500, d = 256) {
    input ids: int[16]
    wte: embedding(vocab, d, init_std=0.02)
    fc: linear(d, init_std=0.05)
    permute(1, 0)
    conv: conv(d, 3, padding=1, init_std=0.1)
    plain: linear(d)
}
"""


def test_init_std_draws_weights_and_zeroes_biases():
    res = dsl.check_text(INIT)
    assert res.ok, res.diagnostics
    torch.manual_seed(0)
    m = lower(res.graph)
    sd = m.state_dict()
    for key, std in [("wte.weight", 0.02), ("fc.weight", 0.05), ("conv.weight", 0.1)]:
        assert abs(sd[key].std().item() - std) < 0.05 * std, key
        assert abs(sd[key].mean().item()) < 0.05 * std, key
    assert torch.count_nonzero(sd["fc.bias"]) == 0 and torch.count_nonzero(sd["conv.bias"]) == 0
    assert torch.count_nonzero(sd["plain.bias"]) > 0      # torch's own initialisation where none is stated
    assert sd["plain.weight"].abs().max() <= 1 / 16 ** 0.5  # torch: U(±1/√in), in = 16 after the conv
    assert res.graph.params == sum(p.numel() for p in m.parameters())


def test_generated_source_initialises_the_same_way():
    res = dsl.check_text("model M {\n    input x: [64]\n    fc: linear(128, init_std=0.02)\n    relu\n"
                         "    linear(32, init_std=0.5)\n}\n")
    assert res.ok
    text = python_source(res.graph)
    assert "self.fc = init_std_(nn.Linear(64, 128, device='meta'), 0.02)" in text
    scope: dict = {}
    exec(compile(text, "generated.py", "exec"), scope)
    torch.manual_seed(7)
    built = lower(res.graph).state_dict()
    torch.manual_seed(7)
    generated = scope["M"]().state_dict()
    assert list(built) == list(generated)
    for k in built:
        torch.testing.assert_close(generated[k], built[k])
    assert torch.count_nonzero(generated["fc.bias"]) == 0


def test_init_std_draws_each_weight_once():
    """Torch's own initialisation is not drawn first only to be overwritten: with a seed, the weights are
    the first numbers the generator gives, in the order of the layers."""
    res = dsl.check_text("model M {\n    input x: [64]\n    fc: linear(128, init_std=0.02)\n"
                         "    out: linear(10, init_std=0.5)\n}\n")
    torch.manual_seed(3)
    m = lower(res.graph)
    torch.manual_seed(3)
    fc, out = torch.empty(128, 64).normal_(0, 0.02), torch.empty(10, 128).normal_(0, 0.5)
    assert torch.equal(m.fc.weight, fc) and torch.equal(m.out.weight, out)
    assert m.fc.weight.device == torch.device("cpu") and torch.count_nonzero(m.fc.bias) == 0


def test_only_modules_the_rule_fills_are_made_without_weights():
    from archlang.compiler.torch_layers.init import draws_every_weight
    assert draws_every_weight(nn.Linear(4, 4)) and draws_every_weight(nn.Embedding(9, 4, padding_idx=0))
    assert draws_every_weight(nn.Conv2d(3, 4, 3))
    assert not draws_every_weight(nn.BatchNorm1d(4))  # buffers: running statistics
    assert not draws_every_weight(nn.LayerNorm(4))    # a weight of one dimension the rule leaves alone
    assert not draws_every_weight(nn.Sequential(nn.Linear(4, 4)))  # no `device=` to make it on meta


def test_init_std_of_a_one_element_model():
    res = dsl.check_text("model M {\n    input x: [64]\n    linear(512, init_std=0.02)\n}\n")
    text = python_source(res.graph)
    assert "init_std_(self, 0.02)" in text
    scope: dict = {}
    exec(compile(text, "generated.py", "exec"), scope)
    w = scope["M"]().weight
    assert abs(w.std().item() - 0.02) < 0.002


def test_init_std_is_one_catalogue_argument():
    from archlang.dsl.layers import REGISTRY
    takers = {name for name, layer in REGISTRY.items() if layer.takes_init_std}
    assert {"linear", "conv", "conv_transpose", "embedding"} <= takers
    assert all("init_std" not in layer.Args.model_fields for layer in REGISTRY.values())
    assert "init_std" in REGISTRY["linear"].argument_names()
    assert codes("lstm(4, init_std=0.02)") == ["E105"]   # not `init=`, the recurrent state


# ---- codegen round trip and diagrams ----------------------------------------------------------


ALL = """
model Modern {
    input x: [4, 12, 12]
    stem: conv(8, 3, padding=1) -> layernorm(eps=1e-6, dim=0)
    residual {
        pad(2, 0, dim=1) -> slice(0, -2, dim=1) -> roll([1, 1], dim=[1, 2]) ->
            crop(10, 10) -> pad(1, 1) -> pad(1, 1, dim=1)
        ls: scale(1e-6, dim=0, bare=true)
        drop_path(0.1)
    }
    permute(1, 2, 0) -> layernorm(bias=false) -> linear(8) -> mul(0.044) -> add(1.0)
    q: linear(8)
    k: transpose(1, 2)
    matmul(q, k) -> sum(dim=0) -> mean(dim=-1, keepdim=true) -> log_softmax(dim=0)
}
"""


def test_generated_source_of_every_new_layer_matches_lowering(tmp_path: Path):
    res = dsl.check_text(ALL)
    assert res.ok, "\n".join(map(str, res.diagnostics))
    _run_generated(res.graph, tmp_path)


def test_tcn_spec_generates(tmp_path: Path):
    g = dsl.check_file(SPECS / "tcn.arch", params={"seq": 20}).graph
    _run_generated(g, tmp_path)


def test_diagram_labels_read_like_the_document():
    res = dsl.check_text("model M {\n    input x: [3, 10]\n    pad(2, 0) -> mul(0.044) -> add(1.0)\n"
                         "    slice(1, -1) -> roll(3) -> layernorm(dim=0) -> log_softmax\n}\n")
    assert res.ok
    labels = [n.label for n in res.graph.nodes[1:]]
    assert labels == ["pad 2,0", "× 0.044", "+ 1", "slice 1:-1", "roll 3", "layernorm dim 0", "log_softmax"]
    picture = draw(res.graph).text
    assert "pad 2,0" in picture and "× 0.044" in picture
    tcn = draw(dsl.check_file(SPECS / "tcn.arch", params={"seq": 100}).graph).text
    assert "(pad 4,0)" in tcn and "(conv 3, 32, dilation 2 → relu → dropout 0.1)" in tcn


# ---- the TCN spec -----------------------------------------------------------------------------


def test_tcn_is_causal():
    g = dsl.check_file(SPECS / "tcn.arch", params={"seq": 80}).graph
    assert g.params == 22_250  # the header comment's count
    torch.manual_seed(0)
    m = lower(g).eval()
    x = torch.randn(2, 1, 80)
    t = 70
    later = x.clone()
    later[:, :, t + 1:] = torch.randn(2, 1, 80 - t - 1) * 10
    with torch.no_grad():
        y, y2 = m(x), m(later)
    assert y.shape == (2, 80, 10)
    torch.testing.assert_close(y[:, : t + 1], y2[:, : t + 1])   # nothing after t reaches t
    assert not torch.allclose(y[:, t + 1:], y2[:, t + 1:])     # while later outputs do change
    probe = torch.randn(1, 1, 80, requires_grad=True)
    m(probe)[0, t].sum().backward()
    reach = probe.grad[0, 0].abs()
    assert reach[t + 1:].sum() == 0 and reach[t] > 0
    assert reach[: t - 60].sum() == 0 and reach[t - 60: t].sum() > 0   # a receptive field of 61 steps
