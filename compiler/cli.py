"""The `archlang` command line: parses arguments and calls the library.

Stage: the outermost shell. Every command returns an exit code (or raises a
typed error) and `exits` alone turns that into the process's exit status,
an unexpected exception included (the internal-error diagnostic, unless
`--debug`). It checks nothing itself; torch is imported only by the
commands that build a model.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from archlang.dsl import check_file
from archlang.dsl.check import CheckResult
from archlang.dsl.diagnostics import Diagnostic, DiagnosticError, Reporter, render_json

from .report import check_line, human, open_sizes, summary_footer, summary_json, summary_markdown, summary_table

OK, SPEC_ERRORS, USAGE = 0, 1, 2


class Refused(Exception):
    """A request the tool declines although the spec is fine (a format that cannot hold the model,
    an output it cannot write): printed as `error: ...`, exit 2."""


def exit_code(results: list[CheckResult]) -> int:
    """0 when every spec checked clean, 1 when any has errors (usage errors exit 2 through click)."""
    return OK if all(r.ok for r in results) else SPEC_ERRORS


def exits(command: Callable[..., int]) -> Callable[..., None]:
    """The one owner of archlang's exit codes; every command is wrapped in it.

    The command returns its code; what it raises is mapped here:

    - 0 `OK`: the command did what was asked.
    - 1 `SPEC_ERRORS`: a spec has errors (the command returned it, or raised
      `DiagnosticError`: its diagnostics are printed), or the tool failed on it:
      any other exception becomes one E900 "internal error, please report"
      diagnostic, no traceback; with `--debug` it propagates with its traceback.
    - 2 `USAGE`: click's usage errors (click prints and exits 2 itself), and
      `Refused`, printed as `error: ...`.
    """
    @functools.wraps(command)
    def run_command(*args: Any, **kwargs: Any) -> None:
        try:
            code = command(*args, **kwargs)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Refused as e:
            click.echo(f"error: {e}", err=True)
            code = USAGE
        except DiagnosticError as e:
            _print_diagnostics(e.diagnostics, "text")
            code = SPEC_ERRORS
        except ModuleNotFoundError as e:
            if e.name != "torch" or kwargs.get("debug"):
                raise
            # torch is an extra: check, summary, fmt, diagram, compare, lsp and serve run without it.
            click.echo("error: building a model needs torch; install it with `pip install 'archlang[torch]'`",
                       err=True)
            code = USAGE
        except Exception as e:  # the tool's own bug: one diagnostic, no traceback
            if kwargs.get("debug"):
                raise
            _print_diagnostics([Reporter().make("E900", None, message=f"{type(e).__name__}: {e}")], "text")
            code = SPEC_ERRORS
        sys.exit(code)

    return run_command


def parse_set(pairs: tuple[str, ...]) -> dict[str, Any]:
    """`--set k=v` values: integers, numbers, true/false/none, lists of them (`[96, 192]`), else strings."""
    values: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.isidentifier():
            raise click.BadParameter(f"expected NAME=VALUE, got {pair!r}", param_hint="--set")
        values[key] = _literal(raw.strip())
    return values


def _literal(raw: str) -> Any:
    if len(raw) >= 2 and raw[0] == "[" and raw[-1] == "]":
        return [_literal(item.strip()) for item in _items(raw[1:-1])]
    lowered = {"true": True, "false": False, "none": None}
    if raw in lowered:
        return lowered[raw]
    for conv in (int, float):
        try:
            return conv(raw)
        except ValueError:
            pass
    return raw[1:-1] if len(raw) >= 2 and raw[0] == raw[-1] == '"' else raw


def _items(inner: str) -> list[str]:
    """The comma-separated items of a list's inside, nested lists kept whole (`[1, [2, 3]]`)."""
    if not inner.strip():
        return []
    items, depth, start = [], 0, 0
    for i, ch in enumerate(inner):
        depth += (ch == "[") - (ch == "]")
        if ch == "," and depth == 0:
            items.append(inner[start:i])
            start = i + 1
    return [*items, inner[start:]]


def _print_diagnostics(diags: list[Diagnostic], fmt: str) -> None:
    if not diags:
        return
    if fmt == "json":
        click.echo(render_json(diags))
    else:
        click.echo("\n\n".join(d.render() for d in diags), err=True)
        click.echo("", err=True)


