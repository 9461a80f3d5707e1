"""`compiler.build(spec, weights=path)`: a checkpoint loads strictly, or E601 says what does not fit."""

from __future__ import annotations

import pytest
import torch
from archlang.compiler.weights import SHOWN
from archlang.dsl.diagnostics import DiagnosticError
from conftest import ROOT, SPECS
from safetensors.torch import save_file

from archlang import compiler

CATS = SPECS / "cats_vs_dogs.arch"
TINY_GPT = ROOT / "examples" / "tiny_gpt.arch"


def trained_state(spec=CATS, seed: int = 1, **params) -> dict[str, torch.Tensor]:
    """A state_dict unlike a fresh build's: the weights of another seed, shifted."""
    torch.manual_seed(seed)
    model = compiler.build(spec, **params)
    return {k: v + 0.5 if v.is_floating_point() else v for k, v in model.state_dict().items()}


def same(model: torch.nn.Module, state: dict[str, torch.Tensor]) -> bool:
    return all(torch.equal(model.state_dict()[k], v) for k, v in state.items())


def error_of(spec, path, **params):
    with pytest.raises(DiagnosticError) as info:
        compiler.build(spec, weights=path, **params)
    return info.value.diagnostics


def test_a_pt_checkpoint_loads(tmp_path):
    state = trained_state()
    torch.save(state, tmp_path / "cats.pt")
    torch.manual_seed(0)
    assert not same(compiler.build(CATS), state)
    assert same(compiler.build(CATS, weights=tmp_path / "cats.pt"), state)


def test_a_safetensors_checkpoint_loads(tmp_path):
    state = trained_state()
    save_file(state, str(tmp_path / "cats.safetensors"))
    assert same(compiler.build(CATS, weights=str(tmp_path / "cats.safetensors")), state)


def test_a_trainers_wrapped_checkpoint_loads(tmp_path):
    state = trained_state()
    torch.save({"epoch": 3, "state_dict": state}, tmp_path / "ckpt.pt")
    assert same(compiler.build(CATS, weights=tmp_path / "ckpt.pt"), state)


def test_a_renamed_key_is_named_with_its_nearest_names(tmp_path):
    state = trained_state()
    key = next(k for k in state if k.endswith(".weight"))
    renamed = key.replace(".weight", ".wieght")
    state[renamed] = state.pop(key)
    torch.save(state, tmp_path / "renamed.pt")
    [d] = error_of(CATS, tmp_path / "renamed.pt")
    assert d.code == "E601"
    assert "1 missing, 1 unexpected" in d.message
    assert f"missing `{key}` (nearest: `{renamed}`)" in d.message
    assert f"unexpected `{renamed}` (nearest: `{key}`)" in d.message
    assert d.hint and "archlang summary" in d.hint


def test_many_missing_keys_are_counted_after_the_first_few(tmp_path):
    state = trained_state()
    keep = sorted(state)[:2]
    torch.save({k: state[k] for k in keep}, tmp_path / "part.pt")
    [d] = error_of(CATS, tmp_path / "part.pt")
    missing = len(state) - len(keep)
    assert missing > SHOWN
    assert f"{missing} missing, 0 unexpected" in d.message
    assert f"and {missing - SHOWN} more" in d.message
    assert "unexpected `" not in d.message


def test_a_wrong_shape_is_named(tmp_path):
    torch.save(trained_state(classes=2), tmp_path / "two.pt")
    diags = error_of(CATS, tmp_path / "two.pt", classes=3)
    assert {d.code for d in diags} == {"E601"}
    shapes = {k: list(v.shape) for k, v in compiler.build(CATS, classes=3).state_dict().items()}
    wrong = [k for k, v in trained_state(classes=2).items() if list(v.shape) != shapes[k]]
    assert wrong and len(diags) == len(wrong)
    for d, k in zip(diags, wrong):
        assert f"`{k}`" in d.message and str(shapes[k]) in d.message


def test_a_file_that_is_no_checkpoint_is_refused(tmp_path):
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    (tmp_path / "junk.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{bad json")
    torch.save([1, 2, 3], tmp_path / "list.pt")
    for name in ("junk.pt", "junk.safetensors", "list.pt", "absent.pt"):
        [d] = error_of(CATS, tmp_path / name)
        assert d.code == "E601" and "cannot read the checkpoint" in d.message and name in d.message


def test_a_tied_weight_may_come_under_either_name(tmp_path):
    # Hugging Face's GPT-2 checkpoints hold wte but no lm_head.weight, which shares it.
    state = trained_state(TINY_GPT, depth=1)
    assert "lm_head.weight" in state
    del state["lm_head.weight"]
    torch.save(state, tmp_path / "gpt.pt")
    model = compiler.build(TINY_GPT, weights=tmp_path / "gpt.pt", depth=1)
    assert same(model, state)
    assert torch.equal(model.lm_head.weight, state["transformer.wte.weight"])
    del state["transformer.wte.weight"]  # with neither name it is missing
    torch.save(state, tmp_path / "gpt.pt")
    [d] = error_of(TINY_GPT, tmp_path / "gpt.pt", depth=1)
    assert "2 missing" in d.message and "`transformer.wte.weight`" in d.message


def test_the_code_is_in_the_catalogue_doc():
    assert "| E601 | checkpoint does not fit |" in (ROOT / "docs" / "errors.md").read_text()
