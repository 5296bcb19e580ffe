// strata bench --workload / --profile: the result lines scripts/bench.sh reads, the per-op
// profile, and the sentences for a workload or device that does not exist.
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <sstream>

#include "cli/cli_helpers.h"

namespace strata::test {
namespace {

// "W1 mlp samples_per_s=1 peak_device_mb=2 ..." -> {"samples_per_s": "1", ...}, keyed by "W1".
std::map<std::string, std::map<std::string, std::string>> resultLines(const std::string& out) {
    std::map<std::string, std::map<std::string, std::string>> lines;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) {
        std::istringstream words(line);
        std::string id, name, item;
        words >> id >> name;
        auto& fields = lines[id + " " + name];
        while (words >> item) {
            const size_t eq = item.find('=');
            if (eq != std::string::npos) fields[item.substr(0, eq)] = item.substr(eq + 1);
        }
    }
    return lines;
}

double number(const std::map<std::string, std::string>& fields, const std::string& key) {
    auto it = fields.find(key);
    if (it == fields.end()) return -1;
    try {
        return std::stod(it->second);
    } catch (...) {
        return -1;
    }
}

TEST(BenchCli, AWorkloadPrintsOneLineWithItsThreeFiguresAndTheMemoryTarget) {
    const auto r = runStrata("bench --workload W1 --steps 2 --warmup 1 --device cpu");
    ASSERT_EQ(r.code, 0) << r.err;
    const auto lines = resultLines(r.out);
    ASSERT_EQ(lines.size(), 1u) << "stdout holds the result line only: " << r.out;
    ASSERT_TRUE(lines.count("W1 mlp")) << r.out;
    const auto& f = lines.at("W1 mlp");
    EXPECT_GT(number(f, "samples_per_s"), 0.0) << r.out;
    EXPECT_GT(number(f, "peak_device_mb"), 0.0) << r.out;
    // 6 forward ops, 6 backward ops and one optimizer update over the whole arena.
    EXPECT_EQ(number(f, "dispatches_per_step"), 13.0) << r.out;
    // At least parameters, gradients and momentum: 3 x 269,322 floats = 3.08 MiB.
    EXPECT_GT(number(f, "memory_need_mb"), 3.08) << r.out;
    EXPECT_GT(number(f, "memory_ratio"), 0.0) << r.out;
    EXPECT_TRUE(contains(r.err, "last loss")) << r.err;
}

TEST(BenchCli, AllRunsTheFourWorkloadsInOrder) {
    const auto r = runStrata("bench --workload all --steps 1 --warmup 0 --device cpu");
    ASSERT_EQ(r.code, 0) << r.err;
    std::regex line(R"(^W([1-4]) \w+ samples_per_s=[0-9.]+ peak_device_mb=[0-9.]+ )"
                    R"(dispatches_per_step=[0-9]+ )");
    std::istringstream in(r.out);
    int expected = 1;
    for (std::string l; std::getline(in, l); ++expected) {
        std::smatch m;
        ASSERT_TRUE(std::regex_search(l, m, line)) << l;
        EXPECT_EQ(m[1].str(), std::to_string(expected));
    }
    EXPECT_EQ(expected, 5) << r.out;
}

TEST(BenchCli, TheProfileListsEveryOpSortedWithSharesOfTheStep) {
    const auto r = runStrata("bench --profile W1 --steps 2 --warmup 1 --device cpu");
    ASSERT_EQ(r.code, 0) << r.err;
    std::regex row(R"(^\s*(-?[0-9.]+)\s+(-?[0-9.]+)%\s+(.+)$)");
    std::istringstream in(r.out);
    double shares = 0, previous = 1e300;
    std::vector<std::string> ops;
    for (std::string l; std::getline(in, l);) {
        std::smatch m;
        if (!std::regex_match(l, m, row)) continue;
        shares += std::stod(m[2].str());
        const std::string op = m[3].str();
        ops.push_back(op);
        if (op.starts_with("(")) continue;  // the time outside the ops comes last
        const double ms = std::stod(m[1].str());
        EXPECT_LE(ms, previous) << "sorted, slowest first: " << r.out;
        previous = ms;
    }
    EXPECT_NEAR(shares, 100.0, 1.0) << r.out;
    for (const char* op : {"fc1 forward", "fc1 backward", "loss forward", "relu2 backward",
                           "optimizer"}) {
        EXPECT_NE(std::find(ops.begin(), ops.end(), op), ops.end()) << op << " in " << r.out;
    }
    EXPECT_EQ(ops.size(), 14u) << "12 ops, the optimizer and the rest: " << r.out;
}

TEST(BenchCli, AnUnknownWorkloadOrDeviceIsRefusedWithASentence) {
    auto r = runStrata("bench --workload W9 --device cpu");
    EXPECT_EQ(r.code, 2);
    EXPECT_TRUE(contains(r.err, "there is no workload 'W9'; the workloads are W1, W2, W3 and W4"))
        << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
    r = runStrata("bench --profile all");
    EXPECT_EQ(r.code, 2);
    EXPECT_TRUE(contains(r.err, "there is no workload 'all'")) << r.err;
    r = runStrata("bench --workload W1 --device tpu");
    EXPECT_EQ(r.code, 2);
    EXPECT_TRUE(contains(r.err, "there is no device 'tpu'; use cpu, vulkan, vulkan:N or auto"))
        << r.err;
    r = runStrata("bench --workload W1 --steps zero");
    EXPECT_EQ(r.code, 2);
    EXPECT_TRUE(contains(r.err, "--steps takes a whole number")) << r.err;
}

}  // namespace
}  // namespace strata::test