def _check_one(path: str, sets: dict, model: str | None, debug: bool, all_models: bool = False) -> CheckResult:
    return check_file(path, params=sets, model=model, all_models=all_models, debug=debug)


def _atomic_write(out: Path, write: Callable[[Path], object]) -> None:
    """Write through a temporary file so that a failed run (or SIGTERM) leaves `out` untouched.

    The file gets the mode a plain `open` would (0666 less the umask); a target the user made
    read-only is refused rather than replaced.
    """
    if out.exists() and (not os.access(out, os.W_OK) or not out.stat().st_mode & 0o222):
        raise Refused(f"cannot write {out}: it is read-only")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        # Keep the suffix: some writers (torch.export.save) check it.
        fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=f".tmp{out.suffix}")
    except OSError as e:
        raise Refused(f"cannot write {out}: {e.strerror or e}") from None
    os.close(fd)
    with _terminated_as_exit():
        try:
            write(Path(tmp))
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
            os.replace(tmp, out)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


@contextlib.contextmanager
def progress(what: str):
    """A progress line on stderr for a slow step (`building VGG16... 7.1 s`), only when stderr is a terminal."""
    tty = sys.stderr.isatty()
    if tty:
        click.echo(f"{what}...", err=True, nl=False)
    t0 = time.perf_counter()
    try:
        yield
    finally:
        if tty:
            click.echo(f" {time.perf_counter() - t0:.1f} s", err=True)


@contextlib.contextmanager
def _terminated_as_exit():
    """SIGTERM raises SystemExit while a file is written, so the cleanup above runs."""
    def stop(signum, frame):
        raise SystemExit(128 + signum)
    try:
        previous = signal.signal(signal.SIGTERM, stop)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


set_option = click.option("--set", "sets", multiple=True, metavar="NAME=VALUE",
                          help="Give a model parameter or a symbolic size a value (repeatable); a list as "
                               "NAME=[a, b, ...].")
model_option = click.option("--model", metavar="NAME", help="Pick a model in a file that holds several.")
debug_option = click.option("--debug", is_flag=True, help="Show Python tracebacks of internal errors.")


class SizeType(click.ParamType):
    name = "SIZE"

    def convert(self, value, param, ctx):
        from .budget import parse_size
        if isinstance(value, int):
            return value
        try:
            return parse_size(value)
        except ValueError as e:
            self.fail(str(e), param, ctx)


def memory_option(default_text: str):
    return click.option("--max-memory", "max_memory", type=SizeType(), default=None, metavar="SIZE",
                        help="Refuse a model whose parameters and activations need more than SIZE "
                             f"(64GB, 512MiB, ...) before building it; {default_text}.")


def _within_budget(g, budget: int | None, batch: int) -> None:
    """Refuse (E408, exit 1) a model past the memory budget, before a weight exists."""
    from .budget import enforce
    enforce(g, budget, batch)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="archlang")
def main() -> None:
    """archlang: write a network as an .arch spec, check every shape, build it in PyTorch.

    Exit codes: 0 ok, 1 the spec has errors (or archlang failed on it: an internal error), 2 usage errors.
    """


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@set_option
@model_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Diagnostics as rustc-style text or as JSON lines.")
@memory_option("checked only when given, at batch 1")
@debug_option
@exits
def check(files: tuple[str, ...], sets: tuple[str, ...], model: str | None, fmt: str, max_memory: int | None,
          debug: bool) -> int:
    """Parse, expand and infer every shape; print input → output, parameters and MACs per model.

    Does not import torch.
    """
    values = parse_set(sets)
    results = []
    n_models = 0
    for f in files:
        res = _check_one(f, values, model, debug, all_models=model is None)
        if max_memory is not None and res.ok:
            from .budget import over_budget
            res.diagnostics += [d for d in (over_budget(g, max_memory) for g in res.models) if d is not None]
        results.append(res)
        _print_diagnostics(res.diagnostics, fmt)
        for g in res.models if res.ok else []:
            n_models += 1
            if fmt == "json":
                click.echo(json.dumps({"file": g.file, "model": g.name, "params": g.params,
                                       "macs": g.macs if isinstance(g.macs, int) else str(g.macs),
                                       "inputs": [str(p) for p in g.inputs], "outputs": [str(p) for p in g.outputs]}))
            else:
                click.echo(check_line(g))
    errors = sum(len([d for d in r.diagnostics if d.severity == "error"]) for r in results)
    if fmt == "text":
        click.echo(f"checked {n_models} model{'s' * (n_models != 1)} in {len(files)} "
                   f"file{'s' * (len(files) != 1)}: {errors} error{'s' * (errors != 1)}")
    return exit_code(results)


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@set_option
@model_option
@click.option("--depth", type=click.IntRange(min=0), default=None,
              help="Fold blocks, repeats and groups nested deeper than N into one row.")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text", show_default=True,
              help="A table with its facts (parameters, memory, inputs, outputs) under it, Markdown, or JSON.")
