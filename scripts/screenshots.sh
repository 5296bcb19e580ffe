#!/usr/bin/env bash
# Regenerates the README's pictures: starts the studio under Xvfb (a virtual X display), opens a
# sample, optionally trains it, and saves the window (app/studio.cpp's STRATA_SCREENSHOT).
#   docs/images/studio.png  reverse-transformer after a few hundred steps on the CPU: canvas,
#                           loss curves, attention maps, and Try it on a validation sample
#   docs/images/editor.png  the node editor on digits-cnn with a convolution selected (inspector)
#                           and the dataset panel previewing its data
# Usage: scripts/screenshots.sh [BUILD_DIR]   (default: build; the strata target must be built)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
strata="$build/app/strata"
if [[ ! -x "$strata" ]]; then
    echo "screenshots: $strata not found; build it first: cmake --build $build --target strata" >&2
    exit 3
fi
command -v xvfb-run > /dev/null || { echo "screenshots: xvfb-run is missing (apt install xvfb)" >&2; exit 3; }
mkdir -p docs/images
# A private settings folder, so no saved window layout or recent files leak into the pictures.
export XDG_CONFIG_HOME=$(mktemp -d) XDG_DATA_HOME=$(mktemp -d)
trap 'rm -rf "$XDG_CONFIG_HOME" "$XDG_DATA_HOME"' EXIT
# The CPU backend gives the same curve on every machine.
export STRATA_DEVICE=cpu

shoot() {  # out sample [VAR=value ...]
    local out=$1 sample=$2
    shift 2
    env STRATA_SCREENSHOT="$out" STRATA_SCREENSHOT_SIZE=1600x1200 "$@" \
        xvfb-run -a -s "-screen 0 1920x1200x24" \
        "$strata" "samples/$sample/$sample.strata.json"
    echo "wrote $out"
}

shoot docs/images/studio.png reverse-transformer STRATA_SCREENSHOT_TRAIN_STEPS=400 \
    STRATA_SCREENSHOT_TRY=3 STRATA_SCREENSHOT_SELECT=encoder1
shoot docs/images/editor.png digits-cnn STRATA_SCREENSHOT_SELECT=conv2 \
    STRATA_SCREENSHOT_DOCK=datasetDock
