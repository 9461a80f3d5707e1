"""Error-code catalogue: every diagnostic archlang can report, defined once.

Stage: shared by every stage of `dsl/` (parse, expand, infer) and by the CLI.
Code reports a problem by its code and the template's fields, never with a
free-form string at the call site; `docs/errors.md` is generated from here
(`python -m archlang.dsl.errors > docs/errors.md`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorCode:
    """One message of the catalogue. A code may have several messages (`E401`'s kinds of type
    error); each names its `form`, and a caller picks one by code and form."""

    code: str
    title: str
    template: str
    hint: str | None = None
    form: str | None = None


_CODES = [
    # E0xx — reading and parsing the text
    ErrorCode("E001", "unexpected token", "unexpected {found}; expected {expected}"),
    ErrorCode("E002", "unclosed bracket", "unclosed `{opener}`", "add the matching `{closer}`"),
    ErrorCode("E003", "mismatched bracket", "`{closer}` does not close `{opener}` opened at line {line}"),
    ErrorCode("E004", "invalid character", "invalid character {char}"),
    ErrorCode("E005", "unexpected end of file", "unexpected end of file; expected {expected}"),
    ErrorCode("E006", "nesting too deep", "nesting deeper than {limit} levels", "split the spec into blocks"),
    ErrorCode("E009", "unmatched closing bracket",
              "`{closer}` closes nothing: no `{opener}` is open here",
              "remove it, or add the `{opener}` it should close"),
    ErrorCode("E007", "file unreadable", "cannot read {path}: {reason}"),
    ErrorCode("E008", "file too large", "{path} is {size} bytes; specs are limited to {limit}"),
    ErrorCode("E008", "file too large", "{path} holds more than {limit} tokens",
              "split it into files that import one another", form="tokens"),
    # E1xx — names and arguments
    ErrorCode("E101", "unknown layer", "unknown layer or block `{name}`"),
    ErrorCode("E102", "undefined name", "undefined name `{name}`"),
    ErrorCode("E103", "duplicate label",
              "label `{name}` is already defined on line {line}",
              "labels name parameters (§6), so each must be unique in its body"),
    ErrorCode("E104", "label shadows a name", "label `{name}` shadows the {what} `{name}`", "rename one of them"),
    ErrorCode("E105", "unknown argument", "`{layer}` has no argument `{name}`"),
    ErrorCode("E106", "missing argument", "`{layer}` needs the argument `{name}`"),
    ErrorCode("E107", "ill-typed argument", "argument `{name}` of `{layer}` must be {expected}, not {got}"),
    ErrorCode("E108", "too many arguments", "`{layer}` takes at most {limit} positional arguments, {count} given"),
    ErrorCode("E109", "recursion",
              "block `{name}` uses itself: {cycle}", "blocks cannot be recursive; use `repeat` for depth"),
    ErrorCode("E110", "unknown model", "no model `{name}` in {path}"),
    ErrorCode("E111", "model needed", "{path} holds several models ({names}); pick one", "pass --model NAME"),
    ErrorCode("E112", "no model", "{path} holds no model"),
    ErrorCode("E113", "unknown parameter", "model `{model}` has no parameter `{name}`"),
    ErrorCode("E114", "parameter without value",
              "model parameter `{name}` has no default and no value", "pass --set {name}=VALUE"),
    ErrorCode("E115", "argument given twice", "argument `{name}` of `{layer}` is given twice"),
    ErrorCode("E116", "not a value",
              "`{name}` is {what}, not a tensor value",
              "merges and tensor arguments take labelled values: `skip: ...`, then `add(skip)`"),
    ErrorCode("E117", "duplicate definition", "`{name}` is already defined on line {line}"),
    # E2xx — imports
    ErrorCode("E201", "import outside the tree",
              "import `{path}` leaves the spec's directory tree",
              "imports are confined to the directory of the spec being checked"),
    ErrorCode("E202", "import not found", "cannot find `{path}`"),
    ErrorCode("E203", "import cycle", "`{path}` imports itself through {cycle}"),
    # E3xx — shapes
    ErrorCode("E301", "wrong rank", "{layer} needs {expected} input here, but it receives {got}"),
    ErrorCode("E302", "residual shape mismatch",
              "residual branches disagree: the body gives {left}, the shortcut gives {right}",
              "make both branches end in the same shape (a 1×1 conv in `shortcut` adapts channels and stride)"),
    ErrorCode("E303", "merge shape mismatch", "{layer} cannot merge {left} with {right}{detail}"),
    ErrorCode("E304", "non-positive size", "{what} must be positive, got {value}"),
    ErrorCode("E305", "kernel larger than input", "{layer} kernel {kernel} is larger than its (padded) input {size}"),
    ErrorCode("E306", "size not concrete",
              "{layer} needs a concrete size, but {what} is {value}",
              "give the symbol a value with --set, or avoid flattening a symbolic dimension"),
    ErrorCode("E307", "bad reshape", "cannot reshape {got} into {target}{detail}"),
    ErrorCode("E308", "wrong input kind", "{layer} needs {expected} input, but it receives {got}"),
    ErrorCode("E309", "channels and groups", "{layer}: {what} ({value}) is not divisible by groups ({groups})"),
    ErrorCode("E310", "bad dimension", "dimension {dim} is out of range for {got}"),
    ErrorCode("E311", "merge needs several values",
              "{layer} needs at least two values to merge",
              "write `parallel {{ ... }} -> {layer}` or `{layer}(other)`"),
    ErrorCode("E312", "unmerged parallel",
              "the branches of `parallel` must flow into a merge (`concat`, `add` or `mul`)",
              "follow the branches with a merge: `parallel {{ ... }} -> concat`"),
    ErrorCode("E313", "no current value",
              "{what} has no value to work on here", "start the chain from a named value: `x -> ...`"),
    ErrorCode("E314", "sequence longer than the table",
              "{layer} holds {max_len} positions, but the sequence has {seq}", "raise `max_len` to at least {seq}"),
    ErrorCode("E315", "heads do not divide the width",
              "{layer}: the width {width} is not divisible by {heads} heads",
              "each head takes width / heads features; use a head count that divides {width}"),
    ErrorCode("E316", "memory width mismatch",
              "{layer} attends to a memory of width {got}, but its queries have width {width}",
              "keys and values are projected from the memory at the queries' width; map the memory to it with "
              "`linear({width})` first"),
    ErrorCode("E317", "initial state mismatch",
              "{layer} starts from {want}, but `init=` gives {got}",
              "`init=` takes `.state` of a recurrent layer of the same kind, width and depth"),
    ErrorCode("E318", "not recurrent",
              "`.{attr}` is read off a recurrent layer (rnn, lstm, gru), but {what} is not one",
              "label the recurrent layer and write `label.{attr}`"),
    ErrorCode("E319", "tied weight of the wrong shape",
              "{layer} needs a weight {want} to tie, but `tie=` names a weight {got}",
              "a tied output layer reads the embedding backwards: `linear(vocab, tie=wte)` after `wte: "
              "embedding(vocab, d)` on `[seq, d]` values"),
    ErrorCode("E320", "nothing to tie",
              "`tie=` names {what}, which has no weight to share",
              "give the embedding a statement and a label of its own (`wte: embedding(vocab, d)`) and name that label"),
    # E33x — attention from parts (`attend`)
    ErrorCode("E330", "key heads do not divide the heads",
              "{layer}: {heads} query heads cannot share {kv_heads} key/value heads",
              "each key/value head serves heads / kv_heads query heads; use a kv_heads that divides {heads}"),
    ErrorCode("E331", "rotary on an odd width",
              "{layer}: rotary positions turn pairs of features, but {what} is {width}, an odd number",
              "rotate an even number of features: an even head width, or an even `rotary_dims`"),
    ErrorCode("E332", "query, key and value disagree",
              "{layer}: {what}", "the queries' width is heads × head width; keys and values have kv_heads × it"),
    ErrorCode("E333", "attention bias of the wrong shape",
              "{layer} adds a bias {want} to its scores, but `position_bias=` gives {got}",
              "the bias is [heads, query length, key length] (or [1, ...] for one shared by every head)"),
    # E4xx — expressions and limits
    ErrorCode("E401", "type error", "this needs a number, but {symbol} is symbolic", form="symbolic"),
    ErrorCode("E401", "type error", "this expression is not a number (NaN)", form="nan"),
    ErrorCode("E401", "type error", "{what} has no attribute `{attr}`", form="no_attribute"),
    ErrorCode("E401", "type error", "{what} cannot be indexed", form="not_indexable"),
    ErrorCode("E401", "type error", "an index must be an integer, not {got}", form="index"),
    ErrorCode("E401", "type error", "`{func}` takes no named arguments", form="named_arguments"),
    ErrorCode("E401", "type error", "`len` takes one list", form="len"),
    ErrorCode("E401", "type error", "`{func}` takes numbers", form="min_max"),
    ErrorCode("E401", "type error", "`abs` takes one number", form="abs"),
    ErrorCode("E401", "type error", "`{op}` needs a number, not {got}", form="unary"),
    ErrorCode("E401", "type error", "cannot compare {left} with {right}", form="compare"),
    ErrorCode("E401", "type error", "`{op}` needs numbers, not {left} and {right}", form="operands"),
    ErrorCode("E401", "type error", "unknown operator `{op}`", form="operator"),
    ErrorCode("E402", "division by zero", "division by zero"),
    ErrorCode("E403", "index out of range", "index {index} is out of range for {what}"),
    ErrorCode("E404", "value too large", "{what} is too large ({value}); the limit is {limit}"),
    ErrorCode("E405", "network too large", "the expanded network exceeds {limit} layers", "check `repeat` counts"),
    ErrorCode("E406", "condition not boolean", "`{what}` needs a true/false condition, got {got}"),
    ErrorCode("E407", "unknown function", "unknown function `{name}`"),
    ErrorCode("E408", "over the memory budget",
              "model `{model}` needs {need} ({params} of parameters, {activations} of activations at batch {batch}); "
              "the memory budget is {budget}",
              "raise the budget with `{flag}` (the default is {default}), or make the model smaller"),
    # E5xx — structure of a model
    ErrorCode("E501", "duplicate input", "input `{name}` is declared twice"),
    ErrorCode("E502", "several inputs",
              "model `{model}` has several inputs; start the chain from one of them", "write `{first} -> ...`"),
    ErrorCode("E503", "no input", "model `{model}` declares no input", "add `input x: [...]`"),
    ErrorCode("E504", "statement not allowed here", "{what} is not allowed in {where}"),
    # E9xx — the tool itself
    ErrorCode("E900", "internal error", "internal error: {message}", "please report this with the spec that caused it"),
    # E6xx — weights loaded into a built model (`compiler.build(spec, weights=path)`)
    ErrorCode("E601", "checkpoint does not fit",
              "the checkpoint `{file}` does not fit model `{model}`: {missing} missing, {unexpected} unexpected{keys}",
              "the model's names are the rows of `archlang summary`: rename the checkpoint's keys or the labels"),
    ErrorCode("E601", "checkpoint does not fit",
              "`{key}` in the checkpoint `{file}` is {got}, but model `{model}` needs {want}",
              "check the spec's sizes and arguments against the network the checkpoint was trained as", form="shape"),
    ErrorCode("E601", "checkpoint does not fit", "cannot read the checkpoint `{file}`: {reason}",
              "give a .pt/.pth/.bin file of torch.save(state_dict) or a .safetensors file", form="read"),
]

# Every code by its first message; every message by (code, form).
CODES: dict[str, ErrorCode] = {c.code: c for c in reversed(_CODES)}
FORMS: dict[tuple[str, str | None], ErrorCode] = {(c.code, c.form): c for c in _CODES}


def format_message(code: str, fields: dict, form: str | None = None) -> tuple[str, str | None]:
    """The message and default hint of `code` (its message `form`, or its first) filled with `fields`."""
    entry = FORMS[(code, form)] if form is not None else CODES[code]
    message = entry.template.format(**fields)
    hint = entry.hint.format(**fields) if entry.hint else None
    return message, hint


def markdown() -> str:
    lines = ["# archlang error codes", "", "Generated from `dsl/errors.py`.", "",
             "| code | title | message | hint |", "|---|---|---|---|"]
    def shown(template: str) -> str:  # `{{` is a literal brace in a template
        return template.replace("{{", "{").replace("}}", "}").replace("|", "\\|")

    for c in _CODES:
        lines.append(f"| {c.code} | {c.title} | {shown(c.template)} | {shown(c.hint or '')} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(markdown(), end="")
