#pragma once
// What training reports: per step (to the SpscRing), per epoch and rare events (to a queue and
// an optional callback), and classifier scoring (accuracy, confusion matrix).
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace strata {

struct StepMetrics {
    int64_t step = 0;   // optimizer steps done, 1-based
    int64_t epoch = 0;  // 0-based epoch of this step
    float loss = 0;
    float learningRate = 0;
    float gradNorm = 0;
    float samplesPerSecond = 0;
};

inline constexpr double kNoValue = std::numeric_limits<double>::quiet_NaN();

struct EpochMetrics {
    int64_t epoch = 0;  // 0-based
    int64_t step = 0;   // optimizer steps done at its end
    double trainLoss = kNoValue;
    double trainAccuracy = kNoValue;  // NaN when the loss is not a classifier's
    double valLoss = kNoValue;        // NaN without validation data
    double valAccuracy = kNoValue;
    int64_t classes = 0;             // confusion matrix side, 0 when none
    std::vector<int64_t> confusion;  // (classes, classes): row = target, column = prediction
    // Per validation row in dataset order, so a confusion cell can list its samples: the argmax
    // class and the target. A row is a sample, or one position of it for (N, T, C) logits
    // (rowsPerSample = T). Empty without a confusion matrix; never written to JSON.
    std::vector<int32_t> predictions, targets;  // (rows)
    int64_t rowsPerSample = 1;
    double seconds = 0;
};

nlohmann::json toJson(const EpochMetrics& m);
EpochMetrics epochMetricsFromJson(const nlohmann::json& j);

// Running accuracy and confusion matrix of argmax(logits) against class ids; targets equal to
// ignoreIndex (or outside [0, classes)) are not counted.
class ClassifierScore {
public:
    explicit ClassifierScore(int64_t classes = 0, int64_t ignoreIndex = -100,
                             bool keepConfusion = true);
    // logits (rows, classes), targets (rows) as exact floats.
    void add(std::span<const float> logits, std::span<const float> targets);
    int64_t counted() const { return m_counted; }
    int64_t correct() const { return m_correct; }
    double accuracy() const { return m_counted ? double(m_correct) / double(m_counted) : kNoValue; }
    int64_t classes() const { return m_classes; }
    const std::vector<int64_t>& confusion() const { return m_confusion; }
    // With keepConfusion, every row added in order (ignored targets included, as given).
    const std::vector<int32_t>& predictions() const { return m_predictions; }
    const std::vector<int32_t>& targets() const { return m_targets; }

private:
    int64_t m_classes, m_ignore;
    bool m_keepConfusion;
    std::vector<int32_t> m_predictions, m_targets;
    int64_t m_counted = 0, m_correct = 0;
    std::vector<int64_t> m_confusion;
};

struct AttentionSnapshot {
    std::string node;  // the multi_head_attention / transformer node
    int64_t step = 0;
    int64_t heads = 0, queries = 0, keys = 0;
    std::vector<float> probabilities;  // (heads, queries, keys), rows sum to 1
};

}  // namespace strata
