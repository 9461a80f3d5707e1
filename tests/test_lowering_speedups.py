"""What the build and forward speed-ups (issue 13) must not change.

The lowering plan finds what each level of the module tree reads and gives
out from each value's first and last reader; here a plain scan of every step,
as the plan once did, is the oracle for every shipped spec. `Attention`
projects the values it reads in one product (all three for self-attention,
keys and values together for cross-attention) and must still compute
`nn.MultiheadAttention`'s function with its weights, and keep its parameters
and their initial distributions.
"""

from __future__ import annotations

import pytest
import torch
from archlang.compiler.plan import Enter, Pick, lowering_plan
from archlang.compiler.torch_layers import REGISTRY
from archlang.compiler.torch_layers.attention import Attention
from conftest import SPECS
from torch import nn

from archlang import dsl

SHIPPED = sorted(p.stem for p in SPECS.glob("*.arch"))


def _reads(step) -> tuple[int, ...]:
    if isinstance(step, Pick):
        return (step.source,)
    return (*step.inputs, *(j for _, j in getattr(step, "refs", ())))


def _scan_io(steps, positions, model_outputs):
    """What the run at `positions` reads and gives out, by looking at every step of the model."""
    inside = [steps[i] for i in positions]
    made = {s.node for s in inside}
    inputs = tuple(dict.fromkeys(j for s in inside for j in _reads(s) if j not in made))
    outside = set(model_outputs)
    for i, s in enumerate(steps):
        if i < positions[0] or i > positions[-1]:
            outside.update(_reads(s))
    outs = [s.node for s in inside if s.node in outside]
    if inside[-1].node in outs:
        outs.remove(inside[-1].node)
        outs.insert(0, inside[-1].node)
    return inputs, tuple(outs)


def _flat(plan, block_index):
    """The model's steps a block runs, its sub-blocks' included, in order."""
    for s in plan.blocks[block_index].steps:
        if isinstance(s, Enter):
            yield from _flat(plan, s.block)
        else:
            yield s


@pytest.mark.parametrize("name", SHIPPED)
def test_every_level_reads_and_gives_out_what_a_scan_of_all_steps_finds(name):
    res = dsl.check_file(SPECS / f"{name}.arch")
    if not res.ok:
        pytest.skip("needs parameters")
    plan = lowering_plan(res.graph, REGISTRY)
    position = {s.node: i for i, s in enumerate(plan.steps)}
    levels = 0
    for b in plan.blocks[1:]:
        positions = tuple(sorted(position[s.node] for s in _flat(plan, plan.blocks.index(b))))
        assert positions == tuple(range(positions[0], positions[-1] + 1))  # a level runs consecutive steps
        assert (b.inputs, b.outputs) == _scan_io(plan.steps, positions, plan.outputs), b.path
        levels += 1
    assert levels or len(plan.blocks) == 1


def _pair(bias: bool):
    torch.manual_seed(0)
    mha = nn.MultiheadAttention(16, 4, bias=bias, batch_first=True).eval()
    ours = Attention(16, 4, bias=bias).eval()
    ours.load_state_dict(mha.state_dict(), strict=True)
    return ours, mha


@pytest.mark.parametrize("bias", [True, False])
def test_attention_computes_multihead_attention_self_causal_and_cross(bias):
    ours, mha = _pair(bias)
    x, memory = torch.randn(3, 5, 16), torch.randn(3, 7, 16)
    mask = nn.Transformer.generate_square_subsequent_mask(5)
    causal = Attention(16, 4, causal=True, bias=bias).eval()
    causal.load_state_dict(mha.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(ours(x), mha(x, x, x, need_weights=False)[0])
        torch.testing.assert_close(causal(x), mha(x, x, x, attn_mask=mask, need_weights=False)[0])
        torch.testing.assert_close(ours(x, memory), mha(x, memory, memory, need_weights=False)[0])
    # Gradients reach every parameter through the packed products.
    ours.train()
    ours(x, memory).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in ours.parameters())


def test_attention_keeps_multihead_attentions_parameters_and_initialisation():
    torch.manual_seed(0)
    a = Attention(64, 4)
    assert [n for n, _ in a.named_parameters()] == [n for n, _ in nn.MultiheadAttention(64, 4).named_parameters()]
    bound = (6 / (64 + 3 * 64)) ** 0.5  # xavier-uniform over the packed [3d, d] matrix
    assert a.in_proj_weight.abs().max() <= bound
    assert a.in_proj_weight.abs().max() > 0.9 * bound
    assert torch.count_nonzero(a.in_proj_bias) == 0 and torch.count_nonzero(a.out_proj.bias) == 0
    assert 0 < a.out_proj.weight.abs().max() <= 1 / 64 ** 0.5  # nn.Linear's kaiming-uniform bound
