#!/usr/bin/env python3
"""PyTorch reference for the Strata benchmark workloads W1-W4 (bench/workloads.md defines them).

Trains each workload for --steps timed steps after --warmup untimed ones and prints exactly one
line per workload on stdout, in the format `strata bench --workload` prints:

    W1 mlp samples_per_s=45210.3 peak_device_mb=14.1 dispatches_per_step=40

Everything else (parameter counts, step times, how memory was measured) goes to stderr.
Run it with Debian's interpreter, which owns torch:  /usr/bin/python3 bench/torch_reference.py
"""
import argparse
import os
import resource
import statistics
import subprocess
import sys
import time

WORKLOADS = {"W1": "mlp", "W2": "lenet5", "W3": "char_lstm", "W4": "transformer_lm"}

# Per workload: batch size, dataset size (samples generated once, cycled in order), classes.
BATCH = {"W1": 128, "W2": 64, "W3": 32, "W4": 32}
DATASET_BATCHES = 16  # the resident dataset holds 16 batches; step i uses batch i mod 16
SEQ_LEN = 64          # W3, W4
SEED = 1234


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--workload", default="all", choices=list(WORKLOADS) + ["all"])
    p.add_argument("--steps", type=int, default=50, help="timed steps (default 50)")
    p.add_argument("--warmup", type=int, default=5, help="untimed steps first (default 5)")
    p.add_argument("--threads", type=int, default=2, help="CPU threads (default 2)")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--params", action="store_true",
                   help="print every parameter tensor with its size, then exit")
    a = p.parse_args(argv)
    if a.steps < 1 or a.warmup < 0 or a.threads < 1:
        p.error("--steps must be at least 1, --warmup at least 0, --threads at least 1")
    return a


ARGS = parse_args(sys.argv[1:])
# The BLAS and OpenMP pools size themselves when the libraries load, so the thread count has to be
# in the environment before torch is imported; torch.set_num_threads below covers torch's own pool.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(ARGS.threads)
# OpenMP's default lets idle workers spin for a while. On a shared machine a spinning worker takes
# the core from the thread it waits for: W1 measured 112 ms per step with spinning and 2.8 ms with
# passive waits on a loaded 2-core machine. Passive waits make PyTorch the stronger baseline there;
# set OMP_WAIT_POLICY yourself to measure the other way.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402
from torch import nn  # noqa: E402


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


# ---- models ---------------------------------------------------------------------------------

def make_mlp():
    return nn.Sequential(
        nn.Linear(784, 256), nn.ReLU(),
        nn.Linear(256, 256), nn.ReLU(),
        nn.Linear(256, 10))


def make_lenet5():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2),     # (N, 6, 12, 12)
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),    # (N, 16, 4, 4)
        nn.Flatten(),                                       # (N, 256)
        nn.Linear(256, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10))


class CharLstm(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(65, 64)
        self.lstm = nn.LSTM(64, 128, num_layers=2, batch_first=True)
        self.head = nn.Linear(128, 65)

    def forward(self, x):          # (N, T) int64
        h, _ = self.lstm(self.embed(x))  # (N, T, 128)
        return self.head(h)        # (N, T, 65)


class TransformerLm(nn.Module):
    def __init__(self, vocab=64, d_model=128, max_len=SEQ_LEN):
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model)
        # Strata's positional_encoding(kind=learned): weight [max_len, D] ~ N(0, 1), added.
        self.pos = nn.Parameter(torch.randn(max_len, d_model))
        self.layers = nn.ModuleList([
            nn.TransformerEncoderLayer(d_model, 4, 512, dropout=0.0, activation="relu",
                                       norm_first=True, batch_first=True)
            for _ in range(2)])
        self.head = nn.Linear(d_model, vocab)
        mask = torch.triu(torch.full((max_len, max_len), float("-inf")), diagonal=1)
        self.register_buffer("causal", mask, persistent=False)  # (T, T), -inf above the diagonal

    def forward(self, x):          # (N, T) int64
        t = x.shape[1]
        h = self.embed(x) + self.pos[:t]  # (N, T, D)
        for layer in self.layers:
            h = layer(h, src_mask=self.causal[:t, :t])
        return self.head(h)        # (N, T, vocab)


