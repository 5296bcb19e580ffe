#pragma once
// Device memory: one device-local buffer per arena (parameters, gradients, optimizer state,
// activations) suballocated by offset, so a whole arena can be zeroed or updated by one dispatch;
// and a host-visible staging ring that carries uploads and downloads in bounded chunks.
#include <vulkan/vulkan.h>

#include <cstdint>
#include <memory>
#include <string>

#include "core/util/result.h"
#include "gpu/device.h"

namespace strata::gpu {

// A byte range of a device buffer; what kernels bind and the recorder tracks hazards on.
struct BufferRange {
    VkBuffer buffer = VK_NULL_HANDLE;
    uint64_t offset = 0;  // bytes
    uint64_t size = 0;    // bytes

    uint64_t floats() const { return size / 4; }
    bool empty() const { return size == 0; }
    // The sub-range of `count` floats starting at float `first`.
    BufferRange floatsAt(uint64_t first, uint64_t count) const {
        return {buffer, offset + first * 4, count * 4};
    }
    bool overlaps(const BufferRange& o) const {
        return buffer == o.buffer && offset < o.offset + o.size && o.offset < offset + size;
    }
};

// A VkBuffer with its own memory; the building block of arenas and the staging ring.
class DeviceBuffer {
public:
    // `what` names the buffer in error sentences ("the activations arena").
    static Result<std::unique_ptr<DeviceBuffer>> create(Device& device, uint64_t bytes,
                                                        bool hostVisible, const std::string& what);
    ~DeviceBuffer();
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;

    VkBuffer handle() const { return m_buffer; }
    uint64_t size() const { return m_size; }
    void* mapped() const { return m_mapped; }  // host-visible buffers only
    BufferRange range() const { return {m_buffer, 0, m_size}; }

private:
    DeviceBuffer() = default;
    Device* m_device = nullptr;
    VkBuffer m_buffer = VK_NULL_HANDLE;
    VkDeviceMemory m_memory = VK_NULL_HANDLE;
    uint64_t m_size = 0;
    void* m_mapped = nullptr;
};

std::string byteText(uint64_t bytes);  // "1.5 GiB"

class MemoryArena {
public:
    // name: "parameters", "gradients", "optimizer state", "activations".
    static Result<std::unique_ptr<MemoryArena>> create(Device& device, std::string name,
                                                       uint64_t capacityBytes);
    // A range of `bytes`, aligned for any descriptor (storage or texel buffer).
    Result<BufferRange> allocate(uint64_t bytes, const std::string& what);
    Result<BufferRange> allocateFloats(uint64_t count, const std::string& what) {
        return allocate(count * 4, what);
    }
    void reset() { m_used = 0; }

    const std::string& name() const { return m_name; }
    uint64_t used() const { return m_used; }
    uint64_t capacity() const { return m_buffer->size(); }
    BufferRange usedRange() const { return {m_buffer->handle(), 0, m_used}; }
    BufferRange whole() const { return m_buffer->range(); }

private:
    MemoryArena() = default;
    Device* m_device = nullptr;
    std::string m_name;
    std::unique_ptr<DeviceBuffer> m_buffer;
    uint64_t m_used = 0;
};

// Host <-> device copies through a host-visible ring, in chunks of at most its size.
// Synchronous: each call returns when its data has arrived.
class StagingRing {
public:
    static Result<std::unique_ptr<StagingRing>> create(Device& device, uint64_t bytes = 16 << 20);
    Result<void> upload(const BufferRange& dst, const void* data, uint64_t bytes);
    Result<void> download(const BufferRange& src, void* data, uint64_t bytes);

private:
    StagingRing() = default;
    Device* m_device = nullptr;
    std::unique_ptr<DeviceBuffer> m_buffer;
};

}  // namespace strata::gpu
