#pragma once
// Records dispatches into one command buffer that can be submitted many times (a training step
// is recorded once and replayed). Barriers come from hazards on buffer ranges: a command gets a
// barrier only when it reads or writes bytes an earlier command wrote and that write is not yet
// visible (read-after-write, write-after-write), or writes bytes an earlier command read
// (write-after-read). Each barrier keeps its reason as text for debugging and tests.
#include <vulkan/vulkan.h>

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/util/result.h"
#include "gpu/device.h"
#include "gpu/memory_arena.h"
#include "gpu/pipeline_cache.h"

namespace strata::gpu {

enum class Access { Read, Write, ReadWrite, Unused };

// One descriptor of a dispatch, in the kernel's binding order. `range` is what the descriptor
// binds (aligned for it); `touched`, when not empty, is the part the kernel really accesses, the
// part hazards are tracked on (defaults to the whole range). Unused: a placeholder for a binding
// the kernel does not access this time (a GEMM without bias). texelFormat: the view format of
// a texel-buffer binding (RGBA32F lets a kernel fetch four floats at once; the view then covers
// whole 16-byte texels of `range`).
struct Binding {
    BufferRange range;
    Access access = Access::Read;
    BufferRange touched{};
    VkFormat texelFormat = VK_FORMAT_R32_SFLOAT;
};

struct BarrierNote {
    size_t beforeCommand = 0;  // index of the command the barrier precedes (== count at finish)
    std::string reason;
};

class Recorder {
public:
    static Result<std::unique_ptr<Recorder>> create(Device& device, PipelineCache& pipelines);
    ~Recorder();
    Recorder(const Recorder&) = delete;
    Recorder& operator=(const Recorder&) = delete;

    // label names the command in barrier reasons ("gemm C=A*B").
    Result<void> dispatch(const KernelLayout& kernel, std::span<const uint32_t> spec,
                          std::span<const Binding> bindings, const void* push,
                          std::array<uint32_t, 3> groups, const std::string& label);
    Result<void> fill(const BufferRange& range, uint32_t value, const std::string& label);
    // A transfer copy of src into dst (equal sizes, whole 4-byte words).
    Result<void> copy(const BufferRange& src, const BufferRange& dst, const std::string& label);
    // Profiling: writes a GPU timestamp once every command recorded before it has completed.
    // After a run, readTimestamps() gives each mark's label and time in seconds (on the device's
    // clock: only differences between marks of one run mean something).
    Result<void> timestamp(const std::string& label);
    struct Timestamp {
        std::string label;
        double seconds = 0.0;
    };
    Result<std::vector<Timestamp>> readTimestamps();
    // Ends recording with a barrier that makes every write visible to later submissions,
    // transfers and the host. Called by submit() when needed.
    Result<void> finish();
    Result<void> submit();
    Result<void> wait();
    // Whether the last submission has finished (true when none is pending); does not block.
    Result<bool> poll();
    Result<void> run() {
        if (auto r = submit(); !r) return r;
        return wait();
    }

    Device& device() const { return *m_device; }
    PipelineCache& pipelines() const { return *m_pipelines; }
    const std::vector<BarrierNote>& barriers() const { return m_barriers; }
    size_t commandCount() const { return m_commandCount; }
    bool finished() const { return m_finished; }

private:
    struct Use {
        BufferRange range;
        std::string label;
        VkPipelineStageFlags stage = 0;
    };
    struct Touch {
        BufferRange range;
        bool reads = false;
        bool writes = false;
    };
    Recorder() = default;
    Result<void> begin();
    void trackHazards(std::span<const Touch> touches, VkPipelineStageFlags stage,
                      const std::string& label);
    std::string rangeText(const BufferRange& r);
    Result<VkDescriptorSet> allocateSet(VkDescriptorSetLayout layout);

    Device* m_device = nullptr;
    PipelineCache* m_pipelines = nullptr;
    VkCommandBuffer m_cmd = VK_NULL_HANDLE;
    VkFence m_fence = VK_NULL_HANDLE;
    std::vector<VkDescriptorPool> m_pools;
    std::vector<VkBufferView> m_views;
    std::vector<Use> m_pendingWrites;  // written, not yet made visible by a barrier
    std::vector<Use> m_pendingReads;   // read since the last execution barrier
    std::vector<BarrierNote> m_barriers;
    std::vector<VkBuffer> m_bufferIds;  // short names "buffer #i" in reasons
    std::vector<VkQueryPool> m_queryPools;  // kQueriesPerPool timestamps each
    std::vector<std::string> m_timestampLabels;
    uint32_t m_timestampBits = 0;  // valid bits of the queue's timestamps; 0 until asked
    size_t m_commandCount = 0;
    bool m_finished = false;
    bool m_inFlight = false;
};

}  // namespace strata::gpu
