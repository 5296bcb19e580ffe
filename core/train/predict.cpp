#include "core/train/predict.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <map>
#include <numeric>
#include <sstream>

#include "core/data/csv_reader.h"
#include "core/data/data_util.h"
#include "core/data/idx_reader.h"
#include "core/data/split.h"
#include "core/data/tensor_dataset.h"
#include "core/layers/param.h"
#include "core/train/normalized_dataset.h"

namespace strata {

namespace {

std::string shapeText(const std::vector<int64_t>& dims) {
    std::string s = "(";
    for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
    return s + (dims.size() == 1 ? ",)" : ")");
}

int64_t elementCount(const std::vector<int64_t>& dims) {
    return std::accumulate(dims.begin(), dims.end(), int64_t{1}, std::multiplies<>());
}

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// The extension that names the format: "csv" for data.csv.gz, "" for train-images-idx3-ubyte.
std::string formatExtension(const std::filesystem::path& file) {
    std::filesystem::path p = file;
    if (lower(p.extension().string()) == ".gz") p = p.stem();
    std::string ext = lower(p.extension().string());
    return ext.empty() ? ext : ext.substr(1);
}

bool isIdxName(const std::filesystem::path& file) {
    const std::string name = lower(file.filename().string());
    return formatExtension(file) == "idx" || name.find("idx") != std::string::npos ||
           name.find("ubyte") != std::string::npos;
}

// A dataset the caller owns, viewed through a shared_ptr that does not delete it.
std::shared_ptr<const Dataset> borrowed(const Dataset& d) {
    return std::shared_ptr<const Dataset>(&d, [](const Dataset*) {});
}

Result<std::shared_ptr<const Dataset>> tensorDataset(std::map<std::string, Tensor> fields,
                                                     std::map<std::string, DType> dtypes) {
    auto d = TensorDataset::create(std::move(fields), std::move(dtypes));
    if (!d) return d.error();
    return std::shared_ptr<const Dataset>(std::make_shared<TensorDataset>(std::move(*d)));
}

// Every sample of one field of `data`, reshaped to `dims` per sample.
Tensor gatherAll(const Dataset& data, const std::string& field, const std::vector<int64_t>& dims) {
    const int64_t n = data.size();
    std::vector<int64_t> shape{n};
    shape.insert(shape.end(), dims.begin(), dims.end());
    Tensor t{Shape(shape)};
    std::vector<int64_t> idx(static_cast<size_t>(n));
    std::iota(idx.begin(), idx.end(), int64_t{0});
    data.gather(idx, field, t.data.data());
    return t;
}

// One UTF-8 code point per entry; no validation beyond lengths (the file was checked as text).
std::vector<std::string> codePoints(const std::string& s) {
    std::vector<std::string> out;
    for (size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : 4;
        len = std::min(len, s.size() - i);
        out.push_back(s.substr(i, len));
        i += len;
    }
    return out;
}

// The float that prints shortest and reads back as the same float, as a JSON number: a float
// widened to double would print 17 digits.
nlohmann::json number(float v) {
    if (!std::isfinite(v)) return nullptr;
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    *r.ptr = '\0';
    return std::strtod(buf, nullptr);
}

nlohmann::json nested(const float* data, const std::vector<int64_t>& dims, size_t d) {
    if (d == dims.size()) return number(*data);
    nlohmann::json a = nlohmann::json::array();
    const int64_t inner = elementCount(std::vector<int64_t>(dims.begin() + static_cast<long>(d) + 1,
                                                       dims.end()));
    for (int64_t i = 0; i < dims[d]; ++i) a.push_back(nested(data + i * inner, dims, d + 1));
    return a;
}

// Reads numbers nested in `dims` (or given flat) into out, refusing with the JSON path.
Result<void> flattenSample(const nlohmann::json& v, const std::vector<int64_t>& dims, size_t d,
                           const std::string& where, bool integer, std::vector<float>& out) {
    if (d == dims.size()) {
        if (!v.is_number()) {
            return fail(where + ": expected a number but found " + std::string(v.type_name()));
        }
        const double x = v.get<double>();
        if (integer && (x < 0 || x != std::floor(x))) {
            return fail(where + ": expected a token id (a whole number >= 0) but found " +
                        v.dump());
        }
        out.push_back(static_cast<float>(x));
        return {};
    }
    if (d == 0 && dims.size() > 1 && v.is_array() &&
        static_cast<int64_t>(v.size()) == elementCount(dims) &&
        std::all_of(v.begin(), v.end(), [](const auto& x) { return x.is_number(); })) {
        for (size_t i = 0; i < v.size(); ++i) {
            if (auto r = flattenSample(v[i], dims, dims.size(), where + "/" + std::to_string(i),
                                       integer, out);
                !r) {
                return r;
            }
        }
        return {};
    }
    if (!v.is_array() || static_cast<int64_t>(v.size()) != dims[d]) {
        const std::string found =
            v.is_array() ? "an array of " + std::to_string(v.size()) : std::string(v.type_name());
        return fail(where + ": expected an array of " + std::to_string(dims[d]) +
                    " entries but found " + found + "; each sample must have the shape " +
                    shapeText(dims));
    }
    for (size_t i = 0; i < v.size(); ++i) {
        if (auto r = flattenSample(v[i], dims, d + 1, where + "/" + std::to_string(i), integer,
                                   out);
            !r) {
            return r;
        }
    }
    return {};
}

}  // namespace

bool isImageFile(const std::filesystem::path& file) {
    const std::string ext = lower(file.extension().string());
    return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp";
}

Predictor::~Predictor() = default;

Result<std::unique_ptr<Predictor>> Predictor::open(const std::filesystem::path& path,
                                                   const PredictorOptions& options) {
    auto doc = readDocument(path);
    if (!doc) return doc.error();  // the message starts with the path
    auto p = create(std::move(*doc), path.parent_path(), options);
    if (!p) return fail(path.string() + ": " + p.message());
    return p;
}

Result<std::unique_ptr<Predictor>> Predictor::create(Document doc,
                                                     const std::filesystem::path& documentDir,
                                                     const PredictorOptions& options) {
    if (!doc.weights || doc.weights->empty()) {
        return fail("holds no weights, so it is not an exported model; train it first with "
                    "'strata train FILE --out MODEL.strata.json' and predict with MODEL");
    }
    std::unique_ptr<Predictor> self(new Predictor());
    self->m_doc = std::move(doc);
    self->m_dir = documentDir;
    const Document& d = self->m_doc;
    const int64_t batch = options.batchSize > 0 ? options.batchSize : d.training.batchSize;
    auto program = compile(d.graph, std::max<int64_t>(1, batch), {.training = false});
    if (!program) return program.error();
    self->m_program = std::make_unique<Program>(std::move(*program));
    const Program& p = *self->m_program;
    if (p.lossOp < 0) {
        return fail("has no loss node, so Strata cannot tell which output is the prediction "
                    "(the tensor entering the loss's input port)");
    }
    const ProgramOp& lossOp = p.forward[static_cast<size_t>(p.lossOp)];
    self->m_output = lossOp.inputs.at(0);
    {
        const ProgramTensor& o = p.tensor(self->m_output);
        const auto& dims = o.shape.dims();  // concrete: (batch, ...) when batched
        self->m_outputShape.assign(dims.begin() + (o.batched ? 1 : 0), dims.end());
    }
    if (lossOp.spec->id == "cross_entropy") {
        self->m_classes = self->m_outputShape.empty() ? 0 : self->m_outputShape.back();
        self->m_ignoreIndex = getInt(lossOp.params, "ignore_index");
    }
    const std::vector<std::string> modelFields = modelInputFields(d.graph);
    const std::vector<std::string>& vocabulary =
        d.preprocessing ? d.preprocessing->vocabulary : std::vector<std::string>{};
    for (const auto& b : p.inputs) {
        const bool model =
            std::find(modelFields.begin(), modelFields.end(), b.field) != modelFields.end();
        if (model && std::none_of(self->m_inputs.begin(), self->m_inputs.end(),
                                  [&](const FieldInfo& f) { return f.name == b.field; })) {
            self->m_inputs.push_back(
                {.name = b.field,
                 .shape = b.sampleShape,
                 .dtype = b.dtype,
                 .numClasses = b.dtype == DType::Int32 ? int64_t(vocabulary.size()) : 0});
        }
        if (lossOp.inputs.size() > 1 && b.tensor == lossOp.inputs[1] && !model) {
            self->m_targetField = b.field;
        }
    }

    // Every weight must come from the document: a node whose parameters changed after training
    // lost its weights on reading, and random ones would predict nonsense silently.
    for (TensorId t : p.parameters) {
        const ProgramTensor& w = p.tensor(t);
        auto node = d.weights->find(w.nodeName);
        if (node == d.weights->end() || !node->second.count(w.weightName)) {
            return fail("has no trained weight '" + w.weightName + "' for node '" + w.nodeName +
                        "' (its parameters changed after training?); train the model again");
        }
    }
    std::vector<float> arena = initialParameters(p, 0);
    if (auto r = loadWeights(p, *d.weights, arena); !r) return r.error();

    auto backend = createBackend(options.device.empty() ? d.training.device : options.device);
    if (!backend) return backend.error();
    self->m_backend = std::move(*backend);
    if (auto r = self->m_backend->prepare(p); !r) return r.error();
    if (auto r = self->m_backend->uploadParameters(arena); !r) return r.error();
    return self;
}

std::string Predictor::deviceName() const {
    return m_backend->deviceName();
}

Result<std::shared_ptr<const Dataset>> Predictor::validationData() const {
    if (!m_doc.dataset) {
        return fail("binds no dataset, so there is no validation data to predict; give samples "
                    "with --input FILE");
    }
    auto splits = openSplits(*m_doc.dataset, m_dir);
    if (!splits) return splits.error();
    if (!splits->validation || splits->validation->size() == 0) {
        return fail("holds back no validation samples (validation_fraction is 0); give samples "
                    "with --input FILE");
    }
    return std::shared_ptr<const Dataset>(splits->validation);
}

Result<std::shared_ptr<const Dataset>> Predictor::readInput(
    const std::filesystem::path& file) const {
    const std::string name = file.string();
    if (!std::filesystem::exists(file)) return fail("cannot open " + name + ": no such file");
    if (isImageFile(file)) {
        return fail(name + " is an image; images are decoded by the strata application "
                           "(strata predict MODEL --input IMAGE)");
    }
    const std::string ext = formatExtension(file);
    if (ext == "json") {
        std::ifstream in(file, std::ios::binary);
        nlohmann::json j;
        try {
            j = nlohmann::json::parse(in);
        } catch (const nlohmann::json::parse_error& e) {
            return fail(name + ": is not valid JSON (at byte " + std::to_string(e.byte) + ")");
        }
        if (!j.is_array() || j.empty()) {
            return fail(name + ": expected a JSON array of samples, e.g. [[...], [...]]");
        }
        std::map<std::string, Tensor> fields;
        std::map<std::string, DType> dtypes;
        for (const FieldInfo& f : m_inputs) {
            std::vector<float> values;
            for (size_t s = 0; s < j.size(); ++s) {
                const std::string sample = name + ": sample " + std::to_string(s) + " at ";
                const nlohmann::json* v = &j[s];
                std::string pointer = "/" + std::to_string(s);
                if (v->is_object()) {
                    auto it = v->find(f.name);
                    if (it == v->end()) {
                        return fail(sample + pointer + ": lacks the field '" + f.name +
                                    "' that the model reads");
                    }
                    v = &*it;
                    pointer += "/" + f.name;
                } else if (m_inputs.size() > 1) {
                    return fail(sample + pointer + ": the model reads several fields; give each "
                                                   "sample as an object by field name");
                }
                if (auto r = flattenSample(*v, f.shape, 0, pointer, f.dtype == DType::Int32,
                                           values);
                    !r) {
                    return fail(sample + r.message());
                }
                if (f.dtype == DType::Int32 && f.numClasses > 0) {
                    const auto last = values.end() - static_cast<long>(f.sampleSize());
                    if (std::any_of(last, values.end(),
                                    [&](float x) { return x >= float(f.numClasses); })) {
                        return fail(sample + pointer + ": a token id is outside the model's "
                                                       "vocabulary of " +
                                    std::to_string(f.numClasses));
                    }
                }
            }
            std::vector<int64_t> shape{static_cast<int64_t>(j.size())};
            shape.insert(shape.end(), f.shape.begin(), f.shape.end());
            Tensor t{Shape(shape)};
            t.data = std::move(values);
            fields.emplace(f.name, std::move(t));
            dtypes.emplace(f.name, f.dtype);
        }
        return tensorDataset(std::move(fields), std::move(dtypes));
    }

    if (m_inputs.size() != 1) {
        return fail(name + ": the model reads several fields; give its samples as a JSON array "
                           "of objects by field name");
    }
    const FieldInfo& in = m_inputs.front();
    const int64_t size = in.sampleSize();
    // The target input's sample shape, to keep labels a file carries.
    std::vector<int64_t> targetShape;
    bool hasTarget = false;
    for (const auto& b : m_program->inputs) {
        if (!m_targetField.empty() && b.field == m_targetField) {
            targetShape = b.sampleShape;
            hasTarget = true;
        }
    }
    // Moves a reader's feature field (and its labels, when they fit the target) to the model's
    // field names, refusing samples of another size.
    auto adopt = [&](const Dataset& data, const std::string& field, const std::string& label,
                     const std::string& what) -> Result<std::shared_ptr<const Dataset>> {
        auto f = data.field(field);
        if (!f || f->sampleSize() != size) {
            return fail(name + ": holds " + what + " of shape " +
                        shapeText(f ? f->shape : std::vector<int64_t>{}) +
                        " but the model's input '" + in.name + "' takes samples of shape " +
                        shapeText(in.shape) + " (" + std::to_string(size) + " values)");
        }
        std::map<std::string, Tensor> fields;
        std::map<std::string, DType> dtypes{{in.name, in.dtype}};
        fields.emplace(in.name, gatherAll(data, field, in.shape));
        auto l = label.empty() ? std::nullopt : data.field(label);
        if (hasTarget && l && l->sampleSize() == elementCount(targetShape)) {
            fields.emplace(m_targetField, gatherAll(data, label, targetShape));
            dtypes.emplace(m_targetField, l->dtype);
        }
        return tensorDataset(std::move(fields), std::move(dtypes));
    };

    if (ext == "csv" || ext == "tsv") {
        auto features = readCsv(file, {{"label_column", false}});
        if (!features) return features.error();
        auto x = features->get()->field("x");
        if (!x || x->sampleSize() <= size) return adopt(**features, "x", "", "rows");
        // A wider table carries labels: read it as training did.
        nlohmann::json options = nlohmann::json::object();
        if (m_doc.dataset && m_doc.dataset->format == "csv") options = m_doc.dataset->options;
        if (m_doc.preprocessing && !m_doc.preprocessing->classNames.empty()) {
            options["class_names"] = m_doc.preprocessing->classNames;
        }
        auto labelled = readCsv(file, options);
        if (!labelled) return labelled.error();
        const bool regression = labelled->get()->field("target").has_value();
        return adopt(**labelled, "x", regression ? "target" : "label", "rows");
    }
    if (ext == "txt" || ext == "text") {
        const std::vector<std::string>& vocab =
            m_doc.preprocessing ? m_doc.preprocessing->vocabulary : std::vector<std::string>{};
        if (in.dtype != DType::Int32 || vocab.empty() || in.shape.size() != 1) {
            return fail(name + ": text needs a token model with a stored vocabulary, but the "
                               "model's input '" +
                        in.name + "' takes " +
                        (in.dtype == DType::Int32 ? "token ids without a vocabulary"
                                                  : "float samples of shape " +
                                                        shapeText(in.shape)));
        }
        auto bytes = data::readFileBytes(file);
        if (!bytes) return bytes.error();
        std::string text(bytes->begin(), bytes->end());
        text.erase(std::remove(text.begin(), text.end(), '\r'), text.end());
        std::map<std::string, int64_t> ids;
        for (size_t i = 0; i < vocab.size(); ++i) ids.emplace(vocab[i], int64_t(i));
        const bool characters = std::all_of(vocab.begin(), vocab.end(), [](const auto& v) {
            return codePoints(v).size() == 1;
        });
        const int64_t T = in.shape[0];
        std::vector<float> tokens;  // (N * T)
        int64_t line = 1, column = 1;
        if (characters) {
            std::vector<float> all;
            for (const std::string& c : codePoints(text)) {
                auto it = ids.find(c);
                if (it == ids.end()) {
                    return fail(name + ": line " + std::to_string(line) + ", column " +
                                std::to_string(column) + ": the character \"" + c +
                                "\" is not in the model's vocabulary of " +
                                std::to_string(vocab.size()) + " characters");
                }
                all.push_back(float(it->second));
                if (c == "\n") ++line, column = 1;
                else ++column;
            }
            const int64_t len = static_cast<int64_t>(all.size());
            if (len < T) {
                return fail(name + ": holds " + std::to_string(len) +
                            " characters but the model reads " + std::to_string(T) +
                            " at a time; give at least " + std::to_string(T));
            }
            // Windows of T every T characters; the last one ends with the text.
            for (int64_t start = 0;; start += T) {
                start = std::min(start, len - T);
                tokens.insert(tokens.end(), all.begin() + start, all.begin() + start + T);
                if (start + T >= len) break;
            }
        } else {
            // Whitespace-separated tokens, one sample per non-empty line.
            std::istringstream lines(text);
            std::string l;
            for (; std::getline(lines, l); ++line) {
                std::istringstream words(l);
                std::string w;
                int64_t count = 0;
                while (words >> w) {
                    auto it = ids.find(w);
                    if (it == ids.end()) {
                        return fail(name + ": line " + std::to_string(line) + ": the token \"" +
                                    w + "\" is not in the model's vocabulary of " +
                                    std::to_string(vocab.size()) + " tokens");
                    }
                    tokens.push_back(float(it->second));
                    ++count;
                }
                if (count != 0 && count != T) {
                    return fail(name + ": line " + std::to_string(line) + " holds " +
                                std::to_string(count) + " tokens but the model reads " +
                                std::to_string(T) + " per sample (one sample per line)");
                }
            }
            if (tokens.empty()) return fail(name + ": holds no tokens");
        }
        const int64_t n = static_cast<int64_t>(tokens.size()) / T;
        Tensor t{Shape{n, T}};
        t.data = std::move(tokens);
        return tensorDataset({{in.name, std::move(t)}}, {{in.name, DType::Int32}});
    }
    if (isIdxName(file)) {
        std::filesystem::path labels = idxLabelsBeside(file);
        if (!labels.empty() && !std::filesystem::exists(labels)) labels.clear();
        auto idx = readIdx(file, labels);
        if (!idx) return idx.error();
        return adopt(**idx, "image", "label", "images");
    }
    return fail(name + ": unknown input format" +
                (ext.empty() ? std::string() : " '." + ext + "'") +
                "; give IDX images (.gz), a CSV table (.csv), a text file (.txt), a JSON array of "
                "samples (.json) or a PNG/JPEG image");
}

Result<void> Predictor::checkFits(const Dataset& raw) const {
    for (const FieldInfo& f : m_inputs) {
        auto have = raw.field(f.name);
        if (!have) {
            std::string names;
            for (const auto& x : raw.fields()) names += (names.empty() ? "" : ", ") + x.name;
            return fail("the data lacks the field '" + f.name + "' that the model reads (it has " +
                        names + ")");
        }
        if (have->shape != f.shape) {
            return fail("the field '" + f.name + "' gives samples of shape " +
                        shapeText(have->shape) + " but the model takes " + shapeText(f.shape));
        }
    }
    return {};
}

Result<Predictions> Predictor::run(const Dataset& raw, int64_t limit) {
    if (auto r = checkFits(raw); !r) return r.error();
    const Program& p = *m_program;
    std::map<std::string, Preprocessing::Normalization> norm;
    if (m_doc.preprocessing) norm = m_doc.preprocessing->normalization;
    const auto data = applyNormalization(borrowed(raw), norm);
    const int64_t total = limit > 0 ? std::min(limit, raw.size()) : raw.size();
    const int64_t B = p.batch;
    const auto target = m_targetField.empty() ? std::nullopt : raw.field(m_targetField);

    Predictions out;
    out.model = m_doc.name;
    out.device = deviceName();
    out.output = p.tensor(m_output).name;
    out.outputShape = m_outputShape;
    out.classes = m_classes;
    const int64_t outSize = elementCount(m_outputShape);
    const int64_t positions = m_classes > 0 ? outSize / m_classes : 0;
    int64_t correct = 0, counted = 0;
    std::vector<float> buffer, targets;
    std::vector<int64_t> idx;
    for (int64_t start = 0; start < total; start += B) {
        const int64_t n = std::min(B, total - start);
        idx.resize(static_cast<size_t>(n));
        std::iota(idx.begin(), idx.end(), start);
        for (const FieldInfo& f : m_inputs) {
            buffer.resize(static_cast<size_t>(n * f.sampleSize()));
            data->gather(idx, f.name, buffer.data());
            if (auto r = m_backend->setInput(f.name, buffer, n); !r) return r.error();
        }
        // Everything but the loss, which needs labels a prediction input does not have.
        const size_t loss = static_cast<size_t>(p.lossOp);
        if (auto r = m_backend->runForward({.batch = n}, Mode::Eval, 0, loss); !r) {
            return r.error();
        }
        if (loss + 1 < p.forward.size()) {
            if (auto r = m_backend->runForward({.batch = n}, Mode::Eval, loss + 1); !r) {
                return r.error();
            }
        }
        auto values = m_backend->download(m_output, n);
        if (!values) return values.error();
        if (target) {
            targets.resize(static_cast<size_t>(n * target->sampleSize()));
            raw.gather(idx, m_targetField, targets.data());
        }
        for (int64_t i = 0; i < n; ++i) {
            SamplePrediction s;
            const float* o = values->data() + i * outSize;
            s.output.assign(o, o + outSize);
            if (target) {
                const float* t = targets.data() + i * target->sampleSize();
                s.target.assign(t, t + target->sampleSize());
            }
            for (int64_t k = 0; k < positions; ++k) {
                const float* logits = o + k * m_classes;
                const int64_t best = std::max_element(logits, logits + m_classes) - logits;
                double sum = 0.0;
                for (int64_t c = 0; c < m_classes; ++c) {
                    sum += std::exp(double(logits[c]) - double(logits[best]));
                }
                s.classes.push_back(best);
                s.probabilities.push_back(static_cast<float>(1.0 / sum));
                if (static_cast<int64_t>(s.target.size()) == positions &&
                    s.target[size_t(k)] != float(m_ignoreIndex)) {
                    ++counted;
                    correct += s.target[size_t(k)] == float(best) ? 1 : 0;
                }
            }
            out.samples.push_back(std::move(s));
        }
    }
    out.accuracy = counted ? double(correct) / double(counted)
                           : std::numeric_limits<double>::quiet_NaN();
    return out;
}

nlohmann::json predictionsToJson(const Predictions& p, const Preprocessing& preprocessing) {
    nlohmann::json j = {{"model", p.model},
                        {"device", p.device},
                        {"output", p.output},
                        {"output_shape", p.outputShape}};
    if (p.classes > 0) j["classes"] = p.classes;
    if (std::isfinite(p.accuracy)) j["accuracy"] = p.accuracy;
    const auto& names = preprocessing.classNames;
    const auto& vocab = preprocessing.vocabulary;
    // Token models predict vocabulary entries: show them as text.
    // A read-out may be wider than the vocabulary (char-lstm's 65 outputs over a corpus of 56
    // characters); the classes beyond it print as U+FFFD.
    const bool tokens = p.classes > 0 && names.empty() && !vocab.empty() &&
                        static_cast<int64_t>(vocab.size()) <= p.classes;
    const bool characters = std::all_of(vocab.begin(), vocab.end(),
                                        [](const auto& v) { return codePoints(v).size() == 1; });
    const bool perPosition = p.outputShape.size() > 1;
    nlohmann::json samples = nlohmann::json::array();
    for (size_t i = 0; i < p.samples.size(); ++i) {
        const SamplePrediction& s = p.samples[i];
        nlohmann::json e = {{"index", i}, {"output", nested(s.output.data(), p.outputShape, 0)}};
        if (!s.classes.empty()) {
            nlohmann::json probs = nlohmann::json::array();
            for (float v : s.probabilities) probs.push_back(number(v));
            if (perPosition) {
                e["class"] = s.classes;
                e["probability"] = probs;
            } else {
                e["class"] = s.classes[0];
                e["probability"] = probs[0];
                if (s.classes[0] < static_cast<int64_t>(names.size())) {
                    e["class_name"] = names[static_cast<size_t>(s.classes[0])];
                }
            }
            if (tokens) {
                std::string text;
                for (int64_t c : s.classes) {
                    if (!characters && !text.empty()) text += ' ';
                    text += c < static_cast<int64_t>(vocab.size())
                                ? vocab[static_cast<size_t>(c)]
                                : std::string("\xEF\xBF\xBD");
                }
                e["text"] = text;
            }
        }
        if (!s.target.empty()) {
            if (p.classes > 0) {
                std::vector<int64_t> labels;
                for (float v : s.target) labels.push_back(static_cast<int64_t>(v));
                e["label"] = perPosition ? nlohmann::json(labels) : nlohmann::json(labels[0]);
            } else {
                nlohmann::json t = nlohmann::json::array();
                for (float v : s.target) t.push_back(number(v));
                e["target"] = t;
            }
        }
        samples.push_back(std::move(e));
    }
    j["samples"] = std::move(samples);
    return j;
}

}  // namespace strata
