// input: where data enters the graph. The backend writes the bound dataset field into its output,
// so it has no CPU kernel of its own.
#include "core/layers/registry.h"

namespace strata {

void registerIoLayers(LayerRegistry& r) {
    r.add({
        .id = "input",
        .label = "Input",
        .category = "Input & output",
        .doc = "A batch of one dataset field: float features or integer token ids.",
        .outputs = {{"out", "the field, (N, shape...)"}},
        .params = {stringParam("field", "x", "dataset field bound to this input (image, tokens...)"),
                   shapeParam("shape", {1}, 1, 1 << 20,
                              "shape of one sample, without the batch; [] for one scalar per "
                              "sample (class labels)"),
                   enumParam("dtype", "float32", {"float32", "int32"},
                             "float32 features, or int32 token ids and class labels")},
        .infer = [](const LayerContext& c) -> Result<LayerInfo> {
            LayerInfo info;
            DType t = getString(c.params, "dtype") == "int32" ? DType::Int32 : DType::Float32;
            info.outputs.push_back({Shape::batched(getShape(c.params, "shape")), t});
            return info;
        },
        .forward = [](const OpContext&) {},
        .backward = [](const OpContext&) {},
    });
}

}  // namespace strata
