"""Shared fixtures: paths, a helper that checks a spec written inline, and one that imports generated source."""

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
