// positional_encoding, multi_head_attention, transformer_encoder_layer.
#include "core/layers/registry.h"

namespace strata {

void registerAttentionLayers(LayerRegistry&) {}

}  // namespace strata
