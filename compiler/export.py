"""`archlang compile`'s output formats, one writer per file suffix.

Stage: after lowering. Each writer takes the checked graph, the built module,
a path and the input axes that stay free (`Axes`: the batch, and the axes
the spec leaves symbolic, `seq`), and writes one file; the CLI writes through
a temporary file and renames it, so a failed export leaves an existing output
untouched. The same module gives the same bytes: archives are written from
memory, so no temporary file name ends up inside them.

- `.pt`   the module's `state_dict` (`torch.save`);
- `.pt2`  a `torch.export` program traced on example inputs of the checked
          shapes, its batch and symbolic axes left free (`torch.export.Dim`),
          so one file serves any batch and sequence length
          (`torch.export.load` gives it back without archlang);
- `.onnx` ONNX through `torch.onnx.export` (needs the `onnx` package), with the
          same free axes; a tied weight is stored once (no constant folding,
          which would store its transpose beside it) and the nodes keep the
          module tree's names (`/transformer/h/h.0/attn/...`);
- `.py`   standalone PyTorch source that needs only torch (`compiler.codegen`).
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from archlang.dsl.graph import ModelGraph

from .report import open_sizes

if TYPE_CHECKING:  # torch is imported by the writers, so the CLI can list the formats without it
    import torch
    from torch import nn


class ExportError(Exception):
    """A format that cannot be written here, with the one line that says why."""


Axes = tuple[dict[int, str], ...]  # per model input: its free axes beyond the batch (axis → symbol)


def symbolic_axes(free: ModelGraph) -> Axes:
    """The input axes that `free` (the graph checked without values for its symbols) leaves symbolic."""
    return tuple({k + 1: str(d) for k, d in enumerate(p.shape) if not isinstance(d, int) and str(d).isidentifier()}
                 for p in free.inputs)


def _no_axes(g: ModelGraph) -> Axes:
    return tuple({} for _ in g.inputs)


def _write_bytes(out: Path, save: Callable[[io.BytesIO], None]) -> None:
    """Save into memory, then to `out`: torch names a zip archive's folder after its file."""
    buf = io.BytesIO()
    save(buf)
    out.write_bytes(buf.getvalue())


def _state_dict(g: ModelGraph, m: nn.Module, out: Path, axes: Axes | None = None) -> None:
    import torch
    _write_bytes(out, lambda f: torch.save(m.state_dict(), f))


def _example(g: ModelGraph, batch: int = 2) -> tuple[torch.Tensor, ...]:
    import torch

    from .inputs import random_inputs
    missing = open_sizes(g)
    if missing:
        raise ExportError(missing)
    return tuple(random_inputs(g, batch, torch.Generator().manual_seed(0)))


def _exported(g: ModelGraph, m: nn.Module, out: Path, axes: Axes | None = None) -> None:
    import torch
    auto = torch.export.Dim.AUTO  # free, with the ranges the model allows inferred by torch
    shapes = tuple({0: auto, **{k: auto for k in free}} for free in axes or _no_axes(g))
    with warnings.catch_warnings():
        # nn.RNN/LSTM/GRU refresh their flat weight list while traced; torch warns about it, harmlessly.
        warnings.filterwarnings("ignore", message=r".*_flat_weights.*")
        program = torch.export.export(m.eval(), _example(g), dynamic_shapes=shapes)
    _write_bytes(out, lambda f: torch.export.save(program, f))


def _onnx(g: ModelGraph, m: nn.Module, out: Path, axes: Axes | None = None) -> None:
    try:
        import onnx  # noqa: F401  (torch.onnx needs it to serialise)
    except ImportError:
        raise ExportError("writing .onnx needs the `onnx` package: pip install onnx") from None
    import torch
    names = [p.name for p in g.inputs]
    outs = [p.name if p.name != "output" else f"output{i}" for i, p in enumerate(g.outputs)]
    with warnings.catch_warnings():
        # Traced at batch 1 with the batch axis left free, which torch's recurrent export needs to run at
        # any batch (a test runs it at batch 3 in onnxruntime); torch's warnings about tracing its own
        # recurrent layers (batch sizes, a tensor read as a bool in nn.LSTM) do not apply then.
        warnings.filterwarnings("ignore", message=r"Exporting a model to ONNX with a batch_size other than 1")
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        free = {n: {0: "batch", **a} for n, a in zip(names, axes or _no_axes(g))}
        torch.onnx.export(m.eval(), _example(g, batch=1), str(out), input_names=names, output_names=outs,
                          dynamic_axes={**free, **{n: {0: "batch"} for n in outs}}, dynamo=False,
                          do_constant_folding=False)


def _python(g: ModelGraph, m: nn.Module, out: Path, axes: Axes | None = None) -> None:
    from .codegen import python_source
    out.write_text(python_source(g), encoding="utf-8")


WRITERS: dict[str, Callable[[ModelGraph, nn.Module, Path, Axes | None], None]] = {
    ".pt": _state_dict,
    ".pt2": _exported,
    ".onnx": _onnx,
    ".py": _python,
}