# ---- data -----------------------------------------------------------------------------------

def make_data(w, gen):
    """The resident dataset: DATASET_BATCHES batches of inputs and int64 class labels."""
    n = BATCH[w] * DATASET_BATCHES
    if w == "W1":
        x = torch.randn(n, 784, generator=gen)
        y = torch.randint(0, 10, (n,), generator=gen)
    elif w == "W2":
        x = torch.randn(n, 1, 28, 28, generator=gen)
        y = torch.randint(0, 10, (n,), generator=gen)
    else:
        vocab = 65 if w == "W3" else 64
        s = torch.randint(0, vocab, (n, SEQ_LEN + 1), generator=gen)  # next-token windows
        x, y = s[:, :-1].contiguous(), s[:, 1:].contiguous()
    return x, y


def make_workload(w):
    if w == "W1":
        model = make_mlp()
    elif w == "W2":
        model = make_lenet5()
    elif w == "W3":
        model = CharLstm()
    else:
        model = TransformerLm()
    if w in ("W1", "W2"):
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
    return model, opt


# ---- measurement ----------------------------------------------------------------------------

# ATen ops that only create or reinterpret tensor metadata: no kernel runs for them, so they are
# not counted as dispatches on the CPU.
METADATA_OPS = {
    "empty", "empty_like", "empty_strided", "as_strided", "view", "_reshape_alias", "reshape",
    "t", "transpose", "permute", "expand", "squeeze", "unsqueeze", "select", "slice", "detach",
    "alias", "resolve_conj", "resolve_neg", "_unsafe_view", "lift", "lift_fresh", "result_type",
    "size", "stride", "is_same_size", "resize_", "set_", "contiguous", "chunk", "split",
    "split_with_sizes", "unbind", "narrow", "expand_as", "view_as", "flatten", "unflatten",
    "_has_compatible_shallow_copy_type", "is_nonzero", "_record_function_enter",
    "_record_function_enter_new", "_record_function_exit",
}


