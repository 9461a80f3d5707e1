#!/usr/bin/env bash
# The main job: set up, then check, summarise and compile every spec in specs/
# into out/ (a state_dict and a summary table per spec).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
out=${OUT:-out}
mkdir -p "$out"
.venv/bin/archlang check specs/*.arch
for spec in specs/*.arch; do
    name=$(basename "$spec" .arch)
    .venv/bin/archlang summary "$spec" > "$out/$name.summary.txt"
    .venv/bin/archlang compile "$spec" -o "$out/$name.pt"
done
echo "main: every spec checked, summarised and compiled into $out/"
