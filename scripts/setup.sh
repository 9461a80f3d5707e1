#!/usr/bin/env bash
# Set up archlang on a fresh Debian machine (Python 3.11, root or sudo):
# a virtual environment in .venv with torch 2.13.0 (a CPU build here), the
# package itself, and graphviz's `dot` program for diagrams (with --dev also
# Debian's chromium and chromium-driver, which the live page's tests drive).
#   scripts/setup.sh         # the tool
#   scripts/setup.sh --dev   # the tool and the test dependencies
set -euo pipefail
cd "$(dirname "$0")/.."

extra="[torch]"
[ "${1:-}" = "--dev" ] && extra="[torch,dev]"

sudo_=""
[ "$(id -u)" = 0 ] || sudo_="sudo"
if ! command -v dot >/dev/null 2>&1; then
    echo "setup: installing graphviz (the dot program)"
    $sudo_ apt-get update -qq && $sudo_ apt-get install -y -qq graphviz >/dev/null
fi
# The live page's tests (tests/test_serve.py) drive Debian's headless Chromium.
if [ "${1:-}" = "--dev" ] && ! { [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; }; then
    echo "setup: installing chromium and chromium-driver (for the live page's tests)"
    $sudo_ apt-get update -qq && $sudo_ apt-get install -y -qq chromium chromium-driver >/dev/null
fi

python=${PYTHON:-}
if [ -z "$python" ]; then
    for candidate in python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1; then python=$candidate; break; fi
    done
fi
[ -x .venv/bin/python ] || "$python" -m venv .venv
pip=(.venv/bin/python -m pip --disable-pip-version-check -q)

# torch first, pinned, so the package's torch>=2.3 range is already met and
# pip never reaches for a several-GB CUDA build.
if ! .venv/bin/python -c "import torch" >/dev/null 2>&1; then
    "${pip[@]}" install torch==2.13.0
fi
"${pip[@]}" install -e ".${extra}"
echo "setup: ready ($(.venv/bin/archlang --version))"
