"""Expansion and shape inference: a model's AST → its checked `ModelGraph`.

Stage: after loading. Walks a model body statement by statement, keeping the
current value (§2); expands block calls, groups, repeats, ifs, residuals and
parallels; asks the layer catalogue for each layer's output type and counts;
names every element by §6. Problems are collected: a failing element leaves
a poisoned value so that its siblings go on being checked without cascades.

The parts, in the order a model meets them: `model` (parameters, outputs),
`state` (the graph being built), `statements` (the walk), `calls` (names and
blocks), `layers` and `arguments` (a catalogue layer applied), `structure`
(groups, residuals, parallels, repeats, ifs).
"""

from .model import Expander

__all__ = ["Expander"]
