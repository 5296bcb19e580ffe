#!/usr/bin/env bash
# make run: the studio on the default sample when there is a display, else train it headless and
# say where the trained model went.
set -euo pipefail
strata=$1
sample=$2
if [[ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]]; then
  exec "$strata" "$sample"
fi
name=$(basename "$sample" .strata.json)
out="${STRATA_RUN_OUT:-$(dirname "$(dirname "$strata")")/$name.trained.strata.json}"
mkdir -p "$(dirname "$out")"
echo "No display: training $sample headless." >&2
"$strata" train "$sample" --device auto --out "$out" --checkpoint-dir "$out.checkpoints"
echo "Trained model written to $out"
echo "Open it in the studio with: $strata $out"
