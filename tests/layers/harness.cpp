#include "layers/harness.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

namespace strata::test {

namespace {

std::vector<TensorView> views(std::vector<Tensor>& ts) {
    std::vector<TensorView> v;
    for (auto& t : ts) v.push_back({t.data.empty() ? nullptr : t.data.data(), t.shape});
    return v;
}

double projectedLoss(LayerRun run, const std::vector<Tensor>& dy) {
    forward(run);
    double s = 0;
    for (size_t k = 0; k < dy.size(); ++k) {
        for (int64_t i = 0; i < dy[k].numel(); ++i) s += double(run.outputs[k].data[i]) * dy[k].data[i];
    }
    return s;
}

}  // namespace

Tensor randomTensor(const Shape& s, std::mt19937& rng, float lo, float hi) {
    std::uniform_real_distribution<float> d(lo, hi);
    Tensor t(s);
    for (auto& v : t.data) v = d(rng);
    return t;
}

void keepAwayFromKinks(Tensor& t, std::vector<float> kinks, float margin) {
    for (float& v : t.data) {
        for (float k : kinks) {
            if (std::abs(v - k) < margin) v = k + (v < k ? -2 * margin : 2 * margin);
        }
    }
}

Result<LayerInfo> inferConcrete(const std::string& type, const Params& params,
                                const std::vector<TensorType>& batchedInputs) {
    const LayerSpec* spec = findLayer(type);
    if (!spec) return fail("unknown layer " + type);
    auto checked = spec->checkParams(params);
    if (!checked) return checked.error();
    std::vector<TensorType> symbolic;
    for (const auto& t : batchedInputs) {
        auto dims = t.shape.dims();
        if (!dims.empty()) dims[0] = Shape::kBatch;
        symbolic.push_back({Shape(dims), t.dtype});
    }
    std::vector<InputInfo> infos;
    for (size_t i = 0; i < symbolic.size(); ++i) {
        infos.push_back({&symbolic[i], "'src" + std::to_string(i) + "'"});
    }
    infos.resize(std::max(infos.size(), spec->inputPorts(*checked).size()));  // optional ports
    return spec->infer(LayerContext{*checked, infos});
}

LayerRun makeRun(const std::string& type, const Params& params,
                 const std::vector<TensorType>& inputs, int64_t batch, uint32_t seed,
                 int64_t intRange) {
    LayerRun run;
    run.spec = findLayer(type);
    EXPECT_NE(run.spec, nullptr) << type;
    if (!run.spec) return run;
    run.params = *run.spec->checkParams(params);
    run.batch = batch;
    auto info = inferConcrete(type, params, inputs);
    EXPECT_TRUE(info.ok()) << type << ": " << (info.ok() ? "" : info.message());
    if (!info) return run;
    run.info = *info;
    std::mt19937 rng(seed);
    for (const auto& t : inputs) {
        run.inputTypes.push_back(t.dtype);
        Shape s = t.shape.withBatch(batch);
        if (t.dtype == DType::Int32) {
            std::uniform_int_distribution<int64_t> d(0, intRange - 1);
            Tensor x(s);
            for (auto& v : x.data) v = static_cast<float>(d(rng));
            run.inputs.push_back(std::move(x));
        } else {
            run.inputs.push_back(randomTensor(s, rng));
        }
    }
    for (const auto& w : run.info.weights) {
        run.weights.push_back(randomTensor(Shape(w.dims), rng, -0.5f, 0.5f));
        if (w.name == "running_var") {
            for (auto& v : run.weights.back().data) v = 1.0f + std::abs(v);
        }
    }
    return run;
}

void forward(LayerRun& run) {
    run.outputs.clear();
    run.aux.clear();
    for (const auto& o : run.info.outputs) run.outputs.emplace_back(o.shape.withBatch(run.batch));
    for (const auto& a : run.info.aux) run.aux.emplace_back(a.shape.withBatch(run.batch));
    OpContext c{run.params, run.training, run.seed};
    c.inputs = views(run.inputs);
    c.inputs.resize(std::max(c.inputs.size(), run.spec->inputPorts(run.params).size()));
    c.outputs = views(run.outputs);
    c.weights = views(run.weights);
    c.aux = views(run.aux);
    run.spec->forward(c);
}

Grads backward(LayerRun& run, const std::vector<Tensor>& dy) {
    forward(run);
    Grads g;
    for (size_t i = 0; i < run.inputs.size(); ++i) {
        g.inputs.push_back(run.inputTypes[i] == DType::Int32 ? Tensor() : Tensor(run.inputs[i].shape));
    }
    for (const auto& w : run.weights) g.weights.emplace_back(w.shape);
    std::vector<Tensor> dyCopy = dy;
    OpContext c{run.params, run.training, run.seed};
    c.inputs = views(run.inputs);
    c.inputs.resize(std::max(c.inputs.size(), run.spec->inputPorts(run.params).size()));
    c.outputs = views(run.outputs);
    c.weights = views(run.weights);
    c.aux = views(run.aux);
    c.gradOutputs = views(dyCopy);
    c.gradInputs = views(g.inputs);
    c.gradInputs.resize(c.inputs.size());
    c.gradWeights = views(g.weights);
    run.spec->backward(c);
    return g;
}

double gradcheckMaxError(LayerRun run, double eps, uint32_t seed) {
    std::mt19937 rng(seed);
    forward(run);
    std::vector<Tensor> dy;
    for (const auto& o : run.outputs) dy.push_back(randomTensor(o.shape, rng));
    Grads g = backward(run, dy);
    double worst = 0;
    auto check = [&](std::vector<Tensor>& targets, size_t k, const Tensor& analytic) {
        for (int64_t i = 0; i < targets[k].numel(); ++i) {
            const float saved = targets[k].data[i];
            targets[k].data[i] = saved + static_cast<float>(eps);
            const double up = projectedLoss(run, dy);
            targets[k].data[i] = saved - static_cast<float>(eps);
            const double down = projectedLoss(run, dy);
            targets[k].data[i] = saved;
            const double numeric = (up - down) / (2 * eps);
            const double err = std::abs(numeric - analytic.data[i]) / std::max(1.0, std::abs(numeric));
            worst = std::max(worst, err);
        }
    };
    for (size_t k = 0; k < run.inputs.size(); ++k) {
        if (run.inputTypes[k] == DType::Float32) check(run.inputs, k, g.inputs[k]);
    }
    for (size_t k = 0; k < run.weights.size(); ++k) {
        if (run.info.weights[k].trainable) check(run.weights, k, g.weights[k]);
    }
    return worst;
}

}  // namespace strata::test

