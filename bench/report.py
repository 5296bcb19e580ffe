#!/usr/bin/env python3
"""Writes the benchmark results that scripts/bench.sh collected into docs/benchmarks.md.

Reads RESULTS/{strata,torch}-DEVICE-ROUND.txt (the one-line-per-workload output of
`strata bench --workload` and bench/torch_reference.py) and RESULTS/strata-DEVICE.failed, takes
medians across rounds, and replaces the section between <!-- bench:workloads:begin --> and
<!-- bench:workloads:end --> (and, when given, the kernels section between
<!-- bench:kernels:begin/end -->), creating the file or the sections if missing. The rest of the
file is left as it is. Only figures that were measured are written.
"""
import argparse
import datetime
import glob
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile

WORKLOADS = [("W1", "mlp"), ("W2", "lenet5"), ("W3", "char_lstm"), ("W4", "transformer_lm")]
LINE = re.compile(r"^(W[1-4])\s+(\S+)\s+(.*)$")
FIELDS = ("samples_per_s", "peak_device_mb", "dispatches_per_step", "memory_need_mb",
          "memory_ratio")
BEGIN, END = "<!-- bench:workloads:begin -->", "<!-- bench:workloads:end -->"
KBEGIN, KEND = "<!-- bench:kernels:begin -->", "<!-- bench:kernels:end -->"
SIDE_NAME = {"strata": "Strata", "torch": "PyTorch"}


def parse_line(line):
    """'W1 mlp samples_per_s=1 peak_device_mb=2 dispatches_per_step=n/a' -> ('W1', {...})."""
    m = LINE.match(line.strip())
    if not m:
        return None
    values = {}
    for item in m.group(3).split():
        key, _, value = item.partition("=")
        if key in FIELDS:
            try:
                values[key] = float(value)
            except ValueError:
                values[key] = None  # "n/a"
    return m.group(1), values


def load_results(folder):
    """{(side, device): {workload: {field: [value per round]}}}"""
    runs = {}
    for path in sorted(glob.glob(os.path.join(folder, "*-*-*.txt"))):
        side, device, _ = os.path.basename(path)[:-4].split("-", 2)
        table = runs.setdefault((side, device), {})
        with open(path) as f:
            for line in f:
                parsed = parse_line(line)
                if not parsed:
                    continue
                w, values = parsed
                for key, value in values.items():
                    table.setdefault(w, {}).setdefault(key, []).append(value)
    return runs


def median_of(values):
    numbers = [v for v in values or [] if v is not None]
    return statistics.median(numbers) if numbers else None


def sh(cmd, timeout=60):
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        return r.stdout.strip() if r.returncode == 0 else ""
    except (OSError, subprocess.SubprocessError):
        return ""


def deb_version(package):
    v = sh(["dpkg-query", "-W", "-f=${Version}", package])
    return v or "not installed"


def machine(strata):
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    logical = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else logical
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            mem = f", {kb / 2**20:.0f} GiB memory"
    except (OSError, ValueError, IndexError):
        pass
    osname = platform.system()
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    osname = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    facts = [("CPU", f"{cpu}, {usable} usable of {logical} logical CPUs{mem}"),
             ("system", f"{osname}, Linux {platform.release()}")]
    # Shared machines are the norm here: the load says how far the figures sit below the
    # machine's best; ratios from one run stay meaningful because both sides shared it.
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    facts.append(("load average at the end (1, 5, 15 min)", f"{load} on {usable} CPUs"))

    devices = sh([strata, "devices"]) if strata else ""
    if devices:
        facts.append(("devices", "`strata devices` below"))
    else:
        summary = sh(["vulkaninfo", "--summary"])
        found = []
        for key in ("deviceName", "driverName", "driverInfo", "apiVersion"):
            values = re.findall(rf"^\s*{key}\s*=\s*(.+)$", summary, re.M)
            if values:
                found.append(f"{key} {', '.join(dict.fromkeys(v.strip() for v in values))}")
        facts.append(("Vulkan (`vulkaninfo --summary`)", "; ".join(found) or "no Vulkan device"))
    gpu = sh(["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"])
    if gpu:
        facts.append(("NVIDIA GPU", gpu.replace("\n", "; ")))

    torch_v = sh(["/usr/bin/python3", "-c", "import torch; print(torch.__version__)"])
    compiler = ""
    if strata:
        cache = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(strata))),
                             "CMakeCache.txt")
        try:
            with open(cache) as f:
                m = re.search(r"^CMAKE_CXX_COMPILER:\w+=(.+)$", f.read(), re.M)
                if m:
                    compiler = sh([m.group(1).strip(), "--version"]).splitlines()[0]
        except (OSError, IndexError):
            pass
    compiler = compiler or (sh(["c++", "--version"]).splitlines() or ["unknown"])[0]
    facts.append(("libraries", ", ".join([
        f"torch {torch_v or 'not importable'} (python3-torch {deb_version('python3-torch')})",
        f"OpenBLAS {deb_version('libopenblas0')}",
        f"Mesa/lavapipe {deb_version('mesa-vulkan-drivers')}",
        f"Vulkan loader {deb_version('libvulkan1')}",
        f"compiler {compiler}"])))
    if strata:
        version = sh([strata, "--version"]) or "unknown version"
        commit = sh(["git", "rev-parse", "--short", "HEAD"])
        changed = sh(["git", "status", "--porcelain", "--", ".", ":!docs/benchmarks.md"])
        dirty = " (uncommitted changes)" if changed else ""
        facts.append(("Strata", f"{version}, commit {commit or 'unknown'}{dirty}"))
    return facts, devices


