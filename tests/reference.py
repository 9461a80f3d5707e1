"""Reference facts for tests: the state_dict key lists in tests/fixtures/keys.

Each fixture was copied from the reference implementations (torchvision,
torch.nn, transformers): one `key [d0, d1, ...]` a line, in the reference's
order, `#` lines are comments.
"""

from __future__ import annotations

from pathlib import Path

KEYS = Path(__file__).resolve().parent / "fixtures" / "keys"


def reference_keys(name: str) -> list[tuple[str, tuple[int, ...]]]:
    entries = []
    for line in (KEYS / f"{name}.keys").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        key, _, shape = line.partition(" ")
        dims = shape.strip().removeprefix("[").removesuffix("]")
        entries.append((key, tuple(int(d) for d in dims.split(",") if d.strip())))
    return entries


def state_keys(module) -> list[tuple[str, tuple[int, ...]]]:
    return [(k, tuple(v.shape)) for k, v in module.state_dict().items()]
