"""Train specs/char_lstm.arch to predict the next character of Python's own
standard-library sources, then let it write a line.

    .venv/bin/python examples/char_lstm.py                 # about 100 s of training
    .venv/bin/python examples/char_lstm.py --steps 200

Prints the held-out cross-entropy before and after training (nats per
character; an untrained model sits near ln 96 ≈ 4.56) and a sampled line.
"""

from __future__ import annotations

import sys

import _shared


def main(argv=None) -> dict:
    args = _shared.parse_args(argv, __doc__.splitlines()[0], seconds=100.0, batch=32, seq=64, lr=3e-3)
    # An LSTM carries its memory through the whole window, so sampling may read a long prefix.
    return _shared.train_next_char(_shared.SPECS / "char_lstm.arch", "char_lstm", args, context=256)


if __name__ == "__main__":
    main(sys.argv[1:])
