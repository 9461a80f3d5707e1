"""Published networks: the specs in specs/ against their published facts.

For VGG-16, ResNet-18, ResNet-50, EfficientNet-B0 and MobileNetV2 this checks
the parameter count (exact) and the multiply-accumulates (within 1 %) that
torchvision publishes, and that the built module's state_dict has
torchvision's keys and shapes in torchvision's order (tests/fixtures/keys,
copied from the reference implementations). The std blocks they use
(std/resnet, std/mobile) are also checked alone, in tiny models, against
hand-written torch modules laid out like torchvision's: same keys, same
outputs.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from reference import reference_keys, state_keys

from archlang import dsl

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "specs"

# name: (parameters, multiply-accumulates at 3×224×224), as torchvision publishes them.
PUBLISHED = {
    "vgg16": (138_357_544, 15.47e9),
    "resnet18": (11_689_512, 1.814e9),
    "resnet50": (25_557_032, 4.089e9),
    "efficientnet_b0": (5_288_548, 0.386e9),
    "mobilenet_v2": (3_504_872, 0.301e9),
}
NAMES = sorted(PUBLISHED)


def spec(name: str) -> Path:
    return SPECS / f"{name}.arch"


def report(res) -> str:
    return "\n".join(str(d) for d in res.diagnostics)


def checked(path: Path, **params):
    res = dsl.check_file(str(path), params=params or None)
    assert res.ok, f"{path.name} does not check:\n{report(res)}"
    return res.graph


def first_difference(got: list, want: list) -> str:
    for i, (g, w) in enumerate(zip(got, want)):
        if g != w:
            return f"entry {i}: got {g}, want {w}"
    return f"lengths differ: got {len(got)} entries, want {len(want)}"


# ---- check: counts without building ----------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_spec_checks_with_published_counts(name):
    params, macs = PUBLISHED[name]
    g = checked(spec(name))
    assert g.params == params
    assert abs(g.macs - macs) <= 0.01 * macs, f"{g.macs / 1e9:.4f} G MACs, published {macs / 1e9} G"
    assert [tuple(p.shape) for p in g.inputs] == [(3, 224, 224)]
    assert [tuple(p.shape) for p in g.outputs] == [(1000,)]


@pytest.mark.parametrize("name", NAMES)
def test_spec_opens_with_published_facts(name):
    text = spec(name).read_text()
    header = text[: text.index("\n\n")]
    assert all(line.startswith("#") for line in header.splitlines())
    assert f"{PUBLISHED[name][0]:,}" in header
    assert f"{PUBLISHED[name][1] / 1e9:g} G MACs" in header


def test_classes_can_be_set():
    g = checked(spec("resnet18"), classes=10)
    assert [tuple(p.shape) for p in g.outputs] == [(10,)]
    assert g.params == PUBLISHED["resnet18"][0] - 990 * 512 - 990


def test_fixtures_have_the_published_sizes():
    # The fixtures themselves: entry counts of the reference README.
    sizes = {"vgg16": 32, "resnet18": 122, "resnet50": 320, "efficientnet_b0": 360, "mobilenet_v2": 314}
    for name, n in sizes.items():
        assert len(reference_keys(name)) == n


# ---- build: torchvision's state_dict, runnable --------------------------------


@pytest.fixture(scope="module", params=NAMES)
def built(request):
    """(name, checked graph, built module): one network alive at a time."""
    from archlang import compiler

    name = request.param
    g = checked(spec(name))
    module = compiler.build(str(spec(name)))
    yield name, g, module
    del module


@pytest.mark.slow
def test_state_dict_is_torchvisions(built):
    name, _, module = built
    got, want = state_keys(module), reference_keys(name)
    assert got == want, first_difference(got, want)


@pytest.mark.slow
def test_built_parameters_equal_checked(built):
    name, g, module = built
    assert sum(p.numel() for p in module.parameters()) == g.params == PUBLISHED[name][0]


@pytest.mark.slow
def test_forward_gives_checked_shape(built):
    import torch

    _, g, module = built
    torch.manual_seed(0)
    module.eval()
    with torch.no_grad():
        out = module(torch.randn(2, *g.inputs[0].shape))
    assert tuple(out.shape) == (2, *g.outputs[0].shape)
    assert torch.isfinite(out).all()


# ---- std blocks alone, against hand-written torch -----------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tiny.arch"
    path.write_text(textwrap.dedent(text).lstrip())
    return path


TINY_RESNET = """
    import "std/resnet"

    model TinyResNet(width = 16) {
        input image: [8, 12, 12]
        BasicBlock(width, stride=2)                 # downsample: stride and width
        BasicBlock(width)                           # identity shortcut
        Bottleneck(4)                               # 16 -> 16: identity shortcut
        Bottleneck(8, stride=2, expansion=2)        # 16 -> 16, stride 2: downsample
        Bottleneck(8)                               # 16 -> 32: downsample
    }
