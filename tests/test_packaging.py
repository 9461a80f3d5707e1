"""The wheel: `archlang.dsl` and `archlang.compiler` inside one `archlang` package, no top-level `dsl` or `compiler`."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile

from conftest import ROOT


def test_the_wheel_ships_one_archlang_package_that_checks_and_builds(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(tmp_path / "dist"), str(ROOT)], check=True, capture_output=True, timeout=300)
    wheel = next((tmp_path / "dist").glob("archlang-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith((".dist-info", ".data"))}
    assert tops == {"archlang"}
    assert "archlang/dsl/grammar.lark" in names and "archlang/dsl/std/resnet.arch" in names
    assert "archlang/compiler/serve_static/index.html" in names
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    code = (
        "import importlib.util, sys, archlang\n"
        f"assert archlang.__file__.startswith({str(site)!r}), archlang.__file__\n"
        "assert importlib.util.find_spec('dsl') is None and importlib.util.find_spec('compiler') is None\n"
        f"res = archlang.check_file({str(ROOT / 'specs' / 'resnet18.arch')!r})\n"
        "assert res.ok and res.graph.params == 11_689_512, res.diagnostics\n"
        "assert 'torch' not in sys.modules\n"
        f"m = archlang.build({str(ROOT / 'specs' / 'cats_vs_dogs.arch')!r}, seed=0)\n"
        "print(sum(p.numel() for p in m.parameters()))\n"
    )
    # Run away from the checkout, with the installed wheel first on the path.
    env = {**os.environ, "PYTHONPATH": str(site)}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["93506"]


def test_every_package_folder_is_shipped():
    import tomllib

    declared = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {"archlang"} | {"archlang." + ".".join(p.parent.relative_to(ROOT).parts)
                            for top in ("dsl", "compiler") for p in (ROOT / top).rglob("__init__.py")}
    assert declared == found
