#include "gpu/ops/gather.h"

#include "gather_push.h"
#include "gpu/ops/common.h"

namespace strata::gpu::ops {

namespace {

using shader::GatherPush;
constexpr VkDescriptorType kStorage = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
const KernelLayout kGather{"gather_rows", {kStorage, kStorage, kStorage}, sizeof(GatherPush)};

}  // namespace

Result<void> recordGatherRows(Recorder& rec, const BufferRange& source, uint64_t rowFloats,
                              const BufferRange& indices, const BufferRange& dst) {
    const Device& dev = rec.device();
    if (rowFloats == 0 || source.floats() % rowFloats != 0) {
        return fail("gather_rows: the source is not a whole number of rows of " +
                    std::to_string(rowFloats) + " floats.");
    }
    const uint64_t rows = source.floats() / rowFloats, n = indices.floats();
    if (dst.floats() != n * rowFloats) {
        return fail("gather_rows: the destination holds " + std::to_string(dst.floats()) +
                    " floats, not " + std::to_string(n) + " rows of " +
                    std::to_string(rowFloats) + ".");
    }
    if (n == 0) return {};
    if (rows >= (1u << 24)) {
        return fail("gather_rows: " + std::to_string(rows) + " rows are more than float row " +
                    "numbers address exactly (16777216).");
    }
    // Whole rows per part, so that a part bound from the aligned offset below it still fits.
    const uint64_t rowsPerPart =
        (dev.maxBindingBytes() - std::min(dev.maxBindingBytes(), dev.bindingAlignment())) /
        (rowFloats * 4);
    if (rowsPerPart == 0) {
        return fail("gather_rows: one row of " + std::to_string(rowFloats) +
                    " floats is larger than the device binds at once.");
    }
    auto bi = bindFloats(dev, indices, "the batch's row numbers");
    if (!bi) return bi.error();
    auto bd = bindFloats(dev, dst, "the gathered batch");
    if (!bd) return bd.error();
    for (uint64_t begin = 0; begin < rows; begin += rowsPerPart) {
        const uint64_t end = std::min(rows, begin + rowsPerPart);
        const BufferRange part = source.floatsAt(begin * rowFloats, (end - begin) * rowFloats);
        auto bs = bindFloats(dev, part, "the dataset");
        if (!bs) return bs.error();
        GatherPush push{};
        push.n = uint32_t(n * rowFloats);
        push.rowFloats = uint32_t(rowFloats);
        push.offSrc = bs->offset;
        push.offIdx = bi->offset;
        push.offDst = bd->offset;
        push.rowBegin = uint32_t(begin);
        push.rowEnd = uint32_t(end);
        push.zeroOthers = begin == 0 ? 1 : 0;
        push.rows = uint32_t(rows);
        // Each part writes the rows it holds; which those are is known only on the device, so
        // the parts are ordered by the recorder's write-after-write barriers on dst.
        const Binding bindings[] = {{bs->range, Access::Read, part},
                                    {bi->range, Access::Read, indices},
                                    {bd->range, Access::Write, dst}};
        if (auto r = rec.dispatch(kGather, {}, bindings, &push,
                                  {strideGroups(dev, n * rowFloats, 64), 1, 1}, "gather_rows");
            !r) {
            return r;
        }
    }
    return {};
}

}  // namespace strata::gpu::ops
