#include "gpu/ops/recurrent.h"

#include <algorithm>
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
        auto b = bindFloats(dev, standIn, "unused operand");
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

// A step touches, in each batch-major sequence tensor (N, T, W), only the rows of its time
// index t (and of t_prev, next to it), and in each per-step tensor (N, W) its batch rows. So a
// step binds just those windows: batch rows [n0, n0 + nb) of times [t0, t1], which lets
// sequences far larger than one binding run, in blocks of batch rows when even the windows of
// all N rows do not fit. The kernels index the windows with t and t_prev relative to t0.
struct Window {
    uint32_t steps = 0;   // T
    uint32_t t0 = 0, t1 = 0;
    uint32_t n0 = 0, nb = 0;

    // Rows n*T + t of a batch-major (N, T, width) tensor.
    BufferRange seq(const BufferRange& r, uint64_t width) const {
        if (r.empty()) return {};
        return r.floatsAt((uint64_t(n0) * steps + t0) * width,
                          (uint64_t(nb - 1) * steps + (t1 - t0) + 1) * width);
    }
    // Rows n*T + t of a batch-major (N, T, width) tensor at one time t (any t of the sequence).
    BufferRange at(const BufferRange& r, uint64_t width, uint32_t t) const {
        if (r.empty()) return {};
        return r.floatsAt((uint64_t(n0) * steps + t) * width,
                          (uint64_t(nb - 1) * steps + 1) * width);
    }
    // Rows n of an (N, width) tensor.
    BufferRange rows(const BufferRange& r, uint64_t width) const {
        if (r.empty()) return {};
        return r.floatsAt(uint64_t(n0) * width, uint64_t(nb) * width);
    }
};

// Floats that bind in one descriptor wherever they start.
uint64_t bindableFloats(const Device& dev) {
    const uint64_t slack = dev.bindingAlignment() - 4;
    return dev.maxBindingBytes() > slack ? (dev.maxBindingBytes() - slack) / 4 : 0;
}

// Batch rows per dispatch of one step: all N when every window fits one binding (one dispatch
// per step, as lavapipe wants), else as few blocks of batch rows as fit.
// seqWidths: row lengths of the sequence tensors the step binds; rowWidths: of the per-step
// tensors; whole: tensors bound whole (W_hh, b_hh).
Result<uint32_t> rowsPerDispatch(const Device& dev, const RnnStep& s, uint32_t t0, uint32_t t1,
                                 std::initializer_list<uint64_t> seqWidths,
                                 std::initializer_list<uint64_t> rowWidths,
                                 std::initializer_list<std::pair<BufferRange, const char*>> whole,
                                 const std::string& label) {
    const uint64_t limit = bindableFloats(dev);
    for (const auto& [r, what] : whole) {
        if (!r.empty() && r.offset % dev.bindingAlignment() + r.size > dev.maxBindingBytes()) {
            return fail("'" + label + "': the " + what + " (" + std::to_string(r.floats()) +
                        " floats, " + byteText(r.size) +
                        ") is more than the device binds at once (" +
                        byteText(dev.maxBindingBytes()) + "); a smaller hidden_size fits.");
        }
    }
    uint64_t nb = s.batch;
    const uint64_t times = t1 - t0 + 1;
    for (uint64_t w : seqWidths) {
        if (w == 0) continue;
        // (nb - 1) * T + times rows of w floats.
        const uint64_t fit = times * w > limit ? 0 : (limit - times * w) / (s.steps * w) + 1;
        nb = std::min(nb, fit);
    }
    for (uint64_t w : rowWidths) {
        if (w != 0) nb = std::min(nb, limit / w);
    }
    if (nb == 0) {
        const uint64_t widest = std::max(std::max(seqWidths) * times, std::max(rowWidths));
        return fail("'" + label + "': one batch row of a time step spans " +
                    byteText(widest * 4) + ", more than the device binds at once (" +
                    byteText(dev.maxBindingBytes()) + "); a smaller hidden_size fits.");
    }
    // As few blocks as fit, of even sizes.
    const uint64_t blocks = (s.batch + nb - 1) / nb;
    return uint32_t((s.batch + blocks - 1) / blocks);
}

}  // namespace

