// The CPU kernels split work over threads (batch rows of a recurrence, sample blocks of a
// convolution, rows of a GEMM, ranges of elementwise loops). The other layer tests use batches
// too small to split, so these run layers at sizes that do split and expect the same outputs
// and gradients as on one thread: a wrong range or a race would show up as a difference.
#include <gtest/gtest.h>

#include <cmath>

#include "core/engine/cpu_math.h"
#include "layers/harness.h"

namespace strata::test {
namespace {

constexpr int64_t N = Shape::kBatch;

struct Outcome {
    std::vector<Tensor> outputs;
    Grads grads;
};

Outcome runOn(int threads, const std::string& type, const Params& params,
              const std::vector<TensorType>& inputs, int64_t batch) {
    cpu::setThreads(threads);
    LayerRun run = makeRun(type, params, inputs, batch, 5);
    forward(run);
    std::mt19937 rng(3);
    std::vector<Tensor> dy;
    for (const Tensor& y : run.outputs) dy.push_back(randomTensor(y.shape, rng));
    Outcome o;
    o.grads = backward(run, dy);
    o.outputs = run.outputs;
    return o;
}

void expectClose(const std::vector<Tensor>& a, const std::vector<Tensor>& b, const char* what) {
    ASSERT_EQ(a.size(), b.size());
    for (size_t k = 0; k < a.size(); ++k) {
        ASSERT_EQ(static_cast<int64_t>(a[k].data.size()), static_cast<int64_t>(b[k].data.size())) << what << " " << k;
        for (int64_t i = 0; i < static_cast<int64_t>(a[k].data.size()); ++i) {
            ASSERT_NEAR(a[k].data[i], b[k].data[i], 1e-4 * (1.0 + std::abs(a[k].data[i])))
                << what << " " << k << " element " << i;
        }
    }
}

Params P(std::initializer_list<std::pair<const std::string, ParamValue>> values) {
    Params p;
    for (const auto& [k, v] : values) p[k] = v;
    return p;
}

struct Case {
    std::string type;
    Params params;
    std::vector<TensorType> inputs;  // batch-first
    int64_t batch;
};

TEST(CpuThreads, TwoThreadsGiveTheOneThreadResults) {
    const std::vector<Case> cases = {
        {"conv2d", P({{"out_channels", int64_t{8}}, {"kernel_size", int64_t{3}}, {"padding", int64_t{1}}}),
         {TensorType{Shape{N, 3, 20, 20}}}, 37},
        {"conv2d", P({{"out_channels", int64_t{6}}, {"kernel_size", int64_t{3}}, {"stride", int64_t{2}}, {"groups", int64_t{2}}}),
         {TensorType{Shape{N, 4, 15, 17}}}, 9},
        {"max_pool2d", P({{"kernel_size", int64_t{2}}}), {TensorType{Shape{N, 6, 24, 24}}}, 16},
        {"lstm", P({{"hidden_size", int64_t{12}}, {"num_layers", int64_t{2}}, {"bidirectional", true}}),
         {TensorType{Shape{N, 6, 5}}}, 19},
        {"gru", P({{"hidden_size", int64_t{10}}}), {TensorType{Shape{N, 7, 4}}}, 11},
        {"rnn", P({{"hidden_size", int64_t{9}}, {"output", std::string("last")}}),
         {TensorType{Shape{N, 5, 3}}}, 13},
        {"linear", P({{"out_features", int64_t{96}}}), {TensorType{Shape{N, 130}}}, 300},
        {"relu", {}, {TensorType{Shape{N, 20000}}}, 5},
        {"layer_norm", {}, {TensorType{Shape{N, 50, 64}}}, 8},
        {"multi_head_attention", P({{"num_heads", int64_t{2}}, {"causal", true}}),
         {TensorType{Shape{N, 16, 8}}}, 40},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.type);
        const Outcome one = runOn(1, c.type, c.params, c.inputs, c.batch);
        const Outcome two = runOn(2, c.type, c.params, c.inputs, c.batch);
        expectClose(one.outputs, two.outputs, "output");
        expectClose(one.grads.inputs, two.grads.inputs, "input gradient");
        expectClose(one.grads.weights, two.grads.weights, "weight gradient");
    }
    cpu::setThreads(0);
}

}  // namespace
}  // namespace strata::test
