"""What the example scripts share: the command line (--steps, --seconds), a
one-line progress bar, text from Python's own standard library turned into
character ids, a training loop that stops on steps or on time, and the whole
next-character recipe that char_lstm.py and tiny_gpt.py share.

Nothing here knows about a particular spec: the scripts name theirs, and
stock_rnn.py hands `train` its own step function.
"""

from __future__ import annotations

import argparse
import math
import sys
import sysconfig
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
if str(ROOT) not in sys.path:  # run as `python examples/NAME.py` from anywhere, without installing
    sys.path.insert(0, str(ROOT))

# Modules with plenty of prose in docstrings and comments, not only code; the
# list is fixed so every run of every example reads the same text.
STDLIB_MODULES = ("textwrap", "difflib", "argparse", "calendar", "fractions", "heapq",
                  "statistics", "string", "shlex", "dataclasses", "pathlib", "functools")


def parse_args(argv, description: str, *, seconds: float, steps: int | None = None, **extra):
    """The options every example takes; `extra` maps more option names to
    defaults. Sets torch's CPU threads (`--threads`, 1 unless told): these
    models' matrices are too small to split well, and on shared or busy cores
    two threads that wait on each other ran 7 to 13 times slower than one."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--steps", type=int, default=steps, help="stop after this many training steps")
    p.add_argument("--seconds", type=float, default=seconds, help="stop after this much training time")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (0: torch's default)")
    for name, default in extra.items():
        p.add_argument(f"--{name.replace('_', '-')}", type=type(default), default=default)
    args = p.parse_args(argv)
    if args.threads:
        import torch
        torch.set_num_threads(args.threads)
    return args


def progress(step: int, total: int | None, elapsed: float, budget: float, **figures) -> None:
    """Redraw one status line in place (`\\r`), showing whichever limit is nearer."""
    done = max(step / total if total else 0.0, elapsed / budget if budget else 0.0)
    bar = "#" * int(24 * min(done, 1.0))
    shown = "  ".join(f"{k} {v:.4f}" for k, v in figures.items())
    sys.stdout.write(f"\r[{bar:<24}] step {step}{f'/{total}' if total else ''}  {elapsed:5.1f}s  {shown}")
    sys.stdout.flush()


def train(step_fn: Callable[[int], float], *, steps: int | None, seconds: float, every: int = 5) -> tuple[int, float]:
    """Call `step_fn(i)` (one optimisation step, returning its loss) until
    `steps` steps are done or `seconds` have passed; return (steps, seconds)."""
    start, i, smooth = time.perf_counter(), 0, None
    while (steps is None or i < steps) and time.perf_counter() - start < seconds:
        loss = step_fn(i)
        if not math.isfinite(loss):
            raise FloatingPointError(f"loss became {loss} at step {i}")
        smooth = loss if smooth is None else 0.9 * smooth + 0.1 * loss
        i += 1
        if i % every == 0 or i == steps:
            progress(i, steps, time.perf_counter() - start, seconds, loss=smooth)
    sys.stdout.write("\n")
    return i, time.perf_counter() - start


def stdlib_text(limit: int = 400_000) -> str:
    """About `limit` characters of the standard library's own sources: text
    that ships with every Python, so the examples need no download."""
    lib = Path(sysconfig.get_paths()["stdlib"])
    parts, size = [], 0
    names = list(STDLIB_MODULES) + sorted(p.stem for p in lib.glob("*.py"))
    for name in dict.fromkeys(names):
        path = lib / f"{name}.py"
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        parts.append(text)
        size += len(text)
        if size >= limit:
            break
    return "".join(parts)[:limit]


class Chars:
    """A character vocabulary: the printable ASCII characters and newline, so
    its size (96) is the char_lstm spec's default `vocab`. Tabs become four
    spaces; anything else outside it becomes `?`."""

    def __init__(self):
        self.chars = "\n" + "".join(chr(c) for c in range(32, 127))
        self.index = {c: i for i, c in enumerate(self.chars)}

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> list[int]:
        unknown = self.index["?"]
        return [self.index.get(c, unknown) for c in text.replace("\t", "    ")]

    def decode(self, ids) -> str:
        return "".join(self.chars[int(i)] for i in ids)


def text_splits(train_fraction: float = 0.9):
    """(vocabulary, training ids, held-out ids) of the stdlib text, as torch tensors."""
    import torch
    chars = Chars()
    ids = torch.tensor(chars.encode(stdlib_text()), dtype=torch.long)
    cut = int(len(ids) * train_fraction)
    return chars, ids[:cut], ids[cut:]


def windows(ids, batch: int, seq: int, generator):
    """`batch` random windows of `seq + 1` ids: inputs and next-character targets."""
    import torch
    starts = torch.randint(0, len(ids) - seq - 1, (batch,), generator=generator)
    rows = torch.stack([ids[s:s + seq + 1] for s in starts.tolist()])
    return rows[:, :-1], rows[:, 1:]


def next_token_loss(model, x, y):
    """Mean cross-entropy of the logits the model gives at every position."""
    import torch.nn.functional as F
    logits = model(x)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))


def held_out_loss(model, batches) -> float:
    """Next-token loss over fixed held-out batches, in eval mode (no dropout)."""
    import torch
    was_training = model.training
    model.eval()
    with torch.no_grad():
        total = sum(next_token_loss(model, x, y).item() for x, y in batches) / len(batches)
    model.train(was_training)
    return total


def sample(model, chars: Chars, prompt: str, *, length: int = 120, context: int = 128,
           temperature: float = 0.8, generator=None) -> str:
    """Continue `prompt` one character at a time until a newline or `length`
    characters; the model sees at most the last `context` characters."""
    import torch
    model.eval()
    ids = chars.encode(prompt)
    out = []
    with torch.no_grad():
        for _ in range(length):
            logits = model(torch.tensor([ids[-context:]]))[0, -1] / temperature
            nxt = int(torch.multinomial(torch.softmax(logits, -1), 1, generator=generator))
            if chars.chars[nxt] == "\n":
                break
            ids.append(nxt)
            out.append(nxt)
    return prompt + chars.decode(out)


def train_next_char(spec: Path, name: str, args, *, context: int, init: Callable | None = None) -> dict:
    """Build `spec` with `vocab` set to the character vocabulary, train it on
    stdlib text to predict the next character, report and return the figures.
    `context` is the longest window the model may read (a GPT's block size);
    `init(model)`, if given, re-initialises the weights before training."""
    import torch

    from archlang import compiler

    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    chars, train_ids, test_ids = text_splits()
    model = compiler.build(spec, vocab=len(chars))
    if init is not None:
        init(model)
    held_out = [windows(test_ids, args.batch, args.seq, gen) for _ in range(4)]
    before = held_out_loss(model, held_out)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.0)

    def step(_):
        x, y = windows(train_ids, args.batch, args.seq, gen)
        loss = next_token_loss(model, x, y)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)  # early LSTM/attention steps spike without it
        opt.step()
        return loss.item()

    print(f"{name}: {sum(p.numel() for p in model.parameters()):,} parameters, "
          f"{len(train_ids):,} training characters of stdlib source, vocab {len(chars)}")
    steps, seconds = train(step, steps=args.steps, seconds=args.seconds)
    after = held_out_loss(model, held_out)
    line = sample(model, chars, "    def ", context=context, generator=gen)
    print(f"trained {steps} steps in {seconds:.1f} s (batch {args.batch} × {args.seq} characters)")
    print(f"held-out loss: {before:.3f} → {after:.3f} ({after / before:.2f}× the start)")
    print(f"sample: {line}")
    return {"steps": steps, "seconds": seconds, "loss_before": before, "loss_after": after, "sample": line}
