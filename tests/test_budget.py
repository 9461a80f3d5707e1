"""Budgets before allocation, and spec files read without trusting the file system.

A model past the memory budget is refused by `run`, `compile` and
`compiler.build` with E408 before a weight exists: the refusing process's
peak memory stays far below what the model would need. A device, a FIFO
and an oversized file end in diagnostics, never in a hang or an unbounded read.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from archlang.compiler import budget
from archlang.compiler.cli import main
from archlang.dsl.diagnostics import DiagnosticError
from archlang.dsl.program import MAX_BYTES
from click.testing import CliRunner

from archlang import compiler, dsl

ROOT = Path(__file__).resolve().parent.parent
# 5 × 10**9 parameters (weight and bias): 20 GB of float32 weights.
SMALL = "model Small {\n    input x: [64]\n    linear(256) -> relu -> linear(10)\n}\n"
HUGE = "model Huge(width = 1000000000) {\n    input x: [4]\n    x -> linear(width) -> relu\n}\n"


@pytest.fixture
def small(tmp_path: Path) -> Path:
    path = tmp_path / "small.arch"
    path.write_text(SMALL)
    return path


@pytest.fixture
def huge(tmp_path: Path) -> Path:
    path = tmp_path / "huge.arch"
    path.write_text(HUGE)
    return path


# A fresh parent for the CLI, so that the peak it reports is the CLI's alone (pytest's own children,
# torch subprocesses of other tests, would otherwise count).
PEAK = """
import json, resource, subprocess, sys
proc = subprocess.run([sys.executable, "-m", "archlang.compiler.cli", *sys.argv[1:]], capture_output=True, text=True)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps([proc.returncode, proc.stdout, proc.stderr, peak]))
"""


def _peak_mb_of(args: list[str]) -> tuple[int, str, float]:
    """Run the CLI in a child process: its exit code, its stderr, and its peak resident memory (MB)."""
    out = subprocess.run([sys.executable, "-c", PEAK, *args], capture_output=True, text=True, cwd=ROOT, timeout=300,
                         check=True).stdout
    code, _, stderr, peak = json.loads(out)
    return code, stderr, peak


@pytest.mark.parametrize("command", [["run"], ["compile", "-o", "{tmp}/huge.pt"], ["run", "--batch", "10000000"]],
                         ids=["run", "compile", "batch"])
def test_refusal_comes_before_allocation(huge, tmp_path, command):
    args = [c.replace("{tmp}", str(tmp_path)) for c in command]
    code, stderr, peak_mb = _peak_mb_of([*args[:1], str(huge), *args[1:], "--max-memory", "2GB"])
    assert code == 1, stderr
    assert "error[E408]" in stderr and "Traceback" not in stderr
    assert "the memory budget is 2 GB" in stderr and "--max-memory" in stderr
    assert "20 GB of parameters" in stderr
    # The model needs 20 GB and more; the refusing process never came near it (nor did any child before it).
    assert peak_mb < 600, peak_mb
    assert not (tmp_path / "huge.pt").exists()


def test_the_default_budget_refuses_a_model_no_machine_holds(tmp_path):
    path = tmp_path / "tera.arch"
    path.write_text("model Tera {\n    input x: [1000]\n    linear(1000000000)\n    linear(1000)\n}\n")
    code, stderr, peak_mb = _peak_mb_of(["run", str(path)])
    assert code == 1 and "error[E408]" in stderr, stderr
    assert "half of this machine's memory" in stderr
    assert peak_mb < 600


def test_a_raised_budget_lets_the_model_through(small):
    result = CliRunner().invoke(main, ["run", str(small), "--max-memory", "10kB"])
    assert result.exit_code == 1 and "error[E408]" in result.stderr
    result = CliRunner().invoke(main, ["run", str(small), "--max-memory", "64GB"])
    assert result.exit_code == 0, result.stdout + result.stderr


def test_the_batch_counts(tmp_path):
    g = dsl.check_file(ROOT / "specs" / "resnet18.arch").graph
    one, many = budget.estimate(g, 1), budget.estimate(g, 64)
    assert one.params == many.params == g.params * 4
    assert many.activations == 64 * one.activations > 0
    assert budget.over_budget(g, one.total) is None
    assert budget.over_budget(g, one.total - 1).code == "E408"
    assert budget.over_budget(g, many.total - 1, batch=64).code == "E408"


def test_build_takes_a_budget(huge, small):
    with pytest.raises(DiagnosticError) as e:
        compiler.build(huge, max_bytes=10**9)
    [d] = e.value.diagnostics
    assert d.code == "E408" and "max_bytes" in d.hint and d.span.line == 3
    with pytest.raises(DiagnosticError):
        compiler.build(small, max_bytes=10_000)
    model = compiler.build(small, max_bytes=10**6)
    assert sum(p.numel() for p in model.parameters()) == dsl.check_file(small).graph.params


def test_check_reports_the_budget_only_when_asked(huge):
    assert CliRunner().invoke(main, ["check", str(huge)]).exit_code == 0
    result = CliRunner().invoke(main, ["check", str(huge), "--max-memory", "1GB"])
    assert result.exit_code == 1 and "error[E408]" in result.stderr


@pytest.mark.parametrize("text,expected", [("64GB", 64 * 10**9), ("512MiB", 512 * 2**20), ("1.5g", 1_500_000_000),
                                           ("1000", 1000), (" 2 kB ", 2000)])
def test_sizes(text, expected):
    assert budget.parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "GB", "12XB", "-1GB", "1e9"])
def test_bad_sizes(text, small):
    with pytest.raises(ValueError):
        budget.parse_size(text)
    result = CliRunner().invoke(main, ["run", str(small), "--max-memory", text])
    assert result.exit_code == 2


def test_the_default_is_half_the_memory():
    total = budget.physical_memory()
    assert total is None or budget.default_budget() == total // 2


# ------------------------------------------------------------ reading specs

@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
@pytest.mark.parametrize("command", ["check", "fmt"])
def test_a_device_is_refused_not_read(command):
    result = CliRunner().invoke(main, [command, "/dev/zero"])
    assert result.exit_code == 1
    assert "not a regular file" in result.stderr


def _fifo(tmp_path: Path) -> Path:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this system")
    path = tmp_path / "pipe.arch"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("command", ["check", "fmt"])
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path, command):
    path = _fifo(tmp_path)
    # In a child with a timeout: a regression would block on open() forever.
    proc = subprocess.run([sys.executable,
        "-m", "archlang.compiler.cli", command, str(path)], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert proc.returncode == 1
    assert "not a regular file" in proc.stderr


def test_an_imported_fifo_is_refused(tmp_path):
    _fifo(tmp_path)
    (tmp_path / "main.arch").write_text('import "pipe"\nmodel M {\n    input x: [4]\n}\n')
    res = dsl.check_file(tmp_path / "main.arch")  # an import names spec files; a pipe is none
    assert [d.code for d in res.diagnostics] == ["E202"]
    assert res.diagnostics[0].span.line == 1


def test_fmt_has_the_checkers_size_limit(tmp_path):
    big = tmp_path / "big.arch"
    big.write_text("# " + "x" * MAX_BYTES + "\nmodel M {\n    input x: [16]\n}\n")
    before = big.read_bytes()
    result = CliRunner().invoke(main, ["fmt", str(big)])
    assert result.exit_code == 1
    assert "specs are limited to" in result.stderr
    assert big.read_bytes() == before


@pytest.mark.parametrize("text", [
    "model M {\n    input x: [4]\n    x" + " -> relu" * 60_000 + "\n}\n",
    "model M {\n    input x: [4]\n" + "    relu\n" * 110_000 + "}\n",
    "let a = " + "1+" * 60_000 + "1\n",
    "let a = [" + '"a\\"b",' * 60_000 + "1]\n",
], ids=["long-line", "many-lines", "long-sum", "strings"])
def test_a_spec_of_too_many_tokens_is_refused(text):
    from archlang.dsl.parse import MAX_TOKENS
    res = dsl.check_text(text, name="many.arch")
    [d] = res.diagnostics
    assert d.code == "E008" and f"more than {MAX_TOKENS:,} tokens" in d.message
    # The span names the first token past the limit, on the line the lexer counts.
    assert d.line_text == text.split("\n")[d.span.line - 1]


def test_the_token_limit_counts_no_comments():
    from archlang.dsl.parse import MAX_TOKENS
    text = "# relu relu relu\n" * (MAX_TOKENS // 2) + "model M {\n    input x: [4]\n    relu\n}\n"
    assert len(text) > MAX_TOKENS
    assert dsl.check_text(text).ok
