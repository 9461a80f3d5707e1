"""Train specs/stock_rnn.arch to predict tomorrow's price of a synthetic
stock from the last `window` days, and compare it with the naive forecast
"tomorrow = today".

    .venv/bin/python examples/stock_rnn.py                 # about 30 s of training
    .venv/bin/python examples/stock_rnn.py --steps 300

The series is a geometric random walk with an upward drift and two seasonal
cycles (30 and 7 days), fixed seed. The random walk is unpredictable, the
seasons are not: a model that reads the window can beat "tomorrow = today"
only by learning them. The model reads log-returns, which look alike at any
price level, and its prediction is turned back into a price.
"""

from __future__ import annotations

import math
import sys

import _shared


def price_series(days: int, seed: int):
    """Daily prices: exp(drift·t + seasons + random walk), starting at 100."""
    import torch
    gen = torch.Generator().manual_seed(seed)
    t = torch.arange(days, dtype=torch.float64)
    seasons = 0.05 * torch.sin(2 * math.pi * t / 30) + 0.03 * torch.sin(2 * math.pi * t / 7)
    walk = torch.cumsum(0.012 * torch.randn(days, generator=gen, dtype=torch.float64), 0)
    return 100 * torch.exp(0.0003 * t + seasons + walk)


def windowed(prices, window: int, scale: float):
    """(inputs [n, window, 1], targets [n, 1], today's prices [n], tomorrow's prices [n]):
    each input is `window` scaled log-returns, each target the next one."""
    import torch
    r = torch.diff(torch.log(prices)) / scale
    idx = torch.arange(window)[None, :] + torch.arange(len(r) - window)[:, None]
    x = r[idx].unsqueeze(-1).float()
    y = r[window:].unsqueeze(-1).float()
    today = prices[window:-1]
    tomorrow = prices[window + 1:]
    return x, y, today, tomorrow


def main(argv=None) -> dict:
    args = _shared.parse_args(argv, __doc__.splitlines()[0], seconds=30.0, steps=1500,
                              days=4000, window=32, batch=64, lr=2e-3)
    import torch

    from archlang import compiler

    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    prices = price_series(args.days, args.seed)
    cut = int(len(prices) * 0.8)  # the model is scored on the last 20% of days, never seen in training
    train_prices, test_prices = prices[:cut], prices[cut - args.window - 1:]
    scale = float(torch.diff(torch.log(train_prices)).std())
    x, y, _, _ = windowed(train_prices, args.window, scale)
    tx, _, today, tomorrow = windowed(test_prices, args.window, scale)

    model = compiler.build(_shared.SPECS / "stock_rnn.arch", features=1)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)

    def forecast(inputs):
        with torch.no_grad():
            model.eval()
            r = model(inputs).squeeze(-1).double() * scale
            model.train()
        return today * torch.exp(r)

    def step(_):
        i = torch.randint(0, len(x), (args.batch,), generator=gen)
        loss = torch.nn.functional.mse_loss(model(x[i]), y[i])
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)  # a tanh RNN's gradients can spike
        opt.step()
        return loss.item()

    naive = float(((today - tomorrow) ** 2).mean())
    before = float(((forecast(tx) - tomorrow) ** 2).mean())
    print(f"stock_rnn: {sum(p.numel() for p in model.parameters()):,} parameters, "
          f"{len(x):,} training windows of {args.window} days, {len(tx):,} test days")
    steps, seconds = _shared.train(step, steps=args.steps, seconds=args.seconds)
    after = float(((forecast(tx) - tomorrow) ** 2).mean())
    print(f"trained {steps} steps in {seconds:.1f} s (batch {args.batch})")
    print(f"test MSE (price²): model {before:.4f} → {after:.4f}; "
          f"naive 'tomorrow = today' {naive:.4f}; ratio model/naive {after / naive:.3f}")
    return {"steps": steps, "seconds": seconds, "mse_before": before, "mse_after": after,
            "mse_naive": naive, "ratio": after / naive}


if __name__ == "__main__":
    main(sys.argv[1:])
