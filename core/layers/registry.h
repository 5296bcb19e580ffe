#pragma once
// The catalogue of layer types. Each family file registers its specs; nothing else lists layers.
#include <span>
#include <string_view>
#include <vector>

#include "core/layers/layer_spec.h"

namespace strata {

class LayerRegistry {
public:
    static const LayerRegistry& instance();

    const LayerSpec* find(std::string_view id) const;
    std::span<const LayerSpec> all() const { return m_specs; }
    std::vector<std::string> categories() const;  // in first-registration order

    void add(LayerSpec spec);

private:
    std::vector<LayerSpec> m_specs;
};

inline const LayerSpec* findLayer(std::string_view id) { return LayerRegistry::instance().find(id); }

// One per family file (core/layers/<family>.cpp).
void registerIoLayers(LayerRegistry&);          // input
void registerDenseLayers(LayerRegistry&);       // linear, flatten, reshape, dropout, add, concat
void registerActivationLayers(LayerRegistry&);  // relu, leaky_relu, gelu, sigmoid, tanh, softmax
void registerConvLayers(LayerRegistry&);        // conv2d, pooling
void registerNormLayers(LayerRegistry&);        // batch_norm
void registerRecurrentLayers(LayerRegistry&);   // embedding, rnn, lstm, gru
void registerAttentionLayers(LayerRegistry&);   // layer_norm, positional_encoding, mha, block
void registerLossLayers(LayerRegistry&);        // cross_entropy, mse, bce_with_logits

}  // namespace strata
