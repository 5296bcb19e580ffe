// Arenas, the staging ring and the pipeline cache file.
#include <cstdlib>
#include <filesystem>

#include "gpu/ops/activation.h"
#include "gpu_fixture.h"

namespace strata::gpu::test {
namespace {

TEST_F(GpuTest, AnAbsurdArenaIsASentenceNotACrash) {
    auto a = MemoryArena::create(dev(), "activations", 1ull << 40);  // 1 TiB
    ASSERT_FALSE(a);
    const std::string& m = a.message();
    EXPECT_NE(m.find("The activations arena needs 1.0 TiB of device memory"), std::string::npos)
        << m;
    EXPECT_NE(m.find(dev().info().name), std::string::npos) << m;
    EXPECT_NE(m.find("try a smaller batch size"), std::string::npos) << m;
}

TEST_F(GpuTest, AFullArenaSaysWhatWasAskedAndWhatIsLeft) {
    MemoryArena& a = arena(4096);
    ASSERT_TRUE(a.allocate(3000, "weights of 'linear1'"));
    auto r = a.allocate(2000, "output of 'relu1'");
    ASSERT_FALSE(r);
    EXPECT_NE(r.message().find("output of 'relu1' needs 2.0 KiB"), std::string::npos)
        << r.message();
    EXPECT_NE(r.message().find("smaller batch"), std::string::npos) << r.message();
}

TEST_F(GpuTest, AllocationsRespectBindingAlignment) {
    MemoryArena& a = arena(1 << 16);
    for (uint64_t bytes : {4, 12, 100, 4, 1000}) {
        auto r = a.allocate(bytes, "t");
        ASSERT_TRUE(r);
        EXPECT_EQ(r->offset % dev().info().minStorageBufferOffsetAlignment, 0u);
        EXPECT_EQ(r->offset % dev().info().minTexelBufferOffsetAlignment, 0u);
    }
}

TEST_F(GpuTest, StagingCarriesDataLargerThanTheRingBothWays) {
    const auto data = randomFloats((5 << 20) / 4 + 3, 4);  // > the 4 MiB test ring
    const BufferRange r = upload(data);
    EXPECT_EQ(download(r), data);
}

TEST_F(GpuTest, PipelineCacheIsSavedPerDeviceUnderXdgCacheHome) {
    const auto dir = std::filesystem::temp_directory_path() / ("strata-cache-" +
                                                                std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    const char* old = std::getenv("XDG_CACHE_HOME");
    const std::string saved = old ? old : "";
    ::setenv("XDG_CACHE_HOME", dir.c_str(), 1);
    std::filesystem::path file;
    {
        auto cache = PipelineCache::create(dev());
        ASSERT_TRUE(cache);
        EXPECT_FALSE((*cache)->loadedFromDisk());
        file = (*cache)->file();
        const KernelLayout k{"activation_fwd",
                             {VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER},
                             36};
        auto p1 = (*cache)->get(k);
        auto p2 = (*cache)->get(k);
        ASSERT_TRUE(p1 && p2);
        EXPECT_EQ(*p1, *p2) << "created once, then reused";
        EXPECT_EQ((*cache)->pipelineCount(), 1u);
        auto missing = (*cache)->get({"no_such_shader", {}, 0});
        EXPECT_FALSE(missing);
    }
    if (old) {
        ::setenv("XDG_CACHE_HOME", saved.c_str(), 1);
    } else {
        ::unsetenv("XDG_CACHE_HOME");
    }
    EXPECT_EQ(file.parent_path(), dir / "strata");
    EXPECT_NE(file.filename().string().find(std::to_string(dev().info().driverVersion)),
              std::string::npos);
    EXPECT_TRUE(std::filesystem::exists(file)) << file;
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace strata::gpu::test
