#!/usr/bin/env bash
# make run: the studio on the default sample when there is a display, else a headless run.
set -euo pipefail
strata=$1
sample=$2
if [[ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]]; then
  exec "$strata" "$sample"
fi
echo "No display: checking $sample headless." >&2
"$strata" info "$sample"