"""

TINY_MOBILE = """
    import "std/mobile"

    model TinyMobile(width = 16) {
        input image: [8, 16, 16]
        ConvBNAct(width, 3, stride=2, act="silu")
        ConvBNAct(width, 3, groups=width, act="relu6")
        ConvBNAct(width, 1, act="none")
        ConvBNAct(width, 1)
        SqueezeExcite(4)
        MBConv(1, 16, 3, 1)                         # no expansion, skip
        MBConv(4, 24, 5, 2)                         # expansion, no skip
        MBConv(6, 24, 3, 1)                         # expansion, skip
        InvertedResidual(24, 1, 1)                  # no expansion, skip
        InvertedResidual(32, 2, 6)                  # expansion, no skip
        InvertedResidual(32, 1, 6)                  # expansion, skip
    }
"""


def torch_references():
    """torchvision's layouts of the std blocks, written out in plain torch."""
    import torch
    from plain_nets import BasicBlock
    from torch import nn

    class Bottleneck(nn.Module):
        def __init__(self, inplanes, planes, stride=1, expansion=4):
            super().__init__()
            out = planes * expansion
            self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.conv3 = nn.Conv2d(planes, out, 1, bias=False)
            self.bn3 = nn.BatchNorm2d(out)
            self.relu = nn.ReLU()
            self.downsample = None
            if stride != 1 or inplanes != out:
                self.downsample = nn.Sequential(
                    nn.Conv2d(inplanes, out, 1, stride, bias=False), nn.BatchNorm2d(out)
                )

        def forward(self, x):
            y = self.relu(self.bn1(self.conv1(x)))
            y = self.relu(self.bn2(self.conv2(y)))
            y = self.bn3(self.conv3(y))
            return self.relu(y + (x if self.downsample is None else self.downsample(x)))

    acts = {"relu": nn.ReLU, "relu6": nn.ReLU6, "silu": nn.SiLU, "none": None}

    class ConvBNAct(nn.Sequential):
        def __init__(self, inp, out, kernel, stride=1, groups=1, act="relu"):
            layers = [
                nn.Conv2d(inp, out, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
                nn.BatchNorm2d(out),
            ]
            if acts[act] is not None:
                layers.append(acts[act]())
            super().__init__(*layers)

    class SqueezeExcite(nn.Module):
        def __init__(self, inp, squeeze):
            super().__init__()
            self.fc1 = nn.Conv2d(inp, squeeze, 1)
            self.fc2 = nn.Conv2d(squeeze, inp, 1)

        def forward(self, x):
            s = torch.nn.functional.adaptive_avg_pool2d(x, 1)
            return x * torch.sigmoid(self.fc2(torch.nn.functional.silu(self.fc1(s))))

    class MBConv(nn.Module):
        def __init__(self, inp, expand, out, kernel, stride):
            super().__init__()
            hidden = inp * expand
            layers = [ConvBNAct(inp, hidden, 1, act="silu")] if expand != 1 else []
            layers += [
                ConvBNAct(hidden, hidden, kernel, stride, groups=hidden, act="silu"),
                SqueezeExcite(hidden, max(1, inp // 4)),
                ConvBNAct(hidden, out, 1, act="none"),
            ]
            self.block = nn.Sequential(*layers)
            self.skip = stride == 1 and inp == out

        def forward(self, x):
            y = self.block(x)
            return y + x if self.skip else y

    class InvertedResidual(nn.Module):
        def __init__(self, inp, out, stride, expand):
            super().__init__()
            hidden = inp * expand
            layers = [ConvBNAct(inp, hidden, 1, act="relu6")] if expand != 1 else []
            layers += [
                ConvBNAct(hidden, hidden, 3, stride, groups=hidden, act="relu6"),
                nn.Conv2d(hidden, out, 1, bias=False),
                nn.BatchNorm2d(out),
            ]
            self.conv = nn.Sequential(*layers)
            self.skip = stride == 1 and inp == out

        def forward(self, x):
            y = self.conv(x)
            return y + x if self.skip else y

    return {
        "resnet": nn.Sequential(
            BasicBlock(8, 16, 2),
            BasicBlock(16, 16),
            Bottleneck(16, 4),
            Bottleneck(16, 8, 2, expansion=2),
            Bottleneck(16, 8),
        ),
        "mobile": nn.Sequential(
            ConvBNAct(8, 16, 3, 2, act="silu"),
            ConvBNAct(16, 16, 3, groups=16, act="relu6"),
            ConvBNAct(16, 16, 1, act="none"),
            ConvBNAct(16, 16, 1),
            SqueezeExcite(16, 4),
            MBConv(16, 1, 16, 3, 1),
            MBConv(16, 4, 24, 5, 2),
            MBConv(24, 6, 24, 3, 1),
            InvertedResidual(24, 24, 1, 1),
            InvertedResidual(24, 32, 2, 6),
            InvertedResidual(32, 32, 1, 6),
        ),
    }


@pytest.mark.parametrize("family, text", [("resnet", TINY_RESNET), ("mobile", TINY_MOBILE)])
def test_std_blocks_match_torch(tmp_path, family, text):
    import torch

    from archlang import compiler

    path = write(tmp_path, text)
    g = checked(path)
    module = compiler.build(str(path))

    torch.manual_seed(0)
    ref = torch_references()[family]
    assert state_keys(module) == state_keys(ref), first_difference(state_keys(module), state_keys(ref))
    assert g.params == sum(p.numel() for p in ref.parameters()) == sum(p.numel() for p in module.parameters())

    # Non-trivial batch-norm statistics, then the same weights on both sides.
    for m in ref.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.5, 0.5)
    module.load_state_dict(ref.state_dict(), strict=True)
    ref.eval()
    module.eval()
    x = torch.randn(2, *g.inputs[0].shape)
    with torch.no_grad():
        got, want = module(x), ref(x)
    assert tuple(got.shape) == (2, *g.outputs[0].shape) == tuple(want.shape)
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)


def test_labelled_block_call_is_a_level(tmp_path):
    from archlang import compiler

    path = write(
        tmp_path,
        """
        import "std/mobile"

        model Tiny(width = 8) {
            input image: [3, 8, 8]
            stem: ConvBNAct(width, 3, act="none")
            head: ConvBNAct(width, 1, act="relu6")
        }
        """,
    )
    g = checked(path)
    assert g.params == (8 * 3 * 9 + 2 * 8) + (8 * 8 + 2 * 8)
    assert tuple(g.outputs[0].shape) == (8, 8, 8)
    bn = ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    want = [f"{level}.{k}" for level in ("stem", "head") for k in ["0.weight"] + [f"1.{b}" for b in bn]]
    assert list(compiler.build(str(path)).state_dict()) == want
