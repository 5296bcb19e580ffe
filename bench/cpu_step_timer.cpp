// A stand-alone timer for the CPU backend on the benchmark documents (bench/W*.strata.json):
// random data as the document's dataset options describe it, a warm-up, then N timed trainSteps
// on a CpuBackend, printing samples/s (median step) and the per-op times sorted by share.
// It exists to profile the CPU kernels; `strata bench` is the measurement that gets reported.
//
//   cpu_step_timer bench/W2.strata.json [steps=50] [threads=2]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "core/engine/cpu_backend.h"
#include "core/engine/program.h"
#include "core/io/document.h"

using namespace strata;

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: cpu_step_timer DOCUMENT [steps] [threads]\n");
        return 2;
    }
    const int steps = argc > 2 ? std::atoi(argv[2]) : 50;
    const int threads = argc > 3 ? std::atoi(argv[3]) : 2;
    auto doc = readDocument(argv[1]);
    if (!doc) {
        std::fprintf(stderr, "%s\n", doc.message().c_str());
        return 1;
    }
    const TrainingSettings& s = doc->training;
    auto program = compile(doc->graph, s.batchSize, {.training = true, .optimizer = s.optimizer});
    if (!program) {
        std::fprintf(stderr, "%s\n", program.message().c_str());
        return 1;
    }
    const int64_t batch = s.batchSize;
    const int kBatches = 16;

    // One buffer per field holding 16 batches; integers uniform in [low, high), floats N(0, 1).
    std::mt19937 rng(1234);
    const nlohmann::json& fields = doc->dataset->options["fields"];
    std::map<std::string, std::vector<float>> data;
    int64_t intHigh = 1;
    for (auto it = fields.begin(); it != fields.end(); ++it) {
        if (it.value().contains("high")) intHigh = it.value()["high"].get<int64_t>();
    }
    for (auto it = fields.begin(); it != fields.end(); ++it) {
        const InputBinding* b = program->input(it.key());
        if (!b) continue;
        int64_t sample = 1;
        for (int64_t d : b->sampleShape) sample *= d;
        std::vector<float>& v = data[it.key()];
        v.resize(static_cast<size_t>(kBatches * batch * sample));
        if (b->dtype == DType::Int32) {
            const int64_t high = it.value().value("high", intHigh);
            std::uniform_int_distribution<int64_t> u(0, high - 1);
            for (float& x : v) x = static_cast<float>(u(rng));
        } else {
            std::normal_distribution<float> nd(0.0f, 1.0f);
            for (float& x : v) x = nd(rng);
        }
    }

    CpuBackend backend(threads);
    if (auto r = backend.prepare(*program); !r) {
        std::fprintf(stderr, "%s\n", r.message().c_str());
        return 1;
    }
    (void)backend.uploadParameters(initialParameters(*program, 1234));

    std::vector<double> times;
    const int warmup = 5;
    float loss = 0.0f;
    for (int i = 0; i < warmup + steps; ++i) {
        for (auto& [field, v] : data) {
            const size_t per = v.size() / kBatches;
            const float* p = v.data() + static_cast<size_t>(i % kBatches) * per;
            (void)backend.setInput(field, std::span<const float>(p, per), batch);
        }
        if (i == warmup) backend.resetTimings();
        const StepValues values{.learningRate = static_cast<float>(s.optimizer.learningRate),
                                .step = i + 1,
                                .seed = static_cast<uint64_t>(i),
                                .batch = batch};
        const auto start = std::chrono::steady_clock::now();
        auto r = backend.trainStep(values);
        const double t =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (!r) {
            std::fprintf(stderr, "%s\n", r.message().c_str());
            return 1;
        }
        loss = r->loss;
        if (i >= warmup) times.push_back(t);
    }
    std::vector<double> sorted = times;
    std::sort(sorted.begin(), sorted.end());
    const double median = sorted[sorted.size() / 2];
    std::printf("%s samples_per_s=%.1f median_ms=%.3f min_ms=%.3f loss=%.4f\n",
                doc->name.c_str(), static_cast<double>(batch) / median, median * 1e3,
                sorted.front() * 1e3, loss);

    std::vector<OpTiming> ops = backend.timings();
    double total = 0.0;
    for (const auto& o : ops) total += o.seconds;
    std::sort(ops.begin(), ops.end(),
              [](const OpTiming& a, const OpTiming& b) { return a.seconds > b.seconds; });
    for (const auto& o : ops) {
        if (o.calls == 0) continue;
        std::printf("  %-28s %8.3f ms/step %5.1f%%\n", o.name.c_str(),
                    o.seconds / static_cast<double>(o.calls) * 1e3, 100.0 * o.seconds / total);
    }
    return 0;
}