#include <fstream>

namespace strata::test {

namespace {

Tensor fromJson(const nlohmann::json& j) {
    std::vector<int64_t> dims = j.at("shape").get<std::vector<int64_t>>();
    return Tensor(Shape(dims), j.at("data").get<std::vector<float>>());
}

void expectNear(const Tensor& got, const Tensor& want, double tol, const std::string& what) {
    ASSERT_EQ(got.shape, want.shape) << what << ": shape " << got.shape.str() << " vs "
                                     << want.shape.str();
    double worst = 0;
    int64_t at = 0;
    for (int64_t i = 0; i < want.numel(); ++i) {
        double err = std::abs(double(got.data[i]) - want.data[i]) /
                     (1.0 + std::abs(double(want.data[i])));
        if (err > worst) {
            worst = err;
            at = i;
        }
    }
    EXPECT_LE(worst, tol) << what << ": element " << at << " is " << got.data[at] << ", PyTorch "
                          << want.data[at];
}

}  // namespace

nlohmann::json loadFixtures(const std::string& family) {
    std::ifstream in(std::string(STRATA_SOURCE_DIR) + "/tests/fixtures/" + family + ".json");
    EXPECT_TRUE(in.good()) << "missing fixture file for " << family;
    if (!in) return nlohmann::json::object({{"cases", nlohmann::json::array()}});
    return nlohmann::json::parse(in);
}

void expectMatchesFixture(const nlohmann::json& fc, double tol) {
    const std::string name = fc.at("name");
    SCOPED_TRACE(name);
    std::vector<TensorType> inputTypes;
    std::vector<Tensor> inputs;
    for (const auto& ji : fc.at("inputs")) {
        Tensor t = fromJson(ji);
        DType dt = ji.value("dtype", "float32") == "int32" ? DType::Int32 : DType::Float32;
        inputTypes.push_back({t.shape, dt});
        inputs.push_back(std::move(t));
    }
    Params params;
    for (auto& [k, v] : fc.at("params").items()) {
        if (v.is_boolean()) params[k] = v.get<bool>();
        else if (v.is_number_integer()) params[k] = v.get<int64_t>();
        else if (v.is_number()) params[k] = v.get<double>();
        else if (v.is_string()) params[k] = v.get<std::string>();
        else params[k] = v.get<std::vector<int64_t>>();
    }
    LayerRun run = makeRun(fc.at("type"), params, inputTypes, fc.at("batch").get<int64_t>());
    ASSERT_NE(run.spec, nullptr);
    ASSERT_EQ(run.info.outputs.size(), fc.at("outputs").size());
    run.training = fc.value("training", false);
    run.inputs = inputs;
    for (auto& [wname, jw] : fc.at("weights").items()) {
        size_t k = 0;
        while (k < run.info.weights.size() && run.info.weights[k].name != wname) ++k;
        ASSERT_LT(k, run.info.weights.size()) << "the layer has no weight named " << wname;
        run.weights[k] = fromJson(jw);
        ASSERT_EQ(run.weights[k].shape, Shape(run.info.weights[k].dims)) << wname;
    }
    std::vector<Tensor> dy;
    for (const auto& jg : fc.at("grad_outputs")) dy.push_back(fromJson(jg));
    Grads g = backward(run, dy);
    for (size_t k = 0; k < run.outputs.size(); ++k) {
        expectNear(run.outputs[k], fromJson(fc.at("outputs")[k]), tol, "output " + std::to_string(k));
    }
    for (size_t k = 0; k < inputs.size(); ++k) {
        const auto& jg = fc.at("grad_inputs")[k];
        if (!jg.is_null()) expectNear(g.inputs[k], fromJson(jg), tol, "grad input " + std::to_string(k));
    }
    for (auto& [wname, jg] : fc.at("grad_weights").items()) {
        size_t k = 0;
        while (k < run.info.weights.size() && run.info.weights[k].name != wname) ++k;
        ASSERT_LT(k, run.info.weights.size());
        expectNear(g.weights[k], fromJson(jg), tol, "grad " + wname);
    }
}

}  // namespace strata::test
