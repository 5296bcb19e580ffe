// `random`: fields drawn i.i.d. from the distributions the options name, for benchmarks
// (bench/workloads.md) and for trying a graph before real data exists.
#include <cmath>
#include <set>

#include "core/data/builtin.h"
#include "core/data/data_util.h"

namespace strata::builtin {

namespace {

struct FieldSpec {
    std::string name;
    std::vector<int64_t> shape;  // per sample
    DType dtype = DType::Float32;
    std::string distribution;
    double mean = 0.0, std = 1.0;     // normal
    double low = 0.0, high = 1.0;     // uniform [low, high); uniform_int [low, high)
    std::string of;                   // next_token: the window field it is shifted from
    int64_t sampleSize() const {
        int64_t n = 1;
        for (int64_t d : shape) n *= d;
        return n;
    }
};

// FNV-1a: a field's stream depends on its name only, not on which other fields exist.
uint64_t nameHash(const std::string& s) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
    return h;
}

Result<double> number(const nlohmann::json& spec, const std::string& field, const char* key,
                      double fallback) {
    auto it = spec.find(key);
    if (it == spec.end()) return fallback;
    if (!it->is_number()) {
        return fail("field \"" + field + "\": \"" + key + "\" must be a number, not " +
                    it->dump());
    }
    return it->get<double>();
}

Result<FieldSpec> parseField(const std::string& name, const nlohmann::json& spec) {
    if (!spec.is_object()) {
        return fail("field \"" + name + "\" must be an object with shape, dtype and "
                    "distribution, not " + spec.dump());
    }
    FieldSpec f;
    f.name = name;
    if (auto it = spec.find("shape"); it != spec.end()) {
        if (!it->is_array()) {
            return fail("field \"" + name + "\": \"shape\" must be a list of sizes like [784]");
        }
        for (const auto& d : *it) {
            if (!d.is_number_integer() || d.get<int64_t>() < 1 || d.get<int64_t>() > (1 << 24)) {
                return fail("field \"" + name + "\": \"shape\" holds sizes from 1 to 16777216, "
                            "not " + d.dump());
            }
            f.shape.push_back(d.get<int64_t>());
        }
    }
    const std::string dtype = spec.value("dtype", std::string("float32"));
    if (dtype != "float32" && dtype != "int32") {
        return fail("field \"" + name + "\": dtype must be float32 or int32, not \"" + dtype +
                    "\"");
    }
    f.dtype = dtype == "int32" ? DType::Int32 : DType::Float32;
    f.distribution = spec.value("distribution", std::string(f.dtype == DType::Int32
                                                                ? "uniform_int"
                                                                : "normal"));
    if (f.distribution == "normal") {
        auto mean = number(spec, name, "mean", 0.0);
        if (!mean) return mean.error();
        auto sd = number(spec, name, "std", 1.0);
        if (!sd) return sd.error();
        if (*sd < 0) return fail("field \"" + name + "\": \"std\" must not be negative");
        f.mean = *mean;
        f.std = *sd;
    } else if (f.distribution == "uniform" || f.distribution == "uniform_int") {
        auto low = number(spec, name, "low", 0.0);
        if (!low) return low.error();
        auto high = number(spec, name, "high", f.distribution == "uniform" ? 1.0 : 2.0);
        if (!high) return high.error();
        f.low = *low;
        f.high = *high;
        if (!(f.high > f.low)) {
            return fail("field \"" + name + "\": \"high\" must be above \"low\"");
        }
        if (f.distribution == "uniform_int" &&
            (f.low != std::floor(f.low) || f.high != std::floor(f.high) || f.low < 0 ||
             f.high > (1 << 24))) {
            return fail("field \"" + name + "\": uniform_int takes whole numbers 0 <= low < "
                        "high <= 16777216 (class ids)");
        }
    } else if (f.distribution == "next_token") {
        f.of = spec.value("of", std::string());
        if (f.of.empty()) {
            return fail("field \"" + name + "\": next_token needs \"of\", the field it is the "
                        "next token of");
        }
    } else {
        return fail("field \"" + name + "\": the distribution \"" + f.distribution +
                    "\" is unknown; use normal, uniform, uniform_int or next_token");
    }
    if (f.dtype == DType::Float32 && f.distribution != "normal" && f.distribution != "uniform") {
        return fail("field \"" + name + "\": " + f.distribution + " makes int32 values");
    }
    if (f.dtype == DType::Int32 && (f.distribution == "normal" || f.distribution == "uniform")) {
        return fail("field \"" + name + "\": " + f.distribution + " makes float32 values");
    }
    return f;
}

}  // namespace

