"""`init_std=` on the torch side: a built module's weights drawn from N(0, std²), its biases zero.

Stage: lowering. The torch registry applies it to every module whose node
records `init_std` (the checker accepts it on layers with weights,
`dsl.layers.base.Layer.takes_init_std`), right after the builder, so no
builder knows of it; codegen copies this function into the generated file
and calls it at the same point, so a seeded build and the generated module
draw the same numbers. GPT-2's N(0, 0.02) and T5's per-layer factors are
this rule with their std.
"""

from __future__ import annotations

import torch
from torch import nn


def init_std_(module: nn.Module, std: float) -> nn.Module:
    """Weight matrices, kernels and tables ~ N(0, std²); biases zero; a padding row stays zero."""
    for name, p in module.named_parameters():
        last = name.rsplit(".", 1)[-1]  # `in_proj_bias`, `bias_ih_l0`; not `relative_attention_bias.weight`
        if last.startswith("bias") or last.endswith("_bias"):
            nn.init.zeros_(p)
        elif p.dim() >= 2:
            nn.init.normal_(p, mean=0.0, std=std)
    padding = getattr(module, "padding_idx", None)
    if padding is not None:
        with torch.no_grad():
            module.weight[padding].zero_()
    return module