@debug_option
@exits
def summary(file: str, sets: tuple[str, ...], model: str | None, depth: int | None, fmt: str, debug: bool) -> int:
    """A per-layer table: name, layer, output shape, parameters, MACs, then memory and shapes (static, no torch)."""
    res = _check_one(file, parse_set(sets), model, debug)
    _print_diagnostics(res.diagnostics, "text")
    if res.ok:
        if fmt == "json":
            click.echo(summary_json(res.graph, depth))
        elif fmt == "markdown":
            click.echo(summary_markdown(res.graph, depth))
        else:
            click.echo(summary_table(res.graph, depth) + "\n\n" + summary_footer(res.graph))
    return exit_code([res])


def _concrete_graph(res: CheckResult, file: str):
    g = res.graph
    missing = open_sizes(g)
    if missing:
        raise click.UsageError(f"{file}: {missing}")
    return g


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@set_option
@model_option
@click.option("--batch", type=click.IntRange(min=1), default=2, show_default=True,
              help="Batch size of the random input.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--repeats", type=click.IntRange(min=1), default=3, show_default=True, help="Timed forward passes.")
@memory_option("default: half of this machine's memory")
@debug_option
@exits
def run(file: str, sets: tuple[str, ...], model: str | None, batch: int, seed: int, repeats: int,
        max_memory: int | None, debug: bool) -> int:
    """Build the model, push a random input through it, print output shapes and forward time."""
    res = _check_one(file, parse_set(sets), model, debug)
    _print_diagnostics(res.diagnostics, "text")
    if not res.ok:
        return SPEC_ERRORS
    g = _concrete_graph(res, file)
    _within_budget(g, max_memory, batch)
    import torch

    from .inputs import random_inputs
    from .lower import lower
    with progress(f"building {g.name}"):
        torch.manual_seed(seed)
        m = lower(g).eval()
    xs = random_inputs(g, batch)
    with torch.no_grad(), progress(f"running {g.name}"):
        out = m(*xs)
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            out = m(*xs)
            times.append(time.perf_counter() - t0)
    outs = out if isinstance(out, tuple) else (out,)
    click.echo(f"{g.name}: input {', '.join(str(list(x.shape)) for x in xs)} → "
               f"output {', '.join(str(list(o.shape)) for o in outs)}")
    click.echo(f"forward {min(times) * 1e3:.2f} ms (best of {repeats}, batch {batch}, "
               f"CPU threads {torch.get_num_threads()})")
    return OK


@main.command(name="compile")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("-o", "--output", "out", required=True, type=click.Path(dir_okay=False),
              help="Output file; the suffix picks the format: .pt (state_dict), .pt2 (torch.export program), "
                   ".onnx, .py (standalone PyTorch source).")
@set_option
@model_option
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the initial weights.")
@click.option("--weights", type=click.Path(exists=True, dir_okay=False), default=None, metavar="W.pt",
              help="Write these trained weights (a state_dict, as .pt holds) instead of fresh ones.")
