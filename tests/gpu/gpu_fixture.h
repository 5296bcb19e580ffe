#pragma once
// Shared by the GPU tests: one Vulkan device for the whole run (the best one, lavapipe included),
// helpers to move float vectors in and out, the CPU-side random data, and a check that no test
// produced a validation message (STRATA_VK_VALIDATION=1, the `validation` CTest label).
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <random>
#include <vector>

#include "gpu/device.h"
#include "gpu/memory_arena.h"
#include "gpu/pipeline_cache.h"
#include "gpu/recorder.h"

namespace strata::gpu::test {

struct GpuContext {
    std::shared_ptr<Instance> instance;
    std::unique_ptr<Device> device;
    std::unique_ptr<PipelineCache> pipelines;
    std::unique_ptr<StagingRing> staging;
    std::string unavailable;  // why there is no device, when there is none
};

GpuContext& gpuContext();

// STRATA_TEST_GPU_VARIANTS=1 (the `gpu_variants` CTest entry): every Device of the run pretends
// to be a discrete GPU (Device::pretendDiscreteGpuForTesting), so the kernels take the variants
// meant for GPUs (shared-memory tiles, a workgroup per row) on lavapipe too.
bool pretendingDiscreteGpu();

class GpuTest : public ::testing::Test {
protected:
    void SetUp() override;
    void TearDown() override;

    Device& dev() { return *gpuContext().device; }
    PipelineCache& pipelines() { return *gpuContext().pipelines; }
    std::unique_ptr<Recorder> recorder();
    // A fresh arena per test, released in TearDown.
    MemoryArena& arena(uint64_t bytes = 64 << 20);
    BufferRange upload(const std::vector<float>& data);
    BufferRange zeros(uint64_t count);
    std::vector<float> download(const BufferRange& r);

    std::vector<std::unique_ptr<MemoryArena>> m_arenas;
    size_t m_messagesBefore = 0;
};

std::vector<float> randomFloats(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f);

// max |a - b| / (1 + |b|) over the vectors: relative for large values, absolute near zero.
float maxRelError(const std::vector<float>& a, const std::vector<float>& b);

}  // namespace strata::gpu::test
