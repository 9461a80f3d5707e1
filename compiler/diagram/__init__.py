"""Diagrams of checked specs, the way the architectures document draws them (LANGUAGE.md §9).

Stage: after checking, beside lowering; needs no torch. The pipeline inside:

    ModelGraph ──units──▶ folded units ──flow──▶ diagram model ──text──▶ Unicode lines
                                                               └─dot───▶ DOT source ──render──▶ svg/png/pdf

    from archlang.dsl import check_file
    from archlang.compiler.diagram import draw
    d = draw(check_file("specs/cats_vs_dogs.arch").graph)
    print(d)                 # the text form
    d.save("cats.svg")       # through graphviz's `dot`
"""

from .model import Diagram, DiagramOptions
from .render import FORMATS, DiagramError, DotMissing, Drawing, draw

__all__ = ["Diagram", "DiagramOptions", "DiagramError", "DotMissing", "Drawing", "draw", "FORMATS"]
