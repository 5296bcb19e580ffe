#include "core/layers/param.h"

#include <cmath>
#include <sstream>

namespace strata {

const char* paramTypeName(ParamType t) {
    switch (t) {
        case ParamType::Int: return "integer";
        case ParamType::Float: return "number";
        case ParamType::Bool: return "boolean";
        case ParamType::Enum: return "choice";
        case ParamType::Shape: return "shape";
        case ParamType::String: return "text";
    }
    return "?";
}

static std::string numberText(double v) {
    std::ostringstream s;
    s << v;
    return s.str();
}

std::string paramValueText(const ParamValue& v) {
    struct Visitor {
        std::string operator()(int64_t i) const { return std::to_string(i); }
        std::string operator()(double d) const { return numberText(d); }
        std::string operator()(bool b) const { return b ? "true" : "false"; }
        std::string operator()(const std::string& s) const { return s; }
        std::string operator()(const std::vector<int64_t>& dims) const {
            std::string s = "[";
            for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
            return s + "]";
        }
    };
    return std::visit(Visitor{}, v);
}

std::string ParamSpec::rangeText() const {
    switch (type) {
        case ParamType::Int:
        case ParamType::Float: return numberText(min) + " to " + numberText(max);
        case ParamType::Shape:
            return "a list of sizes from " + numberText(min) + " to " + numberText(max) +
                   " (may be empty)";
        case ParamType::Enum: {
            std::string s = "one of ";
            for (size_t i = 0; i < choices.size(); ++i) s += (i ? ", " : "") + choices[i];
            return s;
        }
        case ParamType::Bool: return "true or false";
        case ParamType::String: return "text";
    }
    return "";
}

Result<ParamValue> ParamSpec::check(const ParamValue& v) const {
    auto wrongType = [&] {
        return fail("parameter '" + name + "' must be " + (type == ParamType::Int ? "an " : "a ") +
                    paramTypeName(type) + " (" + rangeText() + "), not '" + paramValueText(v) +
                    "'");
    };
    auto outOfRange = [&] {
        return fail("parameter '" + name + "' is " + paramValueText(v) + " but must be " +
                    rangeText());
    };
    switch (type) {
        case ParamType::Int: {
            int64_t i = 0;
            if (auto* p = std::get_if<int64_t>(&v)) {
                i = *p;
            } else if (auto* d = std::get_if<double>(&v); d && std::floor(*d) == *d &&
                                                           std::abs(*d) < 9e15) {
                i = static_cast<int64_t>(*d);
            } else {
                return wrongType();
            }
            if (i < min || i > max) return outOfRange();
            return ParamValue{i};
        }
        case ParamType::Float: {
            double d = 0;
            if (auto* p = std::get_if<double>(&v)) d = *p;
            else if (auto* i = std::get_if<int64_t>(&v)) d = static_cast<double>(*i);
            else return wrongType();
            if (!std::isfinite(d) || d < min || d > max) return outOfRange();
            return ParamValue{d};
        }
        case ParamType::Bool:
            if (!std::holds_alternative<bool>(v)) return wrongType();
            return v;
        case ParamType::Enum: {
            auto* s = std::get_if<std::string>(&v);
            if (!s) return wrongType();
            for (const auto& c : choices) {
                if (c == *s) return v;
            }
            return outOfRange();
        }
        case ParamType::Shape: {
            auto* dims = std::get_if<std::vector<int64_t>>(&v);
            // An empty list is a valid shape: one scalar per sample (class labels). Shape rules
            // that need dimensions say so in their own words.
            if (!dims) return wrongType();
            for (int64_t d : *dims) {
                if (d < min || d > max) return outOfRange();
            }
            return v;
        }
        case ParamType::String:
            if (!std::holds_alternative<std::string>(v)) return wrongType();
            return v;
    }
    return wrongType();
}

ParamSpec intParam(std::string name, int64_t def, int64_t min, int64_t max, std::string doc) {
    return {.name = std::move(name), .type = ParamType::Int, .def = def,
            .min = static_cast<double>(min), .max = static_cast<double>(max), .doc = std::move(doc)};
}
ParamSpec floatParam(std::string name, double def, double min, double max, std::string doc) {
    return {.name = std::move(name), .type = ParamType::Float, .def = def, .min = min, .max = max,
            .doc = std::move(doc)};
}
ParamSpec boolParam(std::string name, bool def, std::string doc) {
    return {.name = std::move(name), .type = ParamType::Bool, .def = def, .doc = std::move(doc)};
}
ParamSpec enumParam(std::string name, std::string def, std::vector<std::string> choices,
                    std::string doc) {
    return {.name = std::move(name), .type = ParamType::Enum, .def = std::move(def),
            .choices = std::move(choices), .doc = std::move(doc)};
}
ParamSpec shapeParam(std::string name, std::vector<int64_t> def, int64_t minDim, int64_t maxDim,
                     std::string doc) {
    return {.name = std::move(name), .type = ParamType::Shape, .def = std::move(def),
            .min = static_cast<double>(minDim), .max = static_cast<double>(maxDim),
            .doc = std::move(doc)};
}
ParamSpec stringParam(std::string name, std::string def, std::string doc) {
    return {.name = std::move(name), .type = ParamType::String, .def = std::move(def),
            .doc = std::move(doc)};
}

int64_t getInt(const Params& p, const std::string& name) { return std::get<int64_t>(p.at(name)); }
double getFloat(const Params& p, const std::string& name) { return std::get<double>(p.at(name)); }
bool getBool(const Params& p, const std::string& name) { return std::get<bool>(p.at(name)); }
const std::string& getString(const Params& p, const std::string& name) {
    return std::get<std::string>(p.at(name));
}
const std::vector<int64_t>& getShape(const Params& p, const std::string& name) {
    return std::get<std::vector<int64_t>>(p.at(name));
}

}  // namespace strata
