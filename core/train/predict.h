#pragma once
// Runs an exported model (a document with weights) on new samples: the same forward pass, in
// evaluation mode, with the preprocessing stored at export (normalisation, vocabulary), so that
// `strata predict` and the studio's Try-it panel give exactly what the trainer's evaluation gave.
//
//   auto p = Predictor::open("digits.trained.strata.json");
//   auto data = (*p)->readInput("some.csv");        // or (*p)->validationData()
//   auto result = (*p)->run(**data);                 // per sample: outputs, class, probability
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/data/dataset.h"
#include "core/engine/backend.h"
#include "core/engine/program.h"
#include "core/io/document.h"
#include "core/util/result.h"

namespace strata {

struct PredictorOptions {
    std::string device;     // empty: the document's training device
    int64_t batchSize = 0;  // 0: the document's training batch (the trainer's evaluation batches)
};

struct SamplePrediction {
    std::vector<float> output;         // the model's output for this sample, row-major
    std::vector<int64_t> classes;      // classifiers: the arg-max class, one per position
    std::vector<float> probabilities;  // softmax probability of that class, one per position
    std::vector<float> target;         // the sample's label or target when the data has one
};

struct Predictions {
    std::string model;                 // the document's name
    std::string device;                // the backend that ran it
    std::string output;                // the tensor that is the prediction ("fc.out")
    std::vector<int64_t> outputShape;  // per sample
    int64_t classes = 0;               // classifiers: the number of classes; 0 otherwise
    std::vector<SamplePrediction> samples;
    // Share of correctly classified positions when the data has labels; NaN otherwise.
    double accuracy = 0.0;
};

class Predictor {
public:
    // Reads an exported model; refuses a document that is not one (no weights) with its path.
    static Result<std::unique_ptr<Predictor>> open(const std::filesystem::path& path,
                                                   const PredictorOptions& options = {});
    // The same for a document in memory; documentDir resolves its dataset binding.
    static Result<std::unique_ptr<Predictor>> create(Document doc,
                                                     const std::filesystem::path& documentDir,
                                                     const PredictorOptions& options = {});
    ~Predictor();

    const Document& document() const { return m_doc; }
    std::string deviceName() const;
    // The fields the model reads (inputs that feed more than a loss target), raw: before
    // normalisation. Int32 fields carry token ids.
    const std::vector<FieldInfo>& inputs() const { return m_inputs; }
    // The field of the loss's target, when there is one (labels); read when the data has it.
    const std::string& targetField() const { return m_targetField; }
    int64_t classes() const { return m_classes; }
    const std::vector<int64_t>& outputShape() const { return m_outputShape; }

    // The bound data's validation split, exactly as training split it (raw samples).
    Result<std::shared_ptr<const Dataset>> validationData() const;
    // A prediction input file as raw samples under the model's field names: IDX images (plain or
    // .gz; labels beside it are read too), CSV (one sample per row; an extra last column is the
    // label), a text file (token models: characters, or whitespace-separated tokens one sample per
    // line, looked up in the stored vocabulary), or a JSON array of samples (numbers nested in the
    // input's sample shape, or objects by field name). Images are decoded by the application.
    Result<std::shared_ptr<const Dataset>> readInput(const std::filesystem::path& file) const;

    // Normalises the raw samples as at training, runs them in batches and returns the outputs.
    // limit > 0: only the first `limit` samples. Refuses data whose fields do not fit the model.
    Result<Predictions> run(const Dataset& raw, int64_t limit = 0);

private:
    Predictor() = default;
    Result<void> checkFits(const Dataset& raw) const;

    Document m_doc;
    std::filesystem::path m_dir;
    std::unique_ptr<Program> m_program;
    std::unique_ptr<Backend> m_backend;
    std::vector<FieldInfo> m_inputs;
    std::string m_targetField;
    TensorId m_output;
    std::vector<int64_t> m_outputShape;
    int64_t m_classes = 0, m_ignoreIndex = -100;
};

// Whether a file is an image the application decodes (PNG, JPEG, BMP by extension).
bool isImageFile(const std::filesystem::path& file);

// The JSON `strata predict` writes (docs/model-format.md, "Predictions"): model, device, output
// name and shape, and per sample the output nested in its shape, with the class, its name and
// probability for classifiers, the decoded text for token models, and the label when known.
nlohmann::json predictionsToJson(const Predictions& p, const Preprocessing& preprocessing);

}  // namespace strata
