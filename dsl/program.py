"""Loading a spec and its imports into scopes of blocks and constants.

Stage: after parsing, before expansion. Reads files (bounded in size),
resolves `import` paths relative to the importing file — `std/...` to the
standard library shipped in `dsl/std/` — and refuses any path that leaves
the directory tree of the spec being checked. Top-level `let`s are
evaluated here, in order.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from . import ast
from .diagnostics import DiagnosticError, Reporter
from .evaluate import Evaluator
from .parse import parse
from .scope import Scope
from .source import Span

STD = Path(__file__).with_name("std")
MAX_BYTES = 1_000_000


class SpecTooLarge(Exception):
    """A spec over `MAX_BYTES`; `size` is how large, in words (a device or pipe has no size to trust)."""

    def __init__(self, size: str):
        self.size = size
        super().__init__(size)


def read_spec(path: str | Path) -> str:
    """The text of a spec file, read without trusting what the file system says about it.

    Only a regular file is read (a FIFO would block forever, `/dev/zero` never
    ends), opened without blocking, and never more than `MAX_BYTES` + 1 bytes:
    a reported size can lie (devices and /proc say 0), the bytes read cannot.
    Raises OSError, UnicodeDecodeError or `SpecTooLarge`.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(errno.EISDIR, "it is a directory")
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "it is not a regular file (a device, pipe or socket)")
        if info.st_size > MAX_BYTES:
            raise SpecTooLarge(f"{info.st_size:,}")
        data = f.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise SpecTooLarge(f"more than {MAX_BYTES:,}")
    return data.decode("utf-8-sig")  # editors on Windows may start with a BOM


@dataclass
class BlockRef:
    defn: ast.BlockDef
    unit: Unit


@dataclass
class Unit:
    path: Path
    display: str
    file: ast.File
    globals: Scope


class Program:
    def __init__(self, reporter: Reporter, evaluator: Evaluator | None = None) -> None:
        self.reporter = reporter
        self.evaluator = evaluator or Evaluator(reporter)
        self.units: dict[Path, Unit] = {}
        self._loading: list[Path] = []

    def load_root(self, path: str | Path) -> Unit | None:
        resolved = Path(path).resolve()
        return self._load(resolved, display=str(path), root=resolved.parent, span=None)

    def load_text(self, text: str, display: str, root: Path) -> Unit | None:
        """A spec given as text (tests, notebooks); imports resolve from `root`."""
        return self._from_text(text, display, (root / display).resolve(), root.resolve())

    def _load(self, resolved: Path, display: str, root: Path, span: Span | None) -> Unit | None:
        """The unit of the file at `resolved` (a resolved path: resolving walks every directory above it)."""
        if resolved in self.units:
            return self.units[resolved]
        try:
            text = read_spec(resolved)
        except SpecTooLarge as e:
            self.reporter.report("E008", span, path=display, size=e.size, limit=f"{MAX_BYTES:,}")
            return None
        except UnicodeDecodeError:
            self.reporter.report("E007", span, path=display, reason="it is not UTF-8 text")
            return None
        except OSError as e:
            self.reporter.report("E007", span, path=display, reason=e.strerror or str(e))
            return None
        return self._from_text(text, display, resolved, root)

    def _from_text(self, text: str, display: str, resolved: Path, root: Path) -> Unit | None:
        try:
            tree = parse(text, display, self.reporter)
        except DiagnosticError as e:
            for d in e.diagnostics:
                self.reporter.add(d)
            return None
        unit = Unit(resolved, display, tree, Scope())
        self.units[resolved] = unit
        self._loading.append(resolved)
        try:
            self._fill_globals(unit, root)
        finally:
            self._loading.pop()
        return unit

    def _resolve_import(self, unit: Unit, item: ast.Import, root: Path) -> tuple[Path, Path, str] | None:
        name = item.path if item.path.endswith(".arch") else item.path + ".arch"
        if name.startswith("std/"):
            base, target_root = STD, STD
            candidate = STD / name[len("std/"):]
        else:
            base, target_root = unit.path.parent, root
            candidate = base / name
        try:
            resolved = candidate.resolve()
            if not resolved.is_relative_to(target_root):
                self.reporter.report("E201", item.span, path=item.path)
                return None
            found = resolved.is_file()
        except OSError:  # a name the file system refuses (too long, say): there is nothing there to import
            found = False
        if not found:
            self.reporter.report("E202", item.span, path=item.path)
            return None
        display = name if name.startswith("std/") else str(Path(unit.display).parent / name)
        return resolved, target_root, display

    def _fill_globals(self, unit: Unit, root: Path) -> None:
        g = unit.globals
        for item in unit.file.items:
            if isinstance(item, ast.Import):
                found = self._resolve_import(unit, item, root)
                if found is None:
                    continue
                resolved, target_root, display = found
                if resolved in self._loading:
                    self.reporter.report("E203", item.span, path=item.path,
                                         cycle=" → ".join(p.name for p in self._loading + [resolved]))
                    continue
                other = self._load(resolved, display, target_root, item.span)
                if other is not None:
                    for name, binding in other.globals.names.items():
                        g.names.setdefault(name, binding)
            elif isinstance(item, ast.BlockDef):
                self._define(g, item.name, BlockRef(item, unit), "block", item.span)
            elif isinstance(item, ast.Let):
                try:
                    value = self.evaluator(item.value, g)
                except DiagnosticError as e:
                    for d in e.diagnostics:
                        self.reporter.add(d)
                    continue
                self._define(g, item.name, value, "constant", item.span)

    def _define(self, g: Scope, name: str, value, kind: str, span: Span) -> None:
        old = g.names.get(name)
        if old is not None and old.span is not None and old.span.file == span.file:
            self.reporter.report("E117", span, name=name, line=old.span.line)
            return
        g.define(name, value, kind, span)
