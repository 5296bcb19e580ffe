#include "core/layers/layer_spec.h"

namespace strata {

std::string LayerContext::gives(size_t i) const {
    if (!connected(i)) return "nothing is connected";
    return inputs[i].source + " gives " + shape(i).str();
}

std::vector<PortSpec> LayerSpec::inputPorts(const Params& p) const {
    if (variadicCountParam.empty()) return inputs;
    std::vector<PortSpec> ports;
    auto it = p.find(variadicCountParam);
    int64_t n = it != p.end() ? std::get<int64_t>(it->second)
                              : std::get<int64_t>(param(variadicCountParam)->def);
    for (int64_t i = 0; i < n; ++i) {
        ports.push_back({.name = "in" + std::to_string(i), .doc = inputs.empty() ? "" : inputs[0].doc});
    }
    return ports;
}

int LayerSpec::inputIndex(const Params& p, const std::string& port) const {
    auto ports = inputPorts(p);
    for (size_t i = 0; i < ports.size(); ++i) {
        if (ports[i].name == port) return static_cast<int>(i);
    }
    return -1;
}

int LayerSpec::outputIndex(const std::string& port) const {
    for (size_t i = 0; i < outputs.size(); ++i) {
        if (outputs[i].name == port) return static_cast<int>(i);
    }
    return -1;
}

const ParamSpec* LayerSpec::param(const std::string& name) const {
    for (const auto& p : params) {
        if (p.name == name) return &p;
    }
    return nullptr;
}

Params LayerSpec::defaultParams() const {
    Params p;
    for (const auto& spec : params) p[spec.name] = spec.def;
    return p;
}

Result<Params> LayerSpec::checkParams(const Params& given) const {
    Params out = defaultParams();
    for (const auto& [name, value] : given) {
        const ParamSpec* spec = param(name);
        if (!spec) {
            std::string known;
            for (const auto& p : params) known += (known.empty() ? "" : ", ") + p.name;
            return fail(id + " has no parameter '" + name + "'" +
                        (known.empty() ? "" : " (it has " + known + ")"));
        }
        auto checked = spec->check(value);
        if (!checked) return checked.error();
        out[name] = std::move(*checked);
    }
    return out;
}

std::string shapeText(const Shape& s) { return s.str(); }

int64_t product(const std::vector<int64_t>& dims) {
    int64_t n = 1;
    for (int64_t d : dims) n *= d;
    return n;
}

}  // namespace strata
