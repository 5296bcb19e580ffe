#include "gpu/ops/gemm.h"

#include <algorithm>

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
// Outputs per workgroup: shared-memory tiles of 64x64; texel: 8x8 invocations of 8x8 each
// (8x16 each ran ~7% faster on lavapipe but took lavapipe ~3x longer to compile).
constexpr uint32_t kTiledRows = 64, kTiledCols = 64;
constexpr uint32_t kTexelRows = 64, kTexelCols = 64;
// Rows per part when splitting along M: a multiple of 4 keeps a transposed A's parts on
// 16-byte boundaries (4-float fetches).
constexpr uint32_t kRowQuantum = 8;

// The whole problem with its strides resolved.
struct Problem {
    const GemmArgs& g;
    uint64_t strideA, strideB, strideC;
    uint32_t lda, ldb;
    // Floats of A, B, C, bias that `nb` batch entries of `mc` rows span.
    uint64_t spanA(uint32_t nb, uint32_t mc) const {
        return (nb - 1) * strideA +
               (g.transA ? uint64_t(g.K ? g.K - 1 : 0) * g.M + mc : uint64_t(mc) * g.K);
    }
    uint64_t spanB(uint32_t nb) const { return (nb - 1) * strideB + uint64_t(g.K) * g.N; }
    uint64_t spanC(uint32_t nb, uint32_t mc) const {
        return (nb - 1) * strideC + uint64_t(mc) * g.N;
    }
    uint64_t spanBias(uint32_t nb, uint32_t mc) const {
        if (g.bias.empty()) return 0;
        return g.biasPerRow ? (nb - 1) * g.strideBias + mc : g.N;
    }
};

// One dispatch over batch entries [b0, b0 + nb) and rows [m0, m0 + mc).
Result<void> recordPart(Recorder& rec, const Problem& pr, GemmVariant v, uint32_t b0,
                        uint32_t nb, uint32_t m0, uint32_t mc, const std::string& label) {
    const GemmArgs& g = pr.g;
    const Device& dev = rec.device();
    // K == 0 makes C = beta * C + bias, which the kernels do with an empty loop; A and B still
    // need something to bind.
    const BufferRange aUsed =
        g.a.floatsAt(b0 * pr.strideA + (g.transA ? m0 : uint64_t(m0) * g.K),
                     std::max<uint64_t>(pr.spanA(nb, mc), 1));
    const BufferRange bUsed =
        g.b.floatsAt(b0 * pr.strideB, std::max<uint64_t>(pr.spanB(nb), 1));
    const BufferRange cUsed = g.c.floatsAt(b0 * pr.strideC + uint64_t(m0) * g.N, pr.spanC(nb, mc));
    auto a = bindFloats(dev, aUsed, "GEMM operand A");
    if (!a) return a.error();
    auto b = bindFloats(dev, bUsed, "GEMM operand B");
    if (!b) return b.error();
    auto c = bindFloats(dev, cUsed, "GEMM result C");
    if (!c) return c.error();
    const bool hasBias = !g.bias.empty();
    BufferRange biasUsed{};
    BoundFloats bias = c.value();
    if (hasBias) {
        biasUsed = g.biasPerRow ? g.bias.floatsAt(b0 * g.strideBias + m0, pr.spanBias(nb, mc))
                                : g.bias.floatsAt(0, g.N);
        auto bb = bindFloats(dev, biasUsed, "GEMM bias");
        if (!bb) return bb.error();
        bias = *bb;
    }

    GemmPush p{};
    p.M = mc;
    p.N = g.N;
    p.K = g.K;
    p.lda = pr.lda;
    p.ldb = pr.ldb;
    p.ldc = g.N;
    p.offA = a->offset;
    p.offB = b->offset;
    p.offC = c->offset;
    p.offBias = hasBias ? bias.offset : 0;
    p.strideA = uint32_t(pr.strideA);
    p.strideB = uint32_t(pr.strideB);
    p.strideC = uint32_t(pr.strideC);
    p.strideBias = uint32_t(g.strideBias);
    p.hasBias = !hasBias ? kGemmBiasNone : g.biasPerRow ? kGemmBiasRow : kGemmBiasColumn;
    p.activation = uint32_t(g.activation);
    p.actParam = g.activationParam;
    p.alpha = g.alpha;
    p.beta = g.beta;

    // Four floats per texel fetch need every row (and batch entry) of the operand to start on a
    // 16-byte boundary of the view; the part's span then ends on one as well.
    const bool texel = v == GemmVariant::Texel8x8;
    const bool vecA = texel && g.K > 0 && p.offA % 4 == 0 && pr.lda % 4 == 0 &&
                      (nb == 1 || pr.strideA % 4 == 0);
    const bool vecB = texel && g.K > 0 && p.offB % 4 == 0 && pr.ldb % 4 == 0 &&
                      (nb == 1 || pr.strideB % 4 == 0);
    const Binding bindings[] = {
        {a->range, Access::Read, aUsed,
         vecA ? VK_FORMAT_R32G32B32A32_SFLOAT : VK_FORMAT_R32_SFLOAT},
        {b->range, Access::Read, bUsed,
         vecB ? VK_FORMAT_R32G32B32A32_SFLOAT : VK_FORMAT_R32_SFLOAT},
        {c->range, g.beta != 0.0f ? Access::ReadWrite : Access::Write, cUsed},
        {bias.range, hasBias ? Access::Read : Access::Unused, biasUsed},
    };
    const uint32_t spec[] = {g.transA ? 1u : 0u, g.transB ? 1u : 0u, vecA ? 1u : 0u,
                             vecB ? 1u : 0u};
    const uint32_t tileRows = texel ? kTexelRows : kTiledRows;
    const uint32_t tileCols = texel ? kTexelCols : kTiledCols;
    const std::array<uint32_t, 3> groups = {(g.N + tileCols - 1) / tileCols,
                                            (mc + tileRows - 1) / tileRows, nb};
    return rec.dispatch(texel ? kTexelGemm : kTiledGemm,
                        std::span<const uint32_t>(spec, texel ? 4 : 2), bindings, &p, groups,
                        label);
}

