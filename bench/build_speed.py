"""Building and running a model: `compiler.build` against hand-written plain torch.

torchvision cannot be installed beside this torch, so the references are
written out below in plain torch, module for module as torchvision builds
them (same names, so a state_dict moves between the two). Prints, in one
process, best of interleaved runs:

- `compiler.build` (check + lowering + weight initialisation) of
  specs/resnet50.arch and specs/vit_b16.arch against the reference
  constructors, and the ratio;
- the forward pass of the built ResNet-50 against the reference with the
  same weights, in eval mode under no_grad, and the ratio.

    .venv/bin/python bench/build_speed.py
"""

from __future__ import annotations

import sys
import time
from collections import OrderedDict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from reference_nets import ResNet50  # noqa: E402
from torch import nn  # noqa: E402


class EncoderBlock(nn.Module):
    def __init__(self, heads: int, hidden: int, mlp: int):
        super().__init__()
        self.ln_1 = nn.LayerNorm(hidden, eps=1e-6)
        self.self_attention = nn.MultiheadAttention(hidden, heads, batch_first=True)
        self.dropout = nn.Dropout(0.0)
        self.ln_2 = nn.LayerNorm(hidden, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(hidden, mlp), nn.GELU(), nn.Dropout(0.0), nn.Linear(mlp, hidden),
                                 nn.Dropout(0.0))

    def forward(self, x):
        y = self.ln_1(x)
        y, _ = self.self_attention(y, y, y, need_weights=False)
        x = x + self.dropout(y)
        return x + self.mlp(self.ln_2(x))


class ViTB16(nn.Module):
    def __init__(self, classes: int = 1000, hidden: int = 768, layers: int = 12, heads: int = 12, mlp: int = 3072):
        super().__init__()
        self.conv_proj = nn.Conv2d(3, hidden, 16, 16)
        self.class_token = nn.Parameter(torch.zeros(1, 1, hidden))
        self.encoder = nn.Module()
        self.encoder.pos_embedding = nn.Parameter(torch.empty(1, 197, hidden).normal_(std=0.02))
        self.encoder.dropout = nn.Dropout(0.0)
        self.encoder.layers = nn.Sequential(OrderedDict((f"encoder_layer_{i}", EncoderBlock(heads, hidden, mlp))
                                                        for i in range(layers)))
        self.encoder.ln = nn.LayerNorm(hidden, eps=1e-6)
        self.heads = nn.Sequential()
        self.heads.head = nn.Linear(hidden, classes)

    def forward(self, x):
        x = self.conv_proj(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.class_token.expand(x.shape[0], -1, -1), x], dim=1)
        x = self.encoder.ln(self.encoder.layers(self.encoder.dropout(x + self.encoder.pos_embedding)))
        return self.heads(x[:, 0])


def interleaved(fns: list, n: int) -> list[float]:
    """Best time of each function, called in turns so that all see the same machine."""
    best = [float("inf")] * len(fns)
    for _ in range(n):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - t0)
    return best


def main() -> None:
    from archlang.dsl.parse import _parse_cached

    from archlang import compiler

    def build(spec: str):
        _parse_cached.cache_clear()  # the whole of build: parse, check, lower, initialise
        return compiler.build(ROOT / "specs" / spec)

    print(f"best of interleaved runs in one process ({torch.get_num_threads()} CPU threads)")
    for spec, ref in (("resnet50.arch", ResNet50), ("vit_b16.arch", ViTB16)):
        ref().load_state_dict(build(spec).state_dict())  # warm, and proof that both build the same modules
        t_build, t_ref = interleaved([lambda spec=spec: build(spec), ref], 5)
        print(f"  build {spec:14s} compiler.build {t_build * 1e3:7.0f} ms   plain torch {t_ref * 1e3:7.0f} ms   "
              f"ratio {t_build / t_ref:.2f}×")

    built, ref = build("resnet50.arch").eval(), ResNet50().eval()
    ref.load_state_dict(built.state_dict())  # the same names, so the same weights
    x = torch.randn(8, 3, 224, 224)
    with torch.no_grad():
        assert torch.allclose(built(x), ref(x), atol=1e-4), "the two ResNet-50s disagree"
        t_built, t_ref = interleaved([lambda: built(x), lambda: ref(x)], 10)
    print(f"  forward resnet50.arch (batch 8, eval)  built {t_built * 1e3:7.1f} ms   plain torch "
          f"{t_ref * 1e3:7.1f} ms   ratio {t_built / t_ref:.3f}×")


if __name__ == "__main__":
    main()
