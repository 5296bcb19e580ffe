// Sweeps the whole catalogue: the layer set the product promises, and what every spec must have
// for the palette, the inspector, the docs and the engine to work from it alone.
#include <gtest/gtest.h>

#include <set>

#include "core/layers/registry.h"

namespace strata {
namespace {

const std::vector<std::string> kPromised = {
    "input", "linear", "flatten", "reshape", "dropout", "add", "concat", "relu", "leaky_relu",
    "gelu", "sigmoid", "tanh", "softmax", "conv2d", "max_pool2d", "avg_pool2d",
    "global_avg_pool2d", "batch_norm", "layer_norm", "embedding", "rnn", "lstm", "gru",
    "positional_encoding", "multi_head_attention", "transformer_encoder_layer", "cross_entropy",
    "mse", "bce_with_logits"};

TEST(Catalogue, HasExactlyThePromisedLayers) {
    std::set<std::string> registered;
    for (const auto& s : LayerRegistry::instance().all()) {
        EXPECT_TRUE(registered.insert(s.id).second) << "registered twice: " << s.id;
    }
    EXPECT_EQ(registered, std::set<std::string>(kPromised.begin(), kPromised.end()));
}

TEST(Catalogue, EverySpecIsCompleteAndItsDefaultsAreValid) {
    for (const auto& s : LayerRegistry::instance().all()) {
        SCOPED_TRACE(s.id);
        EXPECT_FALSE(s.label.empty());
        EXPECT_FALSE(s.category.empty());
        EXPECT_FALSE(s.doc.empty());
        EXPECT_FALSE(s.outputs.empty());
        EXPECT_TRUE(s.infer) << "no shape rule";
        EXPECT_TRUE(s.forward) << "no CPU forward";
        EXPECT_TRUE(s.backward) << "no CPU backward";
        for (const auto& p : s.params) {
            EXPECT_FALSE(p.doc.empty()) << p.name;
            auto ok = p.check(p.def);
            EXPECT_TRUE(ok.ok()) << p.name << ": " << (ok.ok() ? "" : ok.message());
        }
        auto params = s.checkParams({});
        ASSERT_TRUE(params.ok());
        EXPECT_FALSE(s.inputPorts(*params).empty() && s.id != "input");
        if (!s.variadicCountParam.empty()) {
            ASSERT_NE(s.param(s.variadicCountParam), nullptr);
            EXPECT_EQ(s.param(s.variadicCountParam)->type, ParamType::Int);
        }
        if (s.isLoss) EXPECT_EQ(s.outputs[0].name, "loss");
    }
}

TEST(Catalogue, RefusesUnknownParameters) {
    for (const auto& s : LayerRegistry::instance().all()) {
        auto r = s.checkParams({{"no_such_parameter", int64_t{1}}});
        ASSERT_FALSE(r.ok()) << s.id;
        EXPECT_NE(r.message().find("no parameter 'no_such_parameter'"), std::string::npos);
    }
}

}  // namespace
}  // namespace strata
