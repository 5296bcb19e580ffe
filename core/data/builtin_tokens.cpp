// Token sequence tasks whose attention patterns are easy to read: reverse, sort, copy.
#include <algorithm>

#include "core/data/builtin.h"
#include "core/data/data_util.h"

namespace strata::builtin {

Result<std::shared_ptr<AnnotatedDataset>> tokenTask(const std::string& task,
                                                    const nlohmann::json& options) {
    data::Options opt(options);
    auto count = opt.integer({"count"}, 5000, 1, 10000000);
    if (!count) return count.error();
    auto seed = opt.seed({"seed"}, 0);
    if (!seed) return seed.error();
    auto length = opt.integer({"T", "length", "sequence_length"}, 16, 1, 100000);
    if (!length) return length.error();
    auto vocab = opt.integer({"vocab", "vocabulary_size"}, 16, 3, 1 << 20);
    if (!vocab) return vocab.error();
    const int64_t n = *count, t = *length, v = *vocab;

    const uint64_t taskSalt = task == "reverse" ? 1 : task == "sort" ? 2 : 3;
    data::Rng rng(data::mixSeed(*seed, 0x70c0 + taskSalt));
    Tensor tokens{Shape{n, t}};  // (N, T) ids in 1..V-1
    Tensor target{Shape{n, t}};  // (N, T)
    std::vector<float> seq(static_cast<size_t>(t));
    for (int64_t i = 0; i < n; ++i) {
        for (float& s : seq) s = static_cast<float>(1 + rng.below(v - 1));
        std::copy(seq.begin(), seq.end(), tokens.ptr() + i * t);
        if (task == "reverse") std::reverse(seq.begin(), seq.end());
        if (task == "sort") std::sort(seq.begin(), seq.end());
        std::copy(seq.begin(), seq.end(), target.ptr() + i * t);
    }
    std::map<std::string, Tensor> fields;
    fields.emplace("tokens", std::move(tokens));
    fields.emplace("target", std::move(target));
    DatasetNotes notes;
    notes.numClasses = {{"tokens", v}, {"target", v}};
    notes.vocabulary.push_back("<pad>");
    for (int64_t id = 1; id < v; ++id) notes.vocabulary.push_back(std::to_string(id));
    return AnnotatedDataset::create(std::move(fields),
                                    {{"tokens", DType::Int32}, {"target", DType::Int32}},
                                    std::move(notes));
}

}  // namespace strata::builtin
