#pragma once
// Small pieces every reader and built-in set shares: reading a whole file (plain or gzip), typed
// reader options with clear refusals, a portable random generator, and the search for data files
// shipped with Strata (samples/data).
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/util/result.h"

namespace strata::data {

// The whole file, decompressed when it starts with the gzip magic bytes. Refuses a missing file,
// a folder, an unreadable file and a corrupt or truncated gzip stream, naming the file.
Result<std::vector<uint8_t>> readFileBytes(const std::filesystem::path& path);

// "<path>: byte <offset>: <reason>" and "<path>: line <n>: <reason>": the place of a fault.
Error atByte(const std::filesystem::path& path, uint64_t offset, const std::string& reason);
Error atLine(const std::filesystem::path& path, int64_t line, const std::string& reason);

// Reader options (DatasetBinding::options). Each getter accepts several spellings of one option
// (the first is the documented one) and refuses a value of the wrong type or out of range.
class Options {
public:
    explicit Options(const nlohmann::json& options) : m_json(options) {}
    Result<void> checkObject() const;
    bool has(std::initializer_list<const char*> names) const;
    const nlohmann::json* find(std::initializer_list<const char*> names) const;

    Result<int64_t> integer(std::initializer_list<const char*> names, int64_t fallback,
                            int64_t lo, int64_t hi) const;
    Result<uint64_t> seed(std::initializer_list<const char*> names, uint64_t fallback) const;
    Result<bool> boolean(std::initializer_list<const char*> names, bool fallback) const;
    Result<std::string> string(std::initializer_list<const char*> names,
                               const std::string& fallback) const;
    Result<std::vector<std::string>> strings(std::initializer_list<const char*> names) const;

private:
    const nlohmann::json& m_json;
};

// SplitMix64: the same numbers on every platform and compiler (the standard library's
// distributions are implementation-defined), so a seed names one data set everywhere.
class Rng {
public:
    explicit Rng(uint64_t seed) : m_state(seed) {}
    uint64_t next();
    double uniform();                        // [0, 1)
    double uniform(double lo, double hi);    // [lo, hi)
    int64_t below(int64_t n);                // [0, n), n > 0
    double normal();                         // N(0, 1)

private:
    uint64_t m_state;
    bool m_hasSpare = false;
    double m_spare = 0.0;
};

// Mixes several numbers into one seed (seed, epoch) -> a stream independent of its neighbours.
uint64_t mixSeed(uint64_t a, uint64_t b);

// Where data shipped with Strata is looked for, in order: the document's folder (and its data/
// and ../data/ subfolders), $STRATA_DATA_DIR, samples/data beside the executable (build tree or
// install), and the source tree's samples/data baked in at build time.
std::vector<std::filesystem::path> dataSearchPath(const std::filesystem::path& documentDir);
Result<std::filesystem::path> findDataFile(const std::string& fileName,
                                           const std::filesystem::path& documentDir);

}  // namespace strata::data
