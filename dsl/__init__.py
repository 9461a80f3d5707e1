"""archlang's language: parse, check and count `.arch` specs — without torch.

    from archlang import dsl
    res = dsl.check_file("specs/resnet18.arch", params={"classes": 10})
    res.ok, res.diagnostics, res.graph.params, res.graph.macs
"""

from .check import CheckResult, check_file, check_text
from .diagnostics import Diagnostic
from .graph import ModelGraph

__all__ = ["CheckResult", "Diagnostic", "ModelGraph", "check_file", "check_text"]
