// strata devices: every Vulkan device with the properties that matter to Strata's kernels, the
// CPU backend, and which one `auto` (or --device / STRATA_DEVICE) picks.
#include <cstdio>
#include <iostream>
#include <thread>

#include "app/commands.h"

#ifdef HAVE_STRATA_GPU
#include "gpu/device.h"
#include "gpu/memory_arena.h"
#endif

namespace strata::app {

int cmdDevices(const Args& argsIn) {
    Args args = argsIn;
    const std::string flag = takeOption(args, "--device");
    if (!args.empty()) return usageError("devices takes no argument '" + args[0] + "'");
    const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
#ifdef HAVE_STRATA_GPU
    using namespace strata::gpu;
    auto choice = deviceChoiceFrom(flag);
    if (!choice) return usageError(choice.message());
    std::vector<DeviceInfo> devices;
    auto instance = Instance::create();
    if (!instance) {
        std::cout << "Vulkan: unavailable (" << instance.message() << ")\n";
    } else {
        devices = (*instance)->devices();
        if (devices.empty()) std::cout << "Vulkan: no devices\n";
    }
    for (const auto& d : devices) {
        std::cout << "vulkan:" << d.index << "  " << d.name << "\n";
        auto row = [](const char* key, const std::string& value) {
            std::printf("    %-34s %s\n", key, value.c_str());
        };
        row("type", d.typeName());
        row("driver", d.driverName + (d.driverInfo.empty() ? "" : " (" + d.driverInfo + ")"));
        row("Vulkan API", d.apiVersionText());
        for (size_t h = 0; h < d.heaps.size(); ++h) {
            row(("memory heap " + std::to_string(h)).c_str(),
                byteText(d.heaps[h].bytes) + (d.heaps[h].deviceLocal ? ", device-local" : ""));
        }
        row("subgroup size", std::to_string(d.subgroupSize));
        row("maxComputeWorkGroupSize", std::to_string(d.maxWorkGroupSize[0]) + " x " +
                                           std::to_string(d.maxWorkGroupSize[1]) + " x " +
                                           std::to_string(d.maxWorkGroupSize[2]));
        row("maxComputeWorkGroupInvocations", std::to_string(d.maxWorkGroupInvocations));
        row("maxStorageBufferRange", byteText(d.maxStorageBufferRange));
        row("minStorageBufferOffsetAlignment",
            std::to_string(d.minStorageBufferOffsetAlignment) + " bytes");
        row("maxPushConstantsSize", std::to_string(d.maxPushConstantsSize) + " bytes");
        char period[32];
        std::snprintf(period, sizeof period, "%g ns", d.timestampPeriod);
        row("timestampPeriod", period);
        row("GEMM kernel", d.isCpu() ? "register-blocked 8x8 through texel buffers"
                                     : "shared-memory 64x64 tiles");
    }
    std::cout << "cpu  CPU backend (loops + OpenBLAS), " << threads << " threads\n";
    auto resolved = resolveDeviceChoice(*choice, devices);
    if (!resolved) {
        std::cerr << "strata: " << resolved.message() << "\n";
        return kInvalid;
    }
    const std::string picked = resolved->cpu ? "cpu" : "vulkan:" +
                                                           std::to_string(resolved->vulkanIndex);
    std::cout << (choice->kind == DeviceKind::Auto ? "auto picks " : "the choice picks ")
              << picked << " (" << resolved->reason << ")\n";
#else
    if (!flag.empty() && flag != "cpu" && flag != "auto") {
        return usageError("this build has no Vulkan support; use --device cpu");
    }
    std::cout << "Vulkan: not built in\ncpu  CPU backend (loops + OpenBLAS), " << threads
              << " threads\nauto picks cpu\n";
#endif
    return kOk;
}

}  // namespace strata::app
