#pragma once
// Small files written by the data tests themselves: a fresh temporary folder per test, raw and
// gzip bytes, text.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/data/dataset.h"

// The message names what the person must see (file, place, reason).
#define EXPECT_CONTAINS(text, part) \
    EXPECT_NE(std::string(text).find(part), std::string::npos) << "in: " << (text)

namespace strata::testdata {

inline std::filesystem::path freshDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    auto dir = std::filesystem::temp_directory_path() /
               ("strata_data_" + std::string(info->test_suite_name()) + "_" + info->name() + "_" +
                std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}

inline void writeBytes(const std::filesystem::path& p, const std::vector<uint8_t>& b) {
    std::ofstream out(p, std::ios::binary);
    out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

inline void writeText(const std::filesystem::path& p, const std::string& s) {
    std::ofstream out(p, std::ios::binary);
    out << s;
}

inline void writeGzip(const std::filesystem::path& p, const std::vector<uint8_t>& b) {
    gzFile f = gzopen(p.string().c_str(), "wb");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(gzwrite(f, b.data(), static_cast<unsigned>(b.size())), static_cast<int>(b.size()));
    gzclose(f);
}

// Every sample of one field, concatenated.
inline std::vector<float> all(const Dataset& d, const std::string& field) {
    auto info = d.field(field);
    EXPECT_TRUE(info.has_value()) << "no field " << field;
    if (!info) return {};
    std::vector<int64_t> idx(static_cast<size_t>(d.size()));
    for (size_t i = 0; i < idx.size(); ++i) idx[i] = static_cast<int64_t>(i);
    std::vector<float> out(static_cast<size_t>(d.size() * info->sampleSize()));
    d.gather(idx, field, out.data());
    return out;
}

}  // namespace strata::testdata
