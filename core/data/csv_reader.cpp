#include "core/data/csv_reader.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>
#include <set>

#include "core/data/data_util.h"

namespace strata {

namespace {

using data::atLine;

struct Row {
    int64_t line = 0;  // 1-based line in the file
    std::vector<std::string> cells;
};

std::string trim(std::string_view s) {
    size_t a = 0, b = s.size();
    while (a < b && (s[a] == ' ' || s[a] == '\t')) ++a;
    while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t')) --b;
    return std::string(s.substr(a, b - a));
}

std::optional<double> parseNumber(const std::string& s) {
    if (s.empty()) return std::nullopt;
    const char* first = s.data();
    const char* last = s.data() + s.size();
    if (*first == '+') ++first;
    double v = 0;
    auto [end, ec] = std::from_chars(first, last, v);
    if (ec != std::errc() || end != last || !std::isfinite(v)) return std::nullopt;
    return v;
}

// Splits one line into cells; double quotes may enclose a delimiter, "" is a quote.
Result<std::vector<std::string>> splitLine(const std::filesystem::path& path, int64_t lineNo,
                                           std::string_view line, char delim) {
    std::vector<std::string> cells;
    std::string cell;
    bool quoted = false, wasQuoted = false;
    for (size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quoted) {
            if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
                cell += '"';
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                cell += c;
            }
        } else if (c == '"' && trim(cell).empty()) {
            quoted = wasQuoted = true;
            cell.clear();
        } else if (c == delim) {
            cells.push_back(wasQuoted ? cell : trim(cell));
            cell.clear();
            wasQuoted = false;
        } else {
            cell += c;
        }
    }
    if (quoted) {
        return atLine(path, lineNo, "a quoted value is not closed before the end of the line");
    }
    cells.push_back(wasQuoted ? cell : trim(cell));
    return cells;
}

// A column chosen by name or index (negative counts from the end).
Result<int64_t> columnIndex(const nlohmann::json& v, const std::vector<std::string>& names,
                            bool hasHeader, const char* option) {
    const int64_t n = static_cast<int64_t>(names.size());
    if (v.is_number_integer()) {
        int64_t i = v.get<int64_t>();
        if (i < 0) i += n;
        if (i < 0 || i >= n) {
            return fail("option '" + std::string(option) + "' is " + v.dump() +
                        " but the table has " + std::to_string(n) + " columns (0.." +
                        std::to_string(n - 1) + ")");
        }
        return i;
    }
    if (v.is_string()) {
        auto it = std::find(names.begin(), names.end(), v.get<std::string>());
        if (it != names.end()) return static_cast<int64_t>(it - names.begin());
        std::string list;
        for (const auto& s : names) list += (list.empty() ? "" : ", ") + s;
        return fail("option '" + std::string(option) + "' names the column " + v.dump() +
                    (hasHeader ? ", but the header has only " + list
                               : ", but the table has no header; give a 0-based column index"));
    }
    return fail("option '" + std::string(option) + "' must be a column name or index, not " +
                v.dump());
}

}  // namespace

