#include "core/train/metrics.h"

#include <algorithm>

namespace strata {

namespace {
nlohmann::json number(double v) {
    return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json();
}
double readNumber(const nlohmann::json& j, const char* key) {
    return j.contains(key) && j[key].is_number() ? j[key].get<double>() : kNoValue;
}
}  // namespace

nlohmann::json toJson(const EpochMetrics& m) {
    nlohmann::json j = {{"epoch", m.epoch},
                        {"step", m.step},
                        {"train_loss", number(m.trainLoss)},
                        {"train_accuracy", number(m.trainAccuracy)},
                        {"val_loss", number(m.valLoss)},
                        {"val_accuracy", number(m.valAccuracy)},
                        {"seconds", m.seconds}};
    if (m.classes > 0) {
        j["confusion"] = m.confusion;
        j["classes"] = m.classes;
    }
    return j;
}

EpochMetrics epochMetricsFromJson(const nlohmann::json& j) {
    EpochMetrics m;
    m.epoch = j.value("epoch", int64_t{0});
    m.step = j.value("step", int64_t{0});
    m.trainLoss = readNumber(j, "train_loss");
    m.trainAccuracy = readNumber(j, "train_accuracy");
    m.valLoss = readNumber(j, "val_loss");
    m.valAccuracy = readNumber(j, "val_accuracy");
    m.seconds = j.value("seconds", 0.0);
    m.classes = j.value("classes", int64_t{0});
    if (j.contains("confusion")) m.confusion = j["confusion"].get<std::vector<int64_t>>();
    return m;
}

ClassifierScore::ClassifierScore(int64_t classes, int64_t ignoreIndex, bool keepConfusion)
    : m_classes(classes), m_ignore(ignoreIndex), m_keepConfusion(keepConfusion) {
    if (m_keepConfusion) m_confusion.assign(static_cast<size_t>(classes * classes), 0);
}

void ClassifierScore::add(std::span<const float> logits, std::span<const float> targets) {
    if (m_classes <= 0) return;
    const int64_t rows = std::min<int64_t>(static_cast<int64_t>(logits.size()) / m_classes,
                                           static_cast<int64_t>(targets.size()));
    for (int64_t r = 0; r < rows; ++r) {
        const int64_t t = std::lround(targets[static_cast<size_t>(r)]);
        const float* row = logits.data() + r * m_classes;  // (classes)
        const int64_t pred = std::max_element(row, row + m_classes) - row;
        if (m_keepConfusion) {
            m_predictions.push_back(static_cast<int32_t>(pred));
            m_targets.push_back(static_cast<int32_t>(t));
        }
        if (t == m_ignore || t < 0 || t >= m_classes) continue;
        ++m_counted;
        if (pred == t) ++m_correct;
        if (m_keepConfusion) ++m_confusion[static_cast<size_t>(t * m_classes + pred)];
    }
}

}  // namespace strata
