"""The layer catalogue of the checker: one entry per layer, found by name."""

from __future__ import annotations

from .base import Layer

REGISTRY: dict[str, Layer] = {}


def register(layer: Layer) -> Layer:
    if layer.name in REGISTRY:  # pragma: no cover - a programming error
        raise ValueError(f"layer {layer.name} registered twice")
    REGISTRY[layer.name] = layer
    return layer


def unregister(name: str) -> Layer:
    """Remove an entry (a test's throwaway layer); the entry removed."""
    return REGISTRY.pop(name)
