#!/usr/bin/env bash
# Installs the Debian packages Strata needs, only those missing: a second run takes about a second.
# Usage: scripts/install-deps.sh [--bench]   (--bench adds python3-torch for the PyTorch reference)
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  qt6-base-dev qt6-base-dev-tools libqcustomplot-dev libgl-dev
  libvulkan-dev mesa-vulkan-drivers vulkan-validationlayers vulkan-tools glslc
  libglm-dev nlohmann-json3-dev libopenblas-dev zlib1g-dev
  libgtest-dev libgmock-dev
  xvfb xauth
)
if [[ "${1:-}" == "--bench" ]]; then
  packages+=(python3-torch)
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