Result<void> recordRnnStepFwd(Recorder& rec, const RnnStep& s, const RnnStepFwdTensors& x,
                              const std::string& label) {
    const Device& dev = rec.device();
    const uint32_t H = s.hidden, GH = gateCount(s.cell) * H;
    if (x.hsNext.floats() < uint64_t(s.batch) * H) {
        return fail("'" + label + "' needs a state row.");
    }
    const bool first = s.tPrev < 0;
    const uint32_t t0 = first ? s.t : std::min<uint32_t>(s.t, uint32_t(s.tPrev));
    const uint32_t t1 = first ? s.t : std::max<uint32_t>(s.t, uint32_t(s.tPrev));
    const uint32_t outMode = x.y.empty() ? 0u : uint32_t(x.output);
    const bool seqOut = outMode == uint32_t(RnnOutput::Sequence);
    const bool lastOut = outMode == uint32_t(RnnOutput::Last);
    const BufferRange whh = first ? BufferRange{} : x.whh;
    auto perDispatch = rowsPerDispatch(
        dev, s, t0, t1,
        {GH, s.seqWidth, x.gates.empty() ? 0 : GH, x.extra.empty() ? 0 : H,
         seqOut ? s.seqWidth : 0},
        {first ? 0 : H, H, lastOut ? s.seqWidth : 0},
        {{whh, "recurrent weight W_hh"}, {x.bhh, "recurrent bias b_hh"}}, label);
    if (!perDispatch) return perDispatch.error();
    for (uint32_t n0 = 0; n0 < s.batch; n0 += *perDispatch) {
        const Window w{s.steps, t0, t1, n0, std::min(*perDispatch, s.batch - n0)};
        RnnStepFwdPush p{};
        p.batch = w.nb;
        p.steps = s.steps;
        p.hidden = H;
        p.seqWidth = s.seqWidth;
        p.dirOffset = s.dirOffset;
        p.t = s.t - t0;
        p.tPrev = first ? -1 : s.tPrev - int32_t(t0);
        p.relu = s.relu ? 1 : 0;
        p.outMode = outMode;
        p.hasBias = x.bhh.empty() ? 0u : 1u;
        const BufferRange hsPrev = first ? BufferRange{} : w.rows(x.hsPrev, H);
        const BufferRange seq = w.seq(x.seq, s.seqWidth);
        const bool vec = vecRows(dev, H, {whh, hsPrev});
        Operands ops(dev, seq);
        p.offPre = ops.add(w.seq(x.pre, GH), Access::Read, "recurrent input projection");
        p.offWhh = ops.add(whh, Access::Read, "recurrent weight", vec);
        p.offBhh = ops.add(x.bhh, Access::Read, "recurrent bias");
        p.offHsPrev = ops.add(hsPrev, Access::Read, "previous state", vec);
        p.offHsNext = ops.add(w.rows(x.hsNext, H), Access::Write, "recurrent state");
        p.offSeq = ops.add(seq, Access::Write, "hidden sequence");
        p.offGates = ops.add(w.seq(x.gates, GH), Access::Write, "gate activations");
        // lstm reads the previous cell state back from the same tensor.
        p.offExtra = ops.add(w.seq(x.extra, H), Access::ReadWrite, "cell states");
        p.offY = ops.add(seqOut ? w.seq(x.y, s.seqWidth)
                                : lastOut ? w.rows(x.y, s.seqWidth) : BufferRange{},
                         Access::Write, "recurrent output");
        if (!ops.status()) return ops.status();
        const uint32_t spec[] = {uint32_t(s.cell), vec ? 1u : 0u};
        const uint64_t invocations =
            uint64_t(H) * ((w.nb + kRowsPerInvocation - 1) / kRowsPerInvocation);
        if (auto r = rec.dispatch(kFwd, spec, ops.bindings(), &p,
                                  {uint32_t((invocations + 63) / 64), 1, 1}, label);
            !r) {
            return r;
        }
    }
    return {};
}

