"""The `archlang` command line: output, exit codes 0/1/2, no tracebacks, atomic writes."""

from __future__ import annotations

import re
import traceback

import pytest
import torch
from archlang.compiler.cli import main
from click.testing import CliRunner
from conftest import SPECS

CATS = str(SPECS / "cats_vs_dogs.arch")


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def test_check_prints_shapes_params_and_macs_and_a_summary_line():
    r = invoke("check", CATS)
    assert r.exit_code == 0
    assert "CatsVsDogs  image [3, 128, 128] → [2]   params 93,506   MACs 165.2 M" in r.stdout
    assert r.stdout.strip().endswith("checked 1 model in 1 file: 0 errors")


def test_check_set_changes_a_model_parameter():
    r = invoke("check", CATS, "--set", "classes=10")
    assert r.exit_code == 0 and "→ [10]" in r.stdout


def test_set_gives_a_list_parameter_as_python_would():
    """ConvNeXt's `dims` and `depths` are lists: `--set` takes them as `[a, b, ...]`, the same model
    that `params={"dims": [...], "depths": [...]}` builds from Python."""
    from archlang.dsl import check_file
    convnext = str(SPECS / "convnext_tiny.arch")
    r = invoke("check", convnext, "--set", "dims=[8, 16, 24, 32]", "--set", "depths=[1,1,2,1]")
    small = check_file(convnext, params={"dims": [8, 16, 24, 32], "depths": [1, 1, 2, 1]}).graph
    assert r.exit_code == 0 and f"params {small.params:,}" in r.stdout and small.params < 100_000
    short = invoke("check", convnext, "--set", "depths=[1, 1, 2]")  # a list too short: a diagnostic
    assert short.exit_code == 1 and "E403" in short.stderr and "Traceback" not in short.output


def test_check_bad_spec_exits_1_with_a_diagnostic_and_no_traceback(tmp_path):
    bad = tmp_path / "bad.arch"
    bad.write_text("model M {\n    input x: [3, 8, 8]\n    linear(4)\n}\n")
    r = invoke("check", str(bad))
    assert r.exit_code == 1
    assert "error[E301]" in r.stderr and f"{bad}:3:5" in r.stderr
    assert "Traceback" not in r.output + r.stderr
    assert "1 error" in r.stdout


def test_usage_errors_exit_2():
    assert invoke("check").exit_code == 2
    assert invoke("check", CATS, "--set", "oops").exit_code == 2
    assert invoke("compile", CATS, "-o", "model.xyz").exit_code == 2
    assert invoke("frobnicate").exit_code == 2


def test_unknown_set_name_is_a_spec_error():
    r = invoke("check", CATS, "--set", "clases=3")
    assert r.exit_code == 1 and "E113" in r.stderr


def test_summary_rows_add_up_to_the_total():
    r = invoke("summary", CATS)
    assert r.exit_code == 0
    lines = r.stdout.split("\n\n")[0].splitlines()  # the table; its facts follow a blank line
    rows = [ln for ln in lines[3:] if ln and not ln.startswith("-") and not ln.startswith("total")]
    params = sum(int(ln.split()[-2].replace(",", "")) for ln in rows)
    macs = sum(int(ln.split()[-1].replace(",", "")) for ln in rows)
    total = next(ln for ln in lines if ln.startswith("total")).split()
    assert params == int(total[-2].replace(",", "")) == 93_506
    assert macs == int(total[-1].replace(",", ""))


def test_summary_depth_folds_blocks_into_one_row():
    full = invoke("summary", str(SPECS / "resnet18.arch")).stdout
    folded = invoke("summary", str(SPECS / "resnet18.arch"), "--depth", "1").stdout
    assert "layer1.0.conv1" in full and "layer1.0.conv1" not in folded
    assert "layer1.0  BasicBlock" in folded
    assert full.splitlines()[-1].split() == folded.splitlines()[-1].split()  # same totals