def fmt(value, digits=1):
    if value is None:
        return "n/a"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def fmt_range(values):
    """Median with the spread across rounds: '45,210 (44,900–46,000)'."""
    numbers = [v for v in values or [] if v is not None]
    if not numbers:
        return "n/a"
    med = fmt(statistics.median(numbers))
    if len(numbers) == 1:
        return med
    return f"{med} ({fmt(min(numbers))}–{fmt(max(numbers))})"


def workloads_section(a, runs, failures, partial):
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    configs = sorted(runs, key=lambda c: (c[0] != "strata", c[1] != "cpu", c[1]))
    strata_configs = [c for c in configs if c[0] == "strata"]
    torch_configs = [c for c in configs if c[0] == "torch"]
    name = lambda c: f"{SIDE_NAME[c[0]]} {c[1]}"
    rounds = (f"the median over {a.rounds} rounds, Strata and PyTorch alternating, with the range "
              "across rounds in brackets" if a.rounds > 1 else "one round, Strata then PyTorch")
    out = [BEGIN, "## Training workloads W1–W4 against PyTorch", "",
           f"Written by `make bench` (scripts/bench.sh) on {date}. The workloads, the data and "
           "how each figure is measured are defined in bench/workloads.md. Each run reports the "
           f"median of {a.steps} timed steps per workload; the tables show {rounds}. "
           f"{a.threads} CPU threads on both sides; PyTorch's OpenMP workers wait passively "
           f"(OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'PASSIVE')}).", "",
           "Machine:", ""]
    facts, devices = machine(a.strata)
    out += [f"- {k}: {v}" for k, v in facts]
    out.append("")
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load15 = os.getloadavg()[2]
    if load15 > usable + 1:
        out += [f"**The machine was shared and loaded** (15-minute load average {load15:.1f} on "
                f"{usable} CPUs, the benchmark itself accounting for about {a.threads}): other "
                "jobs took CPU time from both sides, so absolute figures sit below an idle "
                "machine's and vary between rounds. Only the ratios of one run compare.", ""]
    if devices:
        out += ["```", "$ strata devices", devices, "```", ""]

    notes = []
    if not a.strata:
        notes.append("**Strata: not measured (no Strata binary was given to scripts/bench.sh).**")
    elif not strata_configs:
        why = "; ".join(f"`--device {d}` gave {w}" for d, w in sorted(failures.items()))
        notes.append("**Strata: not measured (strata bench --workload not available"
                     f"{': ' + why if why else ''}).**")
    else:
        for dev, why in sorted(failures.items()):
            notes.append(f"**Strata {dev}: not measured (`strata bench --workload all --device "
                         f"{dev}` gave {why}).**")
    for dev, lines in sorted(partial.items()):
        notes.append(f"**Strata {dev}: some workloads did not run** ("
                     + "; ".join(f"`{l}`" for l in lines) + ").")
    if not torch_configs:
        notes.append("PyTorch: not measured (bench/torch_reference.py produced no result).")
    out += [f"- {n}" for n in notes] + ([""] if notes else [])
    if not configs:
        out += ["No figures: neither side could run.", END]
        return out

    # Ratios compare like with like: Strata's CPU backend against PyTorch on the CPU, Strata on
    # Vulkan against every PyTorch configuration (on a machine without CUDA, PyTorch's CPU run is
    # what a user would otherwise pick).
    pairs = [(s, t) for s in strata_configs for t in torch_configs
             if not (s[1] == "cpu" and t[1] != "cpu")]
    med = {c: {w: {f: median_of(runs[c].get(w, {}).get(f)) for f in FIELDS}
               for w, _ in WORKLOADS} for c in configs}

    out += ["### Throughput (samples/s, higher is better)", ""]
    head = ["workload"] + [name(c) for c in configs] + [f"{name(s)} / {name(t)}" for s, t in pairs]
    out += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for w, label in WORKLOADS:
        row = [f"{w} {label}"]
        row += [fmt_range(runs[c].get(w, {}).get("samples_per_s")) for c in configs]
        for s, t in pairs:
            a_, b_ = med[s][w]["samples_per_s"], med[t][w]["samples_per_s"]
            row.append(f"{a_ / b_:.2f}×" if a_ and b_ else "n/a")
        out.append("| " + " | ".join(row) + " |")
    out.append("")

    out += ["### Peak memory (MiB) and kernels per step", ""]
    head = (["workload"] + [f"peak MiB {name(c)}" for c in configs] +
            ["needed MiB"] + [f"peak / needed {name(c)}" for c in strata_configs] +
            [f"dispatches {name(c)}" for c in configs])
    out += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for w, label in WORKLOADS:
        row = [f"{w} {label}"]
        row += [fmt(med[c][w]["peak_device_mb"]) for c in configs]
        needs = [med[c][w]["memory_need_mb"] for c in strata_configs]
        row.append(fmt(next((n for n in needs if n is not None), None), 2))
        for c in strata_configs:
            ratio = med[c][w]["memory_ratio"]
            row.append("n/a" if ratio is None else
                       f"{ratio:.2f}" + (" (over 1.5)" if ratio > 1.5 else ""))
        row += [fmt(med[c][w]["dispatches_per_step"], 0) for c in configs]
        out.append("| " + " | ".join(row) + " |")
    out += ["", "Peak memory excludes the dataset; on the CPU it is the growth of the process's "
            "resident set, on a GPU the bytes allocated (bench/workloads.md). *Needed* is what "
            "training cannot do without, from Strata's compiled Program: parameters, gradients, "
            "optimizer state and the activations its backward ops read; the target is a peak of "
            "at most 1.5× that. PyTorch's CPU dispatches count ATen operators reaching a kernel, "
            "not kernel launches; Strata's CPU dispatches count the Program's forward, backward "
            "and optimizer kernels.", ""]
    if any(c[1] != "cpu" for c in strata_configs):
        out += ["Strata on Vulkan holds the dataset in device memory and gathers each step's rows "
                "there (one gather dispatch per input field, inside the timed step and counted "
                "in its dispatches); two steps are in flight, so a step's time is the time "
                "between two. Its peak counts the device-local arenas and the kernels' scratch "
                "buffer, not the resident dataset nor the host-visible staging ring, step values "
                "and host copies of the parameters.", ""]
    out.append(END)
    return out


