#include "gpu/ops/optimizer.h"

#include <vector>

#include "gpu/ops/common.h"
#include "optimizer_push.h"

namespace strata::gpu::ops {

namespace {

using shader::OptimizerPush;
using shader::StepValues;
constexpr VkDescriptorType kStorage = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
const KernelLayout kSgd{"sgd_momentum", {kStorage, kStorage, kStorage, kStorage},
                        sizeof(OptimizerPush)};
const KernelLayout kAdam{"adam", {kStorage, kStorage, kStorage, kStorage, kStorage},
                         sizeof(OptimizerPush)};
const KernelLayout kRmsprop{"rmsprop", {kStorage, kStorage, kStorage, kStorage, kStorage, kStorage},
                            sizeof(OptimizerPush)};
const KernelLayout kGuard{"step_guard", {kStorage, kStorage, kStorage},
                          sizeof(shader::StepGuardPush)};

// An empty range is a state slot this configuration does not use: its binding is a placeholder
// the kernel never touches.
struct Operand {
    BufferRange range;
    Access access;
    uint32_t OptimizerPush::*offset;
};

Result<void> update(Recorder& rec, const KernelLayout& kernel, const OptimizerPush& base,
                    const std::vector<Operand>& operands, const BufferRange& stepValues,
                    const char* label) {
    const Device& dev = rec.device();
    const uint64_t n = operands[0].range.floats();
    for (const auto& o : operands) {
        if (!o.range.empty() && o.range.floats() != n) {
            return fail(std::string(label) + ": parameters, gradients and state differ in size.");
        }
    }
    if (stepValues.size < sizeof(StepValues) ||
        stepValues.offset % dev.info().minStorageBufferOffsetAlignment) {
        return fail(std::string(label) + ": the step values buffer is too small or misaligned.");
    }
    const BufferRange steps{stepValues.buffer, stepValues.offset, sizeof(StepValues)};
    uint64_t slack = 0;
    for (const auto& o : operands) slack = std::max(slack, slackOf(dev, {o.range}));
    return forEachChunk(dev, n, slack, [&](uint64_t first, uint64_t count) -> Result<void> {
        OptimizerPush push = base;
        std::vector<Binding> bindings;
        for (const auto& o : operands) {
            if (o.range.empty()) {
                bindings.push_back({bindings[0].range, Access::Unused, {}});
                continue;
            }
            const BufferRange part = o.range.floatsAt(first, count);
            auto bound = bindFloats(dev, part, label);
            if (!bound) return bound.error();
            bindings.push_back({bound->range, o.access, part});
            push.*o.offset = bound->offset;
        }
        bindings.push_back({steps, Access::Read, steps});
        push.n = uint32_t(count);
        return rec.dispatch(kernel, {}, bindings, &push, {strideGroups(dev, count, 64), 1, 1},
                            label);
    });
}

}  // namespace

Result<void> recordSgdUpdate(Recorder& rec, const SgdSettings& s, const BufferRange& params,
                             const BufferRange& grads, const BufferRange& momentum,
                             const BufferRange& stepValues) {
    OptimizerPush p{};
    p.momentum = s.momentum;
    p.dampening = s.dampening;
    p.nesterov = s.nesterov ? 1 : 0;
    p.weightDecay = s.weightDecay;
    return update(rec, kSgd, p,
                  {{params, Access::ReadWrite, &OptimizerPush::offParam},
                   {grads, Access::Read, &OptimizerPush::offGrad},
                   {momentum, Access::ReadWrite, &OptimizerPush::offState0}},
                  stepValues, "sgd_update");
}

Result<void> recordAdamUpdate(Recorder& rec, const AdamSettings& s, const BufferRange& params,
                              const BufferRange& grads, const BufferRange& m1,
                              const BufferRange& m2, const BufferRange& stepValues) {
    OptimizerPush p{};
    p.beta1 = s.beta1;
    p.beta2 = s.beta2;
    p.eps = s.eps;
    p.weightDecay = s.weightDecay;
    p.decoupled = s.decoupled ? 1 : 0;
    return update(rec, kAdam, p,
                  {{params, Access::ReadWrite, &OptimizerPush::offParam},
                   {grads, Access::Read, &OptimizerPush::offGrad},
                   {m1, Access::ReadWrite, &OptimizerPush::offState0},
                   {m2, Access::ReadWrite, &OptimizerPush::offState1}},
                  stepValues, "adam_update");
}

Result<void> recordRmspropUpdate(Recorder& rec, const RmspropSettings& s,
                                 const BufferRange& params, const BufferRange& grads,
                                 const BufferRange& squareAvg, const BufferRange& momentum,
                                 const BufferRange& gradAvg, const BufferRange& stepValues) {
    if (s.momentum > 0 && momentum.empty()) {
        return fail("rmsprop_update: momentum needs its state buffer.");
    }
    if (s.centered && gradAvg.empty()) {
        return fail("rmsprop_update: centered needs the gradient-average state buffer.");
    }
    OptimizerPush p{};
    p.alpha = s.alpha;
    p.eps = s.eps;
    p.weightDecay = s.weightDecay;
    p.momentum = s.momentum;
    p.centered = s.centered ? 1 : 0;
    return update(rec, kRmsprop, p,
                  {{params, Access::ReadWrite, &OptimizerPush::offParam},
                   {grads, Access::Read, &OptimizerPush::offGrad},
                   {squareAvg, Access::ReadWrite, &OptimizerPush::offState0},
                   {s.momentum > 0 ? momentum : BufferRange{}, Access::ReadWrite,
                    &OptimizerPush::offState1},
                   {s.centered ? gradAvg : BufferRange{}, Access::ReadWrite,
                    &OptimizerPush::offState2}},
                  stepValues, "rmsprop_update");
}

Result<void> recordStepGuard(Recorder& rec, const BufferRange& loss,
                             const BufferRange& stepValues, const BufferRange& halt) {
    auto bound = bindFloats(rec.device(), loss, "the loss");
    if (!bound) return bound.error();
    const BufferRange steps{stepValues.buffer, stepValues.offset, sizeof(StepValues)};
    const Binding bindings[] = {{bound->range, Access::Read, loss},
                                {steps, Access::ReadWrite, {}},
                                {{halt.buffer, halt.offset, 4}, Access::ReadWrite, {}}};
    const shader::StepGuardPush push{bound->offset};
    return rec.dispatch(kGuard, {}, bindings, &push, {1, 1, 1}, "step guard");
}

}  // namespace strata::gpu::ops
