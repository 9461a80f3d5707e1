"""The checker's layer catalogue (LANGUAGE.md §5): every layer found by name.

Importing this package registers every entry; `REGISTRY[name]` is the
`Layer` with its argument model, shape rule, counts and diagram label.
"""

from . import activation, attention, conv, dense, merge, norm, pool, recurrent, reshape, sequence  # noqa: F401  (registers)
from .base import Layer, LayerError
from .registry import REGISTRY

__all__ = ["REGISTRY", "Layer", "LayerError"]
