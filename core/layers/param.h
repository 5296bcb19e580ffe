#pragma once
// Typed layer parameters. A ParamSpec describes one (name, type, default, range, one-line doc);
// a ParamValue holds one. Parameters are stored by name on each node, always complete.
#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "core/util/result.h"

namespace strata {

enum class ParamType { Int, Float, Bool, Enum, Shape, String };

const char* paramTypeName(ParamType t);

// Int, Float, Bool, Enum and String (both std::string), Shape (std::vector<int64_t>).
using ParamValue = std::variant<int64_t, double, bool, std::string, std::vector<int64_t>>;
using Params = std::map<std::string, ParamValue>;

std::string paramValueText(const ParamValue& v);

struct ParamSpec {
    std::string name;
    ParamType type = ParamType::Int;
    ParamValue def;
    double min = 0;  // inclusive range for Int and Float (and for each dim of a Shape)
    double max = 0;
    std::vector<std::string> choices;  // for Enum
    std::string doc;

    // Checks a value against type and range; converts Int to Float where a float is expected.
    Result<ParamValue> check(const ParamValue& v) const;
    std::string rangeText() const;  // "1 to 4096", "one of tanh, relu", ...
};

// Builders that keep the layer tables short and readable.
ParamSpec intParam(std::string name, int64_t def, int64_t min, int64_t max, std::string doc);
ParamSpec floatParam(std::string name, double def, double min, double max, std::string doc);
ParamSpec boolParam(std::string name, bool def, std::string doc);
ParamSpec enumParam(std::string name, std::string def, std::vector<std::string> choices,
                    std::string doc);
ParamSpec shapeParam(std::string name, std::vector<int64_t> def, int64_t minDim, int64_t maxDim,
                     std::string doc);
ParamSpec stringParam(std::string name, std::string def, std::string doc);

// Typed reads of a complete, checked parameter set.
int64_t getInt(const Params& p, const std::string& name);
double getFloat(const Params& p, const std::string& name);
bool getBool(const Params& p, const std::string& name);
const std::string& getString(const Params& p, const std::string& name);
const std::vector<int64_t>& getShape(const Params& p, const std::string& name);

}  // namespace strata
