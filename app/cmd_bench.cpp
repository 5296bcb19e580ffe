// strata bench --kernels: GFLOP/s of the Vulkan GEMM beside OpenBLAS's cblas_sgemm (through
// cpu::gemm) at the same sizes in the same run, and what one dispatch costs inside a recorded
// command buffer.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <random>
#include <sstream>
#include <thread>
#include <cmath>
#include <vector>

#include <sys/resource.h>

#include "app/commands.h"
#include "core/engine/cpu_math.h"

#ifdef HAVE_STRATA_GPU
#include "gpu/device.h"
#include "gpu/memory_arena.h"
#include "gpu/ops/activation.h"
#include "gpu/ops/gemm.h"
#include "gpu/pipeline_cache.h"
#include "gpu/recorder.h"
#endif

namespace strata::app {

namespace {

using Clock = std::chrono::steady_clock;

double seconds(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}

// Repeats fn until at least `budget` seconds have passed (and at least twice); mean seconds.
template <class F>
double timeIt(F&& fn, double budget) {
    fn();  // warm-up: pipeline creation, caches, thread pools
    int reps = 0;
    const auto start = Clock::now();
    double elapsed = 0;
    while (reps < 2 || elapsed < budget) {
        fn();
        ++reps;
        elapsed = seconds(start, Clock::now());
    }
    return elapsed / reps;
}

// CPU seconds used by every thread of this process (lavapipe's and OpenBLAS's workers too).
[[maybe_unused]] double cpuSeconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           1e-6 * double(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

struct Timing {
    double wall = 0;  // mean seconds per call
    double cpu = 0;   // mean CPU seconds per call, all threads together
};

// timeIt, with the CPU time of the timed calls as well (the machine may be shared).
template <class F>
Timing timeWithCpu(F&& fn, double budget) {
    fn();
    const double cpuStart = cpuSeconds();
    const auto start = Clock::now();
    int reps = 0;
    double elapsed = 0;
    while (reps < 2 || elapsed < budget) {
        fn();
        ++reps;
        elapsed = seconds(start, Clock::now());
    }
    return {elapsed / reps, (cpuSeconds() - cpuStart) / reps};
}

std::vector<int> parseSizes(const std::string& text) {
    std::vector<int> sizes;
    std::stringstream ss(text);
    std::string item;
    while (std::getline(ss, item, ',')) {
        try {
            sizes.push_back(std::stoi(item));
        } catch (...) {
            throw std::invalid_argument("--sizes expects numbers like 256,512");
        }
        if (sizes.back() <= 0 || sizes.back() > 8192) {
            throw std::invalid_argument("--sizes takes sizes from 1 to 8192");
        }
    }
    return sizes;
}

}  // namespace

int benchUi(Args& args);  // bench_ui.cpp
// app/cmd_bench_workloads.cpp: --workload and --profile.
bool isWorkloadBench(const Args& args);
int cmdBenchWorkloads(const Args& args);

int cmdBench(const Args& argsIn) {
    if (isWorkloadBench(argsIn)) return cmdBenchWorkloads(argsIn);
    Args args = argsIn;
    if (takeFlag(args, "--ui")) return benchUi(args);
    const bool kernels = takeFlag(args, "--kernels");
    const std::string deviceFlag = takeOption(args, "--device", "vulkan");
    const auto sizes = parseSizes(takeOption(args, "--sizes", "256,512,1024,2048"));
    const double budget = std::stod(takeOption(args, "--seconds", "0.5"));
    if (!args.empty()) return usageError("bench takes no argument '" + args[0] + "'");
    if (!kernels) return usageError("bench needs --kernels, --workload W, --profile W or --ui");

    std::mt19937 rng(1);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
#ifdef HAVE_STRATA_GPU
    using namespace strata::gpu;
    auto choice = parseDeviceChoice(deviceFlag);
    if (!choice) return usageError(choice.message());
    auto instance = Instance::create();
    if (!instance) {
        std::cerr << "strata: " << instance.message() << "\n";
        return kInvalid;
    }
    auto resolved = resolveDeviceChoice(*choice, (*instance)->devices());
    if (!resolved || resolved->cpu) {
        std::cerr << "strata: bench --kernels needs a Vulkan device"
                  << (resolved ? "" : ": " + resolved.message()) << "\n";
        return kInvalid;
    }
    auto device = Device::create(*instance, resolved->vulkanIndex);
    if (!device) {
        std::cerr << "strata: " << device.message() << "\n";
        return kInvalid;
    }
    Device& dev = **device;
    auto pipelines = PipelineCache::create(dev);
    auto staging = StagingRing::create(dev);
    if (!pipelines || !staging) {
        std::cerr << "strata: " << (pipelines ? staging.message() : pipelines.message()) << "\n";
        return kInvalid;
    }
    const bool texel = dev.gemmVariant() == GemmVariant::Texel8x8;
    std::printf("device: %s (%s, %s)\nVulkan GEMM kernel: %s\nCPU: cblas_sgemm (OpenBLAS), %u "
                "threads\n\n",
                dev.info().name.c_str(), dev.info().typeName().c_str(),
                dev.info().driverInfo.c_str(),
                texel ? "register-blocked 8x8 per invocation, 4-float texel-buffer fetches"
                      : "shared-memory 64x64 tiles",
                std::max(1u, std::thread::hardware_concurrency()));
    // The machine may be shared: the ratio of the two in the same run, and GFLOP per CPU-second
    // (all threads of this process), say more than either wall-clock figure alone.
    std::printf("%6s  %14s  %16s  %6s  %18s  %20s  %10s\n", "size", "Vulkan GFLOP/s",
                "OpenBLAS GFLOP/s", "ratio", "Vulkan GFLOP/cpu-s", "OpenBLAS GFLOP/cpu-s",
                "max |diff|");
    for (int n : sizes) {
        const uint64_t count = uint64_t(n) * n;
        std::vector<float> a(count), b(count), c(count), ref(count);
        for (auto& v : a) v = dist(rng);
        for (auto& v : b) v = dist(rng);
        auto arena = MemoryArena::create(dev, "benchmark", count * 4 * 3 + 4096);
        if (!arena) {
            std::cerr << "strata: " << arena.message() << "\n";
            return kInvalid;
        }
        auto ra = (*arena)->allocateFloats(count, "A");
        auto rb = (*arena)->allocateFloats(count, "B");
        auto rc = (*arena)->allocateFloats(count, "C");
        auto rec = Recorder::create(dev, **pipelines);
        if (!ra || !rb || !rc || !rec) return kInvalid;
        ops::GemmArgs g;
        g.M = g.N = g.K = uint32_t(n);
        g.a = *ra;
        g.b = *rb;
        g.c = *rc;
        Result<void> ok = (*staging)->upload(*ra, a.data(), count * 4);
        if (ok) ok = (*staging)->upload(*rb, b.data(), count * 4);
        if (ok) ok = ops::recordGemm(**rec, g);
        if (ok) ok = (*rec)->finish();
        if (!ok) {
            std::cerr << "strata: " << ok.message() << "\n";
            return kInvalid;
        }
        Result<void> runOk;
        const Timing tGpu = timeWithCpu([&] { if (runOk) runOk = (*rec)->run(); }, budget);
        if (runOk) runOk = (*staging)->download(*rc, c.data(), count * 4);
        if (!runOk) {
            std::cerr << "strata: " << runOk.message() << "\n";
            return kInvalid;
        }
        const Timing tCpu = timeWithCpu(
            [&] { cpu::gemm(false, false, n, n, n, 1.0f, a.data(), b.data(), 0.0f, ref.data()); },
            budget);
        float maxDiff = 0;
        for (uint64_t i = 0; i < count; ++i) maxDiff = std::max(maxDiff, std::abs(c[i] - ref[i]));
        const double flops = 2.0 * n * double(n) * n;
        std::printf("%6d  %14.1f  %16.1f  %6.2f  %18.1f  %20.1f  %10.2g\n", n,
                    flops / tGpu.wall * 1e-9, flops / tCpu.wall * 1e-9, tCpu.wall / tGpu.wall,
                    flops / tGpu.cpu * 1e-9, flops / tCpu.cpu * 1e-9, maxDiff);
        std::fflush(stdout);
    }

    // One dispatch inside a recorded command buffer: replay 257 tiny independent dispatches and
    // 1, and divide the difference (submission and fence costs cancel).
    auto arena = MemoryArena::create(dev, "benchmark", 2 * 257 * 64 * 4 + 65536);
    if (!arena) return kInvalid;
    auto x = (*arena)->allocateFloats(64, "x");
    std::vector<BufferRange> outs;
    for (int i = 0; i < 257; ++i) outs.push_back((*arena)->allocateFloats(64, "y").value());
    auto one = Recorder::create(dev, **pipelines);
    auto many = Recorder::create(dev, **pipelines);
    if (!x || !one || !many) return kInvalid;
    Result<void> ok = ops::recordActivationFwd(**one, ops::Activation::Relu, 0, *x, outs[0]);
    for (int i = 0; ok && i < 257; ++i) {
        ok = ops::recordActivationFwd(**many, ops::Activation::Relu, 0, *x, outs[size_t(i)]);
    }
    if (!ok) {
        std::cerr << "strata: " << ok.message() << "\n";
        return kInvalid;
    }
    const double tOne = timeIt([&] { (void)(*one)->run(); }, budget);
    const double tMany = timeIt([&] { (void)(*many)->run(); }, budget);
    std::printf("\none dispatch in a recorded command buffer: %.1f us (submit + wait of a "
                "1-dispatch buffer: %.1f us; %zu barriers among the 257 dispatches)\n",
                (tMany - tOne) / 256 * 1e6, tOne * 1e6, (*many)->barriers().size() - 1);
#else
    (void)budget;
    std::printf("%6s  %16s\n", "size", "OpenBLAS GFLOP/s");
    for (int n : sizes) {
        std::vector<float> a(size_t(n) * n), b(size_t(n) * n), c(size_t(n) * n);
        for (auto& v : a) v = dist(rng);
        for (auto& v : b) v = dist(rng);
        const double t = timeIt(
            [&] { cpu::gemm(false, false, n, n, n, 1.0f, a.data(), b.data(), 0.0f, c.data()); },
            0.5);
        std::printf("%6d  %16.1f\n", n, 2.0 * n * double(n) * n / t * 1e-9);
    }
    std::printf("(this build has no Vulkan support)\n");
#endif
    return kOk;
}

}  // namespace strata::app
