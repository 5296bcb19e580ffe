// Fused optimizer updates against torch.optim's formulas over several steps, with the learning
// rate and step count changed between replays of one recording (no re-recording).
#include <cmath>

#include "gpu/ops/optimizer.h"
#include "gpu_fixture.h"
#include "optimizer_push.h"

namespace strata::gpu::test {
namespace {

using shader::StepValues;

struct Steps {
    std::vector<float> lr = {0.1f, 0.05f, 0.02f};
};

BufferRange stepBuffer(MemoryArena& a) { return a.allocate(sizeof(StepValues), "steps").value(); }

void setStep(const BufferRange& r, float lr, uint32_t step) {
    const StepValues v{lr, step, 0, 0};
    ASSERT_TRUE(gpuContext().staging->upload(r, &v, sizeof v));
}

TEST_F(GpuTest, SgdMomentumNesterovAndWeightDecayMatchTorchOverSteps) {
    for (bool nesterov : {false, true}) {
        const size_t n = 1001;
        ops::SgdSettings s{.momentum = 0.9f, .dampening = nesterov ? 0.0f : 0.1f,
                           .weightDecay = 0.01f, .nesterov = nesterov};
        auto w = randomFloats(n, 1);
        const auto g = randomFloats(n, 2);
        std::vector<double> want(w.begin(), w.end()), buf(n, 0.0);
        MemoryArena& a = arena(1 << 20);
        const BufferRange steps = stepBuffer(a);
        const BufferRange bw = upload(w), bg = upload(g), bm = zeros(n);
        auto rec = recorder();
        ASSERT_TRUE(ops::recordSgdUpdate(*rec, s, bw, bg, bm, steps));
        const Steps sched;
        for (uint32_t t = 1; t <= 3; ++t) {
            const float lr = sched.lr[t - 1];
            for (size_t i = 0; i < n; ++i) {
                double d = g[i] + s.weightDecay * want[i];
                buf[i] = t == 1 ? d : s.momentum * buf[i] + (1 - s.dampening) * d;
                d = nesterov ? d + s.momentum * buf[i] : buf[i];
                want[i] -= lr * d;
            }
            setStep(steps, lr, t);
            ASSERT_TRUE(rec->run());
        }
        EXPECT_LT(maxRelError(download(bw), std::vector<float>(want.begin(), want.end())),
                  1e-5f) << (nesterov ? "nesterov" : "plain momentum");
    }
}

TEST_F(GpuTest, AdamAndAdamWMatchTorchOverSteps) {
    for (bool decoupled : {false, true}) {
        const size_t n = 777;
        ops::AdamSettings s{.beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f, .weightDecay = 0.05f,
                            .decoupled = decoupled};
        const auto w = randomFloats(n, 3);
        std::vector<double> want(w.begin(), w.end()), m(n, 0.0), v(n, 0.0);
        MemoryArena& a = arena(1 << 20);
        const BufferRange steps = stepBuffer(a);
        const BufferRange bw = upload(w), bg = zeros(n), bm = zeros(n), bv = zeros(n);
        auto rec = recorder();
        ASSERT_TRUE(ops::recordAdamUpdate(*rec, s, bw, bg, bm, bv, steps));
        const Steps sched;
        for (uint32_t t = 1; t <= 3; ++t) {
            const float lr = sched.lr[t - 1];
            const auto g = randomFloats(n, 10 + t);  // a new gradient each step
            ASSERT_TRUE(gpuContext().staging->upload(bg, g.data(), n * 4));
            for (size_t i = 0; i < n; ++i) {
                double gi = g[i];
                if (decoupled) {
                    want[i] *= 1 - lr * s.weightDecay;
                } else {
                    gi += s.weightDecay * want[i];
                }
                m[i] = s.beta1 * m[i] + (1 - s.beta1) * gi;
                v[i] = s.beta2 * v[i] + (1 - s.beta2) * gi * gi;
                const double mh = m[i] / (1 - std::pow(double(s.beta1), t));
                const double vh = v[i] / (1 - std::pow(double(s.beta2), t));
                want[i] -= lr * mh / (std::sqrt(vh) + s.eps);
            }
            setStep(steps, lr, t);
            ASSERT_TRUE(rec->run());
        }
        EXPECT_LT(maxRelError(download(bw), std::vector<float>(want.begin(), want.end())),
                  1e-5f) << (decoupled ? "AdamW" : "Adam");
    }
}

TEST_F(GpuTest, OptimizerSplitsAnArenaLargerThanOneBinding) {
    const size_t n = 3000;
    const auto w = randomFloats(n, 5), g = randomFloats(n, 6);
    MemoryArena& a = arena(1 << 20);
    const BufferRange steps = stepBuffer(a);
    const BufferRange bw = upload(w), bg = upload(g), bm = zeros(n);
    dev().setMaxBindingBytesForTesting(2048);
    auto rec = recorder();
    auto ok = ops::recordSgdUpdate(*rec, {}, bw, bg, bm, steps);
    dev().setMaxBindingBytesForTesting(~0ull);
    ASSERT_TRUE(ok) << ok.message();
    EXPECT_GT(rec->commandCount(), 1u);
    setStep(steps, 0.5f, 1);
    ASSERT_TRUE(rec->run());
    std::vector<float> want(n);
    for (size_t i = 0; i < n; ++i) want[i] = w[i] - 0.5f * g[i];
    EXPECT_LT(maxRelError(download(bw), want), 1e-6f);
}

}  // namespace
}  // namespace strata::gpu::test