Result<void> recordRnnStepBwd(Recorder& rec, const RnnStep& s, const RnnStepBwdTensors& x,
                              const std::string& label) {
    const Device& dev = rec.device();
    const uint32_t H = s.hidden, GH = gateCount(s.cell) * H;
    const bool hasNext = s.tNext >= 0;
    const bool gru = s.cell == RnnCell::Gru;
    if (gru && hasNext && x.dqNext.empty()) {
        return fail("'" + label + "' needs the later step's gradient.");
    }
    const bool first = s.tPrev < 0;
    const uint32_t t0 = first ? s.t : std::min<uint32_t>(s.t, uint32_t(s.tPrev));
    const uint32_t t1 = first ? s.t : std::max<uint32_t>(s.t, uint32_t(s.tPrev));
    const uint32_t dyMode = x.dy.empty() ? uint32_t(RnnGradIn::None) : uint32_t(x.dyMode);
    const bool seqDy = dyMode == uint32_t(RnnGradIn::Sequence);
    const bool lastDy = dyMode == uint32_t(RnnGradIn::Last);
    const BufferRange whh = hasNext ? x.whh : BufferRange{};
    const BufferRange dhNext = gru && hasNext ? x.dhNext : BufferRange{};
    const BufferRange dhOut = gru ? x.dhOut : BufferRange{};
    // rnn/lstm read dqNext as a window of dxp at tNext, no wider than dxp's own window.
    auto perDispatch = rowsPerDispatch(
        dev, s, t0, t1,
        {seqDy ? s.seqWidth : 0, s.seqWidth, x.gates.empty() ? 0 : GH,
         x.extra.empty() ? 0 : H, GH, gru ? 0 : H},
        {gru && hasNext ? GH : 0, dhNext.empty() ? 0 : H, dhOut.empty() ? 0 : H,
         lastDy ? s.seqWidth : 0, gru ? GH : 0, gru ? H : 0, x.dc.empty() ? 0 : H},
        {{whh, "recurrent weight W_hh"}}, label);
    if (!perDispatch) return perDispatch.error();
    for (uint32_t n0 = 0; n0 < s.batch; n0 += *perDispatch) {
        const Window w{s.steps, t0, t1, n0, std::min(*perDispatch, s.batch - n0)};
        RnnStepBwdPush p{};
        p.batch = w.nb;
        p.steps = s.steps;
        p.hidden = H;
        p.seqWidth = s.seqWidth;
        p.dirOffset = s.dirOffset;
        p.t = s.t - t0;
        p.tPrev = first ? -1 : s.tPrev - int32_t(t0);
        p.relu = s.relu ? 1 : 0;
        p.dyMode = dyMode;
        p.hasNext = hasNext ? 1u : 0u;
        p.dqInDxp = gru ? 0u : 1u;
        p.dqStride = gru ? GH : s.steps * GH;
        const BufferRange dqNext = !hasNext ? BufferRange{}
                                   : gru    ? w.rows(x.dqNext, GH)
                                            : w.at(x.dxp, GH, uint32_t(s.tNext));
        const BufferRange seq = w.seq(x.seq, s.seqWidth);
        const bool vec = vecRows(dev, H, {whh, dqNext});
        Operands ops(dev, seq);
        p.offWhh = ops.add(whh, Access::Read, "recurrent weight", vec);
        p.offDqNext = ops.add(dqNext, Access::Read, "later hidden projection gradient", vec);
        p.offDhNext = ops.add(w.rows(dhNext, H), Access::Read, "later state gradient");
        p.offDhOut = ops.add(w.rows(dhOut, H), Access::Write, "state gradient");
        p.offDy = ops.add(seqDy   ? w.seq(x.dy, s.seqWidth)
                          : lastDy ? w.rows(x.dy, s.seqWidth)
                                   : BufferRange{},
                          Access::Read, "output gradient");
        p.offSeq = ops.add(seq, Access::Read, "hidden sequence");
        p.offGates = ops.add(w.seq(x.gates, GH), Access::Read, "gate activations");
        p.offExtra = ops.add(w.seq(x.extra, H), Access::Read, "cell states");
        p.offDxp = ops.add(w.seq(x.dxp, GH), Access::Write, "input projection gradient");
        p.offDq = ops.add(gru ? w.rows(x.dq, GH) : BufferRange{}, Access::Write,
                          "hidden projection gradient");
        p.offHPrev = ops.add(gru ? w.rows(x.hPrev, H) : w.seq(x.hPrev, H), Access::Write,
                             "previous states");
        // The walk's first step only writes the cell gradient.
        p.offDc = ops.add(w.rows(x.dc, H), hasNext ? Access::ReadWrite : Access::Write,
                          "cell state gradient");
        if (!ops.status()) return ops.status();
        const uint32_t spec[] = {uint32_t(s.cell), vec ? 1u : 0u};
        const uint64_t invocations =
            uint64_t((H + 3) / 4) * ((w.nb + kRowsPerInvocation - 1) / kRowsPerInvocation);
        if (auto r = rec.dispatch(kBwd, spec, ops.bindings(), &p,
                                  {uint32_t((invocations + 63) / 64), 1, 1}, label);
            !r) {
            return r;
        }
    }
    return {};
}

}  // namespace strata::gpu::ops
