"""The fuzzing engine: specs made by mutation and from the grammar, and the oracle that judges a check.

Shared by `tests/test_fuzz.py` (a few hundred cases on every CI run) and
`bench/fuzz.py` (long runs in a guarded subprocess). It only makes text and
judges what `dsl.check_text` answers; it never imports torch.

The oracle holds archlang's promise for bad input (LANGUAGE.md §7): checking
any text ends in diagnostics, never an exception and never an internal error
(E900); and every diagnostic that points into the fuzzed file quotes the very
line its span names, as the lexer counts lines (only `\\n` ends a line).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS_DIRS = (ROOT / "specs", ROOT / "dsl" / "std", ROOT / "examples")
FUZZ_NAME = "fuzzed.arch"

# Pieces a mutation splices in: the language's own words and the values that broke
# earlier versions (huge and tiny numbers, powers, non-ASCII line breaks in comments).
TOKENS = (
    "->", "{", "}", "(", ")", "[", "]", ",", ";", ":", ".", "=", "\n", " ", "\t",
    "block", "model", "input", "output", "import", "let", "residual", "shortcut", "parallel", "repeat", "if",
    "else", "in", "true", "false", "none", "and", "or", "not",
    "0", "1", "-1", "2", "3", "7", "64", "1e8", "1e308", "0.5", "10**9", "2**62", "0**-1", "(0**-1)", "9" * 400,
    "+", "-", "*", "/", "//", "%", "**", "==", "<", ">=",
    "conv(8, 3)", "linear(10)", "relu", "flatten", "maxpool(2)", "layernorm", "embedding(10, 4)",
    "attention(2)", "lstm(4)", "add(x)", "concat", "reshape([-1])", "repeat(3) { relu }", "x", "seq",
    '"same"', '"\\n"', "# note", "# \f form feed", "# \u2028 line separator", "é", "\u00a0", "\r",
)


@dataclass(frozen=True)
class Finding:
    """One broken promise: what kind, and a short description."""
    kind: str  # "exception" | "internal" | "caret"
    detail: str


def corpus() -> list[str]:
    """The shipped specs and standard library: the seeds that mutations start from."""
    texts = []
    for d in CORPUS_DIRS:
        texts += [p.read_text(encoding="utf-8") for p in sorted(d.glob("*.arch"))]
    return texts


def mutate(text: str, rng: random.Random, rounds: int | None = None) -> str:
    """A few random edits of `text`: delete, duplicate, swap, splice a token, change a number."""
    for _ in range(rounds if rounds is not None else rng.randint(1, 4)):
        if not text:
            text = rng.choice(TOKENS)
            continue
        i = rng.randrange(len(text))
        j = min(len(text), i + rng.randint(1, 24))
        op = rng.randrange(7)
        if op == 0:  # delete a span
            text = text[:i] + text[j:]
        elif op == 1:  # insert a token
            text = text[:i] + rng.choice(TOKENS) + text[i:]
        elif op == 2:  # replace a span with a token
            text = text[:i] + rng.choice(TOKENS) + text[j:]
        elif op == 3:  # duplicate a line
            lines = text.split("\n")
            k = rng.randrange(len(lines))
            lines.insert(k, lines[k])
            text = "\n".join(lines)
        elif op == 4:  # swap two lines
            lines = text.split("\n")
            a, b = rng.randrange(len(lines)), rng.randrange(len(lines))
            lines[a], lines[b] = lines[b], lines[a]
            text = "\n".join(lines)
        elif op == 5:  # change a number
            digits = [k for k, c in enumerate(text) if c.isdigit()]
            if digits:
                k = rng.choice(digits)
                text = text[:k] + rng.choice(("0", "1", "-1", "3", "1e8", "10**9", "99999")) + text[k + 1:]
        else:  # cut the text short
            text = text[:i]
    return text


def mutated_cases(n: int, seed: int) -> Iterator[str]:
    rng = random.Random(seed)
    seeds = corpus()
    for _ in range(n):
        yield mutate(rng.choice(seeds), rng)


def judge(text: str, result) -> list[Finding]:
    """What a `CheckResult` for `text` breaks of the promise (empty: all kept)."""
    findings = []
    lines = text.split("\n")
    for d in result.diagnostics:
        if d.code == "E900":
            findings.append(Finding("internal", d.message))
        s = d.span
        if s is None or s.file != FUZZ_NAME or d.line_text is None:
            continue
        expected = lines[s.line - 1].rstrip("\r") if 1 <= s.line <= len(lines) else None
        if expected is None or d.line_text.rstrip() != expected.rstrip():
            findings.append(Finding("caret", f"[{d.code}] at line {s.line} quotes {d.line_text!r}, "
                                             f"the line there is {expected!r}"))
    return findings


def check_case(text: str) -> list[Finding]:
    """Check `text` as a file beside specs/ (so its imports resolve) and judge the answer."""
    from archlang import dsl
    try:
        result = dsl.check_text(text, name=FUZZ_NAME, root=ROOT / "specs", debug=True)
    except RecursionError:
        return [Finding("exception", "RecursionError")]
    except Exception as e:  # debug=True lets the checker's own bugs through, to name them
        return [Finding("exception", f"{type(e).__name__}: {e}"[:300])]
    return judge(text, result)


def grammar_strategy():
    """Hypothesis strings drawn from `dsl/grammar.lark` itself (hypothesis.extra.lark.from_lark).

    The grammar leaves layout to the post-lexer, so newlines and the ignored
    spaces are supplied explicitly; most drawn texts parse, the rest exercise
    the syntax-error paths.
    """
    from hypothesis import strategies as st
    from hypothesis.extra.lark import from_lark
    from lark import Lark

    grammar = Lark((ROOT / "dsl" / "grammar.lark").read_text(), parser="lalr", lexer="basic", start="start")

    def spaced(*words: str):
        # from_lark joins tokens with nothing between them (`modelM`): words carry their own spaces.
        return st.sampled_from([f" {w} " for w in words])

    explicit = {t.name: spaced(t.pattern.value) for t in grammar.terminals if t.pattern.value.isidentifier()}
    explicit |= {
        "_SEP": st.sampled_from(["\n", ";"]),
        "NAME": spaced("x", "y", "conv", "linear", "relu", "seq", "d", "Block", "M", "out", "n", "attention"),
        "INT": spaced("0", "1", "2", "3", "8", "64", "1000", "2000000"),
        "FLOAT": spaced("0.5", "1e8", "1.5e-3", "2.0"),
        "STRING": spaced('"same"', '"std/resnet"', '"tanh"', '""'),
    }
    return from_lark(grammar, start="start", explicit=explicit)
