"""Parameter names (LANGUAGE.md §6): levels, elements and their dotted paths.

Stage: expansion registers every element in its level as it goes; paths are
read only once the whole model is expanded, because whether a level's only
element collapses into it is known only at the end.
"""

from __future__ import annotations


class Level:
    """A model body, a block call, a labelled group, a multi-element labelled chain, a repeat or a pass."""

    __slots__ = ("owner", "elements")

    def __init__(self, owner: Element | None = None) -> None:
        self.owner = owner
        self.elements: list[Element] = []

    def add(self, label: str | None = None, fixed: str | None = None) -> Element:
        el = Element(self, len(self.elements), label, fixed)
        self.elements.append(el)
        return el


class Element:
    __slots__ = ("level", "index", "label", "fixed", "_sub")

    def __init__(self, level: Level, index: int, label: str | None, fixed: str | None) -> None:
        self.level = level
        self.index = index
        self.label = label
        self.fixed = fixed  # repeat passes are always named by their number
        self._sub: Level | None = None

    @property
    def sub(self) -> Level:
        if self._sub is None:
            self._sub = Level(self)
        return self._sub

    def release(self) -> None:
        """Unlink from the level and the sub-level (each links back): paths are no longer asked for."""
        self.level = self._sub = None  # type: ignore[assignment]

    def key(self) -> str | None:
        if self.fixed is not None:
            return self.fixed
        if self.label is not None:
            return self.label
        if len(self.level.elements) == 1:
            return None  # a level with one unlabelled element is that element
        return str(self.index)

    def path(self) -> str:
        parts: list[str] = []
        el: Element | None = self
        while el is not None:
            key = el.key()
            if key is not None:
                parts.append(key)
            el = el.level.owner
        return ".".join(reversed(parts))


class Paths:
    """The paths of a finished model's elements, each level's prefix worked out once (a model has thousands)."""

    def __init__(self) -> None:
        self._prefixes: dict[int, str] = {}  # id() of a level → the path of the element that owns it

    def __call__(self, el: Element) -> str:
        """`el.path()`."""
        level = el.level
        prefix = self._prefixes.get(id(level))
        if prefix is None:
            prefix = self(level.owner) if level.owner is not None else ""
            self._prefixes[id(level)] = prefix
        key = el.key()
        if key is None:
            return prefix
        return prefix + "." + key if prefix else key
