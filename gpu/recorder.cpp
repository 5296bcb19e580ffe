#include "gpu/recorder.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "gpu/vk_check.h"

namespace strata::gpu {

namespace {
constexpr uint32_t kQueriesPerPool = 256;
}

Result<std::unique_ptr<Recorder>> Recorder::create(Device& device, PipelineCache& pipelines) {
    std::unique_ptr<Recorder> self(new Recorder());
    self->m_device = &device;
    self->m_pipelines = &pipelines;
    VkCommandBufferAllocateInfo alloc{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
    alloc.commandPool = device.commandPool();
    alloc.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    alloc.commandBufferCount = 1;
    STRATA_VK_TRY(vkAllocateCommandBuffers(device.handle(), &alloc, &self->m_cmd),
                  "Allocating a command buffer");
    VkFenceCreateInfo fi{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    STRATA_VK_TRY(vkCreateFence(device.handle(), &fi, nullptr, &self->m_fence),
                  "Creating a fence");
    STRATA_TRY(self->begin());
    return self;
}

Recorder::~Recorder() {
    if (!m_device) return;
    VkDevice d = m_device->handle();
    if (m_inFlight) vkWaitForFences(d, 1, &m_fence, VK_TRUE, UINT64_MAX);
    for (VkBufferView v : m_views) vkDestroyBufferView(d, v, nullptr);
    for (VkDescriptorPool p : m_pools) vkDestroyDescriptorPool(d, p, nullptr);
    for (VkQueryPool q : m_queryPools) vkDestroyQueryPool(d, q, nullptr);
    if (m_fence) vkDestroyFence(d, m_fence, nullptr);
    if (m_cmd) vkFreeCommandBuffers(d, m_device->commandPool(), 1, &m_cmd);
}

Result<void> Recorder::begin() {
    VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    STRATA_VK_TRY(vkBeginCommandBuffer(m_cmd, &bi), "Beginning a command buffer");
    return {};
}

std::string Recorder::rangeText(const BufferRange& r) {
    auto it = std::find(m_bufferIds.begin(), m_bufferIds.end(), r.buffer);
    size_t id = size_t(it - m_bufferIds.begin());
    if (it == m_bufferIds.end()) m_bufferIds.push_back(r.buffer);
    char buf[96];
    std::snprintf(buf, sizeof buf, "bytes [%" PRIu64 ", %" PRIu64 ") of buffer #%zu", r.offset,
                  r.offset + r.size, id);
    return buf;
}

void Recorder::trackHazards(std::span<const Touch> touches, VkPipelineStageFlags stage,
                            const std::string& label) {
    std::string reason;
    std::vector<VkBufferMemoryBarrier> memory;
    std::vector<bool> flushed(m_pendingWrites.size(), false);
    bool executionOnly = false;
    auto note = [&](const std::string& text) {
        reason += reason.empty() ? text : "; " + text;
    };
    for (const Touch& t : touches) {
        for (size_t w = 0; w < m_pendingWrites.size(); ++w) {
            const Use& prior = m_pendingWrites[w];
            if (!prior.range.overlaps(t.range)) continue;
            note("'" + label + "' " + (t.reads ? "reads " : "writes ") + rangeText(t.range) +
                 " that '" + prior.label + "' wrote (" +
                 (t.reads ? "read-after-write" : "write-after-write") + ")");
            if (!flushed[w]) {
                flushed[w] = true;
                VkBufferMemoryBarrier b{VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER};
                b.srcAccessMask = prior.stage == VK_PIPELINE_STAGE_TRANSFER_BIT
                                      ? VK_ACCESS_TRANSFER_WRITE_BIT
                                      : VK_ACCESS_SHADER_WRITE_BIT;
                b.dstAccessMask = stage == VK_PIPELINE_STAGE_TRANSFER_BIT
                                      ? VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT
                                      : VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT;
                b.srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
                b.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
                b.buffer = prior.range.buffer;
                b.offset = prior.range.offset;
                b.size = prior.range.size;
                memory.push_back(b);
            }
        }
        if (!t.writes) continue;
        for (const Use& prior : m_pendingReads) {
            if (!prior.range.overlaps(t.range)) continue;
            note("'" + label + "' writes " + rangeText(t.range) + " that '" + prior.label +
                 "' reads (write-after-read)");
            executionOnly = true;
        }
    }
    if (memory.empty() && !executionOnly) return;

    // The barrier waits for every earlier command (all pending stages), so pending reads are
    // settled; writes it did not flush stay pending until someone touches them.
    VkPipelineStageFlags src = 0;
    for (const Use& u : m_pendingWrites) src |= u.stage;
    for (const Use& u : m_pendingReads) src |= u.stage;
    vkCmdPipelineBarrier(m_cmd, src ? src : VkPipelineStageFlags(VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT), stage, 0, 0,
                         nullptr, uint32_t(memory.size()), memory.data(), 0, nullptr);
    m_barriers.push_back({m_commandCount, reason});
    m_pendingReads.clear();
    std::vector<Use> still;
    for (size_t w = 0; w < m_pendingWrites.size(); ++w) {
        if (!flushed[w]) still.push_back(m_pendingWrites[w]);
    }
    m_pendingWrites = std::move(still);
}

Result<VkDescriptorSet> Recorder::allocateSet(VkDescriptorSetLayout layout) {
    VkDescriptorSet set = VK_NULL_HANDLE;
    if (!m_pools.empty()) {
        VkDescriptorSetAllocateInfo ai{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO};
        ai.descriptorPool = m_pools.back();
        ai.descriptorSetCount = 1;
        ai.pSetLayouts = &layout;
        VkResult r = vkAllocateDescriptorSets(m_device->handle(), &ai, &set);
        if (r == VK_SUCCESS) return set;
        if (r != VK_ERROR_OUT_OF_POOL_MEMORY && r != VK_ERROR_FRAGMENTED_POOL) {
            return vkFailure("Allocating a descriptor set", r);
        }
    }
    // A fresh pool; sets live as long as the recording, so pools are never reset piecemeal.
    const VkDescriptorPoolSize sizes[] = {{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 2048},
                                          {VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER, 512}};
    VkDescriptorPoolCreateInfo pi{VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO};
    pi.maxSets = 512;
    pi.poolSizeCount = 2;
    pi.pPoolSizes = sizes;
    VkDescriptorPool pool = VK_NULL_HANDLE;
    STRATA_VK_TRY(vkCreateDescriptorPool(m_device->handle(), &pi, nullptr, &pool),
                  "Creating a descriptor pool");
    m_pools.push_back(pool);
    VkDescriptorSetAllocateInfo ai{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO};
    ai.descriptorPool = pool;
    ai.descriptorSetCount = 1;
    ai.pSetLayouts = &layout;
    STRATA_VK_TRY(vkAllocateDescriptorSets(m_device->handle(), &ai, &set),
                  "Allocating a descriptor set");
    return set;
}

Result<void> Recorder::dispatch(const KernelLayout& kernel, std::span<const uint32_t> spec,
                                std::span<const Binding> bindings, const void* push,
                                std::array<uint32_t, 3> groups, const std::string& label) {
    if (m_finished) return fail("Cannot record '" + label + "' after the recording finished.");
    if (bindings.size() != kernel.bindings.size()) {
        return fail("'" + label + "' passes " + std::to_string(bindings.size()) +
                    " bindings to " + kernel.shader + ", which takes " +
                    std::to_string(kernel.bindings.size()) + ".");
    }
    const DeviceInfo& info = m_device->info();
    for (int i = 0; i < 3; ++i) {
        if (groups[size_t(i)] == 0) return {};  // nothing to do (an empty tensor)
        if (groups[size_t(i)] > info.maxWorkGroupCount[size_t(i)]) {
            return fail("'" + label + "' needs " + std::to_string(groups[size_t(i)]) +
                        " workgroups along axis " + std::to_string(i) + " but the device allows " +
                        std::to_string(info.maxWorkGroupCount[size_t(i)]) + ".");
        }
    }
    auto pipeline = m_pipelines->get(kernel, spec);
    if (!pipeline) return pipeline.error();
    auto set = allocateSet((*pipeline)->setLayout);
    if (!set) return set.error();

    std::vector<VkDescriptorBufferInfo> bufferInfos(bindings.size());
    std::vector<VkBufferView> views(bindings.size(), VK_NULL_HANDLE);
    std::vector<VkWriteDescriptorSet> writes;
    std::vector<Touch> touches;
    for (size_t i = 0; i < bindings.size(); ++i) {
        const Binding& b = bindings[i];
        const VkDescriptorType type = kernel.bindings[i];
        const bool texel = type == VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER;
        const uint64_t align = texel ? info.minTexelBufferOffsetAlignment
                                     : info.minStorageBufferOffsetAlignment;
        if (b.range.buffer == VK_NULL_HANDLE || b.range.size == 0) {
            return fail("'" + label + "' binds nothing at binding " + std::to_string(i) + ".");
        }
        if (b.range.offset % align != 0 || b.range.size > m_device->maxBindingBytes()) {
            return fail("'" + label + "' binding " + std::to_string(i) + " (" +
                        std::to_string(b.range.size) + " bytes at offset " +
                        std::to_string(b.range.offset) + ") breaks the device's alignment " +
                        std::to_string(align) + " or binding limit " +
                        std::to_string(m_device->maxBindingBytes()) + ".");
        }
        VkWriteDescriptorSet w{VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET};
        w.dstSet = *set;
        w.dstBinding = uint32_t(i);
        w.descriptorCount = 1;
        w.descriptorType = type;
        if (texel) {
            VkBufferViewCreateInfo vi{VK_STRUCTURE_TYPE_BUFFER_VIEW_CREATE_INFO};
            vi.buffer = b.range.buffer;
            const uint64_t texelBytes =
                b.texelFormat == VK_FORMAT_R32G32B32A32_SFLOAT ? 16 : 4;
            vi.format = b.texelFormat;
            vi.offset = b.range.offset;
            vi.range = b.range.size / texelBytes * texelBytes;
            STRATA_VK_TRY(vkCreateBufferView(m_device->handle(), &vi, nullptr, &views[i]),
                          "Creating a texel view for '" + label + "'");
            m_views.push_back(views[i]);
            w.pTexelBufferView = &views[i];
        } else {
            bufferInfos[i] = {b.range.buffer, b.range.offset, b.range.size};
            w.pBufferInfo = &bufferInfos[i];
        }
        writes.push_back(w);
        if (b.access != Access::Unused) {
            touches.push_back({b.touched.empty() ? b.range : b.touched,
                               b.access != Access::Write, b.access != Access::Read});
        }
    }
    vkUpdateDescriptorSets(m_device->handle(), uint32_t(writes.size()), writes.data(), 0, nullptr);

    trackHazards(touches, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, label);
    vkCmdBindPipeline(m_cmd, VK_PIPELINE_BIND_POINT_COMPUTE, (*pipeline)->pipeline);
    vkCmdBindDescriptorSets(m_cmd, VK_PIPELINE_BIND_POINT_COMPUTE, (*pipeline)->layout, 0, 1,
                            &set.value(), 0, nullptr);
    if (kernel.pushBytes) {
        vkCmdPushConstants(m_cmd, (*pipeline)->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0,
                           kernel.pushBytes, push);
    }
    vkCmdDispatch(m_cmd, groups[0], groups[1], groups[2]);
    for (const Touch& t : touches) {
        const Use u{t.range, label, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT};
        if (t.writes) m_pendingWrites.push_back(u);
        if (t.reads) m_pendingReads.push_back(u);
    }
    ++m_commandCount;
    return {};
}

Result<void> Recorder::fill(const BufferRange& range, uint32_t value, const std::string& label) {
    if (m_finished) return fail("Cannot record '" + label + "' after the recording finished.");
    if (range.offset % 4 || range.size % 4) {
        return fail("'" + label + "' fills a range that is not whole 4-byte words.");
    }
    const Touch t{range, false, true};
    trackHazards({&t, 1}, VK_PIPELINE_STAGE_TRANSFER_BIT, label);
    vkCmdFillBuffer(m_cmd, range.buffer, range.offset, range.size, value);
    m_pendingWrites.push_back({range, label, VK_PIPELINE_STAGE_TRANSFER_BIT});
    ++m_commandCount;
    return {};
}

Result<void> Recorder::copy(const BufferRange& src, const BufferRange& dst,
                            const std::string& label) {
    if (m_finished) return fail("Cannot record '" + label + "' after the recording finished.");
    if (src.size != dst.size || src.size % 4 || src.offset % 4 || dst.offset % 4) {
        return fail("'" + label + "' copies " + std::to_string(src.size) + " bytes into " +
                    std::to_string(dst.size) + ": sizes must match, in whole 4-byte words.");
    }
    const Touch t[2] = {{src, true, false}, {dst, false, true}};
    trackHazards(t, VK_PIPELINE_STAGE_TRANSFER_BIT, label);
    const VkBufferCopy region{src.offset, dst.offset, src.size};
    vkCmdCopyBuffer(m_cmd, src.buffer, dst.buffer, 1, &region);
    m_pendingReads.push_back({src, label, VK_PIPELINE_STAGE_TRANSFER_BIT});
    m_pendingWrites.push_back({dst, label, VK_PIPELINE_STAGE_TRANSFER_BIT});
    ++m_commandCount;
    return {};
}

Result<void> Recorder::timestamp(const std::string& label) {
    if (m_finished) return fail("Cannot record '" + label + "' after the recording finished.");
    if (m_timestampBits == 0) {
        uint32_t count = 0;
        vkGetPhysicalDeviceQueueFamilyProperties(m_device->physical(), &count, nullptr);
        std::vector<VkQueueFamilyProperties> families(count);
        vkGetPhysicalDeviceQueueFamilyProperties(m_device->physical(), &count, families.data());
        if (m_device->queueFamily() < count) {
            m_timestampBits = families[m_device->queueFamily()].timestampValidBits;
        }
        if (m_timestampBits == 0 || m_device->info().timestampPeriod <= 0) {
            return fail("'" + m_device->info().name + "' cannot time its work (its compute "
                        "queue writes no timestamps)");
        }
    }
    const uint32_t slot = uint32_t(m_timestampLabels.size() % kQueriesPerPool);
    if (slot == 0) {
        VkQueryPoolCreateInfo qi{VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO};
        qi.queryType = VK_QUERY_TYPE_TIMESTAMP;
        qi.queryCount = kQueriesPerPool;
        VkQueryPool pool = VK_NULL_HANDLE;
        STRATA_VK_TRY(vkCreateQueryPool(m_device->handle(), &qi, nullptr, &pool),
                      "Creating a timestamp query pool");
        m_queryPools.push_back(pool);
        // Recorded, so every replay starts from reset queries.
        vkCmdResetQueryPool(m_cmd, pool, 0, kQueriesPerPool);
    }
    vkCmdWriteTimestamp(m_cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, m_queryPools.back(), slot);
    m_timestampLabels.push_back(label);
    return {};
}

Result<std::vector<Recorder::Timestamp>> Recorder::readTimestamps() {
    STRATA_TRY(wait());
    std::vector<Timestamp> out;
    const double period = double(m_device->info().timestampPeriod) * 1e-9;  // s per tick
    const uint64_t mask = m_timestampBits >= 64 ? ~uint64_t(0)
                                                : (uint64_t(1) << m_timestampBits) - 1;
    for (size_t p = 0; p < m_queryPools.size(); ++p) {
        const size_t first = p * kQueriesPerPool;
        const uint32_t n = uint32_t(std::min<size_t>(kQueriesPerPool,
                                                     m_timestampLabels.size() - first));
        std::vector<uint64_t> ticks(n);
        STRATA_VK_TRY(vkGetQueryPoolResults(m_device->handle(), m_queryPools[p], 0, n,
                                            n * sizeof(uint64_t), ticks.data(), sizeof(uint64_t),
                                            VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT),
                      "Reading timestamps");
        for (uint32_t i = 0; i < n; ++i) {
            out.push_back({m_timestampLabels[first + i], double(ticks[i] & mask) * period});
        }
    }
    return out;
}

Result<void> Recorder::finish() {
    if (m_finished) return {};
    if (m_commandCount > 0) {
        // The next submission (a replay of this one, a download, another recording) may read
        // anything written here or overwrite anything read here.
        VkMemoryBarrier b{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
        b.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
        b.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                          VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT |
                          VK_ACCESS_HOST_READ_BIT;
        vkCmdPipelineBarrier(m_cmd,
                             VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                             VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT |
                                 VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_HOST_BIT,
                             0, 1, &b, 0, nullptr, 0, nullptr);
        m_barriers.push_back({m_commandCount,
                              "end of recording: writes become visible to the next submission, "
                              "transfers and the host"});
    }
    STRATA_VK_TRY(vkEndCommandBuffer(m_cmd), "Ending a command buffer");
    m_finished = true;
    m_pendingReads.clear();
    m_pendingWrites.clear();
    return {};
}

Result<void> Recorder::submit() {
    STRATA_TRY(finish());
    if (m_inFlight) STRATA_TRY(wait());
    STRATA_VK_TRY(vkResetFences(m_device->handle(), 1, &m_fence), "Resetting a fence");
    VkSubmitInfo si{VK_STRUCTURE_TYPE_SUBMIT_INFO};
    si.commandBufferCount = 1;
    si.pCommandBuffers = &m_cmd;
    {
        std::lock_guard lock(m_device->queueMutex());
        STRATA_VK_TRY(vkQueueSubmit(m_device->queue(), 1, &si, m_fence),
                      "Submitting work to '" + m_device->info().name + "'");
    }
    m_inFlight = true;
    return {};
}

Result<void> Recorder::wait() {
    if (!m_inFlight) return {};
    m_inFlight = false;
    STRATA_VK_TRY(vkWaitForFences(m_device->handle(), 1, &m_fence, VK_TRUE, UINT64_MAX),
                  "Waiting for '" + m_device->info().name + "'");
    return {};
}

Result<bool> Recorder::poll() {
    if (!m_inFlight) return true;
    const VkResult r = vkGetFenceStatus(m_device->handle(), m_fence);
    if (r == VK_NOT_READY) return false;
    STRATA_VK_TRY(r, "Asking '" + m_device->info().name + "' whether its work has finished");
    m_inFlight = false;
    return true;
}

}  // namespace strata::gpu
