#include "gpu_fixture.h"

#include <cstdlib>
#include <string_view>

namespace strata::gpu::test {

bool pretendingDiscreteGpu() {
    const char* env = std::getenv("STRATA_TEST_GPU_VARIANTS");
    return env && std::string_view(env) == "1";
}

GpuContext& gpuContext() {
    static GpuContext ctx = [] {
        GpuContext c;
        auto instance = Instance::create();
        if (!instance) {
            c.unavailable = instance.message();
            return c;
        }
        c.instance = *instance;
        // Before any Device exists, so the VulkanBackends the tests open pretend as well.
        if (pretendingDiscreteGpu()) Device::pretendDiscreteGpuByDefaultForTesting(true);
        auto choice = resolveDeviceChoice({DeviceKind::Vulkan}, c.instance->devices());
        if (!choice) {
            c.unavailable = choice.message();
            return c;
        }
        auto device = Device::create(c.instance, choice->vulkanIndex);
        if (!device) {
            c.unavailable = device.message();
            return c;
        }
        c.device = std::move(device.value());
        auto pipelines = PipelineCache::create(*c.device);
        auto staging = StagingRing::create(*c.device, 4 << 20);
        if (!pipelines || !staging) {
            c.unavailable = pipelines ? staging.message() : pipelines.message();
            c.device.reset();
            return c;
        }
        c.pipelines = std::move(pipelines.value());
        c.staging = std::move(staging.value());
        return c;
    }();
    return ctx;
}

void GpuTest::SetUp() {
    if (!gpuContext().device) GTEST_SKIP() << "No Vulkan device: " << gpuContext().unavailable;
    m_messagesBefore = validationMessageCount();
}

void GpuTest::TearDown() {
    m_arenas.clear();
    if (!gpuContext().device) return;
    const auto messages = validationMessages();
    for (size_t i = m_messagesBefore; i < messages.size(); ++i) {
        ADD_FAILURE() << "Vulkan validation: " << messages[i];
    }
}

std::unique_ptr<Recorder> GpuTest::recorder() {
    auto r = Recorder::create(dev(), pipelines());
    EXPECT_TRUE(r.ok()) << r.message();
    return r ? std::move(r.value()) : nullptr;
}

MemoryArena& GpuTest::arena(uint64_t bytes) {
    auto a = MemoryArena::create(dev(), "test", bytes);
    if (!a) throw std::runtime_error(a.message());
    m_arenas.push_back(std::move(a.value()));
    return *m_arenas.back();
}

BufferRange GpuTest::upload(const std::vector<float>& data) {
    if (m_arenas.empty()) arena();
    auto r = m_arenas.back()->allocateFloats(data.size(), "test data");
    if (!r) throw std::runtime_error(r.message());
    auto ok = gpuContext().staging->upload(*r, data.data(), data.size() * 4);
    if (!ok) throw std::runtime_error(ok.message());
    return *r;
}

BufferRange GpuTest::zeros(uint64_t count) { return upload(std::vector<float>(count, 0.0f)); }

std::vector<float> GpuTest::download(const BufferRange& r) {
    std::vector<float> out(r.floats());
    auto ok = gpuContext().staging->download(r, out.data(), r.size);
    if (!ok) throw std::runtime_error(ok.message());
    return out;
}

std::vector<float> randomFloats(size_t n, uint32_t seed, float lo, float hi) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> d(lo, hi);
    std::vector<float> v(n);
    for (auto& x : v) x = d(rng);
    return v;
}

float maxRelError(const std::vector<float>& a, const std::vector<float>& b) {
    if (a.size() != b.size()) return INFINITY;
    float worst = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        const float e = std::abs(a[i] - b[i]) / (1.0f + std::abs(b[i]));
        if (!(e <= worst)) worst = e;  // NaN sticks
    }
    return worst;
}

}  // namespace strata::gpu::test
