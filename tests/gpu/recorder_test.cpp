// Barriers only where hazards are, each with its reason; replay of one recording.
#include "core/engine/cpu_math.h"
#include "gpu/ops/activation.h"
#include "gpu/ops/gemm.h"
#include "gpu_fixture.h"

namespace strata::gpu::test {
namespace {

using ops::Activation;

size_t barriersBeforeFinish(const Recorder& r) {
    size_t n = 0;
    for (const auto& b : r.barriers()) n += b.reason.rfind("end of recording", 0) != 0;
    return n;
}

TEST_F(GpuTest, IndependentDispatchesGetNoBarrier) {
    const BufferRange x = upload(randomFloats(100, 1));
    const BufferRange y1 = zeros(100), y2 = zeros(100);
    auto rec = recorder();
    ASSERT_TRUE(ops::recordActivationFwd(*rec, Activation::Relu, 0, x, y1));
    ASSERT_TRUE(ops::recordActivationFwd(*rec, Activation::Tanh, 0, x, y2));  // read-after-read
    EXPECT_EQ(barriersBeforeFinish(*rec), 0u);
    ASSERT_TRUE(rec->finish());
    ASSERT_EQ(rec->barriers().size(), 1u);
    EXPECT_EQ(rec->barriers()[0].reason.rfind("end of recording", 0), 0u);
}

TEST_F(GpuTest, ReadAfterWriteGetsOneBarrierNamingBothDispatches) {
    const BufferRange x = upload(randomFloats(100, 1));
    const BufferRange h = zeros(100), y = zeros(100), other = zeros(100);
    auto rec = recorder();
    ASSERT_TRUE(ops::recordActivationFwd(*rec, Activation::Relu, 0, x, h));
    ASSERT_TRUE(ops::recordActivationFwd(*rec, Activation::Tanh, 0, x, other));
    ASSERT_TRUE(ops::recordActivationFwd(*rec, Activation::Sigmoid, 0, h, y));
    ASSERT_EQ(barriersBeforeFinish(*rec), 1u);
    const BarrierNote& b = rec->barriers()[0];
    EXPECT_EQ(b.beforeCommand, 2u);
    EXPECT_NE(b.reason.find("'sigmoid_fwd' reads"), std::string::npos) << b.reason;
    EXPECT_NE(b.reason.find("that 'relu_fwd' wrote (read-after-write)"), std::string::npos)
        << b.reason;
    EXPECT_EQ(b.reason.find("tanh"), std::string::npos) << "the unrelated write is not a reason";
}

TEST_F(GpuTest, WriteAfterReadAndWriteAfterWriteGetBarriers) {
    const BufferRange x = upload(randomFloats(64, 1));
    const BufferRange y = zeros(64);
    auto rec = recorder();
    ASSERT_TRUE(ops::recordActivationFwd(*rec, Activation::Relu, 0, x, y));  // reads x
    ASSERT_TRUE(ops::recordActivationFwd(*rec, Activation::Tanh, 0, y, x));  // writes x
    ASSERT_EQ(barriersBeforeFinish(*rec), 1u);
    const std::string& r = rec->barriers()[0].reason;
    EXPECT_NE(r.find("read-after-write"), std::string::npos) << r;  // reads y
    EXPECT_NE(r.find("write-after-read"), std::string::npos) << r;  // overwrites x
    ASSERT_TRUE(ops::recordActivationFwd(*rec, Activation::Sigmoid, 0, y, x));  // writes x again
    ASSERT_EQ(barriersBeforeFinish(*rec), 2u);
    EXPECT_NE(rec->barriers()[1].reason.find("write-after-write"), std::string::npos)
        << rec->barriers()[1].reason;
}

TEST_F(GpuTest, DisjointRangesOfOneBufferNeedNoBarrier) {
    // Two halves of one allocation: writing the first half and then reading the second is safe.
    const BufferRange whole = upload(randomFloats(2048, 3));
    const BufferRange first = whole.floatsAt(0, 1024), second = whole.floatsAt(1024, 1024);
    const BufferRange y = zeros(1024);
    auto rec = recorder();
    ASSERT_TRUE(ops::recordActivationFwd(*rec, Activation::Relu, 0, y, first));
    ASSERT_TRUE(ops::recordActivationFwd(*rec, Activation::Tanh, 0, second, y.floatsAt(0, 1024)));
    // The second dispatch writes y, which the first read: that one is a real hazard.
    ASSERT_EQ(barriersBeforeFinish(*rec), 1u);
    EXPECT_EQ(rec->barriers()[0].reason.find("read-after-write"), std::string::npos)
        << rec->barriers()[0].reason;
    // A third reading only `second` (never written) gets no barrier.
    const BufferRange z = zeros(1024);
    ASSERT_TRUE(ops::recordActivationFwd(*rec, Activation::Relu, 0, second, z));
    EXPECT_EQ(barriersBeforeFinish(*rec), 1u);
}

TEST_F(GpuTest, ReplayingARecordingGivesTheSameResultEachTime) {
    // h = relu(x W^T + b); y = tanh(h): recorded once, submitted twice.
    const uint32_t M = 9, N = 11, K = 13;
    const auto x = randomFloats(M * K, 1), w = randomFloats(N * K, 2), b = randomFloats(N, 3);
    std::vector<float> want(M * N);
    cpu::gemm(false, true, M, N, K, 1.0f, x.data(), w.data(), 0.0f, want.data());
    for (uint32_t i = 0; i < M * N; ++i) want[i] = std::tanh(std::max(0.0f, want[i] + b[i % N]));
    ops::GemmArgs g;
    g.transB = true;
    g.M = M;
    g.N = N;
    g.K = K;
    g.a = upload(x);
    g.b = upload(w);
    g.bias = upload(b);
    g.c = zeros(M * N);
    g.activation = Activation::Relu;
    const BufferRange y = zeros(M * N);
    auto rec = recorder();
    ASSERT_TRUE(ops::recordGemm(*rec, g));
    ASSERT_TRUE(ops::recordActivationFwd(*rec, Activation::Tanh, 0, g.c, y));
    ASSERT_TRUE(rec->run());
    const auto first = download(y);
    ASSERT_TRUE(gpuContext().staging->upload(y, std::vector<float>(M * N, 7.0f).data(), M * N * 4));
    ASSERT_TRUE(rec->run());
    const auto second = download(y);
    EXPECT_LT(maxRelError(first, want), 1e-5f);
    EXPECT_EQ(first, second);
}

TEST_F(GpuTest, ReplayReallyExecutesAgain) {
    // dx += dy * 1 (relu' at positive x): each replay adds dy once more.
    const BufferRange x = upload(std::vector<float>(50, 1.0f));
    const BufferRange dy = upload(std::vector<float>(50, 0.25f));
    const BufferRange dx = zeros(50);
    auto rec = recorder();
    ASSERT_TRUE(ops::recordActivationBwd(*rec, Activation::Relu, 0, x, dy, dx));
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(rec->run());
    EXPECT_EQ(download(dx), std::vector<float>(50, 0.75f));
}

TEST_F(GpuTest, RecordingAfterFinishIsAnError) {
    const BufferRange x = zeros(8), y = zeros(8);
    auto rec = recorder();
    ASSERT_TRUE(rec->finish());
    auto ok = ops::recordActivationFwd(*rec, Activation::Relu, 0, x, y);
    ASSERT_FALSE(ok);
    EXPECT_NE(ok.message().find("after the recording finished"), std::string::npos);
}

}  // namespace
}  // namespace strata::gpu::test
