"""README.md stays true: every `$ .venv/bin/archlang ...` block shows what the command prints today."""

from __future__ import annotations

import glob
import re
import shlex

import pytest
from archlang.compiler.cli import main
from click.testing import CliRunner
from conftest import ROOT

BLOCK = re.compile(r"```\n\$ \.venv/bin/archlang (?P<cmd>[^\n]+)\n(?P<out>.*?)```", re.S)


def _blocks():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return [pytest.param(m["cmd"], m["out"], id=m["cmd"]) for m in BLOCK.finditer(text)]


def test_the_readme_shows_commands_with_their_output():
    assert len(_blocks()) >= 3


@pytest.mark.parametrize("cmd, shown", _blocks())
def test_readme_block_is_what_the_command_prints(cmd, shown, monkeypatch):
    monkeypatch.chdir(ROOT)
    args = []
    for word in shlex.split(cmd):
        args += sorted(glob.glob(word)) if "*" in word else [word]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert result.stdout == shown
