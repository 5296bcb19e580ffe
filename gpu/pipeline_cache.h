#pragma once
// Compute pipelines, created on first use per shader and specialization constants, through a
// VkPipelineCache that persists between runs under $XDG_CACHE_HOME/strata (or ~/.cache/strata),
// one file per device UUID and driver version so a driver update never loads stale binaries.
#include <vulkan/vulkan.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/util/result.h"
#include "gpu/device.h"

namespace strata::gpu {

// What a shader binds: descriptor types in binding order (0, 1, ...) and its push-constant size.
struct KernelLayout {
    const char* shader;  // gpu/shaders/<shader>.comp
    std::vector<VkDescriptorType> bindings;
    uint32_t pushBytes = 0;
};

struct Pipeline {
    VkPipeline pipeline = VK_NULL_HANDLE;
    VkPipelineLayout layout = VK_NULL_HANDLE;
    VkDescriptorSetLayout setLayout = VK_NULL_HANDLE;
    const KernelLayout* kernel = nullptr;
};

class PipelineCache {
public:
    static Result<std::unique_ptr<PipelineCache>> create(Device& device);
    ~PipelineCache();  // saves the cache file
    PipelineCache(const PipelineCache&) = delete;
    PipelineCache& operator=(const PipelineCache&) = delete;

    // The pipeline for `kernel` with specialization constants 0..n-1 set to `spec`.
    Result<const Pipeline*> get(const KernelLayout& kernel, std::span<const uint32_t> spec = {});
    Result<void> save() const;

    const std::filesystem::path& file() const { return m_file; }
    size_t pipelineCount() const { return m_pipelines.size(); }
    bool loadedFromDisk() const { return m_loaded; }

private:
    PipelineCache() = default;
    Device* m_device = nullptr;
    VkPipelineCache m_cache = VK_NULL_HANDLE;
    std::filesystem::path m_file;
    bool m_loaded = false;
    std::map<std::string, Pipeline> m_pipelines;  // key: shader name + spec values
    std::map<std::string, VkShaderModule> m_modules;
};

// $XDG_CACHE_HOME/strata, else $HOME/.cache/strata, else empty (no persistence).
std::filesystem::path cacheDirectory();

}  // namespace strata::gpu