Result<std::shared_ptr<AnnotatedDataset>> readCsv(const std::filesystem::path& path,
                                                  const nlohmann::json& options) {
    data::Options opt(options);
    if (auto ok = opt.checkObject(); !ok) return ok.error();
    auto bytes = data::readFileBytes(path);
    if (!bytes) return bytes.error();
    std::string text(bytes->begin(), bytes->end());
    if (text.starts_with("\xEF\xBB\xBF")) text.erase(0, 3);

    // Physical lines, blank ones skipped but counted.
    std::vector<std::pair<int64_t, std::string_view>> lines;
    {
        std::string_view all(text);
        int64_t lineNo = 0;
        size_t pos = 0;
        while (pos < all.size()) {
            size_t end = all.find('\n', pos);
            if (end == std::string_view::npos) end = all.size();
            std::string_view line = all.substr(pos, end - pos);
            if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
            ++lineNo;
            if (!trim(line).empty()) lines.emplace_back(lineNo, line);
            pos = end + 1;
        }
    }
    if (lines.empty()) return fail(path.string() + ": is empty, but a CSV table was expected");

    auto delimOpt = opt.string({"delimiter", "separator"}, "");
    if (!delimOpt) return delimOpt.error();
    char delim = ',';
    if (*delimOpt == "\\t" || *delimOpt == "tab") {
        delim = '\t';
    } else if (delimOpt->size() == 1) {
        delim = (*delimOpt)[0];
    } else if (!delimOpt->empty()) {
        return fail("option 'delimiter' must be one character, not \"" + *delimOpt + "\"");
    } else {
        size_t best = 0;
        for (char c : {',', ';', '\t'}) {
            const size_t k = static_cast<size_t>(
                std::count(lines[0].second.begin(), lines[0].second.end(), c));
            if (k > best) best = k, delim = c;
        }
    }

    std::vector<Row> rows;
    for (const auto& [lineNo, line] : lines) {
        auto cells = splitLine(path, lineNo, line, delim);
        if (!cells) return cells.error();
        rows.push_back({lineNo, std::move(cells).value()});
    }
    const size_t width = rows[0].cells.size();

    // A header is a first row with text in a column whose next row holds a number.
    auto headerOpt = opt.find({"header"});
    bool hasHeader = false;
    if (headerOpt) {
        if (!headerOpt->is_boolean()) return fail("option 'header' must be true or false");
        hasHeader = headerOpt->get<bool>();
    } else {
        bool anyText = false;
        for (size_t c = 0; c < width; ++c) {
            if (parseNumber(rows[0].cells[c])) continue;
            anyText = true;
            if (rows.size() > 1 && c < rows[1].cells.size() && parseNumber(rows[1].cells[c])) {
                hasHeader = true;
            }
        }
        if (anyText && rows.size() == 1) hasHeader = true;
    }
    std::vector<std::string> names;
    for (size_t c = 0; c < width; ++c) {
        names.push_back(hasHeader ? rows[0].cells[c] : "column " + std::to_string(c));
    }
    const size_t firstData = hasHeader ? 1 : 0;
    if (rows.size() <= firstData) {
        return fail(path.string() + ": has a header but no data rows");
    }
    for (size_t r = 1; r < rows.size(); ++r) {
        if (rows[r].cells.size() != width) {
            return atLine(path, rows[r].line,
                          "the row has " + std::to_string(rows[r].cells.size()) +
                              " values but " + (hasHeader ? "the header" : "the first row") +
                              " (line " + std::to_string(rows[0].line) + ") has " +
                              std::to_string(width));
        }
    }

    auto regression = opt.boolean({"regression"}, false);
    if (!regression) return regression.error();

    // Label columns.
    std::vector<int64_t> labelCols;
    if (const nlohmann::json* lc = opt.find({"label_column", "label", "target_column"})) {
        if (lc->is_boolean() && !lc->get<bool>()) {
            // no label: features only (prediction inputs)
        } else if (lc->is_array()) {
            if (!*regression) {
                return fail("option 'label_column' may list several columns only with "
                            "\"regression\": true");
            }
            for (const auto& v : *lc) {
                auto i = columnIndex(v, names, hasHeader, "label_column");
                if (!i) return i.error();
                labelCols.push_back(*i);
            }
        } else {
            auto i = columnIndex(*lc, names, hasHeader, "label_column");
            if (!i) return i.error();
            labelCols.push_back(*i);
        }
    } else {
        labelCols.push_back(static_cast<int64_t>(width) - 1);
    }
    std::set<int64_t> skip(labelCols.begin(), labelCols.end());
    if (const nlohmann::json* ig = opt.find({"ignore_columns"})) {
        if (!ig->is_array()) return fail("option 'ignore_columns' must be an array");
        for (const auto& v : *ig) {
            auto i = columnIndex(v, names, hasHeader, "ignore_columns");
            if (!i) return i.error();
            skip.insert(*i);
        }
    }

    // Feature columns: numeric ones; a column with no number at all is skipped as text.
    std::vector<int64_t> featureCols;
    for (size_t c = 0; c < width; ++c) {
        if (skip.count(static_cast<int64_t>(c))) continue;
        bool anyNumber = false;
        for (size_t r = firstData; r < rows.size() && !anyNumber; ++r) {
            anyNumber = parseNumber(rows[r].cells[c]).has_value();
        }
        if (anyNumber) featureCols.push_back(static_cast<int64_t>(c));
    }
    if (featureCols.empty()) {
        return fail(path.string() + ": has no numeric feature column besides the label");
    }

    const int64_t n = static_cast<int64_t>(rows.size() - firstData);
    const int64_t f = static_cast<int64_t>(featureCols.size());
    Tensor x{Shape{n, f}};  // (N, F)
    for (int64_t r = 0; r < n; ++r) {
        const Row& row = rows[firstData + static_cast<size_t>(r)];
        for (int64_t k = 0; k < f; ++k) {
            const std::string& cell = row.cells[static_cast<size_t>(featureCols[k])];
            auto v = parseNumber(cell);
            if (!v) {
                return atLine(path, row.line,
                              "column '" + names[static_cast<size_t>(featureCols[k])] + "': " +
                                  (cell.empty() ? std::string("the value is missing")
                                                : "\"" + cell + "\" is not a number") +
                                  "; fix the value or remove the row");
            }
            x.data[static_cast<size_t>(r * f + k)] = static_cast<float>(*v);
        }
    }

    std::map<std::string, Tensor> fields;
    std::map<std::string, DType> dtypes;
    DatasetNotes notes;
    fields.emplace("x", std::move(x));
    if (labelCols.empty()) {
        return AnnotatedDataset::create(std::move(fields), {}, {});
    }

    if (*regression) {
        const int64_t k = static_cast<int64_t>(labelCols.size());
        Tensor target{Shape{n, k}};  // (N, K)
        for (int64_t r = 0; r < n; ++r) {
            const Row& row = rows[firstData + static_cast<size_t>(r)];
            for (int64_t j = 0; j < k; ++j) {
                const std::string& cell = row.cells[static_cast<size_t>(labelCols[j])];
                auto v = parseNumber(cell);
                if (!v) {
                    return atLine(path, row.line,
                                  "target column '" +
                                      names[static_cast<size_t>(labelCols[j])] + "': " +
                                      (cell.empty() ? std::string("the value is missing")
                                                    : "\"" + cell + "\" is not a number"));
                }
                target.data[static_cast<size_t>(r * k + j)] = static_cast<float>(*v);
            }
        }
        fields.emplace("target", std::move(target));
        return AnnotatedDataset::create(std::move(fields), {}, {});
    }

    const size_t lc = static_cast<size_t>(labelCols[0]);
    auto fixedNames = opt.strings({"class_names", "classes"});
    if (!fixedNames) return fixedNames.error();
    std::vector<std::string> labels;
    for (size_t r = firstData; r < rows.size(); ++r) {
        if (rows[r].cells[lc].empty()) {
            return atLine(path, rows[r].line,
                          "the label (column '" + names[lc] + "') is missing");
        }
        labels.push_back(rows[r].cells[lc]);
    }
    Tensor label{Shape{n}};  // (N)
    bool allIndices = fixedNames->empty();
    for (const auto& s : labels) {
        auto v = parseNumber(s);
        if (!v || *v < 0 || *v != std::floor(*v) || *v >= 16777216.0) allIndices = false;
    }
    if (allIndices) {
        int64_t maxLabel = 0;
        for (int64_t r = 0; r < n; ++r) {
            const double v = *parseNumber(labels[static_cast<size_t>(r)]);
            label.data[static_cast<size_t>(r)] = static_cast<float>(v);
            maxLabel = std::max(maxLabel, static_cast<int64_t>(v));
        }
        notes.numClasses["label"] = maxLabel + 1;
    } else {
        std::vector<std::string> classes = *fixedNames;
        if (classes.empty()) {
            std::set<std::string> unique(labels.begin(), labels.end());
            classes.assign(unique.begin(), unique.end());
            const bool numeric = std::all_of(classes.begin(), classes.end(),
                                             [](const auto& s) { return parseNumber(s); });
            if (numeric) {
                std::stable_sort(classes.begin(), classes.end(), [](const auto& a, const auto& b) {
                    return *parseNumber(a) < *parseNumber(b);
                });
            }
        }
        std::map<std::string, int64_t> index;
        for (size_t i = 0; i < classes.size(); ++i) index.emplace(classes[i], i);
        for (int64_t r = 0; r < n; ++r) {
            auto it = index.find(labels[static_cast<size_t>(r)]);
            if (it == index.end()) {
                return atLine(path, rows[firstData + static_cast<size_t>(r)].line,
                              "the label \"" + labels[static_cast<size_t>(r)] +
                                  "\" is not one of the model's classes");
            }
            label.data[static_cast<size_t>(r)] = static_cast<float>(it->second);
        }
        notes.numClasses["label"] = static_cast<int64_t>(classes.size());
        notes.classNames = std::move(classes);
    }
    fields.emplace("label", std::move(label));
    dtypes["label"] = DType::Int32;
    return AnnotatedDataset::create(std::move(fields), std::move(dtypes), std::move(notes));
}

}  // namespace strata
