#include "gpu/ops/recurrent.h"

#include <vector>

#include "gpu/ops/common.h"
#include "rnn_push.h"

namespace strata::gpu::ops {

namespace {

using shader::RnnStepBwdPush;
using shader::RnnStepFwdPush;
constexpr VkDescriptorType kStorage = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
const KernelLayout kFwd{"rnn_step_fwd", std::vector<VkDescriptorType>(7, kStorage),
                        sizeof(RnnStepFwdPush)};
const KernelLayout kBwd{"rnn_step_bwd", std::vector<VkDescriptorType>(9, kStorage),
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
    uint32_t add(const BufferRange& r, Access access, const char* what) {
        if (r.empty()) {
            m_bindings.push_back({m_standIn, Access::Unused, m_standIn});
            return 0;
        }
        auto b = bindFloats(m_dev, r, what);
        if (!b) {
            if (m_error.ok()) m_error = b.error();
            return 0;
        }
        m_bindings.push_back({b->range, access, r});
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

}  // namespace

Result<void> recordRnnStepFwd(Recorder& rec, const RnnStep& s, const RnnStepFwdTensors& x,
                              const std::string& label) {
    const Device& dev = rec.device();
    const uint32_t nh = s.batch * s.hidden;
    if (x.hs.floats() < 2ull * nh) return fail("'" + label + "' needs two state rows.");
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
    Operands ops(dev, x.seq);
    p.offPre = ops.add(x.pre, Access::Read, "recurrent input projection");
    p.offHh = ops.add(x.hh, Access::Read, "recurrent hidden projection");
    const uint32_t offHs =
        ops.add(x.hs.floatsAt(0, 2ull * nh), Access::ReadWrite, "recurrent state");
    p.offSeq = ops.add(x.seq, Access::Write, "hidden sequence");
    p.offGates = ops.add(x.gates, Access::Write, "gate activations");
    // lstm reads the previous cell state back from the same tensor.
    p.offExtra = ops.add(x.extra, Access::ReadWrite, "cell states");
    p.offY = ops.add(p.outMode ? x.y : BufferRange{}, Access::Write, "recurrent output");
    p.offHsPrev = offHs;
    p.offHsNext = offHs + nh;
    if (!ops.status()) return ops.status();
    const uint32_t spec[] = {uint32_t(s.cell)};
    return rec.dispatch(kFwd, spec, ops.bindings(), &p, {strideGroups(dev, nh, 64), 1, 1}, label);
}

Result<void> recordRnnStepBwd(Recorder& rec, const RnnStep& s, const RnnStepBwdTensors& x,
                              const std::string& label) {
    const Device& dev = rec.device();
    const uint32_t nh = s.batch * s.hidden;
    if (x.dh.floats() < 2ull * nh) return fail("'" + label + "' needs two gradient rows.");
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
    Operands ops(dev, x.seq);
    const uint32_t offDh =
        ops.add(x.dh.floatsAt(0, 2ull * nh), Access::ReadWrite, "state gradient");
    const bool noDy = p.dyMode == uint32_t(RnnGradIn::None);
    p.offDy = ops.add(noDy ? BufferRange{} : x.dy, Access::Read, "output gradient");
    p.offSeq = ops.add(x.seq, Access::Read, "hidden sequence");
    p.offGates = ops.add(x.gates, Access::Read, "gate activations");
    p.offExtra = ops.add(x.extra, Access::Read, "cell states");
    p.offDxp = ops.add(x.dxp, Access::Write, "input projection gradient");
    p.offDq = ops.add(x.dq, Access::Write, "hidden projection gradient");
    p.offHPrev = ops.add(x.hPrev, Access::Write, "previous states");
    p.offDc = ops.add(x.dc, Access::ReadWrite, "cell state gradient");
    p.offDhOut = offDh;
    p.offDhIn = offDh + nh;
    if (!ops.status()) return ops.status();
    const uint32_t spec[] = {uint32_t(s.cell)};
    return rec.dispatch(kBwd, spec, ops.bindings(), &p, {strideGroups(dev, nh, 64), 1, 1}, label);
}

}  // namespace strata::gpu::ops
