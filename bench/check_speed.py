"""How long finding a shape bug takes: `archlang check` against plain torch.

What users do today to find a shape bug is build the network in torch and
push a dummy input through it. This prints, for ResNet-50:

- the check of specs/resnet50.arch in this process, best of N: as the
  first check of a process (every file parsed afresh, the spec and the
  standard library's `std/resnet`, and no layer use remembered);
  with the spec's text changed since the last check, as an editor sees it
  after a keystroke (the standard library parsed once per process); and
  with the texts unchanged, as a notebook re-running a cell sees it (the
  parser memoises ASTs by text);
- beside it, building the same network in plain torch (written out below,
  no torchvision) and running one 1×3×224×224 input through it;
- a fresh `archlang check specs/resnet50.arch` process against a bare
  `python -c "import torch"`, interleaved, best of N, and their ratio.

    .venv/bin/python bench/check_speed.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from timing import best  # noqa: E402


def check_resnet50() -> None:
    from archlang import dsl
    res = dsl.check_file(ROOT / "specs" / "resnet50.arch")
    assert res.ok and res.graph.params == 25_557_032


def check_resnet50_parsing() -> None:
    """The first check of a process, but for its imports and the grammar's table: every file parsed, and
    no layer use remembered from an earlier check."""
    from archlang.dsl.expand.layers import forget_layer_uses
    from archlang.dsl.parse import _parse_cached
    _parse_cached.cache_clear()
    forget_layer_uses()
    check_resnet50()


_edits = iter(range(10**9))


def check_resnet50_edited() -> None:
    """The spec's text changed since the last check (an editor after a keystroke), the standard library not:
    a comment line with a new number each time, so the spec is parsed afresh and `std/resnet` is not."""
    from archlang import dsl
    path = ROOT / "specs" / "resnet50.arch"
    text = path.read_text() + f"# edit {next(_edits)}\n"
    res = dsl.check_text(text, name=str(path), root=path.parent)
    assert res.ok and res.graph.params == 25_557_032


def torch_resnet50():
    import torch
    from reference_nets import ResNet50

    model = ResNet50()
    with torch.no_grad():
        model(torch.randn(1, 3, 224, 224))
    return model


def cold(args: list[str], n: int = 3) -> float:
    """A fresh process each time: what a user waits for at the prompt."""
    import subprocess
    return best(lambda: subprocess.run([sys.executable, *args], cwd=ROOT, check=True, capture_output=True), n)


def interleaved(a: list[str], b: list[str], n: int = 7) -> tuple[float, float]:
    """Best of `n` fresh processes of each, taken in turns so that both see the same machine."""
    ta, tb = [], []
    for _ in range(n):
        ta.append(cold(a, 1))
        tb.append(cold(b, 1))
    return min(ta), min(tb)


COLD_TORCH = (
    "import sys; sys.path.insert(0, 'bench'); import check_speed; check_speed.torch_resnet50()"
)


def main() -> None:
    import torch  # imported up front: its import time is not part of the baseline's repeated runs
    torch.set_num_threads(max(1, torch.get_num_threads()))
    check_resnet50()  # warm: lark's parser table is built once per process (and cached on disk)
    t_parsing = best(check_resnet50_parsing, 20)
    t_edited = best(check_resnet50_edited, 20)
    t_check = best(check_resnet50, 20)
    torch_resnet50()
    t_torch = best(torch_resnet50, 5)
    print(f"ResNet-50, best of runs in one process ({torch.get_num_threads()} CPU threads)")
    print(f"  archlang check specs/resnet50.arch, first check, every file parsed:     {t_parsing * 1e3:8.1f} ms")
    print(f"  archlang check specs/resnet50.arch, spec edited, std already parsed:     {t_edited * 1e3:8.1f} ms")
    print(f"  archlang check specs/resnet50.arch, texts already parsed:                {t_check * 1e3:8.1f} ms")
    print(f"  plain torch: build the network and run one 1×3×224×224 input:          {t_torch * 1e3:8.1f} ms")
    print(f"  ratio: checking is {t_torch / t_parsing:.1f}× faster than building and running")
    c_check, c_import = interleaved(["-m", "archlang.compiler.cli", "check", "specs/resnet50.arch"],
                                    ["-c", "import torch"])
    c_torch = cold(["-c", COLD_TORCH])
    print("From a fresh process (the command a user types; includes Python start-up and imports)")
    print(f"  archlang check specs/resnet50.arch (no torch import):                 {c_check * 1e3:8.1f} ms")
    print(f"  python -c 'import torch' (nothing else):                              {c_import * 1e3:8.1f} ms")
    print(f"  python: import torch, build ResNet-50, run one input:                 {c_torch * 1e3:8.1f} ms")
    print(f"  ratio: a fresh check takes {c_check / c_import:.2f}× a bare `import torch` "
          f"and {c_check / c_torch:.2f}× building and running in torch")


if __name__ == "__main__":
    main()