def test_run_prints_output_shape_and_time():
    r = invoke("run", CATS, "--batch", "3")
    assert r.exit_code == 0, r.output
    assert "output [3, 2]" in r.stdout and "forward" in r.stdout


def test_compile_writes_a_loadable_state_dict(tmp_path):
    out = tmp_path / "m.pt"
    r = invoke("compile", CATS, "-o", str(out))
    assert r.exit_code == 0, r.output
    sd = torch.load(out)
    assert list(sd) == ["0.weight", "0.bias", "3.weight", "3.bias", "6.weight", "6.bias", "11.weight", "11.bias"]


def test_failed_compile_leaves_an_existing_file_untouched(tmp_path):
    bad = tmp_path / "bad.arch"
    bad.write_text("model M { input x: [4]\n conv(3, 3) }\n")
    out = tmp_path / "m.pt"
    out.write_bytes(b"precious")
    r = invoke("compile", str(bad), "-o", str(out))
    assert r.exit_code == 1
    assert out.read_bytes() == b"precious"
    assert {p.name for p in tmp_path.iterdir()} == {"bad.arch", "m.pt"}


def test_missing_file_is_a_diagnostic(tmp_path):
    r = invoke("check", str(tmp_path / "nope.arch"))
    assert r.exit_code == 1 and "E007" in r.stderr and "Traceback" not in r.stderr


def test_json_format(tmp_path):
    import json
    r = invoke("check", CATS, "--format", "json")
    rec = json.loads(r.stdout.strip().splitlines()[-1])
    assert rec["params"] == 93_506 and rec["outputs"] == ["[2]"]


def test_summary_shows_the_recurrent_members_a_spec_reads_by_their_path():
    r = invoke("summary", str(SPECS / "stock_rnn.arch"))
    assert r.exit_code == 0, r.output
    names = [line.split()[0] for line in r.stdout.split("\n\n")[0].splitlines()[3:-2]]
    assert names == ["prices", "reader", "reader.last", "head"]  # `.state` is never read: no row


# ------------------------------------------------------------ one exit path for every command
class Injected(Exception):
    """Stands for a bug in the library: no command may let it out as a traceback."""


def _boom(*args, **kwargs):
    raise Injected("injected fault")


# (command line, the library function it calls that is made to fail)
INJECTED = {
    "check": (["check", CATS], "archlang.compiler.cli.check_file"),
    "summary": (["summary", CATS], "archlang.compiler.cli.summary_table"),
    "run": (["run", CATS], "archlang.compiler.lower.lower"),
    "compile": (["compile", CATS, "-o", "{tmp}/m.pt"], "archlang.compiler.lower.lower"),
    "diagram": (["diagram", CATS], "archlang.compiler.diagram.draw"),
    "fmt": (["fmt", "--check", CATS], "archlang.dsl.fmt.format_text"),
    "compare": (["compare", CATS], "archlang.compiler.compare.profile"),
}


def _inject(monkeypatch, tmp_path, name, *extra):
    args, target = INJECTED[name]
    module, attr = target.rsplit(".", 1)
    monkeypatch.setattr(f"{module}.{attr}", _boom)
    return CliRunner().invoke(main, [a.format(tmp=tmp_path) for a in args] + list(extra))


@pytest.mark.parametrize("name", sorted(INJECTED))
def test_an_unexpected_exception_in_any_command_is_one_internal_error_diagnostic(name, monkeypatch, tmp_path):
    r = _inject(monkeypatch, tmp_path, name)
    assert isinstance(r.exception, SystemExit), repr(r.exception)
    assert r.exit_code == 1  # documented: 1, the spec could not be handled
    assert "error[E900]: internal error: Injected: injected fault" in r.stderr
    assert "please report this with the spec that caused it" in r.stderr
    assert "Traceback" not in r.output + r.stderr
    assert not (tmp_path / "m.pt").exists()


@pytest.mark.parametrize("name", sorted(INJECTED))
def test_debug_lets_the_traceback_through(name, monkeypatch, tmp_path):
    r = _inject(monkeypatch, tmp_path, name, "--debug")
    assert isinstance(r.exception, Injected), repr(r.exception)
    assert "E900" not in r.stderr
    assert "Traceback" in "".join(traceback.format_exception(*r.exc_info))


