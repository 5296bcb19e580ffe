#include "core/engine/backend.h"

#include <cmath>
#include <cstdlib>

#include "core/engine/cpu_backend.h"

namespace strata {

namespace {
BackendFactory g_factory = nullptr;
DeviceLister g_lister = nullptr;
}  // namespace

void registerBackendFactory(BackendFactory factory) {
    g_factory = factory;
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
