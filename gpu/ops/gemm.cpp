#include "gpu/ops/gemm.h"

#include "gemm_push.h"
#include "gpu/ops/common.h"

namespace strata::gpu::ops {

namespace {

using shader::GemmPush;
constexpr VkDescriptorType kStorage = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
constexpr VkDescriptorType kTexel = VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER;
const KernelLayout kTexelGemm{"gemm_texel", {kTexel, kTexel, kStorage, kStorage},
                              sizeof(GemmPush)};
const KernelLayout kTiledGemm{"gemm_tiled", {kStorage, kStorage, kStorage, kStorage},
                              sizeof(GemmPush)};
constexpr uint32_t kTile = 64;  // both variants cover 64x64 outputs per workgroup

}  // namespace

Result<void> recordGemm(Recorder& rec, const GemmArgs& g, std::optional<GemmVariant> variant) {
    const Device& dev = rec.device();
    const GemmVariant v = variant.value_or(dev.gemmVariant());
    const uint64_t strideA = g.strideA ? g.strideA : uint64_t(g.M) * g.K;
    const uint64_t strideB = g.strideB ? g.strideB : uint64_t(g.K) * g.N;
    const uint64_t strideC = g.strideC ? g.strideC : uint64_t(g.M) * g.N;
    if (g.M == 0 || g.N == 0 || g.batch == 0) return {};
    const uint64_t needA = (g.batch - 1) * strideA + uint64_t(g.M) * g.K;
    const uint64_t needB = (g.batch - 1) * strideB + uint64_t(g.K) * g.N;
    const uint64_t needC = (g.batch - 1) * strideC + uint64_t(g.M) * g.N;
    if (g.a.floats() < needA || g.b.floats() < needB || g.c.floats() < needC ||
        (!g.bias.empty() && g.bias.floats() < g.N)) {
        return fail("GEMM operands are smaller than its shape " + std::to_string(g.M) + "x" +
                    std::to_string(g.N) + "x" + std::to_string(g.K) + " needs.");
    }
    const std::string label = std::string("gemm_") + (g.transA ? "T" : "N") +
                              (g.transB ? "T" : "N") + " " + std::to_string(g.M) + "x" +
                              std::to_string(g.N) + "x" + std::to_string(g.K);
    // K == 0 makes C = beta * C + bias, which the kernels do with an empty loop.
    const BufferRange aUsed = g.a.floatsAt(0, std::max<uint64_t>(needA, 1));
    const BufferRange bUsed = g.b.floatsAt(0, std::max<uint64_t>(needB, 1));
    const BufferRange cUsed = g.c.floatsAt(0, needC);
    auto a = bindFloats(dev, aUsed, "GEMM operand A");
    if (!a) return a.error();
    auto b = bindFloats(dev, bUsed, "GEMM operand B");
    if (!b) return b.error();
    auto c = bindFloats(dev, cUsed, "GEMM result C");
    if (!c) return c.error();
    const bool hasBias = !g.bias.empty();
    const BufferRange biasUsed = hasBias ? g.bias.floatsAt(0, g.N) : BufferRange{};
    BoundFloats bias = c.value();
    if (hasBias) {
        auto bb = bindFloats(dev, biasUsed, "GEMM bias");
        if (!bb) return bb.error();
        bias = *bb;
    }

    GemmPush p{};
    p.M = g.M;
    p.N = g.N;
    p.K = g.K;
    p.lda = g.transA ? g.M : g.K;
    p.ldb = g.transB ? g.K : g.N;
    p.ldc = g.N;
    p.offA = a->offset;
    p.offB = b->offset;
    p.offC = c->offset;
    p.offBias = hasBias ? bias.offset : 0;
    p.strideA = uint32_t(strideA);
    p.strideB = uint32_t(strideB);
    p.strideC = uint32_t(strideC);
    p.hasBias = hasBias ? 1 : 0;
    p.activation = uint32_t(g.activation);
    p.actParam = g.activationParam;
    p.alpha = g.alpha;
    p.beta = g.beta;

    const Binding bindings[] = {
        {a->range, Access::Read, aUsed},
        {b->range, Access::Read, bUsed},
        {c->range, g.beta != 0.0f ? Access::ReadWrite : Access::Write, cUsed},
        {bias.range, hasBias ? Access::Read : Access::Unused, biasUsed},
    };
    const uint32_t spec[] = {g.transA ? 1u : 0u, g.transB ? 1u : 0u};
    const std::array<uint32_t, 3> groups = {(g.N + kTile - 1) / kTile, (g.M + kTile - 1) / kTile,
                                            g.batch};
    return rec.dispatch(v == GemmVariant::Texel8x8 ? kTexelGemm : kTiledGemm, spec, bindings, &p,
                        groups, label);
}

}  // namespace strata::gpu::ops
