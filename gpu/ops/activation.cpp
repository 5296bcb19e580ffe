#include "gpu/ops/activation.h"

#include <vector>

#include "eltwise_push.h"
#include "gpu/ops/common.h"

namespace strata::gpu::ops {

namespace {

using shader::EltwisePush;
constexpr VkDescriptorType kStorage = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
const KernelLayout kFwd{"activation_fwd", {kStorage, kStorage}, sizeof(EltwisePush)};
const KernelLayout kBwd{"activation_bwd", {kStorage, kStorage, kStorage}, sizeof(EltwisePush)};
const KernelLayout kDropFwd{"dropout_fwd", {kStorage, kStorage, kStorage}, sizeof(EltwisePush)};
const KernelLayout kDropBwd{"dropout_bwd", {kStorage, kStorage, kStorage}, sizeof(EltwisePush)};

const char* actName(Activation a) {
    switch (a) {
        case Activation::None: return "identity";
        case Activation::Relu: return "relu";
        case Activation::LeakyRelu: return "leaky_relu";
        case Activation::Gelu: return "gelu";
        case Activation::GeluTanh: return "gelu_tanh";
        case Activation::Sigmoid: return "sigmoid";
        case Activation::Tanh: return "tanh";
    }
    return "activation";
}

struct Operand {
    BufferRange range;
    Access access;
    uint32_t EltwisePush::*offset;  // the push field that receives its element offset
};

// One elementwise kernel over same-length tensors, split into chunks whose bindings fit.
// `extra`, when present, is bound whole after the operands in every chunk (dropout's seed).
Result<void> eltwise(Recorder& rec, const KernelLayout& kernel, const EltwisePush& base,
                     const std::vector<Operand>& operands, const std::string& label,
                     const Operand* extra = nullptr) {
    const Device& dev = rec.device();
    const uint64_t n = operands[0].range.floats();
    for (const auto& o : operands) {
        if (o.range.floats() != n) {
            return fail("'" + label + "' operands differ in length (" + std::to_string(n) +
                        " and " + std::to_string(o.range.floats()) + " floats).");
        }
    }
    uint64_t slack = 0;
    for (const auto& o : operands) slack = std::max(slack, slackOf(dev, {o.range}));
    BoundFloats extraBound;
    if (extra) {
        auto bound = bindFloats(dev, extra->range, label.c_str());
        if (!bound) return bound.error();
        extraBound = *bound;
    }
    return forEachChunk(dev, n, slack, [&](uint64_t first, uint64_t count) -> Result<void> {
        EltwisePush push = base;
        std::vector<Binding> bindings;
        for (const auto& o : operands) {
            const BufferRange part = o.range.floatsAt(first, count);
            auto bound = bindFloats(dev, part, label.c_str());
            if (!bound) return bound.error();
            bindings.push_back({bound->range, o.access, part});
            push.*o.offset = bound->offset;
        }
        if (extra) {
            bindings.push_back({extraBound.range, extra->access, extra->range});
            push.*extra->offset = extraBound.offset;
        }
        push.n = uint32_t(count);
        push.indexBase = uint32_t(first);
        // The activation kernels read the activation as specialization constant 0 too; the
        // dropout kernels have no such constant, which Vulkan allows.
        const uint32_t spec[] = {push.activation};
        return rec.dispatch(kernel, spec, bindings, &push, {strideGroups(dev, count, 64), 1, 1},
                            label);
    });
}

EltwisePush pushFor(Activation act, float param) {
    EltwisePush p{};
    p.activation = uint32_t(act);
    p.param = param;
    return p;
}

EltwisePush pushForDropout(float p) {
    EltwisePush push{};
    push.param = p;
    return push;
}

Result<Operand> seedOperand(const BufferRange& seed, const char* label) {
    if (seed.size != 8) {
        return fail(std::string(label) + " needs its 8-byte seed (lo, hi) in device memory.");
    }
    return Operand{seed, Access::Read, &EltwisePush::offSeed};
}

}  // namespace

Result<void> recordActivationFwd(Recorder& rec, Activation act, float param, const BufferRange& x,
                                 const BufferRange& y) {
    return eltwise(rec, kFwd, pushFor(act, param),
                   {{x, Access::Read, &EltwisePush::offX}, {y, Access::Write, &EltwisePush::offY}},
                   std::string(actName(act)) + "_fwd");
}

Result<void> recordActivationBwd(Recorder& rec, Activation act, float param, const BufferRange& x,
                                 const BufferRange& dy, const BufferRange& dx) {
    return eltwise(rec, kBwd, pushFor(act, param),
                   {{x, Access::Read, &EltwisePush::offX},
                    {dy, Access::Read, &EltwisePush::offY},
                    {dx, Access::ReadWrite, &EltwisePush::offDx}},
                   std::string(actName(act)) + "_bwd");
}

Result<void> recordDropoutFwd(Recorder& rec, float p, const BufferRange& seed,
                              const BufferRange& x, const BufferRange& y) {
    if (!(p >= 0.0f && p < 1.0f)) return fail("dropout p must be in [0, 1).");
    auto s = seedOperand(seed, "dropout_fwd");
    if (!s) return s.error();
    return eltwise(rec, kDropFwd, pushForDropout(p),
                   {{x, Access::Read, &EltwisePush::offX}, {y, Access::Write, &EltwisePush::offY}},
                   "dropout_fwd", &*s);
}

Result<void> recordDropoutBwd(Recorder& rec, float p, const BufferRange& seed,
                              const BufferRange& dy, const BufferRange& dx) {
    if (!(p >= 0.0f && p < 1.0f)) return fail("dropout p must be in [0, 1).");
    auto s = seedOperand(seed, "dropout_bwd");
    if (!s) return s.error();
    return eltwise(rec, kDropBwd, pushForDropout(p),
                   {{dy, Access::Read, &EltwisePush::offY},
                    {dx, Access::ReadWrite, &EltwisePush::offDx}},
                   "dropout_bwd", &*s);
}

}  // namespace strata::gpu::ops