def test_an_unwritable_output_is_refused_with_exit_2(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    r = invoke("diagram", CATS, "-o", str(blocker / "sub" / "d.txt"))
    assert r.exit_code == 2, r.output
    assert r.stderr.startswith("error: cannot write") and "Traceback" not in r.stderr


# ------------------------------------------------------------ summary facts and progress (issue 15)


def test_summary_facts_follow_the_table():
    r = invoke("summary", str(SPECS / "resnet18.arch"))
    assert r.exit_code == 0, r.output
    facts = dict(re.split(r"\s{2,}", line, maxsplit=1) for line in r.stdout.split("\n\n")[1].splitlines())
    assert facts["trainable params"] == "11,689,512" and facts["non-trainable params"] == "0"
    assert facts["params size"] == "46.76 MB"  # torchinfo's "Params size (MB)" for torchvision's resnet18
    assert facts["input image"] == "[3, 224, 224]" and facts["output output"] == "[1000]"
    assert facts["input size"] == "0.60 MB per sample"  # 3·224·224 float32


def test_summary_as_json_and_markdown():
    import json
    r = invoke("summary", CATS, "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["model"] == "CatsVsDogs" and doc["params"] == 93_506 == sum(row["params"] for row in doc["rows"])
    assert doc["param_bytes"] == 4 * 93_506 and doc["inputs"] == [["image", "[3, 128, 128]"]]
    # every layer's float32 output per sample: the convolutions, ReLUs and pools, then the small tail
    assert doc["activation_bytes"] == 4 * (2 * (32 * 128**2 + 64 * 64**2 + 128 * 32**2)
                                           + 32 * 64**2 + 64 * 32**2 + 128 * 16**2 + 128 + 128 + 2)
    md = invoke("summary", str(SPECS / "resnet18.arch"), "--depth", "1", "--format", "markdown").stdout
    assert "| layer1.0 | BasicBlock | [64, 56, 56] | 73,984 | 231,211,008 |" in md
    assert "- trainable params: 11,689,512" in md


def _on_a_terminal(*args: str) -> tuple[int, str, str]:
    """Run `archlang ARGS` with stderr on a pseudo-terminal; its exit code, stdout and what the terminal showed."""
    import os
    import pty
    import subprocess
    import sys

    from conftest import ROOT
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "archlang.compiler.cli", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=slave, text=True)
    os.close(slave)
    shown = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the other end closed
            break
        if not chunk:
            break
        shown += chunk
    out = proc.communicate(timeout=300)[0]
    os.close(master)
    return proc.returncode, out, shown.decode()


def test_slow_steps_show_progress_on_a_terminal_only(tmp_path):
    import subprocess
    import sys

    from conftest import ROOT
    code, out, shown = _on_a_terminal("compile", CATS, "-o", str(tmp_path / "m.pt"))
    assert code == 0 and out.startswith("wrote ")
    assert "building CatsVsDogs..." in shown and "writing m.pt..." in shown and " s\r\n" in shown
    code, out, shown = _on_a_terminal("run", CATS)
    assert code == 0 and "building CatsVsDogs..." in shown and "running CatsVsDogs..." in shown
    piped = subprocess.run([sys.executable,
        "-m", "archlang.compiler.cli", "compile", CATS, "-o", str(tmp_path / "n.pt")],
                           cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert piped.returncode == 0 and piped.stderr == ""


def test_a_command_that_builds_says_how_to_get_torch_when_it_is_missing(monkeypatch):
    def no_torch(*args, **kwargs):
        raise ModuleNotFoundError("No module named 'torch'", name="torch")

    monkeypatch.setattr("archlang.compiler.lower.lower", no_torch)
    result = CliRunner().invoke(main, ["run", CATS])
    assert result.exit_code == 2
    assert "pip install 'archlang[torch]'" in result.output and "Traceback" not in result.output
