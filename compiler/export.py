"""`archlang compile`'s output formats, one writer per file suffix.

Stage: after lowering. Each writer takes the checked graph, the built module
and a path, and writes one file; the CLI writes through a temporary file
and renames it, so a failed export leaves an existing output untouched.

- `.pt`   the module's `state_dict` (`torch.save`);
- `.pt2`  a `torch.export` program traced on example inputs of the checked
          shapes (`torch.export.load` gives it back without archlang);
- `.onnx` ONNX through `torch.onnx.export` (needs the `onnx` package);
- `.py`   standalone PyTorch source that needs only torch (`compiler.codegen`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from dsl.graph import ModelGraph

from .report import open_sizes

if TYPE_CHECKING:  # torch is imported by the writers, so the CLI can list the formats without it
    import torch
    from torch import nn


class ExportError(Exception):
    """A format that cannot be written here, with the one line that says why."""


def _state_dict(g: ModelGraph, m: nn.Module, out: Path) -> None:
    import torch
    torch.save(m.state_dict(), out)


def _example(g: ModelGraph, batch: int = 2) -> tuple[torch.Tensor, ...]:
    import torch

    from .inputs import random_inputs
    missing = open_sizes(g)
    if missing:
        raise ExportError(missing)
    return tuple(random_inputs(g, batch, torch.Generator().manual_seed(0)))


def _exported(g: ModelGraph, m: nn.Module, out: Path) -> None:
    import torch
    with warnings.catch_warnings():
        # nn.RNN/LSTM/GRU refresh their flat weight list while traced; torch warns about it, harmlessly.
        warnings.filterwarnings("ignore", message=r".*_flat_weights.*")
        program = torch.export.export(m.eval(), _example(g))
    torch.export.save(program, out)


def _onnx(g: ModelGraph, m: nn.Module, out: Path) -> None:
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
        torch.onnx.export(m.eval(), _example(g, batch=1), str(out), input_names=names, output_names=outs,
                          dynamic_axes={n: {0: "batch"} for n in (*names, *outs)}, dynamo=False)


def _python(g: ModelGraph, m: nn.Module, out: Path) -> None:
    from .codegen import python_source
    out.write_text(python_source(g), encoding="utf-8")


WRITERS: dict[str, Callable[[ModelGraph, nn.Module, Path], None]] = {
    ".pt": _state_dict,
    ".pt2": _exported,
    ".onnx": _onnx,
    ".py": _python,
}
