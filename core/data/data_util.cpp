#include "core/data/data_util.h"

#include <zlib.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <numbers>
#include <system_error>

namespace strata::data {

namespace fs = std::filesystem;

Error atByte(const fs::path& path, uint64_t offset, const std::string& reason) {
    return fail(path.string() + ": byte " + std::to_string(offset) + ": " + reason);
}

Error atLine(const fs::path& path, int64_t line, const std::string& reason) {
    return fail(path.string() + ": line " + std::to_string(line) + ": " + reason);
}

Result<std::vector<uint8_t>> readFileBytes(const fs::path& path) {
    std::error_code ec;
    if (!fs::exists(path, ec)) {
        return fail(path.string() + ": no such file; check the dataset source path");
    }
    if (fs::is_directory(path, ec)) {
        return fail(path.string() + ": is a folder, but a file was expected");
    }
    bool gzip = false;
    {
        std::ifstream probe(path, std::ios::binary);
        if (!probe) return fail(path.string() + ": cannot be opened for reading");
        unsigned char magic[2] = {0, 0};
        probe.read(reinterpret_cast<char*>(magic), 2);
        gzip = probe.gcount() == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    }
    std::vector<uint8_t> bytes;
    if (!gzip) {
        std::ifstream in(path, std::ios::binary);
        if (!in) return fail(path.string() + ": cannot be opened for reading");
        in.seekg(0, std::ios::end);
        const std::streamoff size = in.tellg();
        if (size < 0) return fail(path.string() + ": cannot be read");
        in.seekg(0, std::ios::beg);
        bytes.resize(static_cast<size_t>(size));
        if (size > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), size)) {
            return fail(path.string() + ": cannot be read");
        }
        return bytes;
    }
    gzFile f = gzopen(path.string().c_str(), "rb");
    if (!f) return fail(path.string() + ": cannot be opened for reading");
    constexpr unsigned kChunk = 1u << 20;
    for (;;) {
        const size_t at = bytes.size();
        bytes.resize(at + kChunk);
        const int got = gzread(f, bytes.data() + at, kChunk);
        if (got < 0) {
            int code = 0;
            const char* msg = gzerror(f, &code);
            std::string reason = msg ? msg : "unknown zlib error";
            gzclose(f);
            return fail(path.string() + ": the gzip data is damaged after byte " +
                        std::to_string(at) + " of the decompressed data (" + reason +
                        "); download the file again");
        }
        bytes.resize(at + static_cast<size_t>(got));
        if (got == 0) break;
    }
    // A stream cut short reads as end of file on some zlib versions; gzclose_r reports it.
    int code = 0;
    const char* msg = gzerror(f, &code);
    std::string reason = msg ? msg : "";
    const int closed = gzclose(f);
    if (code != Z_OK || closed != Z_OK) {
        return fail(path.string() + ": the gzip data ends early or is damaged after byte " +
                    std::to_string(bytes.size()) + " of the decompressed data" +
                    (reason.empty() ? "" : " (" + reason + ")") + "; download the file again");
    }
    return bytes;
}

// ---- options ----

namespace {

std::string spelled(std::initializer_list<const char*> names) {
    return std::string("'") + *names.begin() + "'";
}

}  // namespace

Result<void> Options::checkObject() const {
    if (!m_json.is_null() && !m_json.is_object()) {
        return fail("the dataset options must be a JSON object, not " + m_json.dump());
    }
    return {};
}

const nlohmann::json* Options::find(std::initializer_list<const char*> names) const {
    if (!m_json.is_object()) return nullptr;
    for (const char* n : names) {
        auto it = m_json.find(n);
        if (it != m_json.end() && !it->is_null()) return &*it;
    }
    return nullptr;
}

bool Options::has(std::initializer_list<const char*> names) const { return find(names) != nullptr; }

Result<int64_t> Options::integer(std::initializer_list<const char*> names, int64_t fallback,
                                 int64_t lo, int64_t hi) const {
    const nlohmann::json* v = find(names);
    if (!v) return fallback;
    int64_t x = 0;
    if (v->is_number_integer()) {
        x = v->get<int64_t>();
        if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(hi)) x = hi + 1;
    } else if (v->is_number_float() && std::floor(v->get<double>()) == v->get<double>() &&
               std::fabs(v->get<double>()) < 9e15) {
        x = static_cast<int64_t>(v->get<double>());
    } else {
        return fail("option " + spelled(names) + " must be a whole number, not " + v->dump());
    }
    if (x < lo || x > hi) {
        return fail("option " + spelled(names) + " is " + std::to_string(x) + " but must lie in " +
                    std::to_string(lo) + ".." + std::to_string(hi));
    }
    return x;
}

