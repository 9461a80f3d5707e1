"""Building and running a model: `compiler.build` against hand-written plain torch.

torchvision cannot be installed beside this torch, so the references are
written out in plain torch (bench/reference_nets.py), module for module as
torchvision builds them (same names, so a state_dict moves between the two).
Prints, in one process, best of interleaved runs:

- `compiler.build` (parse, check, lowering, weight initialisation) of
  specs/resnet50.arch and specs/vit_b16.arch against the reference
  constructors with torch's own initialisation (what archlang draws: like
  with like), and the ratio; the share of build spent in the check
  (`dsl.check_file`) and the ratio without it; and the ratio against the
  references with torchvision's extra re-initialisation, which the real
  `torchvision.models` constructors run;
- the forward pass of the built ResNet-50 against the reference with the
  same weights, in eval mode under no_grad, and the ratio; and the same
  built with no module in place (`lower(graph, inplace=False)`), which shows
  what the plan's in-place ReLUs save (the reference's are in place, as
  torchvision's);
- the forward pass of the built specs/transformer.arch against
  `torch.nn.Transformer(512, 8, 6, 6, 2048, batch_first=True)` with the same
  weights (loaded strictly), eval, no_grad, causal decoder: against its eval
  fast path (`torch._transformer_encoder_layer_fwd`, native attention) and
  with that fast path switched off.

    .venv/bin/python bench/build_speed.py [--threads N] [--runs N] [--clock wall|cpu]

On a shared machine `--threads 1 --clock cpu` gives steadier ratios: with
several threads every parallel operator waits for its slowest thread, and a
thread the scheduler parks stalls it; with one thread, its CPU time is the
work done, whatever else runs (the build draws its weights on one thread
either way).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from reference_nets import ResNet50, ViTB16  # noqa: E402
from torch import nn  # noqa: E402

CLOCK = time.perf_counter


def interleaved(fns: list, n: int) -> list[float]:
    """Best time of each function, called in turns so that all see the same machine."""
    best = [float("inf")] * len(fns)
    for _ in range(n):
        for i, fn in enumerate(fns):
            t0 = CLOCK()
            fn()
            best[i] = min(best[i], CLOCK() - t0)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, help="torch's CPU threads (default: torch's own choice)")
    parser.add_argument("--runs", type=int, default=7, help="interleaved runs of each build (forward: twice this)")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="wall: elapsed time; cpu: this thread's CPU time, which leaves out the time the "
                             "scheduler parks it (with --threads 1 that is all the work; a build is one thread)")
    opts = parser.parse_args()
    if opts.threads:
        torch.set_num_threads(opts.threads)
    global CLOCK
    CLOCK = time.thread_time if opts.clock == "cpu" else time.perf_counter

    from archlang.dsl.parse import _parse_cached

    from archlang import compiler, dsl

    def build(spec: str):
        _parse_cached.cache_clear()  # the whole of build: parse, check, lower, initialise
        return compiler.build(ROOT / "specs" / spec)

    def check(spec: str):
        _parse_cached.cache_clear()
        return dsl.check_file(ROOT / "specs" / spec)

    print(f"best of interleaved runs in one process ({torch.get_num_threads()} CPU threads, "
          f"{'wall-clock' if opts.clock == 'wall' else 'CPU'} time)")
    for spec, ref in (("resnet50.arch", ResNet50), ("vit_b16.arch", ViTB16)):
        ref().load_state_dict(build(spec).state_dict())  # warm, and proof that both build the same modules
        t_build, t_ref, t_tv, t_check = interleaved(
            [lambda spec=spec: build(spec), ref, lambda ref=ref: ref(torchvision_init=True),
             lambda spec=spec: check(spec)], opts.runs)
        print(f"  build {spec:14s} compiler.build {t_build * 1e3:6.0f} ms   plain torch {t_ref * 1e3:6.0f} ms   "
              f"ratio {t_build / t_ref:.2f}×")
        print(f"        {'':14s} of which check {t_check * 1e3:6.0f} ms ({t_check / t_build:4.0%})   "
              f"without it {(t_build - t_check) / t_ref:.2f}×   against torchvision's re-initialisation "
              f"({t_tv * 1e3:.0f} ms) {t_build / t_tv:.2f}×")

    from archlang.compiler.lower import lower

    built, ref = build("resnet50.arch").eval(), ResNet50().eval()
    ref.load_state_dict(built.state_dict())  # the same names, so the same weights
    slow = lower(dsl.check_file(ROOT / "specs" / "resnet50.arch").graph, inplace=False).eval()
    slow.load_state_dict(built.state_dict())
    x = torch.randn(8, 3, 224, 224)
    with torch.no_grad():
        assert torch.allclose(built(x), ref(x), atol=1e-4), "the two ResNet-50s disagree"
        t_built, t_ref, t_slow = interleaved([lambda: built(x), lambda: ref(x), lambda: slow(x)], 2 * opts.runs)
    print(f"  forward resnet50.arch (batch 8, eval)  built {t_built * 1e3:7.1f} ms   plain torch "
          f"{t_ref * 1e3:7.1f} ms   ratio {t_built / t_ref:.3f}×")
    print(f"        built with no ReLU in place {t_slow * 1e3:7.1f} ms   ratio {t_slow / t_ref:.3f}×")

    torch.manual_seed(0)
    ref = nn.Transformer(512, 8, 6, 6, 2048, batch_first=True).eval()
    built = build("transformer.arch").eval()
    built.load_state_dict(ref.state_dict(), strict=True)
    src, tgt = torch.randn(8, 64, 512), torch.randn(8, 64, 512)
    mask = nn.Transformer.generate_square_subsequent_mask(tgt.shape[1])

    def reference(fast: bool):
        torch.backends.mha.set_fastpath_enabled(fast)
        try:
            return ref(src, tgt, tgt_mask=mask, tgt_is_causal=True)
        finally:
            torch.backends.mha.set_fastpath_enabled(True)

    with torch.no_grad():
        torch.testing.assert_close(built(src, tgt), reference(True), atol=1e-4, rtol=1e-4)
        torch.testing.assert_close(built(src, tgt), reference(False), atol=1e-4, rtol=1e-4)
        t_built, t_fast, t_slow = interleaved(
            [lambda: built(src, tgt), lambda: reference(True), lambda: reference(False)], 2 * opts.runs)
    print(f"  forward transformer.arch (batch 8, source and target 64, eval)  built {t_built * 1e3:6.1f} ms")
    print(f"        nn.Transformer fast path {t_fast * 1e3:6.1f} ms   ratio {t_built / t_fast:.3f}×   "
          f"fast path off {t_slow * 1e3:6.1f} ms   ratio {t_built / t_slow:.3f}×")


if __name__ == "__main__":
    main()
