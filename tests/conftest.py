"""Shared fixtures: paths, and a helper that checks a spec written inline."""

from __future__ import annotations

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


def pytest_addoption(parser):
    parser.addoption("--update-goldens", action="store_true", default=False,
                     help="Rewrite tests/data/diagnostics/*.expected from the current output instead of comparing.")
