#include "core/layers/registry.h"

#include <algorithm>

namespace strata {

const LayerRegistry& LayerRegistry::instance() {
    static const LayerRegistry registry = [] {
        LayerRegistry r;
        registerIoLayers(r);
        registerDenseLayers(r);
        registerActivationLayers(r);
        registerConvLayers(r);
        registerNormLayers(r);
        registerRecurrentLayers(r);
        registerAttentionLayers(r);
        registerLossLayers(r);
        return r;
    }();
    return registry;
}

const LayerSpec* LayerRegistry::find(std::string_view id) const {
    for (const auto& s : m_specs) {
        if (s.id == id) return &s;
    }
    return nullptr;
}

std::vector<std::string> LayerRegistry::categories() const {
    std::vector<std::string> out;
    for (const auto& s : m_specs) {
        if (std::find(out.begin(), out.end(), s.category) == out.end()) out.push_back(s.category);
    }
    return out;
}

void LayerRegistry::add(LayerSpec spec) { m_specs.push_back(std::move(spec)); }

}  // namespace strata
