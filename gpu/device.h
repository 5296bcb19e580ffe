#pragma once
// The Vulkan instance, the physical devices it sees (with the properties that choose kernel
// variants and bound bindings), the logical device with its compute queue, and the `--device` /
// STRATA_DEVICE choice between them and the CPU backend.
#include <vulkan/vulkan.h>

#include <array>
#include <functional>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/util/result.h"

namespace strata::gpu {

struct MemoryHeap {
    uint64_t bytes = 0;
    bool deviceLocal = false;
};

struct DeviceInfo {
    int index = 0;  // position in vkEnumeratePhysicalDevices: the N of `vulkan:N`
    std::string name;
    VkPhysicalDeviceType type = VK_PHYSICAL_DEVICE_TYPE_OTHER;
    std::string driverName;  // "llvmpipe", "NVIDIA"
    std::string driverInfo;  // "Mesa 22.3.6 (LLVM 15.0.6)"
    uint32_t apiVersion = 0;
    uint32_t driverVersion = 0;
    uint32_t vendorId = 0;
    std::array<uint8_t, VK_UUID_SIZE> uuid{};
    std::vector<MemoryHeap> heaps;
    uint32_t subgroupSize = 0;
    std::array<uint32_t, 3> maxWorkGroupSize{};
    uint32_t maxWorkGroupInvocations = 0;
    std::array<uint32_t, 3> maxWorkGroupCount{};
    uint32_t maxSharedMemoryBytes = 0;
    uint64_t maxStorageBufferRange = 0;
    uint64_t minStorageBufferOffsetAlignment = 0;
    uint64_t minTexelBufferOffsetAlignment = 0;
    uint64_t maxTexelBufferElements = 0;
    uint64_t maxMemoryAllocationSize = 0;
    uint32_t maxPushConstantsSize = 0;
    float timestampPeriod = 0;  // nanoseconds per timestamp tick
    bool hasComputeQueue = false;

    // The one predicate every kernel-variant choice reads: CPU-type devices (lavapipe) get
    // register-blocked kernels and a few long-lived workgroups, GPUs shared-memory tiles and a
    // workgroup per row. Device::pretendDiscreteGpuForTesting flips it.
    bool isCpu() const { return type == VK_PHYSICAL_DEVICE_TYPE_CPU; }
    std::string typeName() const;    // "discrete GPU", "CPU (software)"
    std::string apiVersionText() const;  // "1.3.230"
    uint64_t deviceLocalBytes() const;   // the largest device-local heap
};

// Process-wide count of validation-layer messages of warning or error severity, so a test can
// fail on any (STRATA_VK_VALIDATION=1).
size_t validationMessageCount();
std::vector<std::string> validationMessages();

class Instance {
public:
    // validation: enable VK_LAYER_KHRONOS_validation with a messenger that records every message.
    // Defaults to the STRATA_VK_VALIDATION environment variable being "1".
    static Result<std::shared_ptr<Instance>> create(bool validation);
    static Result<std::shared_ptr<Instance>> create();
    ~Instance();
    Instance(const Instance&) = delete;
    Instance& operator=(const Instance&) = delete;

    VkInstance handle() const { return m_instance; }
    bool validationEnabled() const { return m_messenger != VK_NULL_HANDLE; }
    const std::vector<DeviceInfo>& devices() const { return m_devices; }
    VkPhysicalDevice physicalDevice(int index) const { return m_physical.at(size_t(index)); }

private:
    Instance() = default;
    VkInstance m_instance = VK_NULL_HANDLE;
    VkDebugUtilsMessengerEXT m_messenger = VK_NULL_HANDLE;
    std::vector<VkPhysicalDevice> m_physical;
    std::vector<DeviceInfo> m_devices;
};

enum class GemmVariant { Texel8x8, Tiled };

class Device {
public:
    static Result<std::unique_ptr<Device>> create(std::shared_ptr<Instance> instance, int index);
    ~Device();
    Device(const Device&) = delete;
    Device& operator=(const Device&) = delete;

    VkDevice handle() const { return m_device; }
    VkPhysicalDevice physical() const { return m_physical; }
    VkQueue queue() const { return m_queue; }
    uint32_t queueFamily() const { return m_queueFamily; }
    VkCommandPool commandPool() const { return m_pool; }
    const DeviceInfo& info() const { return m_info; }
    Instance& instance() const { return *m_instance; }

    // The largest range one descriptor may bind: maxStorageBufferRange, and for texel buffers
    // maxTexelBufferElements floats. Tests may lower it to exercise split bindings cheaply.
    uint64_t maxBindingBytes() const { return m_maxBindingBytes; }
    void setMaxBindingBytesForTesting(uint64_t bytes);
    // Offset alignment that satisfies both storage and texel buffer descriptors.
    uint64_t bindingAlignment() const;
    GemmVariant gemmVariant() const;
    // Makes info() report a discrete GPU (isCpu() false) while every limit stays the device's
    // own, so the kernel variants chosen for GPUs run, and are tested, on lavapipe. Off restores
    // the real type. Record after switching: recorded commands keep the variants they chose.
    void pretendDiscreteGpuForTesting(bool on);
    // The same for every Device created from now on in this process (VulkanBackend opens its
    // own); tests/gpu sets it from STRATA_TEST_GPU_VARIANTS.
    static void pretendDiscreteGpuByDefaultForTesting(bool on);

    Result<uint32_t> memoryType(uint32_t typeBits, VkMemoryPropertyFlags wanted) const;
    // One-shot command buffer: `record` fills it, then it is submitted and waited for.
    Result<void> runOnce(const std::function<void(VkCommandBuffer)>& record);

    std::mutex& queueMutex() { return m_queueMutex; }

private:
    Device() = default;
    std::shared_ptr<Instance> m_instance;
    VkPhysicalDevice m_physical = VK_NULL_HANDLE;
    VkDevice m_device = VK_NULL_HANDLE;
    VkQueue m_queue = VK_NULL_HANDLE;
    uint32_t m_queueFamily = 0;
    VkCommandPool m_pool = VK_NULL_HANDLE;
    DeviceInfo m_info;
    VkPhysicalDeviceType m_realType = VK_PHYSICAL_DEVICE_TYPE_OTHER;
    VkPhysicalDeviceMemoryProperties m_memory{};
    uint64_t m_maxBindingBytes = 0;
    std::mutex m_queueMutex;
};

// --device / STRATA_DEVICE.
enum class DeviceKind { Auto, Vulkan, VulkanIndex, Cpu };
struct DeviceChoice {
    DeviceKind kind = DeviceKind::Auto;
    int index = -1;  // VulkanIndex only
    bool operator==(const DeviceChoice&) const = default;
};

// "auto", "vulkan", "vulkan:N", "cpu"; anything else is an error sentence listing these.
Result<DeviceChoice> parseDeviceChoice(std::string_view text);
// The --device value when given (non-empty), else STRATA_DEVICE when set, else auto.
Result<DeviceChoice> deviceChoiceFrom(std::string_view flagValue);

struct ResolvedDevice {
    bool cpu = true;
    int vulkanIndex = -1;
    std::string reason;  // "the first discrete GPU", "no GPU; lavapipe is used only when asked"
};
// auto: the first discrete GPU, else integrated, else virtual, else the CPU backend (CPU-type
// Vulkan devices such as lavapipe only when asked for with `vulkan`/`vulkan:N`). vulkan: the
// best Vulkan device including CPU-type ones.
Result<ResolvedDevice> resolveDeviceChoice(const DeviceChoice& choice,
                                           const std::vector<DeviceInfo>& devices);

}  // namespace strata::gpu
