"""archlang: write a network as an `.arch` spec, check every shape, build it in PyTorch, draw it.

    import archlang
    res = archlang.check_file("specs/resnet18.arch", params={"classes": 10})   # no torch
    model = archlang.build("specs/resnet18.arch", classes=10)                  # needs archlang[torch]

The two halves ship inside this package: `archlang.dsl`, the language (parse,
check, count; it never imports torch), and `archlang.compiler`, everything
made from a checked graph (torch modules, exports, diagrams, the CLI).
"""

from __future__ import annotations

from pathlib import Path

# An installed wheel holds dsl/ and compiler/ inside this folder. In a source checkout they sit
# beside it (the repository keeps its layout), so the package also looks there.
_here = Path(__file__).resolve().parent
if not (_here / "dsl").is_dir() and (_here.parent / "dsl" / "grammar.lark").is_file():
    __path__.append(str(_here.parent))

from .compiler import build  # noqa: E402  (the path above first; torch is imported only when building)
from .dsl import CheckResult, ModelGraph, check_file, check_text  # noqa: E402

__all__ = ["CheckResult", "ModelGraph", "build", "check_file", "check_text"]
