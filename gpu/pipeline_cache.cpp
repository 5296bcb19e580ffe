#include "gpu/pipeline_cache.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>

#include "gpu/shaders.h"
#include "gpu/vk_check.h"

namespace strata::gpu {

std::filesystem::path cacheDirectory() {
    if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) {
        return std::filesystem::path(xdg) / "strata";
    }
    if (const char* home = std::getenv("HOME"); home && *home) {
        return std::filesystem::path(home) / ".cache" / "strata";
    }
    return {};
}

Result<std::unique_ptr<PipelineCache>> PipelineCache::create(Device& device) {
    std::unique_ptr<PipelineCache> self(new PipelineCache());
    self->m_device = &device;
    const DeviceInfo& info = device.info();
    std::vector<char> data;
    if (auto dir = cacheDirectory(); !dir.empty()) {
        std::string uuid;
        for (uint8_t b : info.uuid) {
            char hex[3];
            std::snprintf(hex, sizeof hex, "%02x", b);
            uuid += hex;
        }
        self->m_file = dir / ("pipelines-" + uuid + "-" + std::to_string(info.driverVersion) +
                              ".bin");
        std::ifstream in(self->m_file, std::ios::binary);
        if (in) data.assign(std::istreambuf_iterator<char>(in), {});
    }
    VkPipelineCacheCreateInfo ci{VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO};
    ci.initialDataSize = data.size();
    ci.pInitialData = data.empty() ? nullptr : data.data();
    // A corrupt or foreign file is not worth failing over: drivers validate the header and
    // ignore mismatches, and if creation still fails we start empty.
    if (vkCreatePipelineCache(device.handle(), &ci, nullptr, &self->m_cache) != VK_SUCCESS) {
        ci.initialDataSize = 0;
        ci.pInitialData = nullptr;
        data.clear();
        STRATA_VK_TRY(vkCreatePipelineCache(device.handle(), &ci, nullptr, &self->m_cache),
                      "Creating a pipeline cache");
    }
    self->m_loaded = !data.empty();
    return self;
}

PipelineCache::~PipelineCache() {
    if (!m_device) return;
    (void)save();  // a cache that cannot be written only costs compile time next run
    VkDevice d = m_device->handle();
    for (auto& [key, p] : m_pipelines) {
        vkDestroyPipeline(d, p.pipeline, nullptr);
        vkDestroyPipelineLayout(d, p.layout, nullptr);
        vkDestroyDescriptorSetLayout(d, p.setLayout, nullptr);
    }
    for (auto& [name, module] : m_modules) vkDestroyShaderModule(d, module, nullptr);
    if (m_cache) vkDestroyPipelineCache(d, m_cache, nullptr);
}

Result<void> PipelineCache::save() const {
    if (m_file.empty() || !m_cache) return {};
    size_t size = 0;
    STRATA_VK_TRY(vkGetPipelineCacheData(m_device->handle(), m_cache, &size, nullptr),
                  "Reading the pipeline cache");
    std::vector<char> data(size);
    STRATA_VK_TRY(vkGetPipelineCacheData(m_device->handle(), m_cache, &size, data.data()),
                  "Reading the pipeline cache");
    std::error_code ec;
    std::filesystem::create_directories(m_file.parent_path(), ec);
    const auto tmp = m_file.string() + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) return fail("Cannot write the pipeline cache " + tmp + ".");
        out.write(data.data(), std::streamsize(size));
        if (!out) return fail("Cannot write the pipeline cache " + tmp + ".");
    }
    std::filesystem::rename(tmp, m_file, ec);
    if (ec) return fail("Cannot replace the pipeline cache " + m_file.string() + ".");
    return {};
}

Result<const Pipeline*> PipelineCache::get(const KernelLayout& kernel,
                                           std::span<const uint32_t> spec) {
    std::string key = kernel.shader;
    for (uint32_t v : spec) key += ":" + std::to_string(v);
    if (auto it = m_pipelines.find(key); it != m_pipelines.end()) return &it->second;

    VkDevice d = m_device->handle();
    VkShaderModule module = VK_NULL_HANDLE;
    if (auto it = m_modules.find(kernel.shader); it != m_modules.end()) {
        module = it->second;
    } else {
        auto words = shaderWords(kernel.shader);
        if (words.empty()) {
            return fail(std::string("No embedded shader named '") + kernel.shader + "'.");
        }
        VkShaderModuleCreateInfo mi{VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
        mi.codeSize = words.size() * 4;
        mi.pCode = words.data();
        STRATA_VK_TRY(vkCreateShaderModule(d, &mi, nullptr, &module),
                      std::string("Loading shader ") + kernel.shader);
        m_modules[kernel.shader] = module;
    }

    Pipeline p;
    p.kernel = &kernel;
    std::vector<VkDescriptorSetLayoutBinding> bindings;
    for (uint32_t i = 0; i < kernel.bindings.size(); ++i) {
        bindings.push_back({i, kernel.bindings[i], 1, VK_SHADER_STAGE_COMPUTE_BIT, nullptr});
    }
    VkDescriptorSetLayoutCreateInfo li{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO};
    li.bindingCount = uint32_t(bindings.size());
    li.pBindings = bindings.data();
    STRATA_VK_TRY(vkCreateDescriptorSetLayout(d, &li, nullptr, &p.setLayout),
                  std::string("Creating the descriptor layout of ") + kernel.shader);
    VkPushConstantRange push{VK_SHADER_STAGE_COMPUTE_BIT, 0, kernel.pushBytes};
    VkPipelineLayoutCreateInfo pli{VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
    pli.setLayoutCount = 1;
    pli.pSetLayouts = &p.setLayout;
    pli.pushConstantRangeCount = kernel.pushBytes ? 1 : 0;
    pli.pPushConstantRanges = &push;
    VkResult r = vkCreatePipelineLayout(d, &pli, nullptr, &p.layout);
    if (r != VK_SUCCESS) {
        vkDestroyDescriptorSetLayout(d, p.setLayout, nullptr);
        return vkFailure(std::string("Creating the pipeline layout of ") + kernel.shader, r);
    }

    std::vector<VkSpecializationMapEntry> entries;
    for (uint32_t i = 0; i < spec.size(); ++i) entries.push_back({i, i * 4, 4});
    VkSpecializationInfo si{uint32_t(entries.size()), entries.data(), spec.size() * 4,
                            spec.data()};
    VkComputePipelineCreateInfo ci{VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO};
    ci.stage = {VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO};
    ci.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
    ci.stage.module = module;
    ci.stage.pName = "main";
    ci.stage.pSpecializationInfo = spec.empty() ? nullptr : &si;
    ci.layout = p.layout;
    r = vkCreateComputePipelines(d, m_cache, 1, &ci, nullptr, &p.pipeline);
    if (r != VK_SUCCESS) {
        vkDestroyPipelineLayout(d, p.layout, nullptr);
        vkDestroyDescriptorSetLayout(d, p.setLayout, nullptr);
        return vkFailure(std::string("Compiling pipeline ") + key, r);
    }
    return &(m_pipelines[key] = p);
}

}  // namespace strata::gpu
