"""How long finding a shape bug takes: `archlang check` against plain torch.

What users do today to find a shape bug is build the network in torch and
push a dummy input through it. This prints, for ResNet-50:

- the check of specs/resnet50.arch in this process, best of N: with every
  file parsed afresh, and as an editor or notebook sees it, the texts
  already parsed (the parser memoises ASTs by text);
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
    from archlang.dsl.parse import _parse_cached
    _parse_cached.cache_clear()
    check_resnet50()


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
    t_check = best(check_resnet50, 20)
    torch_resnet50()
    t_torch = best(torch_resnet50, 5)
    print(f"ResNet-50, best of runs in one process ({torch.get_num_threads()} CPU threads)")
    print(f"  archlang check specs/resnet50.arch, every file parsed:                  {t_parsing * 1e3:8.1f} ms")
    print(f"  archlang check specs/resnet50.arch, texts already parsed (editor):       {t_check * 1e3:8.1f} ms")
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
