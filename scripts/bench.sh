#!/usr/bin/env bash
# Runs the benchmark workloads W1-W4 (bench/workloads.md) on Strata and on PyTorch, alternately,
# for several rounds, and rewrites the workloads section of docs/benchmarks.md with the medians
# and the Strata/PyTorch ratios; also runs `strata bench --kernels` for its own section.
# Usage: scripts/bench.sh STRATA_BINARY         (`make bench` calls it with build/app/strata)
# Environment: BENCH_ROUNDS (3), BENCH_STEPS (100: a W1 step takes about 1 ms, so fewer steps
# measure the machine's noise), BENCH_WARMUP (5, both sides), BENCH_THREADS (2),
# BENCH_DOC (docs/benchmarks.md), BENCH_KERNELS (1; 0 skips `strata bench --kernels`).
# Never invents a figure: a side that cannot run is reported as not measured, and the script still
# exits 0 so that the other side's figures are kept.
set -uo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: scripts/bench.sh STRATA_BINARY" >&2
  exit 2
fi
root=$(cd "$(dirname "$0")/.." && pwd)
strata=$1
[[ "$strata" == /* ]] || strata="$PWD/$strata"
cd "$root" || exit 3

rounds=${BENCH_ROUNDS:-3}
steps=${BENCH_STEPS:-100}
warmup=${BENCH_WARMUP:-5}
threads=${BENCH_THREADS:-2}
doc=${BENCH_DOC:-docs/benchmarks.md}
python=/usr/bin/python3  # Debian's interpreter owns python3-torch; the one on PATH may not
export OPENBLAS_NUM_THREADS=$threads

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

say() { echo "bench: $*" >&2; }

# Which configurations to measure. A Strata configuration that fails once is not retried.
strata_ok=1
if [[ ! -x "$strata" ]]; then
  say "$strata is not an executable; measuring PyTorch only"
  strata_ok=0
fi
strata_devices=(cpu)
if [[ $strata_ok -eq 1 ]]; then
  # What Strata itself sees; vulkaninfo stands in while `strata devices` cannot answer.
  if devices=$("$strata" devices 2>/dev/null); then
    grep -q '^vulkan' <<<"$devices" && strata_devices+=(vulkan)
  elif command -v vulkaninfo >/dev/null 2>&1 &&
       vulkaninfo --summary 2>/dev/null | grep -q 'deviceName'; then
    strata_devices+=(vulkan)
  fi
fi
declare -A strata_failed=()
torch_devices=(cpu)
if command -v nvidia-smi >/dev/null 2>&1 &&
   "$python" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null
then
  torch_devices+=(cuda)
fi

run_strata() {  # device round
  local dev=$1 r=$2 out="$results/strata-$1-$2"
  [[ $strata_ok -eq 1 && -z "${strata_failed[$dev]:-}" ]] || return 0
  say "round $r: strata bench --workload all --device $dev --threads $threads --steps $steps"
  "$strata" bench --workload all --device "$dev" --threads "$threads" --steps "$steps" \
    --warmup "$warmup" >"$out.txt" 2>"$out.err"
  local rc=$?
  cat "$out.err" >&2  # per workload: device, step times, last loss, how memory was measured
  if [[ $rc -ne 0 ]] && grep -q '^W[1-4] ' "$out.txt"; then
    # Some workloads ran: keep their figures and say which did not (report.py names them).
    say "strata bench --device $dev: some workloads failed (exit $rc)"
    grep '^strata: W[1-4] ' "$out.err" | grep -v ' failed$' >>"$results/strata-$dev-partial.err"
  elif [[ $rc -ne 0 ]] || ! grep -q '^W[1-4] ' "$out.txt"; then
    say "strata bench --workload --device $dev failed (exit $rc): $(tail -n 2 "$out.err" | tr '\n' ' ')"
    strata_failed[$dev]=$rc
    echo "$rc" >"$results/strata-$dev.failed"
    head -n 3 "$out.err" >>"$results/strata-$dev.failed"
    rm -f "$out.txt"
  fi
}

run_torch() {  # device round
  local dev=$1 r=$2 out="$results/torch-$1-$2"
  say "round $r: torch_reference.py --device $dev --threads $threads --steps $steps"
  "$python" bench/torch_reference.py --workload all --device "$dev" --threads "$threads" \
    --steps "$steps" --warmup "$warmup" >"$out.txt" 2>"$out.err"
  local rc=$?
  if [[ $rc -ne 0 ]]; then
    say "torch_reference.py --device $dev exited $rc: $(tail -n 2 "$out.err" | tr '\n' ' ')"
  fi
  grep -v '^W[1-4] .* samples_per_s=' "$out.err" >&2 || true
  grep -q '^W[1-4] ' "$out.txt" || rm -f "$out.txt"
}

for ((r = 1; r <= rounds; r++)); do
  # Alternate the sides within a round so that a slow spell of a shared machine hits both.
  run_strata cpu "$r"
  run_torch cpu "$r"
  for dev in "${strata_devices[@]:1}"; do run_strata "$dev" "$r"; done
  for dev in "${torch_devices[@]:1}"; do run_torch "$dev" "$r"; done
done

# The `strata bench --kernels` section belongs to the kernels' owners; this only refreshes it.
kernels_args=()
if [[ "${BENCH_KERNELS:-1}" != 0 && $strata_ok -eq 1 ]]; then
  say "strata bench --kernels"
  if "$strata" bench --kernels >"$results/kernels.txt" 2>"$results/kernels.err"; then
    kernels_args=(--kernels "$results/kernels.txt")
  else
    say "strata bench --kernels failed: $(tail -n 2 "$results/kernels.err" | tr '\n' ' ')"
    kernels_args=(--kernels-failed "$results/kernels.err")
  fi
fi

strata_arg=()
[[ $strata_ok -eq 1 ]] && strata_arg=(--strata "$strata")
"$python" bench/report.py --results "$results" --doc "$doc" --rounds "$rounds" \
  --steps "$steps" --threads "$threads" "${strata_arg[@]}" "${kernels_args[@]}" || exit 1
say "wrote $doc"
exit 0
