#include "gpu/ops/recurrent.h"

#include <vector>

#include "gpu/ops/common.h"
#include "rnn_push.h"

namespace strata::gpu::ops {

namespace {

using shader::RnnStepBwdPush;
using shader::RnnStepFwdPush;
constexpr VkDescriptorType kStorage = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
constexpr VkDescriptorType kTexel = VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER;
// The shaders' rows per invocation (NB).
constexpr uint32_t kRowsPerInvocation = 8;
const KernelLayout kFwd{"rnn_step_fwd",
                        {kStorage, kTexel, kStorage, kTexel, kStorage, kStorage, kStorage,
                         kStorage, kStorage},
                        sizeof(RnnStepFwdPush)};
const KernelLayout kBwd{"rnn_step_bwd",
                        {kTexel, kTexel, kStorage, kStorage, kStorage, kStorage, kStorage,
                         kStorage, kStorage, kStorage, kStorage, kStorage},
                        sizeof(RnnStepBwdPush)};

// Descriptors for a kernel's operands in binding order. An empty operand (rnn's gates) is bound
// to a stand-in range the kernel never touches; the first binding error is kept for the caller.
class Operands {
public:
    Operands(const Device& dev, const BufferRange& standIn) : m_dev(dev) {
        auto b = bindFloats(dev, standIn, "stand-in binding");
        if (b) m_standIn = b->range;
        else m_error = b.error();
    }
    // vec4: a texel binding read as RGBA32F texels (the caller checked the alignment).
    uint32_t add(const BufferRange& r, Access access, const char* what, bool vec4 = false) {
        if (r.empty()) {
            m_bindings.push_back({m_standIn, Access::Unused, m_standIn});
            return 0;
        }
        auto b = bindFloats(m_dev, r, what);
        if (!b) {
            if (m_error.ok()) m_error = b.error();
            return 0;
        }
        m_bindings.push_back({b->range, access, r,
                              vec4 ? VK_FORMAT_R32G32B32A32_SFLOAT : VK_FORMAT_R32_SFLOAT});
        return b->offset;
    }
    const Result<void>& status() const { return m_error; }
    const std::vector<Binding>& bindings() const { return m_bindings; }

private:
    const Device& m_dev;
    BufferRange m_standIn;
    Result<void> m_error;
    std::vector<Binding> m_bindings;
};

// Whether whole RGBA32F texels can be fetched: every row of H (and G*H) floats starts on a
// 16-byte boundary of the views (bindFloats' offsets are in floats from an aligned start).
bool vecRows(const Device& dev, uint32_t hidden, std::initializer_list<BufferRange> ranges) {
    if (hidden % 4 != 0) return false;
    for (const auto& r : ranges) {
        if (!r.empty() && r.offset % dev.bindingAlignment() % 16 != 0) return false;
    }
    return true;
}

}  // namespace

Result<void> recordRnnStepFwd(Recorder& rec, const RnnStep& s, const RnnStepFwdTensors& x,
                              const std::string& label) {
    const Device& dev = rec.device();
    const uint32_t nh = s.batch * s.hidden;
    if (x.hsNext.floats() < nh) return fail("'" + label + "' needs a state row.");
    const bool first = s.tPrev < 0;
    RnnStepFwdPush p{};
    p.batch = s.batch;
    p.steps = s.steps;
    p.hidden = s.hidden;
    p.seqWidth = s.seqWidth;
    p.dirOffset = s.dirOffset;
    p.t = s.t;
    p.tPrev = s.tPrev;
    p.relu = s.relu ? 1 : 0;
    p.outMode = x.y.empty() ? 0u : uint32_t(x.output);
    p.hasBias = x.bhh.empty() ? 0u : 1u;
    const BufferRange hsPrev = first ? BufferRange{} : x.hsPrev.floatsAt(0, nh);
    const bool vec = vecRows(dev, s.hidden, {x.whh, hsPrev});
    Operands ops(dev, x.seq);
    p.offPre = ops.add(x.pre, Access::Read, "recurrent input projection");
    p.offWhh = ops.add(first ? BufferRange{} : x.whh, Access::Read, "recurrent weight", vec);
    p.offBhh = ops.add(x.bhh, Access::Read, "recurrent bias");
    p.offHsPrev = ops.add(hsPrev, Access::Read, "previous state", vec);
    p.offHsNext = ops.add(x.hsNext.floatsAt(0, nh), Access::Write, "recurrent state");
    p.offSeq = ops.add(x.seq, Access::Write, "hidden sequence");
    p.offGates = ops.add(x.gates, Access::Write, "gate activations");
    // lstm reads the previous cell state back from the same tensor.
    p.offExtra = ops.add(x.extra, Access::ReadWrite, "cell states");
    p.offY = ops.add(p.outMode ? x.y : BufferRange{}, Access::Write, "recurrent output");
    if (!ops.status()) return ops.status();
    const uint32_t spec[] = {uint32_t(s.cell), vec ? 1u : 0u};
    const uint64_t invocations =
        uint64_t(s.hidden) * ((s.batch + kRowsPerInvocation - 1) / kRowsPerInvocation);
    return rec.dispatch(kFwd, spec, ops.bindings(), &p,
                        {uint32_t((invocations + 63) / 64), 1, 1}, label);
}

Result<void> recordRnnStepBwd(Recorder& rec, const RnnStep& s, const RnnStepBwdTensors& x,
                              const std::string& label) {
    const Device& dev = rec.device();
    const uint32_t nh = s.batch * s.hidden;
    const bool hasNext = !x.dqNext.empty();
    RnnStepBwdPush p{};
    p.batch = s.batch;
    p.steps = s.steps;
    p.hidden = s.hidden;
    p.seqWidth = s.seqWidth;
    p.dirOffset = s.dirOffset;
    p.t = s.t;
    p.tPrev = s.tPrev;
    p.relu = s.relu ? 1 : 0;
    p.dyMode = x.dy.empty() ? uint32_t(RnnGradIn::None) : uint32_t(x.dyMode);
    p.hasNext = hasNext ? 1u : 0u;
    const bool vec = vecRows(dev, s.hidden, {x.whh, x.dqNext});
    const bool gru = s.cell == RnnCell::Gru;
    Operands ops(dev, x.seq);
    p.offWhh = ops.add(hasNext ? x.whh : BufferRange{}, Access::Read, "recurrent weight", vec);
    p.offDqNext = ops.add(x.dqNext, Access::Read, "later hidden projection gradient", vec);
    p.offDhNext = ops.add(gru && hasNext ? x.dhNext.floatsAt(0, nh) : BufferRange{},
                          Access::Read, "later state gradient");
    p.offDhOut = ops.add(gru ? x.dhOut.floatsAt(0, nh) : BufferRange{}, Access::Write,
                         "state gradient");
    const bool noDy = p.dyMode == uint32_t(RnnGradIn::None);
    p.offDy = ops.add(noDy ? BufferRange{} : x.dy, Access::Read, "output gradient");
    p.offSeq = ops.add(x.seq, Access::Read, "hidden sequence");
    p.offGates = ops.add(x.gates, Access::Read, "gate activations");
    p.offExtra = ops.add(x.extra, Access::Read, "cell states");
    p.offDxp = ops.add(x.dxp, Access::Write, "input projection gradient");
    p.offDq = ops.add(x.dq, Access::Write, "hidden projection gradient");
    p.offHPrev = ops.add(x.hPrev, Access::Write, "previous states");
    // The walk's first step only writes the cell gradient.
    p.offDc = ops.add(x.dc, hasNext ? Access::ReadWrite : Access::Write, "cell state gradient");
    if (!ops.status()) return ops.status();
    const uint32_t spec[] = {uint32_t(s.cell), vec ? 1u : 0u};
    const uint64_t invocations = uint64_t((s.hidden + 3) / 4) *
                                 ((s.batch + kRowsPerInvocation - 1) / kRowsPerInvocation);
    return rec.dispatch(kBwd, spec, ops.bindings(), &p,
                        {uint32_t((invocations + 63) / 64), 1, 1}, label);
}

}  // namespace strata::gpu::ops
