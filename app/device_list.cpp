// The device names the studio's device box offers beside "auto" and "cpu": the Vulkan devices
// `strata devices` lists, as "vulkan:N". Registered with core (which includes no Vulkan), and
// shown only once a GPU backend factory is registered to serve them.
#include "app/commands.h"
#include "core/engine/backend.h"

#ifdef HAVE_STRATA_GPU
#include "gpu/device.h"
#endif

namespace strata::app {

#ifdef HAVE_STRATA_GPU
namespace {
std::vector<DeviceOption> vulkanDevices() {
    std::vector<DeviceOption> out;
    auto instance = gpu::Instance::create(false);
    if (!instance) return out;
    for (const auto& d : (*instance)->devices()) {
        out.push_back({"vulkan:" + std::to_string(d.index), d.name + " (" + d.typeName() + ")"});
    }
    return out;
}
}  // namespace
#endif

void registerDeviceList() {
#ifdef HAVE_STRATA_GPU
    registerDeviceLister(&vulkanDevices);
#endif
}

}  // namespace strata::app
