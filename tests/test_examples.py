"""The scripts in examples/ run as users run them (`python examples/NAME.py`),
print their final figures with finite losses, and really learn: char_lstm's
held-out loss falls and stock_rnn beats the naive "tomorrow = today"."""

from __future__ import annotations

import math
import re
import subprocess
import sys

import pytest
from conftest import ROOT

EXAMPLES = ROOT / "examples"
NUMBER = r"([-+0-9.eE]+|nan|inf)"


def run_example(name: str, *args: str) -> str:
    # A generous time limit, so that the step count alone decides and the figures are deterministic.
    cmd = [sys.executable, str(EXAMPLES / f"{name}.py"), "--seconds", "500", *args]
    done = subprocess.run(cmd, cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return done.stdout


def figures(pattern: str, out: str) -> list[float]:
    found = re.search(pattern, out)
    assert found, f"no line matching {pattern!r} in:\n{out}"
    return [float(g) for g in found.groups()]


@pytest.mark.parametrize("name", ["char_lstm", "tiny_gpt"])
def test_text_model_prints_its_losses_and_a_sample(name):
    out = run_example(name, "--steps", "3", "--batch", "4", "--seq", "16")
    assert re.search(r"trained 3 steps in", out)
    before, after = figures(rf"held-out loss: {NUMBER} → {NUMBER}", out)
    assert math.isfinite(before) and math.isfinite(after)
    # Untrained, each of the 96 characters is about equally likely.
    assert abs(before - math.log(96)) < 0.3
    assert re.search(r"^sample:     def ", out, re.M)


def test_stock_rnn_prints_model_and_naive_errors():
    out = run_example("stock_rnn", "--steps", "3")
    before, after, naive, ratio = figures(
        rf"model {NUMBER} → {NUMBER}; naive 'tomorrow = today' {NUMBER}; ratio model/naive {NUMBER}", out)
    assert all(math.isfinite(v) and v > 0 for v in (before, after, naive))
    assert ratio == pytest.approx(after / naive, rel=1e-2)


def test_stock_rnn_beats_the_naive_forecast():
    out = run_example("stock_rnn", "--steps", "200")
    (ratio,) = figures(rf"ratio model/naive {NUMBER}", out)
    assert ratio < 0.6


def test_char_lstm_loss_really_falls():
    out = run_example("char_lstm", "--steps", "60", "--batch", "16", "--seq", "32")
    before, after = figures(rf"held-out loss: {NUMBER} → {NUMBER}", out)
    assert after < 0.7 * before