def count_dispatches(step, device):
    """Kernels of one training step.

    GPU: device-side events (kernels, memsets, copies) in a profiler trace of the step.
    CPU, which has no launches to count: the ATen operators that reach a CPU kernel, seen by a
    dispatch mode, which sits below autograd (so backward's operators are seen, and composite
    operators arrive decomposed: linear as addmm) and sees no call nested inside a kernel (addmm's
    own copy_); metadata-only operators are left out."""
    if device == "cuda":
        from torch.autograd import DeviceType
        from torch.profiler import ProfilerActivity, profile
        with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
            step()
            torch.cuda.synchronize()
        return sum(1 for e in prof.events() if e.device_type == DeviceType.CUDA)

    from torch.utils._python_dispatch import TorchDispatchMode

    class Count(TorchDispatchMode):
        def __init__(self):
            super().__init__()
            self.count = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            if func.overloadpacket.__name__ not in METADATA_OPS:
                self.count += 1
            return func(*args, **(kwargs or {}))

    with Count() as counter:
        step()
    return counter.count


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def reset_peak_rss():
    """Resets the kernel's high-water mark of this process's RSS to its current RSS (Linux ≥ 4.0).
    Returns False where that is not allowed; the peak then includes what came before."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_rss_bytes():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def run_workload(w, a):
    torch.manual_seed(SEED)
    dev = torch.device(a.device)
    gen = torch.Generator().manual_seed(SEED)
    x_all, y_all = make_data(w, gen)
    x_all, y_all = x_all.to(dev), y_all.to(dev)  # resident: steps never copy from the host
    b = BATCH[w]

    # Memory is measured from here: the model, gradients, optimizer state and activations count;
    # the interpreter, torch itself and the dataset do not.
    if dev.type == "cuda":
        torch.cuda.synchronize()
        base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        how_mem = "torch.cuda.max_memory_allocated() minus the bytes allocated before the model"
    else:
        base = rss_bytes()
        how_mem = ("peak RSS (VmHWM after resetting it through /proc/self/clear_refs) minus RSS "
                   "before the model" if reset_peak_rss() else
                   "ru_maxrss minus RSS before the model (peak not resettable here: upper bound)")

    model, opt = make_workload(w)
    model.to(dev).train()
    classes = {"W1": 10, "W2": 10, "W3": 65, "W4": 64}[w]
    loss_fn = nn.CrossEntropyLoss()
    state = {"i": 0}

    def step():
        k = state["i"] % DATASET_BATCHES
        state["i"] += 1
        xb, yb = x_all[k * b:(k + 1) * b], y_all[k * b:(k + 1) * b]
        opt.zero_grad(set_to_none=True)
        logits = model(xb)
        loss = loss_fn(logits.reshape(-1, classes), yb.reshape(-1))
        loss.backward()
        opt.step()
        return loss

    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    for _ in range(a.warmup):
        step()
    sync()
    times = []
    for _ in range(a.steps):
        t0 = time.perf_counter()
        loss = step()
        sync()
        times.append(time.perf_counter() - t0)
    last_loss = float(loss.detach())

    if dev.type == "cuda":
        peak = torch.cuda.max_memory_allocated() - base
    else:
        peak = peak_rss_bytes() - base
    try:
        dispatches = str(count_dispatches(step, dev.type))
    except Exception as e:  # the profiler is optional for the figures that matter
        log(f"{w}: could not count dispatches: {e}")
        dispatches = "n/a"

    med = statistics.median(times)
    n_params = sum(p.numel() for p in model.parameters())
    log(f"{w} {WORKLOADS[w]}: {n_params} parameters, batch {b}, median step {med * 1e3:.3f} ms "
        f"over {a.steps} steps after {a.warmup} warm-up, min {min(times) * 1e3:.3f} ms, "
        f"last loss {last_loss:.4f}, device {dev.type}, threads {torch.get_num_threads()}, "
        f"OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}; "
        f"memory: {how_mem}")
    print(f"{w} {WORKLOADS[w]} samples_per_s={b / med:.1f} "
          f"peak_device_mb={max(peak, 0) / 2**20:.1f} dispatches_per_step={dispatches}",
          flush=True)


def print_params():
    for w in WORKLOADS:
        model, _ = make_workload(w)
        total = 0
        print(f"{w} {WORKLOADS[w]}")
        for name, p in model.named_parameters():
            total += p.numel()
            print(f"  {name:45s} {str(list(p.shape)):14s} {p.numel():8d}")
        print(f"  total {total}")


def main():
    torch.set_num_threads(ARGS.threads)
    if ARGS.params:
        print_params()
        return 0
    if ARGS.device == "cuda" and not torch.cuda.is_available():
        log("torch_reference: --device cuda but this torch has no CUDA device "
            f"(torch {torch.__version__}); use --device cpu")
        return 2
    if ARGS.workload != "all":
        run_workload(ARGS.workload, ARGS)
        return 0
    # One process per workload: a process's peak RSS only grows, so a workload measured after
    # another would hide its memory behind the earlier one's.
    status = 0
    for w in WORKLOADS:
        cmd = [sys.executable, os.path.abspath(__file__), "--workload", w,
               "--steps", str(ARGS.steps), "--warmup", str(ARGS.warmup),
               "--threads", str(ARGS.threads), "--device", ARGS.device]
        rc = subprocess.call(cmd)
        if rc != 0:
            log(f"torch_reference: {w} failed with exit code {rc}")
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
