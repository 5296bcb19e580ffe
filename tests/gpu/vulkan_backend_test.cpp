// The Vulkan backend over whole compiled programs: the same results as the CPU backend, a step
// recorded once and replayed, partial batches, and the sentences a person gets when a model does
// not fit.
#include <cmath>

#include "core/engine/cpu_backend.h"
#include "core/engine/program.h"
#include "gpu/layer_kernels.h"
#include "gpu/vulkan_backend.h"
#include "gpu_fixture.h"
#include "train/train_helpers.h"

namespace strata::gpu::test {
namespace {

using strata::test::mustAdd;
using strata::test::mustConnect;

// x (N, 12) -> fc1 (20) -> gelu -> fc2 (5): no loss, forward only.
Graph inferenceGraph() {
    Graph g;
    GraphEdit e(g);
    NodeId x = mustAdd(e, "input", "x", {{"shape", std::vector<int64_t>{12}}});
    NodeId fc1 = mustAdd(e, "linear", "fc1", {{"out_features", int64_t{20}}});
    NodeId act = mustAdd(e, "gelu", "act");
    NodeId fc2 = mustAdd(e, "linear", "fc2", {{"out_features", int64_t{5}}});
    mustConnect(e, x, "out", fc1, "in");
    mustConnect(e, fc1, "out", act, "in");
    mustConnect(e, act, "out", fc2, "in");
    return g;
}

class VulkanBackendTest : public GpuTest {
protected:
    std::unique_ptr<VulkanBackend> backend() {
        auto b = VulkanBackend::create(gpuContext().instance, dev().info().index);
        EXPECT_TRUE(b.ok()) << b.message();
        return b ? std::move(*b) : nullptr;
    }
};

TEST_F(VulkanBackendTest, ForwardMatchesTheCpuBackendIncludingAPartialBatch) {
    auto p = compile(inferenceGraph(), 8, {.training = false});
    ASSERT_TRUE(p.ok()) << p.message();
    auto gpu = backend();
    ASSERT_TRUE(gpu);
    CpuBackend cpu;
    ASSERT_TRUE(gpu->prepare(*p).ok());
    ASSERT_TRUE(cpu.prepare(*p).ok());
    const auto params = initialParameters(*p, 5);
    ASSERT_TRUE(gpu->uploadParameters(params).ok());
    ASSERT_TRUE(cpu.uploadParameters(params).ok());
    const TensorId out = *p->output("fc2");
    for (int64_t n : {8, 3, 8}) {
        SCOPED_TRACE("batch " + std::to_string(n));
        const auto x = randomFloats(size_t(n * 12), uint32_t(n));
        ASSERT_TRUE(gpu->setInput("x", x, n).ok());
        ASSERT_TRUE(cpu.setInput("x", x, n).ok());
        ASSERT_TRUE(gpu->runForward({.batch = n}, Mode::Eval).ok());
        ASSERT_TRUE(cpu.runForward({.batch = n}, Mode::Eval).ok());
        auto g = gpu->download(out, n);
        auto c = cpu.download(out, n);
        ASSERT_TRUE(g.ok() && c.ok());
        EXPECT_LE(maxRelError(*g, *c), 1e-5f);
    }
    // Batches 8 and 3 were recorded once each; the second batch of 8 replayed.
    EXPECT_EQ(gpu->recordings(), 2u);
    const auto back = gpu->downloadParameters();
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, params);
}

TEST_F(VulkanBackendTest, AModelThatDoesNotFitIsRefusedWithTheSizeAndTheRemedy) {
    auto p = compile(inferenceGraph(), int64_t(1) << 31, {.training = false});
    ASSERT_TRUE(p.ok()) << p.message();
    auto gpu = backend();
    ASSERT_TRUE(gpu);
    auto r = gpu->prepare(*p);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.message().find("the activations needs"), std::string::npos) << r.message();
    EXPECT_NE(r.message().find("smaller batch"), std::string::npos) << r.message();
}

TEST_F(VulkanBackendTest, ALayerWithoutAVulkanKernelIsNamed) {
    Graph g;
    GraphEdit e(g);
    NodeId x = mustAdd(e, "input", "x", {{"shape", std::vector<int64_t>{3, 8, 8}}});
    NodeId pool = mustAdd(e, "global_avg_pool2d", "gap");
    mustConnect(e, x, "out", pool, "in");
    auto p = compile(g, 2, {.training = false});
    ASSERT_TRUE(p.ok()) << p.message();
    if (findGpuKernels("global_avg_pool2d")) GTEST_SKIP() << "every layer has its kernels now";
    auto gpu = backend();
    ASSERT_TRUE(gpu && gpu->prepare(*p).ok());
    auto r = gpu->runForward({.batch = 2}, Mode::Eval);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.message().find("global_avg_pool2d 'gap'"), std::string::npos) << r.message();
}

}  // namespace
}  // namespace strata::gpu::test
