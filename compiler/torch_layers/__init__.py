"""The torch half of the layer catalogue (LANGUAGE.md §5): every layer's builder found by name.

Importing this package registers every entry; `REGISTRY[name]` is the
`TorchLayer` whose `build(node, input_shapes)` returns the module. The files
mirror `dsl/layers/` one for one: a layer's checker half and torch half sit
in files of the same name.

archlang's own module classes keep each constructor argument as an attribute
of the same name, as torch's layers do: `compiler.codegen` reads them back to
write the constructor call into standalone source.
"""

from . import activation, attention, conv, dense, merge, norm, pool, recurrent, reshape, sequence  # noqa: F401  (registers)
from .registry import REGISTRY, TorchLayer, builds, register, unregister

__all__ = ["REGISTRY", "TorchLayer", "builds", "register", "unregister"]
