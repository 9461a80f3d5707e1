"""Notebooks: examples/notebook.ipynb runs in a real kernel, and its checked graph and built model
display as the summary table and the SVG diagram."""

from __future__ import annotations

import ast
import html
import re

import nbformat
import pytest
import torch
from archlang.compiler import notebook
from archlang.compiler.report import summary_rows
from conftest import ROOT
from nbclient import NotebookClient

from archlang import dsl

NOTEBOOK = ROOT / "examples" / "notebook.ipynb"
CATS = ROOT / "specs" / "cats_vs_dogs.arch"


@pytest.fixture(scope="module")
def executed():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    return [c for c in nb.cells if c.cell_type == "code"]


def shown_html(cell) -> str:
    htmls = [o["data"]["text/html"] for o in cell.outputs if o.get("output_type") == "execute_result"]
    assert len(htmls) == 1, cell.source
    return htmls[0]


def table_rows(page: str) -> list[list[str]]:
    body = re.search(r'<table class="archlang-summary".*?<tbody>(.*?)</tbody>', page, re.S).group(1)
    return [[html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def test_a_checked_spec_shows_its_table_and_diagram(executed):
    graph = dsl.check_file(CATS, params={"classes": 2}).graph
    page = shown_html(executed[0])
    assert table_rows(page) == [list(r) for r in summary_rows(graph)]
    assert "<svg" in page and "no problems" in page


def test_a_mistake_shows_the_diagnostics_of_check(executed):
    cell = executed[1]
    # The spec text that the cell checks, read from its source.
    source = ast.literal_eval(cell.source.split("dsl.check_text(", 1)[1].split(", name=")[0])
    expected = dsl.check_text(source, name="broken.arch").diagnostics
    page = shown_html(cell)
    assert expected and all(html.escape(d.render()) in page for d in expected)
    assert "<svg" not in page


def test_the_graph_alone_and_the_built_model_show_table_and_diagram(executed):
    graph = dsl.check_file(CATS, params={"classes": 2}).graph
    assert table_rows(shown_html(executed[2])) == [list(r) for r in summary_rows(graph)]
    model_cell = executed[3]
    assert any("(1, 2)" in o.get("text", "") for o in model_cell.outputs)  # the forward pass ran
    page = shown_html(model_cell)
    assert f"{graph.params:,} parameters in torch" in page
    assert table_rows(page) == [list(r) for r in summary_rows(graph)] and "<svg" in page


def test_other_modules_keep_their_own_display():
    assert notebook.module_html(torch.nn.Linear(2, 3)) is None
    assert notebook.register() is False  # outside IPython nothing is registered
