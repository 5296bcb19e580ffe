// embedding, rnn, lstm, gru.
#include "core/layers/registry.h"

namespace strata {

void registerRecurrentLayers(LayerRegistry&) {}

}  // namespace strata