// The most batch entries (of `single` floats, `stride` apart) whose span fits `limit` floats.
uint32_t entriesThatFit(uint64_t limit, uint64_t single, uint64_t stride, uint32_t batch) {
    if (single > limit) return 0;
    if (stride == 0) return batch;
    return uint32_t(std::min<uint64_t>(batch, (limit - single) / stride + 1));
}

}  // namespace

Result<void> recordGemm(Recorder& rec, const GemmArgs& g, std::optional<GemmVariant> variant) {
    const Device& dev = rec.device();
    const GemmVariant v = variant.value_or(dev.gemmVariant());
    const Problem pr{g,
                     g.strideA ? g.strideA : uint64_t(g.M) * g.K,
                     g.strideB ? g.strideB : uint64_t(g.K) * g.N,
                     g.strideC ? g.strideC : uint64_t(g.M) * g.N,
                     g.transA ? g.M : g.K,
                     g.transB ? g.K : g.N};
    if (g.M == 0 || g.N == 0 || g.batch == 0) return {};
    const std::string shape =
        std::to_string(g.M) + "x" + std::to_string(g.N) + "x" + std::to_string(g.K);
    if (g.a.floats() < pr.spanA(g.batch, g.M) || g.b.floats() < pr.spanB(g.batch) ||
        g.c.floats() < pr.spanC(g.batch, g.M) ||
        g.bias.floats() < pr.spanBias(g.batch, g.M)) {
        return fail("GEMM operands are smaller than its shape " + shape + " needs.");
    }
    const std::string label =
        std::string("gemm_") + (g.transA ? "T" : "N") + (g.transB ? "T" : "N") + " " + shape;

    // Bindings start up to one alignment below their operand.
    const uint64_t limit = (dev.maxBindingBytes() - (dev.bindingAlignment() - 4)) / 4;
    auto fitsWhole = [&](uint32_t nb, uint32_t mc) {
        return pr.spanA(nb, mc) <= limit && pr.spanB(nb) <= limit && pr.spanC(nb, mc) <= limit &&
               pr.spanBias(nb, mc) <= limit;
    };
    if (fitsWhole(g.batch, g.M)) return recordPart(rec, pr, v, 0, g.batch, 0, g.M, label);

    // Several batch entries per dispatch when whole entries fit, else rows of one entry.
    uint32_t perPart = entriesThatFit(limit, pr.spanA(1, g.M), pr.strideA, g.batch);
    perPart = std::min(perPart, entriesThatFit(limit, pr.spanB(1), pr.strideB, g.batch));
    perPart = std::min(perPart, entriesThatFit(limit, pr.spanC(1, g.M), pr.strideC, g.batch));
    if (g.biasPerRow && !g.bias.empty()) {
        perPart = std::min(perPart, entriesThatFit(limit, g.M, g.strideBias, g.batch));
    }
    if (perPart > 0) {
        for (uint32_t b0 = 0; b0 < g.batch; b0 += perPart) {
            const uint32_t nb = std::min(perPart, g.batch - b0);
            if (auto r = recordPart(rec, pr, v, b0, nb, 0, g.M, label); !r) return r;
        }
        return {};
    }
    // Only the reduction is long (weight and bias gradients summed over a large batch): parts
    // of K, each a contiguous run of A's and B's rows, accumulate into C one after another.
    // An activation cannot apply to partial sums, and A's or B's columns are not contiguous.
    const uint64_t widest = std::max<uint64_t>({g.M, g.N, 1});
    const uint64_t depth = limit / widest / kRowQuantum * kRowQuantum;
    if (g.batch == 1 && g.activation == Activation::None && (g.transA || g.M == 1) &&
        (!g.transB || g.N == 1) && depth > 0 && depth < g.K) {
        for (uint32_t k0 = 0; k0 < g.K; k0 += uint32_t(depth)) {
            const uint32_t kc = uint32_t(std::min<uint64_t>(depth, g.K - k0));
            GemmArgs part = g;
            part.K = kc;
            part.a = g.a.floatsAt(uint64_t(k0) * (g.transA ? g.M : 1),
                                  g.transA ? uint64_t(kc) * g.M : kc);
            part.b = g.b.floatsAt(uint64_t(k0) * (g.transB ? 1 : g.N),
                                  g.transB ? kc : uint64_t(kc) * g.N);
            part.beta = k0 == 0 ? g.beta : 1.0f;  // later parts add to the earlier ones
            if (k0 > 0) part.bias = BufferRange{};  // added once
            if (auto r = recordGemm(rec, part, variant); !r) return r;
        }
        return {};
    }
    uint64_t rows = g.M;
    if (!g.transA) rows = std::min<uint64_t>(rows, limit / std::max<uint32_t>(g.K, 1));
    if (g.transA) rows = pr.spanA(1, 0) <= limit ? std::min(rows, limit - pr.spanA(1, 0)) : 0;
    rows = std::min<uint64_t>(rows, limit / g.N);
    rows = rows / kRowQuantum * kRowQuantum;  // keeps every part's rows on texel boundaries
    if (rows == 0 || pr.spanB(1) > limit || pr.spanBias(1, 0) > limit) {
        return fail("GEMM " + shape + " needs more than the device binds at once (" +
                    byteText(dev.maxBindingBytes()) + ") for " +
                    (pr.spanB(1) > limit ? "operand B" : "operand A") +
                    " even when split by rows; try a smaller batch size.");
    }
    for (uint32_t b0 = 0; b0 < g.batch; ++b0) {
        for (uint32_t m0 = 0; m0 < g.M; m0 += uint32_t(rows)) {
            const uint32_t mc = uint32_t(std::min<uint64_t>(rows, g.M - m0));
            if (auto r = recordPart(rec, pr, v, b0, 1, m0, mc, label); !r) return r;
        }
    }
    return {};
}

}  // namespace strata::gpu::ops