Result<std::shared_ptr<AnnotatedDataset>> random(const nlohmann::json& options) {
    data::Options opt(options);
    auto count = opt.integer({"count"}, 1000, 1, 10000000);
    if (!count) return count.error();
    auto seed = opt.seed({"seed"}, 0);
    if (!seed) return seed.error();
    const nlohmann::json* specs = opt.find({"fields"});
    if (!specs || !specs->is_object() || specs->empty()) {
        return fail("the random set needs \"fields\": an object such as {\"x\": {\"shape\": "
                    "[784], \"dtype\": \"float32\", \"distribution\": \"normal\"}}");
    }
    std::map<std::string, FieldSpec> fields;
    for (const auto& [name, spec] : specs->items()) {
        auto f = parseField(name, spec);
        if (!f) return f.error();
        fields.emplace(name, std::move(*f));
    }
    // A field some next_token field is shifted from is drawn as windows one token longer along
    // its last axis: the field keeps the first tokens, the next_token field the last ones.
    std::set<std::string> windows;
    for (const auto& [name, f] : fields) {
        if (f.distribution != "next_token") continue;
        auto it = fields.find(f.of);
        if (it == fields.end() || it->second.distribution != "uniform_int") {
            return fail("field \"" + name + "\": \"of\" must name a uniform_int field of this "
                        "set, not \"" + f.of + "\"");
        }
        if (it->second.shape != f.shape || f.shape.empty()) {
            return fail("field \"" + name + "\" must have the shape of \"" + f.of +
                        "\" (a sequence, at least one axis)");
        }
        windows.insert(f.of);
    }

    const int64_t n = *count;
    std::map<std::string, Tensor> tensors;
    std::map<std::string, DType> dtypes;
    DatasetNotes notes;
    for (const auto& [name, f] : fields) {
        std::vector<int64_t> dims{n};
        dims.insert(dims.end(), f.shape.begin(), f.shape.end());
        tensors.emplace(name, Tensor{Shape(dims)});
        dtypes[name] = f.dtype;
    }
    for (const auto& [name, f] : fields) {
        if (f.distribution == "next_token") continue;
        data::Rng rng(data::mixSeed(*seed, nameHash(name)));
        float* out = tensors.at(name).ptr();
        const int64_t size = f.sampleSize() * n;
        if (f.distribution == "normal") {
            for (int64_t i = 0; i < size; ++i) {
                out[i] = static_cast<float>(f.mean + f.std * rng.normal());
            }
        } else if (f.distribution == "uniform") {
            for (int64_t i = 0; i < size; ++i) {
                out[i] = static_cast<float>(rng.uniform(f.low, f.high));
            }
        } else {
            const int64_t low = int64_t(f.low), span = int64_t(f.high) - low;
            notes.numClasses[name] = int64_t(f.high);
            if (!windows.count(name)) {
                for (int64_t i = 0; i < size; ++i) out[i] = float(low + rng.below(span));
                continue;
            }
            const int64_t t = f.shape.back(), rows = size / t;
            for (const auto& [other, g] : fields) {
                if (g.distribution != "next_token" || g.of != name) continue;
                notes.numClasses[other] = int64_t(f.high);
            }
            std::vector<float> window(size_t(t + 1));
            for (int64_t r = 0; r < rows; ++r) {
                for (float& v : window) v = float(low + rng.below(span));
                std::copy(window.begin(), window.end() - 1, out + r * t);
                for (const auto& [other, g] : fields) {
                    if (g.distribution != "next_token" || g.of != name) continue;
                    std::copy(window.begin() + 1, window.end(), tensors.at(other).ptr() + r * t);
                }
            }
        }
    }
    return AnnotatedDataset::create(std::move(tensors), std::move(dtypes), std::move(notes));
}

}  // namespace strata::builtin
