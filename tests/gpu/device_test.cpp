// Device choice (no Vulkan needed) and what the instance reports.
#include <cstdlib>

#include "gpu_fixture.h"

namespace strata::gpu::test {
namespace {

DeviceInfo fake(int index, VkPhysicalDeviceType type, const char* name) {
    DeviceInfo d;
    d.index = index;
    d.type = type;
    d.name = name;
    d.hasComputeQueue = true;
    return d;
}

TEST(DeviceChoice, ParsesTheFourForms) {
    EXPECT_EQ(parseDeviceChoice("auto").value(), (DeviceChoice{DeviceKind::Auto}));
    EXPECT_EQ(parseDeviceChoice("cpu").value(), (DeviceChoice{DeviceKind::Cpu}));
    EXPECT_EQ(parseDeviceChoice("vulkan").value(), (DeviceChoice{DeviceKind::Vulkan}));
    EXPECT_EQ(parseDeviceChoice("vulkan:12").value(), (DeviceChoice{DeviceKind::VulkanIndex, 12}));
    for (const char* bad : {"", "gpu", "vulkan:", "vulkan:x", "vulkan:-1", "Vulkan", "cpu:0"}) {
        auto c = parseDeviceChoice(bad);
        ASSERT_FALSE(c) << bad;
        EXPECT_NE(c.message().find("use auto, cpu, vulkan or vulkan:N"), std::string::npos);
    }
}

TEST(DeviceChoice, FlagWinsOverEnvironmentWhichWinsOverAuto) {
    const char* old = std::getenv("STRATA_DEVICE");
    const std::string saved = old ? old : "";
    ::setenv("STRATA_DEVICE", "cpu", 1);
    EXPECT_EQ(deviceChoiceFrom("").value().kind, DeviceKind::Cpu);
    EXPECT_EQ(deviceChoiceFrom("vulkan:1").value(), (DeviceChoice{DeviceKind::VulkanIndex, 1}));
    ::setenv("STRATA_DEVICE", "nonsense", 1);
    auto bad = deviceChoiceFrom("");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.message().rfind("STRATA_DEVICE: Unknown device 'nonsense'", 0), 0u)
        << bad.message();
    ::unsetenv("STRATA_DEVICE");
    EXPECT_EQ(deviceChoiceFrom("").value().kind, DeviceKind::Auto);
    if (old) ::setenv("STRATA_DEVICE", saved.c_str(), 1);
}

TEST(DeviceChoice, AutoPrefersDiscreteThenIntegratedThenVirtualThenTheCpuBackend) {
    const auto lavapipe = fake(0, VK_PHYSICAL_DEVICE_TYPE_CPU, "llvmpipe");
    const auto igpu = fake(1, VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU, "Intel");
    const auto dgpu = fake(2, VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU, "NVIDIA");
    const auto vgpu = fake(3, VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU, "virtio");
    const DeviceChoice autoChoice{DeviceKind::Auto};
    EXPECT_EQ(resolveDeviceChoice(autoChoice, {lavapipe, igpu, dgpu, vgpu})->vulkanIndex, 2);
    EXPECT_EQ(resolveDeviceChoice(autoChoice, {lavapipe, igpu, vgpu})->vulkanIndex, 1);
    EXPECT_EQ(resolveDeviceChoice(autoChoice, {lavapipe, vgpu})->vulkanIndex, 3);
    auto onlySoftware = resolveDeviceChoice(autoChoice, {lavapipe});
    EXPECT_TRUE(onlySoftware->cpu) << "lavapipe only when asked for";
    EXPECT_TRUE(resolveDeviceChoice(autoChoice, {})->cpu);
    // `vulkan` takes the best Vulkan device, software included.
    EXPECT_EQ(resolveDeviceChoice({DeviceKind::Vulkan}, {lavapipe, igpu})->vulkanIndex, 1);
    EXPECT_EQ(resolveDeviceChoice({DeviceKind::Vulkan}, {lavapipe})->vulkanIndex, 0);
    auto none = resolveDeviceChoice({DeviceKind::Vulkan}, {});
    ASSERT_FALSE(none);
    EXPECT_NE(none.message().find("--device cpu"), std::string::npos);
    EXPECT_TRUE(resolveDeviceChoice({DeviceKind::Cpu}, {dgpu})->cpu);
    EXPECT_EQ(resolveDeviceChoice({DeviceKind::VulkanIndex, 0}, {lavapipe, dgpu})->vulkanIndex, 0);
    auto outOfRange = resolveDeviceChoice({DeviceKind::VulkanIndex, 5}, {lavapipe, dgpu});
    ASSERT_FALSE(outOfRange);
    EXPECT_NE(outOfRange.message().find("no Vulkan device 5"), std::string::npos);
}

TEST_F(GpuTest, TheDeviceReportsUsableLimits) {
    const DeviceInfo& d = dev().info();
    EXPECT_FALSE(d.name.empty());
    EXPECT_GE(d.apiVersion, uint32_t(VK_API_VERSION_1_2));
    EXPECT_GT(d.subgroupSize, 0u);
    EXPECT_GE(d.maxWorkGroupInvocations, 256u) << "the tiled GEMM uses 16x16 workgroups";
    EXPECT_GE(d.maxStorageBufferRange, 1u << 27);
    EXPECT_GE(d.maxPushConstantsSize, 128u);
    EXPECT_GT(d.deviceLocalBytes(), 0u);
    EXPECT_GT(d.timestampPeriod, 0.0f);
    const char* env = std::getenv("STRATA_VK_VALIDATION");
    EXPECT_EQ(gpuContext().instance->validationEnabled(), env && std::string(env) == "1");
}

}  // namespace
}  // namespace strata::gpu::test