@memory_option("default: half of this machine's memory")
@debug_option
@exits
def compile_(file: str, out: str, sets: tuple[str, ...], model: str | None, seed: int, weights: str | None,
             max_memory: int | None,
             debug: bool) -> int:
    """Build the model and write it: its state_dict, an exported program, ONNX, or Python source."""
    from .export import WRITERS, ExportError, symbolic_axes

    target = Path(out)
    if target.suffix not in WRITERS:
        raise click.BadParameter(f"unsupported format {target.suffix or '(none)'}; use "
                                 + ", ".join(WRITERS), param_hint="-o")
    values = parse_set(sets)
    res = _check_one(file, values, model, debug)
    _print_diagnostics(res.diagnostics, "text")
    if not res.ok:
        return SPEC_ERRORS
    g = res.graph
    # The axes the spec leaves symbolic stay free in .pt2 and .onnx: checked again without their values.
    symbols = [k for k in values if k not in g.params_used]
    free = _check_one(file, {k: v for k, v in values.items() if k not in symbols}, model, False) if symbols else res
    # The exporters trace a batch of 2 (.pt2, .onnx); .pt and .py run no forward, but a budget that
    # depended on the suffix would surprise.
    _within_budget(g, max_memory, 2)
    import torch

    from .lower import lower
    with progress(f"building {g.name}"):
        torch.manual_seed(seed)
        m = lower(g)
    if weights is not None:
        try:
            m.load_state_dict(torch.load(weights, weights_only=True, map_location="cpu"), strict=True)
        except (RuntimeError, OSError, TypeError, AttributeError) as e:
            raise Refused(f"cannot load {weights}: {str(e).splitlines()[0]}") from None
    try:
        with progress(f"writing {target.name}"):
            _atomic_write(target, lambda tmp: WRITERS[target.suffix](g, m, tmp, symbolic_axes(free.graph)
                                                                     if free.ok else None))
    except ExportError as e:
        raise Refused(str(e)) from None
    click.echo(f"wrote {target}: {g.name}, {len(m.state_dict())} tensors, {g.params:,} parameters ({human(g.params)})")
    return OK


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("-o", "--output", "out", default="-", show_default=True, metavar="OUT",
              help="OUT.svg, .png, .pdf (need graphviz's `dot`), .dot or .txt; `-` prints the text form.")
@click.option("--style", type=click.Choice(["document", "detailed"]), default="document", show_default=True,
              help="document: values in boxes, layers on the arrows; "
                   "detailed: one box per layer with shape and parameters.")
@click.option("--depth", type=click.IntRange(min=0), default=None,
              help="Open blocks, repeats and groups down to N levels (default: as deep as stays readable).")
@click.option("--unroll", type=click.IntRange(min=0, max=64), default=0, metavar="N",
              help="Draw recurrent layers (rnn, lstm, gru) through N time steps.")
@click.option("--gates", is_flag=True, help="Open LSTM and GRU cells into their gates and state updates.")
@click.option("--shapes", is_flag=True, help="Detailed style: put the shapes on the arrows.")
@click.option("--rankdir", type=click.Choice(["TB", "LR"]), default="TB", show_default=True,
              help="Pictures: flow top to bottom, or left to right.")
@click.option("--dpi", type=click.IntRange(min=24, max=1200), default=None, metavar="N",
              help="Pictures: graphviz's resolution (png), in dots per inch.")
@set_option
@model_option
@debug_option
@exits
def diagram(file: str, out: str, style: str, depth: int | None, unroll: int, gates: bool, shapes: bool,
            rankdir: str, dpi: int | None, sets: tuple[str, ...], model: str | None, debug: bool) -> int:
    """Draw the spec the way the architectures document draws its text diagrams (no torch)."""
    from archlang.compiler.diagram import FORMATS, DiagramError, DiagramOptions, draw

    fmt = "txt" if out == "-" else Path(out).suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise click.BadParameter(f"unsupported format {('.' + fmt) if fmt else '(none)'}; use "
                                 + ", ".join("." + f for f in FORMATS) + " or -", param_hint="-o")
    res = _check_one(file, parse_set(sets), model, debug)
    _print_diagnostics(res.diagnostics, "text")
    if not res.ok:
        return SPEC_ERRORS
    options = DiagramOptions(style=style, depth=depth, unroll=unroll, gates=gates, shapes=shapes, rankdir=rankdir,
                             dpi=dpi)
    try:
        drawing = draw(res.graph, options)
        data = drawing.render(fmt)
    except DiagramError as e:
        raise Refused(str(e)) from None
    if out == "-":
        click.echo(drawing.text, nl=False)
        return OK
    target = Path(out)
    _atomic_write(target, lambda tmp: tmp.write_bytes(data))
    click.echo(f"wrote {target}: {res.graph.name}, {drawing.boxes} boxes at depth {drawing.diagram.depth}")
    return OK


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@set_option
@click.option("--seq", "default_len", type=click.IntRange(min=1), default=128, show_default=True,
              help="The length given to every symbolic size that --set leaves open.")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown"]), default="text", show_default=True)
