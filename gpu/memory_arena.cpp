#include "gpu/memory_arena.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "gpu/vk_check.h"

namespace strata::gpu {

std::string byteText(uint64_t bytes) {
    const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = double(bytes);
    int u = 0;
    while (v >= 1024.0 && u < 5) {
        v /= 1024.0;
        ++u;
    }
    char buf[48];
    if (u == 0) {
        std::snprintf(buf, sizeof buf, "%llu bytes", static_cast<unsigned long long>(bytes));
    } else {
        std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
    }
    return buf;
}

namespace {

Error outOfMemory(const Device& device, const std::string& what, uint64_t bytes) {
    return fail(what + " needs " + byteText(bytes) + " of device memory but '" +
                device.info().name + "' cannot provide it (largest device-local heap " +
                byteText(device.info().deviceLocalBytes()) +
                "); try a smaller batch size or a smaller model.");
}

}  // namespace

Result<std::unique_ptr<DeviceBuffer>> DeviceBuffer::create(Device& device, uint64_t bytes,
                                                           bool hostVisible,
                                                           const std::string& what) {
    bytes = std::max<uint64_t>(bytes, 4);
    const DeviceInfo& info = device.info();
    if (bytes > info.deviceLocalBytes() ||
        (info.maxMemoryAllocationSize && bytes > info.maxMemoryAllocationSize)) {
        return outOfMemory(device, what, bytes);
    }
    std::unique_ptr<DeviceBuffer> self(new DeviceBuffer());
    self->m_device = &device;
    self->m_size = bytes;
    VkBufferCreateInfo bi{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
    bi.size = bytes;
    bi.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT |
               VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
    bi.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
    VkResult r = vkCreateBuffer(device.handle(), &bi, nullptr, &self->m_buffer);
    if (r == VK_ERROR_OUT_OF_DEVICE_MEMORY || r == VK_ERROR_OUT_OF_HOST_MEMORY) {
        return outOfMemory(device, what, bytes);
    }
    STRATA_VK_TRY(r, "Creating " + what);
    VkMemoryRequirements req{};
    vkGetBufferMemoryRequirements(device.handle(), self->m_buffer, &req);
    const VkMemoryPropertyFlags wanted =
        hostVisible ? VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT
                    : VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
    // The host reads back what it maps (results, parameter copies, downloads): cached memory
    // where the device offers it, else uncached reads are many times slower.
    auto type = hostVisible ? device.memoryType(req.memoryTypeBits,
                                                wanted | VK_MEMORY_PROPERTY_HOST_CACHED_BIT)
                            : device.memoryType(req.memoryTypeBits, wanted);
    if (!type && hostVisible) type = device.memoryType(req.memoryTypeBits, wanted);
    if (!type) return type.error();
    VkMemoryAllocateInfo ai{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
    ai.allocationSize = req.size;
    ai.memoryTypeIndex = *type;
    r = vkAllocateMemory(device.handle(), &ai, nullptr, &self->m_memory);
    if (r == VK_ERROR_OUT_OF_DEVICE_MEMORY || r == VK_ERROR_OUT_OF_HOST_MEMORY) {
        return outOfMemory(device, what, bytes);
    }
    STRATA_VK_TRY(r, "Allocating memory for " + what);
    STRATA_VK_TRY(vkBindBufferMemory(device.handle(), self->m_buffer, self->m_memory, 0),
                  "Binding memory to " + what);
    if (hostVisible) {
        STRATA_VK_TRY(vkMapMemory(device.handle(), self->m_memory, 0, VK_WHOLE_SIZE, 0,
                                  &self->m_mapped),
                      "Mapping " + what);
    }
    return self;
}

DeviceBuffer::~DeviceBuffer() {
    if (!m_device) return;
    VkDevice d = m_device->handle();
    if (m_buffer) vkDestroyBuffer(d, m_buffer, nullptr);
    if (m_memory) vkFreeMemory(d, m_memory, nullptr);  // unmaps implicitly
}

Result<std::unique_ptr<MemoryArena>> MemoryArena::create(Device& device, std::string name,
                                                         uint64_t capacityBytes) {
    std::unique_ptr<MemoryArena> self(new MemoryArena());
    self->m_device = &device;
    self->m_name = std::move(name);
    auto buffer = DeviceBuffer::create(device, capacityBytes, false,
                                       "The " + self->m_name + " arena");
    if (!buffer) return buffer.error();
    self->m_buffer = std::move(buffer.value());
    return self;
}

Result<BufferRange> MemoryArena::allocate(uint64_t bytes, const std::string& what) {
    const uint64_t align = m_device->bindingAlignment();
    const uint64_t start = (m_used + align - 1) / align * align;
    if (start + bytes > capacity()) {
        return fail(what + " needs " + byteText(bytes) + " but the " + m_name + " arena has " +
                    byteText(capacity() - std::min(start, capacity())) + " of " +
                    byteText(capacity()) + " left; try a smaller batch size.");
    }
    m_used = start + bytes;
    return BufferRange{m_buffer->handle(), start, bytes};
}

Result<std::unique_ptr<StagingRing>> StagingRing::create(Device& device, uint64_t bytes) {
    std::unique_ptr<StagingRing> self(new StagingRing());
    self->m_device = &device;
    auto buffer = DeviceBuffer::create(device, bytes, true, "The staging buffer");
    if (!buffer) return buffer.error();
    self->m_buffer = std::move(buffer.value());
    return self;
}

Result<void> StagingRing::upload(const BufferRange& dst, const void* data, uint64_t bytes) {
    if (bytes > dst.size) return fail("Upload of " + byteText(bytes) + " overruns its buffer.");
    const auto* src = static_cast<const uint8_t*>(data);
    for (uint64_t done = 0; done < bytes;) {
        const uint64_t chunk = std::min(bytes - done, m_buffer->size());
        std::memcpy(m_buffer->mapped(), src + done, chunk);
        STRATA_TRY(m_device->runOnce([&](VkCommandBuffer cmd) {
            VkBufferCopy copy{0, dst.offset + done, chunk};
            vkCmdCopyBuffer(cmd, m_buffer->handle(), dst.buffer, 1, &copy);
            // Later submissions' kernels and copies read what this copy wrote.
            VkMemoryBarrier barrier{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
            barrier.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
            barrier.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                                    VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
            vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT,
                                 VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT |
                                     VK_PIPELINE_STAGE_TRANSFER_BIT,
                                 0, 1, &barrier, 0, nullptr, 0, nullptr);
        }));
        done += chunk;
    }
    return {};
}

Result<void> StagingRing::download(const BufferRange& src, void* data, uint64_t bytes) {
    if (bytes > src.size) return fail("Download of " + byteText(bytes) + " overruns its buffer.");
    auto* dst = static_cast<uint8_t*>(data);
    for (uint64_t done = 0; done < bytes;) {
        const uint64_t chunk = std::min(bytes - done, m_buffer->size());
        STRATA_TRY(m_device->runOnce([&](VkCommandBuffer cmd) {
            // Kernels of earlier submissions wrote what this copy reads.
            VkMemoryBarrier before{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
            before.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
            before.dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT;
            vkCmdPipelineBarrier(cmd,
                                 VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT |
                                     VK_PIPELINE_STAGE_TRANSFER_BIT,
                                 VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &before, 0, nullptr, 0,
                                 nullptr);
            VkBufferCopy copy{src.offset + done, 0, chunk};
            vkCmdCopyBuffer(cmd, src.buffer, m_buffer->handle(), 1, &copy);
            // The host reads the staging buffer after the fence.
            VkMemoryBarrier after{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
            after.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
            after.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
            vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0,
                                 1, &after, 0, nullptr, 0, nullptr);
        }));
        std::memcpy(dst + done, m_buffer->mapped(), chunk);
        done += chunk;
    }
    return {};
}

}  // namespace strata::gpu
