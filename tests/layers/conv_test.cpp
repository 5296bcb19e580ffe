#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/engine/cpu_math.h"
#include "layers/harness.h"

namespace strata::test {
namespace {

constexpr int64_t N = Shape::kBatch;

Params P(std::initializer_list<std::pair<const std::string, int64_t>> ints) {
    Params p;
    for (const auto& [k, v] : ints) p[k] = v;
    return p;
}

TensorType image(std::vector<int64_t> dims) { return {Shape(std::move(dims)), DType::Float32}; }

struct ShapeCase {
    const char* type;
    Params params;
    TensorType input;        // batch-first, batch 1
    Shape expected;          // when the rule accepts
    const char* error;       // a fragment of the refusal, or nullptr
};

TEST(ConvShapes, FollowPyTorchArithmeticOrExplainTheRefusal) {
    const std::vector<ShapeCase> cases = {
        {"conv2d", {}, image({1, 3, 32, 32}), Shape{N, 16, 30, 30}, nullptr},
        {"conv2d", P({{"out_channels", 5}, {"stride", 2}, {"padding", 1}}), image({1, 3, 7, 9}),
         Shape{N, 5, 4, 5}, nullptr},
        {"conv2d", P({{"out_channels", 4}, {"dilation", 2}}), image({1, 2, 11, 13}),
         Shape{N, 4, 7, 9}, nullptr},
        {"conv2d", P({{"out_channels", 9}, {"groups", 3}, {"kernel_size", 1}}), image({1, 6, 5, 3}),
         Shape{N, 9, 5, 3}, nullptr},
        {"conv2d", P({{"kernel_size", 5}, {"padding", 1}}), image({1, 1, 3, 3}), Shape{N, 16, 1, 1},
         nullptr},
        {"conv2d", P({{"kernel_size", 3}, {"stride", 3}}), image({1, 1, 10, 4}), Shape{N, 16, 3, 1},
         nullptr},
        {"conv2d", {}, image({1, 256}), {},
         "expects a 4-D input (N, C, H, W) but 'src0' gives (N, 256)"},
        {"conv2d", {}, image({1, 3, 8}), {}, "expects a 4-D input (N, C, H, W) but 'src0' gives"},
        {"conv2d", P({{"groups", 4}, {"out_channels", 8}}), image({1, 6, 8, 8}), {},
         "groups=4, which does not divide the 6 input channels"},
        {"conv2d", P({{"groups", 2}, {"out_channels", 5}}), image({1, 6, 8, 8}), {},
         "does not divide out_channels=5"},
        {"conv2d", P({{"kernel_size", 5}}), image({1, 1, 3, 7}), {},
         "5x5 kernel, larger than the padded input 3x7"},
        {"conv2d", P({{"kernel_size", 3}, {"dilation", 3}}), image({1, 1, 6, 6}), {},
         "spanning 7x7 with dilation 3"},
        {"max_pool2d", {}, image({1, 3, 7, 9}), Shape{N, 3, 3, 4}, nullptr},
        {"max_pool2d", P({{"kernel_size", 3}, {"stride", 2}, {"padding", 1}}), image({1, 2, 5, 6}),
         Shape{N, 2, 3, 3}, nullptr},
        {"max_pool2d", P({{"kernel_size", 3}, {"stride", 1}}), image({1, 1, 3, 3}),
         Shape{N, 1, 1, 1}, nullptr},
        {"max_pool2d", P({{"kernel_size", 4}}), image({1, 1, 3, 9}), {},
         "4x4 kernel, larger than the padded input 3x9"},
        {"max_pool2d", P({{"kernel_size", 3}, {"padding", 2}}), image({1, 1, 9, 9}), {},
         "padding 2, more than half of kernel_size 3"},
        {"avg_pool2d", P({{"kernel_size", 3}, {"stride", 2}, {"padding", 1}}), image({1, 4, 7, 8}),
         Shape{N, 4, 4, 4}, nullptr},
        {"avg_pool2d", {}, image({1, 1, 1, 5}), {}, "larger than the padded input 1x5"},
        {"avg_pool2d", {}, image({1, 10}), {}, "expects a 4-D input (N, C, H, W) but 'src0' gives"},
        {"global_avg_pool2d", {}, image({1, 5, 3, 7}), Shape{N, 5}, nullptr},
        {"global_avg_pool2d", {}, image({1, 5, 7}), {}, "'src0' gives (N, 5, 7)"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(std::string(c.type) + " on " + c.input.shape.str());
        auto info = inferConcrete(c.type, c.params, {c.input});
        if (c.error) {
            ASSERT_FALSE(info.ok()) << "accepted, giving " << info->outputs[0].shape.str();
            EXPECT_NE(info.message().find(c.error), std::string::npos) << info.message();
        } else {
            ASSERT_TRUE(info.ok()) << info.message();
            EXPECT_EQ(info->outputs[0].shape, c.expected) << info->outputs[0].shape.str();
        }
    }
}

TEST(ConvShapes, RefuseIntegerInputs) {
    auto info = inferConcrete("conv2d", {}, {{Shape{1, 3, 8, 8}, DType::Int32}});
    ASSERT_FALSE(info.ok());
    EXPECT_NE(info.message().find("float"), std::string::npos) << info.message();
}

TEST(Conv2d, WeightsHavePyTorchLayoutAndDefaultInit) {
    auto info = inferConcrete("conv2d", P({{"out_channels", 9}, {"groups", 3}, {"kernel_size", 3}}),
                              {image({1, 6, 8, 10})});
    ASSERT_TRUE(info.ok()) << info.message();
    ASSERT_EQ(info->weights.size(), 2u);
    EXPECT_EQ(info->weights[0].name, "weight");
    EXPECT_EQ(info->weights[0].dims, (std::vector<int64_t>{9, 2, 3, 3}));
    EXPECT_EQ(info->weights[1].name, "bias");
    EXPECT_EQ(info->weights[1].dims, (std::vector<int64_t>{9}));
    const double bound = 1.0 / std::sqrt(2.0 * 3 * 3);  // fan_in = in/groups * k * k
    for (const auto& w : info->weights) {
        EXPECT_EQ(w.init.kind, Init::Kind::Uniform);
        EXPECT_NEAR(w.init.b, bound, 1e-12);
        EXPECT_NEAR(w.init.a, -bound, 1e-12);
    }
    EXPECT_EQ(info->flops, 9 * 6 * 8 * (2 * 18 + 1));
    Params noBias = P({{"out_channels", 4}});
    noBias["bias"] = false;
    auto info2 = inferConcrete("conv2d", noBias, {image({1, 3, 5, 5})});
    ASSERT_TRUE(info2.ok());
    EXPECT_EQ(info2->weights.size(), 1u);
}

int64_t parameterCount(const LayerInfo& info) {
    int64_t n = 0;
    for (const auto& w : info.weights) {
        if (w.trainable) n += product(w.dims);
    }
    return n;
}

TEST(Conv2d, LeNet5FeatureStackGives16x5x5) {
    auto c1 = inferConcrete("conv2d", P({{"out_channels", 6}, {"kernel_size", 5}}),
                            {image({1, 1, 32, 32})});
    ASSERT_TRUE(c1.ok()) << c1.message();
    EXPECT_EQ(parameterCount(*c1), 156);
    auto p1 = inferConcrete("max_pool2d", {},
                            {{c1->outputs[0].shape.withBatch(1), DType::Float32}});
    ASSERT_TRUE(p1.ok()) << p1.message();
    EXPECT_EQ(p1->outputs[0].shape, (Shape{N, 6, 14, 14}));
    auto c2 = inferConcrete("conv2d", P({{"out_channels", 16}, {"kernel_size", 5}}),
                            {{p1->outputs[0].shape.withBatch(1), DType::Float32}});
    ASSERT_TRUE(c2.ok()) << c2.message();
    EXPECT_EQ(parameterCount(*c2), 2416);
    auto p2 = inferConcrete("avg_pool2d", {},
                            {{c2->outputs[0].shape.withBatch(1), DType::Float32}});
    ASSERT_TRUE(p2.ok()) << p2.message();
    EXPECT_EQ(p2->outputs[0].shape, (Shape{N, 16, 5, 5}));
}

// A direct seven-loop convolution, independent of the im2col path.
Tensor naiveConv(const Tensor& x, const Tensor& w, const Tensor* b, int64_t stride, int64_t pad,
                 int64_t dil, int64_t groups) {
    const int64_t n = x.shape[0], c = x.shape[1], h = x.shape[2], wd = x.shape[3];
    const int64_t o = w.shape[0], cg = w.shape[1], k = w.shape[2], og = o / groups;
    const int64_t oh = (h + 2 * pad - dil * (k - 1) - 1) / stride + 1;
    const int64_t ow = (wd + 2 * pad - dil * (k - 1) - 1) / stride + 1;
    Tensor y(Shape{n, o, oh, ow});
    for (int64_t s = 0; s < n; ++s)
        for (int64_t oc = 0; oc < o; ++oc)
            for (int64_t oy = 0; oy < oh; ++oy)
                for (int64_t ox = 0; ox < ow; ++ox) {
                    double acc = b ? b->data[oc] : 0.0;
                    for (int64_t ci = 0; ci < cg; ++ci)
                        for (int64_t ky = 0; ky < k; ++ky)
                            for (int64_t kx = 0; kx < k; ++kx) {
                                const int64_t iy = oy * stride - pad + ky * dil;
                                const int64_t ix = ox * stride - pad + kx * dil;
                                if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                                const int64_t ch = (oc / og) * cg + ci;
                                acc += double(x.data[((s * c + ch) * h + iy) * wd + ix]) *
                                       w.data[((oc * cg + ci) * k + ky) * k + kx];
                            }
                    y.data[((s * o + oc) * oh + oy) * ow + ox] = static_cast<float>(acc);
                }
    return y;
}

TEST(Conv2d, ForwardMatchesADirectConvolutionOnOddSizes) {
    struct Case {
        int64_t c, h, w, o, k, stride, pad, dil, groups, batch;
    };
    for (const Case& t : std::vector<Case>{{3, 13, 11, 5, 3, 1, 0, 1, 1, 3},
                                           {4, 9, 10, 6, 3, 2, 1, 2, 2, 1},
                                           {6, 7, 7, 3, 5, 3, 2, 1, 3, 2},
                                           {2, 5, 17, 2, 1, 2, 0, 1, 2, 2}}) {
        SCOPED_TRACE("C=" + std::to_string(t.c) + " k=" + std::to_string(t.k) +
                     " groups=" + std::to_string(t.groups));
        auto run = makeRun("conv2d",
                           P({{"out_channels", t.o}, {"kernel_size", t.k}, {"stride", t.stride},
                              {"padding", t.pad}, {"dilation", t.dil}, {"groups", t.groups}}),
                           {image({t.batch, t.c, t.h, t.w})}, t.batch);
        ASSERT_TRUE(run.spec);
        forward(run);
        Tensor want = naiveConv(run.inputs[0], run.weights[0], &run.weights[1], t.stride, t.pad,
                                t.dil, t.groups);
        ASSERT_EQ(run.outputs[0].shape, want.shape);
        for (int64_t i = 0; i < want.numel(); ++i) {
            ASSERT_NEAR(run.outputs[0].data[i], want.data[i], 1e-4) << "element " << i;
        }
    }
}

TEST(Conv2d, BackwardMatchesFiniteDifferencesWithStridePaddingDilationGroups) {
    auto run = makeRun("conv2d",
                       P({{"out_channels", 4}, {"kernel_size", 3}, {"stride", 2}, {"padding", 1},
                          {"dilation", 2}, {"groups", 2}}),
                       {image({2, 4, 7, 6})}, 2);
    EXPECT_EQ(run.info.outputs[0].shape, (Shape{N, 4, 3, 2}));
    EXPECT_LT(gradcheckMaxError(run), 2e-3);
}

TEST(Conv2d, BackwardMatchesFiniteDifferencesForBatchOne) {
    auto run = makeRun("conv2d", P({{"out_channels", 3}, {"kernel_size", 2}}),
                       {image({1, 2, 5, 3})}, 1);
    EXPECT_LT(gradcheckMaxError(run), 2e-3);
}

TEST(Conv2d, BackwardAddsIntoExistingGradients) {
    auto run = makeRun("conv2d", P({{"out_channels", 2}, {"kernel_size", 3}, {"padding", 1}}),
                       {image({1, 2, 4, 4})}, 1);
    forward(run);
    std::vector<Tensor> dy{Tensor(run.outputs[0].shape, 1.0f)};
    Grads once = backward(run, dy);
    // Two consumers of the same tensor: a second backward into the same buffers must double them.
    Tensor dx = once.inputs[0], dw = once.weights[0];
    OpContext c{run.params, true, run.seed};
    c.inputs.push_back({run.inputs[0].ptr(), run.inputs[0].shape});
    c.outputs.push_back({run.outputs[0].ptr(), run.outputs[0].shape});
    for (auto& w : run.weights) c.weights.push_back({w.ptr(), w.shape});
    c.gradOutputs.push_back({dy[0].ptr(), dy[0].shape});
    c.gradInputs.push_back({dx.ptr(), dx.shape});
    c.gradWeights.push_back({dw.ptr(), dw.shape});
    Tensor db = once.weights[1];
    c.gradWeights.push_back({db.ptr(), db.shape});
    run.spec->backward(c);
    for (int64_t i = 0; i < dx.numel(); ++i) {
        EXPECT_FLOAT_EQ(dx.data[i], 2 * once.inputs[0].data[i]);
    }
    for (int64_t i = 0; i < dw.numel(); ++i) {
        EXPECT_FLOAT_EQ(dw.data[i], 2 * once.weights[0].data[i]);
    }
    // Every output position sees each bias once: with dy = 1 its gradient is twice the positions.
    for (int64_t i = 0; i < db.numel(); ++i) EXPECT_FLOAT_EQ(db.data[i], 2 * 16.0f);
}

// The CPU kernel convolves blocks of a few samples (about 256 KiB of columns each, to bound the
// memory every thread holds). With 2401 output positions and 9 column rows per group, a block is
// 3 samples, so a batch of 7 runs as blocks of 3, 3 and 1 over two threads: each sample must come
// out as if it were convolved alone, and the weight gradients must be the sum over samples.
TEST(Conv2d, BlocksOfSamplesGiveWhatEachSampleGivesAlone) {
    struct Case {
        int64_t c, hw, o, stride, pad, groups;
    };
    cpu::setThreads(2);
    for (const Case& t : std::vector<Case>{{1, 51, 3, 1, 0, 1}, {2, 97, 4, 2, 1, 2}}) {
        SCOPED_TRACE("C=" + std::to_string(t.c) + " groups=" + std::to_string(t.groups));
        const Params params = P({{"out_channels", t.o}, {"kernel_size", 3}, {"stride", t.stride},
                                 {"padding", t.pad}, {"groups", t.groups}});
        const int64_t batch = 7;
        auto run = makeRun("conv2d", params, {image({batch, t.c, t.hw, t.hw})}, batch);
        ASSERT_TRUE(run.spec);
        ASSERT_EQ(run.info.outputs[0].shape, (Shape{N, t.o, 49, 49}));
        forward(run);
        std::mt19937 rng(5);
        std::vector<Tensor> dy{randomTensor(run.outputs[0].shape, rng)};
        const Grads all = backward(run, dy);
        const int64_t inSize = t.c * t.hw * t.hw, outSize = t.o * 49 * 49;
        std::vector<Tensor> weightSums;
        for (const Tensor& w : all.weights) weightSums.emplace_back(w.shape, 0.0f);
        for (int64_t s = 0; s < batch; ++s) {
            auto one = makeRun("conv2d", params, {image({1, t.c, t.hw, t.hw})}, 1);
            std::copy_n(run.inputs[0].data.begin() + s * inSize, inSize,
                        one.inputs[0].data.begin());
            one.weights = run.weights;
            forward(one);
            for (int64_t i = 0; i < outSize; ++i) {
                ASSERT_NEAR(one.outputs[0].data[i], run.outputs[0].data[s * outSize + i], 1e-5)
                    << "sample " << s << " output " << i;
            }
            Tensor dyOne(one.outputs[0].shape);
            std::copy_n(dy[0].data.begin() + s * outSize, outSize, dyOne.data.begin());
            const Grads g = backward(one, {dyOne});
            for (int64_t i = 0; i < inSize; ++i) {
                ASSERT_NEAR(g.inputs[0].data[i], all.inputs[0].data[s * inSize + i], 1e-5)
                    << "sample " << s << " input gradient " << i;
            }
            for (size_t w = 0; w < g.weights.size(); ++w) {
                for (int64_t i = 0; i < g.weights[w].numel(); ++i) {
                    weightSums[w].data[i] += g.weights[w].data[i];
                }
            }
        }
        for (size_t w = 0; w < weightSums.size(); ++w) {
            for (int64_t i = 0; i < weightSums[w].numel(); ++i) {
                ASSERT_NEAR(weightSums[w].data[i], all.weights[w].data[i],
                            1e-4 * std::max(1.0f, std::abs(all.weights[w].data[i])))
                    << "weight " << w << " element " << i;
            }
        }
    }
    cpu::setThreads(0);
}

// Distinct values spaced well beyond the finite-difference step, so every window's maximum is
// unique and stays so under perturbation.
void makeDistinct(Tensor& t, uint32_t seed) {
    std::vector<int64_t> order(static_cast<size_t>(t.numel()));
    std::iota(order.begin(), order.end(), 0);
    std::mt19937 rng(seed);
    std::shuffle(order.begin(), order.end(), rng);
    for (int64_t i = 0; i < t.numel(); ++i) t.data[i] = 0.1f * static_cast<float>(order[i]) - 2.0f;
}

TEST(MaxPool2d, BackwardMatchesFiniteDifferences) {
    for (auto params : {P({{"kernel_size", 2}}),
                        P({{"kernel_size", 3}, {"stride", 2}, {"padding", 1}}),
                        P({{"kernel_size", 3}, {"stride", 1}})}) {
        auto run = makeRun("max_pool2d", params, {image({2, 3, 7, 5})}, 2);
        makeDistinct(run.inputs[0], 5);
        EXPECT_EQ(run.info.aux.size(), 1u);
        EXPECT_LT(gradcheckMaxError(run, 1e-2), 2e-3);
    }
}

TEST(MaxPool2d, TiesSendTheGradientToTheFirstMaximumLikePyTorch) {
    auto run = makeRun("max_pool2d", {}, {image({1, 1, 2, 4})}, 1);
    std::fill(run.inputs[0].data.begin(), run.inputs[0].data.end(), 3.0f);
    Grads g = backward(run, {Tensor(Shape{1, 1, 1, 2}, std::vector<float>{1.0f, 2.0f})});
    EXPECT_EQ(run.outputs[0].data, (std::vector<float>{3.0f, 3.0f}));
    EXPECT_EQ(g.inputs[0].data, (std::vector<float>{1, 0, 2, 0, 0, 0, 0, 0}));
}

TEST(MaxPool2d, PaddingNeverWinsOverNegativeInputs) {
    auto run = makeRun("max_pool2d", P({{"kernel_size", 3}, {"stride", 2}, {"padding", 1}}),
                       {image({1, 1, 3, 3})}, 1);
    for (auto& v : run.inputs[0].data) v = -5.0f - std::abs(v);
    forward(run);
    for (float v : run.outputs[0].data) EXPECT_LE(v, -5.0f);
}

TEST(AvgPool2d, CountsPaddingLikePyTorch) {
    // A 3x3 window at the corner of a padded 2x2 input of ones covers 4 ones and 5 zeros.
    auto run = makeRun("avg_pool2d", P({{"kernel_size", 3}, {"stride", 1}, {"padding", 1}}),
                       {image({1, 1, 2, 2})}, 1);
    std::fill(run.inputs[0].data.begin(), run.inputs[0].data.end(), 1.0f);
    forward(run);
    for (float v : run.outputs[0].data) EXPECT_FLOAT_EQ(v, 4.0f / 9.0f);
}

TEST(AvgPool2d, BackwardMatchesFiniteDifferences) {
    for (auto params : {P({{"kernel_size", 2}}),
                        P({{"kernel_size", 3}, {"stride", 2}, {"padding", 1}})}) {
        auto run = makeRun("avg_pool2d", params, {image({2, 2, 5, 7})}, 2);
        EXPECT_LT(gradcheckMaxError(run), 2e-3);
    }
}

TEST(GlobalAvgPool2d, AveragesEachPlaneAndBackpropagates) {
    auto run = makeRun("global_avg_pool2d", {}, {image({2, 3, 3, 5})}, 2);
    forward(run);
    ASSERT_EQ(run.outputs[0].shape, (Shape{2, 3}));
    const float* plane = run.inputs[0].ptr() + 15 * 4;  // sample 1, channel 1
    EXPECT_NEAR(run.outputs[0].data[4], std::accumulate(plane, plane + 15, 0.0) / 15.0, 1e-6);
    EXPECT_LT(gradcheckMaxError(run), 2e-3);
}

TEST(ConvFixtures, MatchPyTorch) {
    auto fixtures = loadFixtures("conv");
    ASSERT_GE(fixtures["cases"].size(), 6u);
    for (const auto& c : fixtures["cases"]) expectMatchesFixture(c);
}

}  // namespace
}  // namespace strata::test
