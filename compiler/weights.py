"""Checkpoints into built models: `compiler.build(spec, weights=path)`.

Stage: right after lowering. Reads a state_dict from a `.pt`/`.pth`/`.bin`
file (`torch.save`, read with `weights_only=True`, so no pickled code runs) or
a `.safetensors` file, and loads it strictly: every tensor of the model must be
in the checkpoint with its shape, and nothing else may be. When it does not
fit, one E601 diagnostic lists the first missing and unexpected keys, each with
the nearest name on the other side, instead of torch's wall of names. The only
leniency is weight tying: a tied tensor (`lm_head.weight` sharing `wte.weight`)
may be given under either of its names, as Hugging Face checkpoints do. It does
not rename keys, convert layouts or download anything.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path

import torch
from archlang.dsl.diagnostics import DiagnosticError, Reporter
from torch import nn

SHOWN = 5  # keys named per side; the rest are counted
SAFETENSORS = (".safetensors",)
# Trainers often save {"state_dict": ...} or {"model": ...} around the tensors.
WRAPPERS = ("state_dict", "model", "module", "model_state_dict")


def _cannot(path: Path, reason: str) -> DiagnosticError:
    return Reporter().error("E601", None, form="read", file=str(path), reason=reason)


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """The tensors of a checkpoint file, by name; raises E601 when it cannot be read as one."""
    path = Path(path)
    if not path.is_file():
        raise _cannot(path, "no such file")
    if path.suffix.lower() in SAFETENSORS:
        try:
            from safetensors.torch import load_file
        except ImportError:
            raise _cannot(path, "reading .safetensors needs the safetensors package "
                                "(pip install 'archlang[safetensors]')") from None
        try:
            return dict(load_file(str(path), device="cpu"))
        except Exception as e:  # safetensors raises its own error types for a damaged header
            raise _cannot(path, f"{type(e).__name__}: {e}") from None
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # unpickling refuses code, a truncated zip, a file of another kind
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise _cannot(path, first) from None
    for key in WRAPPERS:
        if isinstance(data, dict) and isinstance(data.get(key), dict) and not _all_tensors(data):
            data = data[key]
    if not isinstance(data, dict) or not data or not _all_tensors(data):
        raise _cannot(path, "it holds no state_dict (a mapping of names to tensors)")
    return dict(data)


def _all_tensors(data: dict) -> bool:
    return all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in data.items())


def _nearest(key: str, *pools: Iterable[str]) -> str | None:
    for pool in pools:
        match = difflib.get_close_matches(key, list(pool), n=1, cutoff=0.6)
        if match:
            return match[0]
    return None


def _listed(keys: list[str], side: str, counterpart: list[str], other_side: list[str]) -> str:
    parts = []
    for k in keys[:SHOWN]:
        near = _nearest(k, counterpart, other_side)
        parts.append(f"`{k}`" + (f" (nearest: `{near}`)" if near else ""))
    more = f" and {len(keys) - SHOWN} more" if len(keys) > SHOWN else ""
    return f"{side} " + ", ".join(parts) + more


def _tied(expected: dict[str, torch.Tensor]) -> dict[str, set[str]]:
    """Each state_dict name with the other names of the same tensor."""
    by_tensor: dict[tuple[int, tuple[int, ...]], set[str]] = {}
    for name, t in expected.items():
        if t.numel():
            by_tensor.setdefault((t.data_ptr(), tuple(t.shape)), set()).add(name)
    return {name: group - {name} for group in by_tensor.values() for name in group}


def load_weights(module: nn.Module, path: str | Path, model: str) -> nn.Module:
    """Load the checkpoint at `path` into `module` strictly; raise E601 when it does not fit."""
    path = Path(path)
    state = read_state_dict(path)
    expected = module.state_dict()
    tied = _tied(expected)
    missing = [k for k in expected if k not in state and not (tied.get(k, set()) & state.keys())]
    unexpected = [k for k in state if k not in expected]
    reporter = Reporter()
    if missing or unexpected:
        keys = []
        if missing:
            keys.append(_listed(missing, "missing", unexpected, list(state)))
        if unexpected:
            keys.append(_listed(unexpected, "unexpected", missing, list(expected)))
        raise reporter.error("E601", None, file=str(path), model=model, missing=len(missing),
                             unexpected=len(unexpected), keys=": " + "; ".join(keys))
    for key, tensor in state.items():
        want = expected[key]
        if tensor.shape != want.shape:
            reporter.report("E601", None, form="shape", key=key, file=str(path), model=model,
                            got=list(tensor.shape), want=list(want.shape))
    if reporter.diagnostics:
        raise DiagnosticError(reporter.diagnostics[:SHOWN])
    module.load_state_dict(state, strict=False)  # every name was checked above; tied ones may be absent
    return module
