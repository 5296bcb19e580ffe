#include "core/engine/backend.h"

#include <cmath>
#include <cstdlib>
#include <utility>

#include "core/engine/cpu_backend.h"

namespace strata {

namespace {
BackendFactory g_factory = nullptr;
DeviceLister g_lister = nullptr;
}  // namespace

void registerBackendFactory(BackendFactory factory) {
    g_factory = factory;
}

Result<void> checkBatch(const Program& program, int64_t n) {
    if (n < 1 || n > program.batch) {
        return fail("a batch of " + std::to_string(n) +
                    " samples does not fit the compiled batch of " +
                    std::to_string(program.batch));
    }
    return {};
}

Result<std::vector<TensorId>> inputTensorsFor(const Program& program, const std::string& field,
                                              size_t count, int64_t n) {
    if (auto r = checkBatch(program, n); !r) return r.error();
    std::vector<TensorId> found;
    for (const auto& b : program.inputs) {
        if (b.field != field) continue;
        const ProgramTensor& t = program.tensor(b.tensor);
        if (static_cast<int64_t>(count) != t.numelAt(n)) {
            return fail("field '" + field + "' gives " + std::to_string(count) + " values for " +
                        std::to_string(n) + " samples but input '" + t.nodeName + "' needs " +
                        std::to_string(t.numelAt(n)) + " " + t.shapeAt(n).str());
        }
        found.push_back(b.tensor);
    }
    if (found.empty()) return fail("no input node takes the field '" + field + "'");
    return found;
}

void registerDeviceLister(DeviceLister lister) {
    g_lister = lister;
}

std::vector<DeviceOption> availableDevices() {
    std::vector<DeviceOption> out = {
        {"auto", g_factory ? "the best GPU when there is one, else the CPU" : "the CPU (no GPU "
                                                                              "backend built in)"},
        {"cpu", "CPU backend (loops + OpenBLAS)"}};
    // Listed devices are only usable through the factory that serves them.
    if (g_lister && g_factory) {
        for (DeviceOption& d : g_lister()) {
            if (d.name != "auto" && d.name != "cpu") out.push_back(std::move(d));
        }
    }
    return out;
}

Result<StepResult> Backend::trainStep(const StepValues& v) {
    StepResult r;
    if (auto f = runForward(v, Mode::Train); !f) return f.error();
    auto loss = this->loss();
    if (!loss) return loss.error();
    r.loss = *loss;
    if (auto b = runBackward(v); !b) return b.error();
    auto norm = gradientNorm(v.clipNorm);
    if (!norm) return norm.error();
    r.gradNorm = *norm;
    if (!std::isfinite(r.loss) || !std::isfinite(r.gradNorm)) return r;
    if (auto s = optimizerStep(v); !s) return s.error();
    r.applied = true;
    return r;
}

Result<void> Backend::queueStep(const StepValues& v) {
    if (!m_finished.empty() && !m_finished.back().applied) {
        m_finished.push_back({.loss = NAN, .gradNorm = NAN, .applied = false});
        return {};
    }
    auto r = trainStep(v);
    if (!r) return r.error();
    m_finished.push_back(*r);
    return {};
}

Result<std::vector<StepResult>> Backend::finishedSteps(bool all) {
    (void)all;  // every queued step has run
    return std::exchange(m_finished, {});
}

Result<std::unique_ptr<Backend>> createBackend(const std::string& requested) {
    std::string device = requested.empty() ? "auto" : requested;
    if (device == "auto") {
        if (const char* env = std::getenv("STRATA_DEVICE"); env && *env) device = env;
    }
    if (device == "cpu") return std::unique_ptr<Backend>(std::make_unique<CpuBackend>());
    if (device == "auto") {
        if (g_factory) {
            auto gpu = g_factory("auto");
            if (gpu) return std::move(*gpu);
        }
        return std::unique_ptr<Backend>(std::make_unique<CpuBackend>());
    }
    if (!g_factory) {
        return fail("device '" + device +
                    "' needs the Vulkan backend, which this build lacks; "
                    "use --device cpu");
    }
    return g_factory(device);
}

}  // namespace strata
