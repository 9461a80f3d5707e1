#!/usr/bin/env bash
# Set up with the test dependencies, lint, then run the whole test suite on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
.venv/bin/ruff check .
exec .venv/bin/python -m pytest -n 2 -q "$@"
