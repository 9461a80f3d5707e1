#!/usr/bin/env bash
# The main job: set up, then check, summarise, draw and compile every spec in
# specs/ into out/ (a summary table, a text and an SVG diagram, and a
# state_dict per spec).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
out=${OUT:-out}
mkdir -p "$out"
.venv/bin/archlang check specs/*.arch
for spec in specs/*.arch; do
    name=$(basename "$spec" .arch)
    .venv/bin/archlang summary "$spec" > "$out/$name.summary.txt"
    .venv/bin/archlang diagram "$spec" -o "$out/$name.diagram.txt" > /dev/null
    .venv/bin/archlang diagram "$spec" -o "$out/$name.svg"
    .venv/bin/archlang compile "$spec" -o "$out/$name.pt"
done
echo "main: every spec checked, summarised, drawn and compiled into $out/"
