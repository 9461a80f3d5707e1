"""`dsl/` never imports torch: `check`, `summary` and friends start fast."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT


def test_check_summary_diagram_compare_and_fmt_leave_torch_unimported():
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from compiler.cli import main\n"
        "r = CliRunner().invoke(main, ['check', 'specs/resnet50.arch'])\n"
        "assert r.exit_code == 0, r.output\n"
        "r = CliRunner().invoke(main, ['summary', 'specs/resnet50.arch'])\n"
        "assert r.exit_code == 0, r.output\n"
        "r = CliRunner().invoke(main, ['diagram', 'specs/resnet50.arch', '-o', '-'])\n"
        "assert r.exit_code == 0, r.output\n"
        "r = CliRunner().invoke(main, ['compare', 'specs/resnet50.arch', 'specs/gpt2_small.arch'])\n"
        "assert r.exit_code == 0, r.output\n"
        "r = CliRunner().invoke(main, ['fmt', '--check', 'specs/resnet50.arch'])\n"
        "assert r.exit_code == 0, r.output\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_no_module_of_dsl_or_the_diagrams_imports_torch():
    for path in [*(ROOT / "dsl").rglob("*.py"), *(ROOT / "compiler" / "diagram").rglob("*.py")]:
        text = path.read_text()
        assert "import torch" not in text and "from torch" not in text, path
