"""`init_std=` on the torch side: a built module's weights drawn from N(0, std²), its biases zero.

Stage: lowering. The torch registry applies it to every module whose node
records `init_std` (the checker accepts it on layers with weights,
`dsl.layers.base.Layer.takes_init_std`), right after the builder, so no
builder knows of it; codegen copies this function into the generated file
and calls it at the same point, so a seeded build and the generated module
draw the same numbers. GPT-2's N(0, 0.02) and T5's per-layer factors are
this rule with their std.

Where the rule sets every parameter of a module that holds no buffer
(`draws_every_weight`: torch's Linear, Conv and Embedding), the module is made
on the meta device and its weights are made here, drawn once: torch's own
initialisation would draw them first only to be overwritten (half of building
GPT-2). Codegen writes that as `init_std_(nn.Linear(768, 3072,
device='meta'), 0.02)`, so a seeded build and the generated module still draw
the same numbers.
"""

from __future__ import annotations

import inspect

import torch
from torch import nn


def init_std_(module: nn.Module, std: float) -> nn.Module:
    """Weight matrices, kernels and tables ~ N(0, std²); biases zero; a padding row stays zero.

    A module made on the meta device (no weights yet) gets them here, on the default device.
    """
    if any(p.is_meta for p in module.parameters()):
        module.to_empty(device=torch.get_default_device())
    for name, p in module.named_parameters():
        if _is_bias(name):
            nn.init.zeros_(p)
        elif p.dim() >= 2:
            nn.init.normal_(p, mean=0.0, std=std)
    padding = getattr(module, "padding_idx", None)
    if padding is not None:
        with torch.no_grad():
            module.weight[padding].zero_()
    return module


def _is_bias(name: str) -> bool:
    last = name.rsplit(".", 1)[-1]  # `in_proj_bias`, `bias_ih_l0`; not `relative_attention_bias.weight`
    return last.startswith("bias") or last.endswith("_bias")


def draws_every_weight(module: nn.Module) -> bool:
    """Whether `init_std_` alone can give `module` all its state: it holds no buffer, the rule sets every
    parameter (a bias or a tensor of two dimensions or more), and its class takes `device=`, so that it
    can be made on the meta device, as the registry and the generated source make it."""
    return (next(module.buffers(), None) is None
            and all(_is_bias(name) or p.dim() >= 2 for name, p in module.named_parameters())
            and "device" in inspect.signature(type(module)).parameters)
