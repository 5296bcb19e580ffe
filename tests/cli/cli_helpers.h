#pragma once
// Running the strata binary as a user does, shared by the CLI tests: a scratch folder, file
// reading, shell quoting, and `strata ARGS` with stdout and stderr captured separately.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

namespace strata::test {

namespace fs = std::filesystem;
inline const fs::path kSource = STRATA_SOURCE_DIR;

struct Outcome {
    int code = -1;
    std::string out;  // stdout
    std::string err;  // stderr
};

// A fresh folder under the system's temporary directory, removed with everything in it.
class TempDir {
public:
    TempDir() {
        m_path = fs::temp_directory_path() / ("strata_cli_test_" + std::to_string(::getpid()) +
                                              "_" + std::to_string(std::random_device{}()));
        fs::create_directories(m_path);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(m_path, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const fs::path& path() const { return m_path; }

private:
    fs::path m_path;
};

inline std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// Single-quoted for the shell.
inline std::string quoted(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

inline bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

// Runs `strata ARGS` from the source folder; stdout and stderr go through files in `scratch`.
inline Outcome runStrata(const std::string& args, const fs::path& scratch) {
    const fs::path out = scratch / "stdout", err = scratch / "stderr";
    const std::string cmd = "cd " + quoted(kSource.string()) + " && " + quoted(STRATA_BINARY) +
                            " " + args + " >" + quoted(out.string()) + " 2>" +
                            quoted(err.string());
    const int status = std::system(cmd.c_str());
    Outcome r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = slurp(out);
    r.err = slurp(err);
    return r;
}

inline Outcome runStrata(const std::string& args) {
    TempDir scratch;
    return runStrata(args, scratch.path());
}

}  // namespace strata::test
