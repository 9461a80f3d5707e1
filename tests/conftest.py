"""Shared fixtures: paths, a helper that checks a spec written inline, one that imports generated source, and
the checker with its shortcuts off (every block call walked, every layer use bound and inferred)."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from pathlib import Path

import pytest

from archlang import dsl

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def check_src(tmp_path):
    """Write `src` to a file under tmp_path and check it."""
    def run(src: str, name: str = "spec.arch", **params):
        path = tmp_path / name
        path.write_text(textwrap.dedent(src))
        return dsl.check_file(path, params=params)
    return run


@pytest.fixture
def walk_everything(monkeypatch):
    """Turn the checker's shortcuts off: every block call walked, every layer use bound and inferred."""
    from archlang.dsl.expand import calls, layers

    def off(*args, **kwargs):
        return None
    monkeypatch.setattr(calls, "call_key", off)
    monkeypatch.setattr(layers.Layers, "_use_key", staticmethod(off))
    monkeypatch.setattr(layers.Layers, "_bind", lambda self, layer, el, pos, named:
                        layers.bind(self.reporter, layer, el, pos, named))


@pytest.fixture
def replays(monkeypatch):
    """How many block calls were copied instead of walked."""
    from archlang.dsl.expand import calls
    count = [0]
    real = calls.replay

    def counted(*args):
        count[0] += 1
        return real(*args)
    monkeypatch.setattr(calls, "replay", counted)
    return count


def generated_class(graph, folder: Path, tag: str):
    """The model class of the standalone source `compiler.codegen` writes for `graph`, imported from a file
    in `folder` (a real module, as a user imports it: tracebacks and `inspect` see its lines)."""
    from archlang.compiler.codegen import python_source
    path = folder / f"gen_{tag}.py"
    path.write_text(python_source(graph))
    spec = importlib.util.spec_from_file_location(f"gen_{tag}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return getattr(module, graph.name)


def pytest_addoption(parser):
    parser.addoption("--update-goldens", action="store_true", default=False,
                     help="Rewrite tests/data/diagnostics/*.expected from the current output instead of comparing.")