@debug_option
@exits
def compare(files: tuple[str, ...], sets: tuple[str, ...], default_len: int, fmt: str, debug: bool) -> int:
    """The document's trade-offs table, measured: family, parameters, MACs, sequential steps, activations.

    An RNN over `seq` is `seq` sequential steps per layer, attention is one;
    every symbolic size is measured at --seq unless --set gives it a value.
    Does not import torch.
    """
    from .compare import compare_table, profile

    values = parse_set(sets)
    results, profiles, sizes = [], [], {}
    for f in files:
        res = _check_one(f, values, None, debug, all_models=True)
        results.append(res)
        _print_diagnostics(res.diagnostics, "text")
        if not res.ok:
            continue
        # A --set that names no model parameter gave a symbolic size its value.
        sizes.update({k: v for k, v in values.items() if all(k not in g.params_used for g in res.models)})
        for g in res.models:
            # The table compares numbers, not polynomials: open sizes are measured at --seq.
            fill = {s: default_len for s in g.symbols}
            sizes.update(fill)
            profiles.append(profile(g).at(fill))
    if profiles:
        click.echo(compare_table(profiles, sizes, fmt), nl=False)
    return exit_code(results)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--check", "check_only", is_flag=True,
              help="Write nothing; list the files that would change and exit 1 if any would.")
@debug_option
@exits
def fmt(files: tuple[str, ...], check_only: bool, debug: bool) -> int:
    """Rewrite specs in the canonical layout, every comment kept; a second run changes nothing.

    A file that does not parse is reported and left untouched. Does not import torch.
    """
    from archlang.dsl.fmt import FormatError, format_text
    from archlang.dsl.program import MAX_BYTES, SpecTooLarge, read_spec

    failed = changed = 0
    for f in files:
        path = Path(f)
        try:
            text = read_spec(path)  # the checker's bounds: regular files of at most MAX_BYTES
            new = format_text(text, f)
        except SpecTooLarge as e:
            click.echo(f"error: cannot read {f}: it is {e.size} bytes; specs are limited to {MAX_BYTES:,}", err=True)
            failed += 1
            continue
        except DiagnosticError as e:
            _print_diagnostics(e.diagnostics, "text")
            failed += 1
            continue
        except (OSError, UnicodeDecodeError) as e:
            click.echo(f"error: cannot read {f}: {getattr(e, 'strerror', None) or e}", err=True)
            failed += 1
            continue
        except FormatError as e:
            if debug:
                raise
            click.echo(f"error: {e}; the file is left as it is", err=True)
            failed += 1
            continue
        if new == text:
            continue
        changed += 1
        if check_only:
            click.echo(f"would reformat {f}")
        else:
            _atomic_write(path, functools.partial(Path.write_text, data=new, encoding="utf-8"))
            click.echo(f"reformatted {f}")
    verb = "would reformat" if check_only else "reformatted"
    click.echo(f"{verb} {changed} of {len(files)} file{'s' * (len(files) != 1)}"
               + (f", {failed} with errors" if failed else ""), err=True)
    return SPEC_ERRORS if failed or (check_only and changed) else OK


@main.command()
@debug_option
@exits
def lsp(debug: bool) -> int:
    """Serve the Language Server Protocol over stdio: diagnostics, hover, completion, definitions, formatting.

    Editors start it (editors/vscode, or any LSP client with `archlang lsp`). Does not import torch.
    """
    from .lsp import main as serve

    serve()
    return OK



@main.command()
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False))
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="The port on 127.0.0.1; 0 takes a free one.")
@debug_option
@exits
def serve(file: str | None, port: int, debug: bool) -> int:
    """A live page on 127.0.0.1: edit a spec and see its diagnostics, per-layer table and diagram as you type.

    Serves FILE's folder (or the current one) and lists its specs in a picker. Does not import torch.
    """
    from .serve import run

    try:
        run(Path(file) if file else None, port, echo=click.echo)
    except OSError as e:
        raise Refused(f"cannot serve on 127.0.0.1:{port}: {e.strerror or e}") from None
    return OK

if __name__ == "__main__":  # pragma: no cover
    main()
