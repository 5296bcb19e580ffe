#include "gpu/device.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>

#include "gpu/vk_check.h"

namespace strata::gpu {

namespace {

std::mutex g_validationMutex;
std::atomic<bool> g_pretendDiscreteGpu{false};
std::vector<std::string> g_validationMessages;

VKAPI_ATTR VkBool32 VKAPI_CALL onValidationMessage(
    VkDebugUtilsMessageSeverityFlagBitsEXT severity, VkDebugUtilsMessageTypeFlagsEXT,
    const VkDebugUtilsMessengerCallbackDataEXT* data, void*) {
    const char* level =
        severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT ? "error" : "warning";
    std::lock_guard lock(g_validationMutex);
    g_validationMessages.push_back(std::string(level) + ": " +
                                   (data && data->pMessage ? data->pMessage : "(no text)"));
    return VK_FALSE;
}

bool hasLayer(const char* name) {
    uint32_t count = 0;
    if (vkEnumerateInstanceLayerProperties(&count, nullptr) != VK_SUCCESS) return false;
    std::vector<VkLayerProperties> layers(count);
    if (vkEnumerateInstanceLayerProperties(&count, layers.data()) != VK_SUCCESS) return false;
    return std::any_of(layers.begin(), layers.end(),
                       [&](const VkLayerProperties& l) { return std::strcmp(l.layerName, name) == 0; });
}

DeviceInfo describe(VkPhysicalDevice pd, int index) {
    DeviceInfo d;
    d.index = index;
    VkPhysicalDeviceProperties props{};
    vkGetPhysicalDeviceProperties(pd, &props);
    VkPhysicalDeviceDriverProperties driver{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
    VkPhysicalDeviceSubgroupProperties subgroup{
        VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
    VkPhysicalDeviceMaintenance3Properties m3{
        VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES};
    VkPhysicalDeviceIDProperties ids{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ID_PROPERTIES};
    subgroup.pNext = &m3;
    m3.pNext = &ids;
    // Driver properties are core only from Vulkan 1.2.
    if (props.apiVersion >= VK_API_VERSION_1_2) ids.pNext = &driver;
    VkPhysicalDeviceProperties2 props2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
    props2.pNext = &subgroup;
    if (props.apiVersion >= VK_API_VERSION_1_1) vkGetPhysicalDeviceProperties2(pd, &props2);

    const VkPhysicalDeviceLimits& lim = props.limits;
    d.name = props.deviceName;
    d.type = props.deviceType;
    d.apiVersion = props.apiVersion;
    d.driverVersion = props.driverVersion;
    d.vendorId = props.vendorID;
    std::memcpy(d.uuid.data(), props.apiVersion >= VK_API_VERSION_1_1 ? ids.deviceUUID
                                                                      : props.pipelineCacheUUID,
                VK_UUID_SIZE);
    if (props.apiVersion >= VK_API_VERSION_1_2) {
        d.driverName = driver.driverName;
        d.driverInfo = driver.driverInfo;
    }
    d.subgroupSize = subgroup.subgroupSize;
    d.maxMemoryAllocationSize = m3.maxMemoryAllocationSize;
    for (int i = 0; i < 3; ++i) {
        d.maxWorkGroupSize[size_t(i)] = lim.maxComputeWorkGroupSize[i];
        d.maxWorkGroupCount[size_t(i)] = lim.maxComputeWorkGroupCount[i];
    }
    d.maxWorkGroupInvocations = lim.maxComputeWorkGroupInvocations;
    d.maxSharedMemoryBytes = lim.maxComputeSharedMemorySize;
    d.maxStorageBufferRange = lim.maxStorageBufferRange;
    d.minStorageBufferOffsetAlignment = lim.minStorageBufferOffsetAlignment;
    d.minTexelBufferOffsetAlignment = lim.minTexelBufferOffsetAlignment;
    d.maxTexelBufferElements = lim.maxTexelBufferElements;
    d.maxPushConstantsSize = lim.maxPushConstantsSize;
    d.timestampPeriod = lim.timestampPeriod;

    VkPhysicalDeviceMemoryProperties mem{};
    vkGetPhysicalDeviceMemoryProperties(pd, &mem);
    for (uint32_t h = 0; h < mem.memoryHeapCount; ++h) {
        d.heaps.push_back({mem.memoryHeaps[h].size,
                           (mem.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) != 0});
    }
    uint32_t familyCount = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(pd, &familyCount, nullptr);
    std::vector<VkQueueFamilyProperties> families(familyCount);
    vkGetPhysicalDeviceQueueFamilyProperties(pd, &familyCount, families.data());
    for (const auto& f : families) d.hasComputeQueue |= (f.queueFlags & VK_QUEUE_COMPUTE_BIT) != 0;
    return d;
}

}  // namespace

size_t validationMessageCount() {
    std::lock_guard lock(g_validationMutex);
    return g_validationMessages.size();
}

std::vector<std::string> validationMessages() {
    std::lock_guard lock(g_validationMutex);
    return g_validationMessages;
}

std::string DeviceInfo::typeName() const {
    switch (type) {
        case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete GPU";
        case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated GPU";
        case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual GPU";
        case VK_PHYSICAL_DEVICE_TYPE_CPU: return "CPU (software Vulkan)";
        default: return "other";
    }
}

std::string DeviceInfo::apiVersionText() const {
    return std::to_string(VK_API_VERSION_MAJOR(apiVersion)) + "." +
           std::to_string(VK_API_VERSION_MINOR(apiVersion)) + "." +
           std::to_string(VK_API_VERSION_PATCH(apiVersion));
}

uint64_t DeviceInfo::deviceLocalBytes() const {
    uint64_t best = 0;
    for (const auto& h : heaps) {
        if (h.deviceLocal) best = std::max(best, h.bytes);
    }
    return best;
}

Result<std::shared_ptr<Instance>> Instance::create() {
    const char* env = std::getenv("STRATA_VK_VALIDATION");
    return create(env && std::string_view(env) == "1");
}

Result<std::shared_ptr<Instance>> Instance::create(bool validation) {
    std::shared_ptr<Instance> self(new Instance());
    const char* layer = "VK_LAYER_KHRONOS_validation";
    if (validation && !hasLayer(layer)) {
        return fail("STRATA_VK_VALIDATION=1 asks for VK_LAYER_KHRONOS_validation, which is not "
                    "installed; install vulkan-validationlayers or unset the variable.");
    }
    VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
    app.pApplicationName = "Strata";
    app.applicationVersion = VK_MAKE_API_VERSION(0, 0, 1, 0);
    app.pEngineName = "Strata";
    app.apiVersion = VK_API_VERSION_1_2;

    std::vector<const char*> extensions;
    std::vector<const char*> layers;
    VkDebugUtilsMessengerCreateInfoEXT messenger{
        VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT};
    messenger.messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                                VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
    messenger.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                            VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                            VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
    messenger.pfnUserCallback = onValidationMessage;
    VkInstanceCreateInfo info{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
    info.pApplicationInfo = &app;
    if (validation) {
        layers.push_back(layer);
        extensions.push_back(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
        info.pNext = &messenger;  // also catches messages from instance creation itself
    }
    info.enabledLayerCount = uint32_t(layers.size());
    info.ppEnabledLayerNames = layers.data();
    info.enabledExtensionCount = uint32_t(extensions.size());
    info.ppEnabledExtensionNames = extensions.data();
    STRATA_VK_TRY(vkCreateInstance(&info, nullptr, &self->m_instance),
                  "Creating the Vulkan instance (is a Vulkan driver installed?)");
    if (validation) {
        auto create = reinterpret_cast<PFN_vkCreateDebugUtilsMessengerEXT>(
            vkGetInstanceProcAddr(self->m_instance, "vkCreateDebugUtilsMessengerEXT"));
        if (!create) return fail("The validation layer offers no debug messenger.");
        STRATA_VK_TRY(create(self->m_instance, &messenger, nullptr, &self->m_messenger),
                      "Creating the validation messenger");
    }
    uint32_t count = 0;
    STRATA_VK_TRY(vkEnumeratePhysicalDevices(self->m_instance, &count, nullptr),
                  "Listing Vulkan devices");
    self->m_physical.resize(count);
    STRATA_VK_TRY(vkEnumeratePhysicalDevices(self->m_instance, &count, self->m_physical.data()),
                  "Listing Vulkan devices");
    for (uint32_t i = 0; i < count; ++i) {
        self->m_devices.push_back(describe(self->m_physical[i], int(i)));
    }
    return self;
}

Instance::~Instance() {
    if (m_messenger) {
        auto destroy = reinterpret_cast<PFN_vkDestroyDebugUtilsMessengerEXT>(
            vkGetInstanceProcAddr(m_instance, "vkDestroyDebugUtilsMessengerEXT"));
        if (destroy) destroy(m_instance, m_messenger, nullptr);
    }
    if (m_instance) vkDestroyInstance(m_instance, nullptr);
}

Result<std::unique_ptr<Device>> Device::create(std::shared_ptr<Instance> instance, int index) {
    if (index < 0 || size_t(index) >= instance->devices().size()) {
        return fail("There is no Vulkan device " + std::to_string(index) + "; `strata devices` "
                    "lists the " + std::to_string(instance->devices().size()) + " there are.");
    }
    std::unique_ptr<Device> self(new Device());
    self->m_instance = instance;
    self->m_physical = instance->physicalDevice(index);
    self->m_info = instance->devices()[size_t(index)];
    self->m_realType = self->m_info.type;
    if (g_pretendDiscreteGpu) self->pretendDiscreteGpuForTesting(true);
    if (self->m_info.apiVersion < VK_API_VERSION_1_2) {
        return fail("Vulkan device '" + self->m_info.name + "' offers Vulkan " +
                    self->m_info.apiVersionText() + " but Strata needs 1.2; update its driver.");
    }
    vkGetPhysicalDeviceMemoryProperties(self->m_physical, &self->m_memory);

    uint32_t familyCount = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(self->m_physical, &familyCount, nullptr);
    std::vector<VkQueueFamilyProperties> families(familyCount);
    vkGetPhysicalDeviceQueueFamilyProperties(self->m_physical, &familyCount, families.data());
    int family = -1;
    for (uint32_t f = 0; f < familyCount; ++f) {
        if (families[f].queueFlags & VK_QUEUE_COMPUTE_BIT) {
            family = int(f);
            break;
        }
    }
    if (family < 0) {
        return fail("Vulkan device '" + self->m_info.name + "' has no compute queue.");
    }
    self->m_queueFamily = uint32_t(family);
    const float priority = 1.0f;
    VkDeviceQueueCreateInfo queueInfo{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
    queueInfo.queueFamilyIndex = self->m_queueFamily;
    queueInfo.queueCount = 1;
    queueInfo.pQueuePriorities = &priority;
    VkDeviceCreateInfo info{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
    info.queueCreateInfoCount = 1;
    info.pQueueCreateInfos = &queueInfo;
    STRATA_VK_TRY(vkCreateDevice(self->m_physical, &info, nullptr, &self->m_device),
                  "Opening Vulkan device '" + self->m_info.name + "'");
    vkGetDeviceQueue(self->m_device, self->m_queueFamily, 0, &self->m_queue);

    VkCommandPoolCreateInfo poolInfo{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
    poolInfo.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
    poolInfo.queueFamilyIndex = self->m_queueFamily;
    STRATA_VK_TRY(vkCreateCommandPool(self->m_device, &poolInfo, nullptr, &self->m_pool),
                  "Creating a command pool");
    self->m_maxBindingBytes = std::min<uint64_t>(self->m_info.maxStorageBufferRange,
                                                 self->m_info.maxTexelBufferElements * 4);
    return self;
}

Device::~Device() {
    if (m_device) {
        vkDeviceWaitIdle(m_device);
        if (m_pool) vkDestroyCommandPool(m_device, m_pool, nullptr);
        vkDestroyDevice(m_device, nullptr);
    }
}

void Device::setMaxBindingBytesForTesting(uint64_t bytes) {
    // Never above what the device allows; a huge value restores the device's own limit.
    m_maxBindingBytes = std::min<uint64_t>({bytes, m_info.maxStorageBufferRange,
                                            m_info.maxTexelBufferElements * 4});
}

void Device::pretendDiscreteGpuForTesting(bool on) {
    m_info.type = on ? VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU : m_realType;
}

void Device::pretendDiscreteGpuByDefaultForTesting(bool on) { g_pretendDiscreteGpu = on; }

uint64_t Device::bindingAlignment() const {
    return std::max<uint64_t>({m_info.minStorageBufferOffsetAlignment,
                               m_info.minTexelBufferOffsetAlignment, 16});
}

GemmVariant Device::gemmVariant() const {
    return m_info.isCpu() ? GemmVariant::Texel8x8 : GemmVariant::Tiled;
}

Result<uint32_t> Device::memoryType(uint32_t typeBits, VkMemoryPropertyFlags wanted) const {
    for (uint32_t i = 0; i < m_memory.memoryTypeCount; ++i) {
        if ((typeBits & (1u << i)) && (m_memory.memoryTypes[i].propertyFlags & wanted) == wanted) {
            return i;
        }
    }
    return fail("Vulkan device '" + m_info.name + "' has no memory type with the properties "
                "needed (flags " + std::to_string(wanted) + ").");
}

Result<void> Device::runOnce(const std::function<void(VkCommandBuffer)>& record) {
    VkCommandBufferAllocateInfo alloc{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
    alloc.commandPool = m_pool;
    alloc.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    alloc.commandBufferCount = 1;
    VkCommandBuffer cmd = VK_NULL_HANDLE;
    STRATA_VK_TRY(vkAllocateCommandBuffers(m_device, &alloc, &cmd), "Allocating a command buffer");
    struct Free {
        Device* d;
        VkCommandBuffer c;
        ~Free() { vkFreeCommandBuffers(d->m_device, d->m_pool, 1, &c); }
    } freeLater{this, cmd};
    VkCommandBufferBeginInfo begin{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    begin.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
    STRATA_VK_TRY(vkBeginCommandBuffer(cmd, &begin), "Beginning a command buffer");
    record(cmd);
    STRATA_VK_TRY(vkEndCommandBuffer(cmd), "Ending a command buffer");
    VkFenceCreateInfo fenceInfo{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    VkFence fence = VK_NULL_HANDLE;
    STRATA_VK_TRY(vkCreateFence(m_device, &fenceInfo, nullptr, &fence), "Creating a fence");
    VkSubmitInfo submit{VK_STRUCTURE_TYPE_SUBMIT_INFO};
    submit.commandBufferCount = 1;
    submit.pCommandBuffers = &cmd;
    VkResult r;
    {
        std::lock_guard lock(m_queueMutex);
        r = vkQueueSubmit(m_queue, 1, &submit, fence);
    }
    if (r == VK_SUCCESS) r = vkWaitForFences(m_device, 1, &fence, VK_TRUE, UINT64_MAX);
    vkDestroyFence(m_device, fence, nullptr);
    STRATA_VK_TRY(r, "Running a transfer on '" + m_info.name + "'");
    return {};
}

Result<DeviceChoice> parseDeviceChoice(std::string_view text) {
    if (text == "auto") return DeviceChoice{DeviceKind::Auto};
    if (text == "vulkan") return DeviceChoice{DeviceKind::Vulkan};
    if (text == "cpu") return DeviceChoice{DeviceKind::Cpu};
    if (text.starts_with("vulkan:")) {
        std::string_view digits = text.substr(7);
        int n = 0;
        bool ok = !digits.empty() && digits.size() <= 4;
        for (char ch : digits) {
            if (ch < '0' || ch > '9') ok = false;
            n = n * 10 + (ch - '0');
        }
        if (ok) return DeviceChoice{DeviceKind::VulkanIndex, n};
    }
    return fail("Unknown device '" + std::string(text) +
                "'; use auto, cpu, vulkan or vulkan:N (N from `strata devices`).");
}

Result<DeviceChoice> deviceChoiceFrom(std::string_view flagValue) {
    if (!flagValue.empty()) return parseDeviceChoice(flagValue);
    const char* env = std::getenv("STRATA_DEVICE");
    if (env && *env) {
        auto c = parseDeviceChoice(env);
        if (!c) return fail("STRATA_DEVICE: " + c.message());
        return c;
    }
    return DeviceChoice{DeviceKind::Auto};
}

Result<ResolvedDevice> resolveDeviceChoice(const DeviceChoice& choice,
                                           const std::vector<DeviceInfo>& devices) {
    auto firstOf = [&](VkPhysicalDeviceType type) -> const DeviceInfo* {
        for (const auto& d : devices) {
            if (d.type == type && d.hasComputeQueue) return &d;
        }
        return nullptr;
    };
    const VkPhysicalDeviceType order[] = {
        VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU, VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU,
        VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU, VK_PHYSICAL_DEVICE_TYPE_CPU,
        VK_PHYSICAL_DEVICE_TYPE_OTHER};
    switch (choice.kind) {
        case DeviceKind::Cpu:
            return ResolvedDevice{true, -1, "the CPU backend, as asked"};
        case DeviceKind::VulkanIndex:
            if (choice.index < 0 || size_t(choice.index) >= devices.size()) {
                return fail("There is no Vulkan device " + std::to_string(choice.index) +
                            "; `strata devices` lists the " + std::to_string(devices.size()) +
                            " there are.");
            }
            return ResolvedDevice{false, choice.index, "Vulkan device " +
                                                           std::to_string(choice.index) +
                                                           ", as asked"};
        case DeviceKind::Vulkan:
            for (auto type : order) {
                if (const DeviceInfo* d = firstOf(type)) {
                    return ResolvedDevice{false, d->index, "the best Vulkan device, a " +
                                                               d->typeName()};
                }
            }
            return fail("No Vulkan device with a compute queue was found; install a Vulkan "
                        "driver (mesa-vulkan-drivers provides lavapipe) or use --device cpu.");
        case DeviceKind::Auto:
            for (auto type : {order[0], order[1], order[2]}) {
                if (const DeviceInfo* d = firstOf(type)) {
                    return ResolvedDevice{false, d->index, "the first " + d->typeName()};
                }
            }
            return ResolvedDevice{true, -1,
                                  firstOf(VK_PHYSICAL_DEVICE_TYPE_CPU)
                                      ? "no GPU; software Vulkan runs only when asked for "
                                        "(--device vulkan), the CPU backend is faster"
                                      : "no Vulkan GPU"};
    }
    return fail("Unknown device choice.");
}

}  // namespace strata::gpu
