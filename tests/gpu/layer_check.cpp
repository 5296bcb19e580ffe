#include "layer_check.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "core/layers/registry.h"
#include "gpu/layer_kernels.h"
#include "layers/harness.h"

namespace strata::gpu::test {

namespace {

std::vector<float> nans(int64_t n) {
    return std::vector<float>(size_t(n), std::numeric_limits<float>::quiet_NaN());
}

void expectClose(const std::vector<float>& gpu, const std::vector<float>& cpu, double tol,
                 const std::string& what, size_t& compared) {
    ++compared;
    ASSERT_EQ(gpu.size(), cpu.size()) << what;
    double worst = 0;
    size_t at = 0;
    for (size_t i = 0; i < gpu.size(); ++i) {
        const double e = std::abs(double(gpu[i]) - cpu[i]) / (1.0 + std::abs(double(cpu[i])));
        if (!(e <= worst)) {  // NaN sticks
            worst = e;
            at = i;
            if (std::isnan(e)) break;
        }
    }
    EXPECT_LE(worst, tol) << what << ": element " << at << " is " << gpu[at] << " on the GPU, "
                          << cpu[at] << " on the CPU (" << gpu.size() << " values)";
}

}  // namespace

std::string describe(const LayerCase& c) {
    std::string s = c.type;
    for (const auto& [k, v] : c.params) s += " " + k + "=" + paramValueText(v);
    for (const auto& t : c.inputs) s += " " + t.shape.str();
    s += " batch=" + std::to_string(c.batch) + (c.training ? " train" : " eval");
    if (c.maxBindingBytes != 0) s += " binding<=" + std::to_string(c.maxBindingBytes) + "B";
    return s;
}

size_t LayerKernelTest::expectMatchesCpu(const LayerCase& c) {
    size_t compared = 0;
    compare(c, compared);
    return compared;
}

void LayerKernelTest::compare(const LayerCase& c, size_t& compared) {
    SCOPED_TRACE(describe(c));
    const GpuLayerKernels* kernels = findGpuKernels(c.type);
    ASSERT_NE(kernels, nullptr) << c.type << " has no Vulkan kernels";
    std::vector<TensorType> batched = c.inputs;
    for (auto& t : batched) {
        auto dims = t.shape.dims();
        if (!dims.empty()) dims[0] = Shape::kBatch;
        t.shape = Shape(dims);
    }
    strata::test::LayerRun run =
        strata::test::makeRun(c.type, c.params, batched, c.batch, 7, c.intRange);
    ASSERT_NE(run.spec, nullptr);
    run.training = c.training;
    // Both seed words non-zero: a kernel that drops the high word differs from the CPU.
    run.seed = 0x9E3779B97F4A7C15ull;
    const auto initialWeights = run.weights;

    // The binding limit holds while the kernels record, and the device's own limit comes back
    // however the case ends.
    struct BindingLimit {
        Device& device;
        explicit BindingLimit(Device& d, uint64_t bytes) : device(d) {
            if (bytes != 0) device.setMaxBindingBytesForTesting(bytes);
        }
        ~BindingLimit() { device.setMaxBindingBytesForTesting(~0ull); }
    } limit(dev(), c.maxBindingBytes);
    // A refusal must name its reason; returns whether recording stopped at it.
    auto refused = [&](const Result<void>& r, const char* stage) {
        if (r.ok()) return false;
        if (c.refuses.empty()) {
            ADD_FAILURE() << stage << " failed: " << r.message();
        } else {
            ++compared;
            EXPECT_NE(r.message().find(c.refuses), std::string::npos)
                << stage << " refused with \"" << r.message() << "\", not with \"" << c.refuses
                << "\"";
        }
        return true;
    };

    std::mt19937 rng(99);
    std::vector<Tensor> dy;
    for (const auto& o : run.info.outputs) {
        dy.push_back(strata::test::randomTensor(o.shape.withBatch(c.batch), rng));
    }

    // CPU: forward (buffers such as running statistics update here), then gradients of
    // sum(outputs * dy) from zero.
    strata::test::forward(run);
    const auto cpuOutputs = run.outputs;
    const auto cpuWeightsAfter = run.weights;
    strata::test::LayerRun again = run;
    again.weights = initialWeights;
    const strata::test::Grads cpuGrads = strata::test::backward(again, dy);

    // GPU tensors.
    arena(64 << 20);
    auto tensorOf = [&](const std::vector<float>& values, const Shape& s) {
        return GpuTensor{upload(values), s};
    };
    std::vector<float> seedBits(2);
    const uint32_t lo = uint32_t(run.seed), hi = uint32_t(run.seed >> 32);
    std::memcpy(&seedBits[0], &lo, 4);
    std::memcpy(&seedBits[1], &hi, 4);
    const BufferRange seed = upload(seedBits);

    std::vector<std::unique_ptr<MemoryArena>> scratchArenas;
    auto scratch = [&](uint64_t floats, const std::string& what) -> Result<BufferRange> {
        if (scratchArenas.empty()) {
            auto a = MemoryArena::create(dev(), "scratch", 64 << 20);
            if (!a) return a.error();
            scratchArenas.push_back(std::move(*a));
        }
        return scratchArenas.back()->allocateFloats(std::max<uint64_t>(floats, 1), what);
    };

    auto fwdRec = recorder();
    ASSERT_TRUE(fwdRec);
    GpuOpContext f{.rec = *fwdRec, .params = run.params, .name = c.type, .training = c.training,
                   .seed = seed};
    const size_t ports = run.spec->inputPorts(run.params).size();
    for (size_t i = 0; i < ports; ++i) {
        if (i < run.inputs.size()) {
            f.inputs.push_back(tensorOf(run.inputs[i].data, run.inputs[i].shape));
        } else {
            f.inputs.push_back({});
        }
    }
    for (const auto& w : initialWeights) f.weights.push_back(tensorOf(w.data, w.shape));
    for (const auto& o : cpuOutputs) f.outputs.push_back(tensorOf(nans(o.numel()), o.shape));
    for (const auto& a : run.info.aux) {
        const Shape s = a.shape.withBatch(c.batch);
        f.aux.push_back(tensorOf(nans(s.numel()), s));
    }
    f.scratch = scratch;
    {
        auto r = kernels->forward(f);
        if (refused(r, "forward")) return;
        auto ran = fwdRec->run();
        ASSERT_TRUE(ran.ok()) << ran.message();
    }
    for (size_t k = 0; k < cpuOutputs.size(); ++k) {
        expectClose(download(f.outputs[k].range), cpuOutputs[k].data, c.tol,
                    "output " + std::to_string(k), compared);
    }
    for (size_t k = 0; k < cpuWeightsAfter.size(); ++k) {
        expectClose(download(f.weights[k].range), cpuWeightsAfter[k].data, c.tol,
                    "weight '" + run.info.weights[k].name + "' after forward", compared);
    }
    if (!c.checkBackward || !kernels->backward) {
        EXPECT_TRUE(c.refuses.empty()) << "forward did not refuse";
        return;
    }

    // GPU backward from the GPU forward's aux; gradients start random and must be added to.
    auto bwdRec = recorder();
    ASSERT_TRUE(bwdRec);
    GpuOpContext b{.rec = *bwdRec, .params = run.params, .name = c.type, .training = c.training,
                   .seed = seed};
    b.inputs = f.inputs;
    b.outputs = f.outputs;
    b.aux = f.aux;
    for (const auto& w : initialWeights) b.weights.push_back(tensorOf(w.data, w.shape));
    for (const auto& d : dy) b.gradOutputs.push_back(tensorOf(d.data, d.shape));
    std::vector<std::vector<float>> startIn, startW;
    for (size_t i = 0; i < ports; ++i) {
        if (i >= run.inputs.size() || run.inputTypes[i] == DType::Int32) {
            b.gradInputs.push_back({});
            startIn.emplace_back();
            continue;
        }
        startIn.push_back(randomFloats(size_t(run.inputs[i].numel()), 300 + uint32_t(i)));
        b.gradInputs.push_back(tensorOf(startIn.back(), run.inputs[i].shape));
    }
    for (size_t k = 0; k < initialWeights.size(); ++k) {
        if (!run.info.weights[k].trainable) {
            b.gradWeights.push_back({});
            startW.emplace_back();
            continue;
        }
        startW.push_back(randomFloats(size_t(initialWeights[k].numel()), 400 + uint32_t(k)));
        b.gradWeights.push_back(tensorOf(startW.back(), initialWeights[k].shape));
    }
    b.scratch = scratch;
    {
        auto r = kernels->backward(b);
        if (refused(r, "backward")) return;
        EXPECT_TRUE(c.refuses.empty()) << "neither forward nor backward refused";
        auto ran = bwdRec->run();
        ASSERT_TRUE(ran.ok()) << ran.message();
    }
    for (size_t i = 0; i < b.gradInputs.size(); ++i) {
        if (!b.gradInputs[i].present()) continue;
        std::vector<float> want = startIn[i];
        for (size_t j = 0; j < want.size(); ++j) want[j] += cpuGrads.inputs[i].data[j];
        expectClose(download(b.gradInputs[i].range), want, c.tol,
                    "gradient of input " + std::to_string(i), compared);
    }
    for (size_t k = 0; k < b.gradWeights.size(); ++k) {
        if (!b.gradWeights[k].present()) continue;
        std::vector<float> want = startW[k];
        for (size_t j = 0; j < want.size(); ++j) want[j] += cpuGrads.weights[k].data[j];
        expectClose(download(b.gradWeights[k].range), want, c.tol,
                    "gradient of weight '" + run.info.weights[k].name + "'", compared);
    }
}

}  // namespace strata::gpu::test