Result<uint64_t> Options::seed(std::initializer_list<const char*> names, uint64_t fallback) const {
    const nlohmann::json* v = find(names);
    if (!v) return fallback;
    if (v->is_number_unsigned()) return v->get<uint64_t>();
    if (v->is_number_integer() && v->get<int64_t>() >= 0) return v->get<uint64_t>();
    return fail("option " + spelled(names) + " must be a non-negative whole number, not " +
                v->dump());
}

Result<bool> Options::boolean(std::initializer_list<const char*> names, bool fallback) const {
    const nlohmann::json* v = find(names);
    if (!v) return fallback;
    if (!v->is_boolean()) {
        return fail("option " + spelled(names) + " must be true or false, not " + v->dump());
    }
    return v->get<bool>();
}

Result<std::string> Options::string(std::initializer_list<const char*> names,
                                    const std::string& fallback) const {
    const nlohmann::json* v = find(names);
    if (!v) return fallback;
    if (!v->is_string()) {
        return fail("option " + spelled(names) + " must be a string, not " + v->dump());
    }
    return v->get<std::string>();
}

Result<std::vector<std::string>> Options::strings(std::initializer_list<const char*> names) const {
    const nlohmann::json* v = find(names);
    std::vector<std::string> out;
    if (!v) return out;
    if (!v->is_array()) {
        return fail("option " + spelled(names) + " must be an array of strings");
    }
    for (const auto& e : *v) {
        if (!e.is_string()) {
            return fail("option " + spelled(names) + " must hold only strings, not " + e.dump());
        }
        out.push_back(e.get<std::string>());
    }
    return out;
}

// ---- random numbers ----

uint64_t Rng::next() {
    uint64_t z = (m_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

double Rng::uniform() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }

double Rng::uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

int64_t Rng::below(int64_t n) {
    // Rejection keeps every value equally likely.
    const uint64_t range = static_cast<uint64_t>(n);
    const uint64_t limit = UINT64_MAX - UINT64_MAX % range;
    uint64_t x = next();
    while (x >= limit) x = next();
    return static_cast<int64_t>(x % range);
}

double Rng::normal() {
    if (m_hasSpare) {
        m_hasSpare = false;
        return m_spare;
    }
    double u1 = uniform();
    while (u1 <= 0.0) u1 = uniform();
    const double u2 = uniform();
    const double r = std::sqrt(-2.0 * std::log(u1));
    m_spare = r * std::sin(2.0 * std::numbers::pi * u2);
    m_hasSpare = true;
    return r * std::cos(2.0 * std::numbers::pi * u2);
}

uint64_t mixSeed(uint64_t a, uint64_t b) {
    Rng r(a ^ (b * 0xd1b54a32d192ed03ull + 0x8cb92ba72f3d8dd7ull));
    r.next();
    return r.next();
}

// ---- shipped data ----

namespace {

fs::path executableDir() {
#ifdef __linux__
    std::error_code ec;
    fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) return exe.parent_path();
#endif
    return {};
}

}  // namespace

std::vector<fs::path> dataSearchPath(const fs::path& documentDir) {
    std::vector<fs::path> dirs;
    if (!documentDir.empty()) {
        dirs.push_back(documentDir);
        dirs.push_back(documentDir / "data");
        dirs.push_back(documentDir / ".." / "data");
    }
    if (const char* env = std::getenv("STRATA_DATA_DIR"); env && *env) dirs.emplace_back(env);
    if (fs::path exe = executableDir(); !exe.empty()) {
        dirs.push_back(exe / ".." / ".." / "samples" / "data");  // build/app/strata
        dirs.push_back(exe / ".." / "share" / "strata" / "data");  // installed bin/strata
    }
#ifdef STRATA_SAMPLES_DATA_DIR
    dirs.emplace_back(STRATA_SAMPLES_DATA_DIR);
#endif
    return dirs;
}

Result<fs::path> findDataFile(const std::string& fileName, const fs::path& documentDir) {
    std::string looked;
    for (const fs::path& dir : dataSearchPath(documentDir)) {
        std::error_code ec;
        fs::path p = dir / fileName;
        if (fs::is_regular_file(p, ec)) return p.lexically_normal();
        looked += (looked.empty() ? "" : ", ") + dir.lexically_normal().string();
    }
    return fail("cannot find the data file " + fileName + " (looked in " + looked +
                "); set STRATA_DATA_DIR to the folder that holds it (samples/data in the "
                "Strata sources)");
}

}  // namespace strata::data