def kernels_section(a):
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out = [KBEGIN, "## Kernels: latest `make bench` run (`strata bench --kernels`)", ""]
    if a.kernels:
        with open(a.kernels) as f:
            text = f.read().rstrip()
        out += [f"Written by `make bench` on {date}.", ""]
        if any(l.startswith(("|", "#")) for l in text.splitlines()):
            out.append(text)
        else:
            out += ["```", text, "```"]
    else:
        why = ""
        if a.kernels_failed and os.path.exists(a.kernels_failed):
            with open(a.kernels_failed) as f:
                lines = [l.strip() for l in f if l.strip()]
            why = f": {lines[-1]}" if lines else ""
        out.append(f"Not measured (`strata bench --kernels` not available{why}).")
    out.append(KEND)
    return out


def replace_section(text, begin, end, lines):
    block = "\n".join(lines)
    if begin in text and end in text and text.index(begin) < text.index(end):
        head, rest = text.split(begin, 1)
        return head + block + rest.split(end, 1)[1]
    return text.rstrip("\n") + "\n\n" + block + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--results", required=True)
    p.add_argument("--doc", required=True)
    p.add_argument("--rounds", type=int, required=True)
    p.add_argument("--steps", type=int, required=True)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--strata", default="")
    p.add_argument("--kernels", default="", help="stdout of a successful strata bench --kernels")
    p.add_argument("--kernels-failed", default="", help="stderr of a failed one")
    a = p.parse_args()

    runs = load_results(a.results)
    failures = {}
    for path in glob.glob(os.path.join(a.results, "strata-*.failed")):
        dev = os.path.basename(path)[len("strata-"):-len(".failed")]
        with open(path) as f:
            lines = [l.strip() for l in f if l.strip()]
        rc = lines[0] if lines else "?"
        failures[dev] = f"exit {rc}" + (f", \"{lines[1]}\"" if len(lines) > 1 else "")

    if os.path.exists(a.doc):
        with open(a.doc) as f:
            text = f.read()
    else:
        text = ("# Benchmarks\n\nTraining throughput of Strata against PyTorch on the same "
                "machine, and the speed of its kernels. `make bench` rewrites the marked "
                "sections; everything else here is written by hand.\n")
    partial = {}
    for path in glob.glob(os.path.join(a.results, "strata-*-partial.err")):
        dev = os.path.basename(path)[len("strata-"):-len("-partial.err")]
        with open(path) as f:
            partial[dev] = list(dict.fromkeys(l.strip() for l in f if l.strip()))
    text = replace_section(text, BEGIN, END, workloads_section(a, runs, failures, partial))
    if a.kernels or a.kernels_failed:
        # A failed run keeps figures recorded earlier (by hand on another machine, say).
        if a.kernels or KBEGIN not in text:
            text = replace_section(text, KBEGIN, KEND, kernels_section(a))
    os.makedirs(os.path.dirname(os.path.abspath(a.doc)), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(a.doc)), suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, a.doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
