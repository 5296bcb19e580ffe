// Fused optimizer updates against torch.optim's formulas over several steps, with the learning
// rate and step count changed between replays of one recording (no re-recording).
#include <cmath>

#include "core/train/optimizer.h"
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

// The CPU backend's RMSprop (core/train/optimizer.cpp) is the oracle: same state layout (square
// average in slot 0, momentum buffer in slot 1), new gradients and learning rates every step.
TEST_F(GpuTest, RmspropMatchesTheCpuOptimizerOverSteps) {
    for (double momentum : {0.0, 0.9}) {
        SCOPED_TRACE(testing::Message() << "momentum " << momentum);
        const int64_t n = 1001;
        OptimizerSettings o;
        o.name = "rmsprop";
        o.alpha = 0.9;
        o.eps = 1e-6;
        o.weightDecay = 0.01;
        o.momentum = momentum;
        auto want = randomFloats(size_t(n), 21);
        std::vector<float> state(size_t(2 * n), 0.0f);  // square_avg, momentum_buffer
        MemoryArena& a = arena(1 << 20);
        const BufferRange steps = stepBuffer(a);
        const BufferRange bw = upload(want), bg = zeros(uint64_t(n));
        const BufferRange bstate = zeros(uint64_t(2 * n));
        const BufferRange square = bstate.floatsAt(0, uint64_t(n));
        const BufferRange buf = momentum > 0 ? bstate.floatsAt(uint64_t(n), uint64_t(n))
                                             : BufferRange{};
        const ops::RmspropSettings s{.alpha = float(o.alpha), .eps = float(o.eps),
                                     .weightDecay = float(o.weightDecay),
                                     .momentum = float(o.momentum)};
        auto rec = recorder();
        ASSERT_TRUE(ops::recordRmspropUpdate(*rec, s, bw, bg, square, buf, {}, steps));
        const Steps sched;
        for (uint32_t t = 1; t <= 3; ++t) {
            const float lr = sched.lr[t - 1];
            const auto g = randomFloats(size_t(n), 30 + t);
            ASSERT_TRUE(gpuContext().staging->upload(bg, g.data(), uint64_t(n) * 4));
            optimizerUpdate(o, lr, t, want.data(), g.data(), state.data(), n);
            setStep(steps, lr, t);
            ASSERT_TRUE(rec->run());
        }
        EXPECT_LT(maxRelError(download(bw), want), 1e-5f);
        EXPECT_LT(maxRelError(download(square), std::vector<float>(state.begin(),
                                                                   state.begin() + n)),
                  1e-5f);
        if (momentum > 0) {
            EXPECT_LT(maxRelError(download(buf), std::vector<float>(state.begin() + n,
                                                                    state.end())),
                      1e-5f);
        }
    }
}

// Centered RMSprop has no CPU counterpart yet: torch's formula in double precision.
TEST_F(GpuTest, CenteredRmspropMatchesTorchsFormula) {
    const size_t n = 513;
    const ops::RmspropSettings s{.alpha = 0.95f, .eps = 1e-5f, .weightDecay = 0.0f,
                                 .momentum = 0.5f, .centered = true};
    const auto w = randomFloats(n, 41);
    std::vector<double> want(w.begin(), w.end()), sq(n, 0.0), ga(n, 0.0), buf(n, 0.0);
    MemoryArena& a = arena(1 << 20);
    const BufferRange steps = stepBuffer(a);
    const BufferRange bw = upload(w), bg = zeros(n), bsq = zeros(n), bbuf = zeros(n);
    const BufferRange bga = zeros(n);
    auto rec = recorder();
    ASSERT_TRUE(ops::recordRmspropUpdate(*rec, s, bw, bg, bsq, bbuf, bga, steps));
    const Steps sched;
    for (uint32_t t = 1; t <= 3; ++t) {
        const float lr = sched.lr[t - 1];
        const auto g = randomFloats(n, 50 + t);
        ASSERT_TRUE(gpuContext().staging->upload(bg, g.data(), n * 4));
        for (size_t i = 0; i < n; ++i) {
            sq[i] = s.alpha * sq[i] + (1 - s.alpha) * double(g[i]) * g[i];
            ga[i] = s.alpha * ga[i] + (1 - s.alpha) * double(g[i]);
            const double avg = std::sqrt(sq[i] - ga[i] * ga[i]) + s.eps;
            buf[i] = s.momentum * buf[i] + g[i] / avg;
            want[i] -= lr * buf[i];
        }
        setStep(steps, lr, t);
        ASSERT_TRUE(rec->run());
    }
    EXPECT_LT(maxRelError(download(bw), std::vector<float>(want.begin(), want.end())), 1e-5f);
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
