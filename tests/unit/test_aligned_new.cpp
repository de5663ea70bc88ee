// The executables' operator new (core/src/aligned_new.cpp): large blocks start
// on a cache line, and the global symbol that shared libraries bind to is it.
#include <dlfcn.h>

#include <array>
#include <cstdint>
#include <limits>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace {

bool on_cache_line(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 64 == 0; }

TEST(AlignedNew, LargeBlocksStartOnACacheLine) {
    // Small blocks in between move the heap's free space around, as a real
    // program's history would.
    std::vector<std::unique_ptr<char[]>> small;
    std::vector<std::unique_ptr<float[]>> large;
    for (std::size_t i = 0; i < 200; ++i) {
        small.emplace_back(new char[1 + i % 48]);
        const std::size_t floats = 1024 + i * 37;  // 4 KiB and up, odd sizes too
        large.emplace_back(new float[floats]);
        ASSERT_TRUE(on_cache_line(large.back().get())) << floats << " floats";
        large.back()[floats - 1] = 1.f;  // the whole block is usable
        if (i % 3 == 0) large.erase(large.begin());
    }
    std::vector<float> tensor(3 * 416 * 416);
    EXPECT_TRUE(on_cache_line(tensor.data()));
    auto one = std::make_unique<std::array<double, 1024>>();
    EXPECT_TRUE(on_cache_line(one.get()));
}

TEST(AlignedNew, SmallAndEmptyBlocksStillWork) {
    std::string text(100, 'x');
    text += text;
    EXPECT_EQ(text.size(), 200u);
    int* nothing = new int[0];
    EXPECT_NE(nothing, nullptr);
    delete[] nothing;
    void* single = ::operator new(8192, std::nothrow);
    ASSERT_NE(single, nullptr);
    EXPECT_TRUE(on_cache_line(single));
    ::operator delete(single, std::nothrow);
    int* nothrow = new (std::nothrow) int[8192];
    ASSERT_NE(nothrow, nullptr);
    EXPECT_TRUE(on_cache_line(nothrow));
    delete[] nothrow;
    // A size that rounding up to a cache line would wrap round is refused.
    volatile std::size_t huge = std::numeric_limits<std::size_t>::max() - 10;  // volatile: no compile-time warning
    EXPECT_EQ(::operator new(huge, std::nothrow), nullptr);
}

TEST(AlignedNew, GlobalSymbolIsTheExecutables) {
    // OpenCV reaches operator new through the global symbol; it must be the
    // executable's own, not libstdc++'s, or OpenCV's buffers stay unaligned.
    auto image_of = [](const void* address) {
        Dl_info info{};
        return dladdr(address, &info) ? info.dli_fbase : nullptr;
    };
    const void* executable = image_of(reinterpret_cast<const void*>(&on_cache_line));
    ASSERT_NE(executable, nullptr);
    EXPECT_EQ(image_of(dlsym(RTLD_DEFAULT, "_Znam")), executable);
    EXPECT_EQ(image_of(dlsym(RTLD_DEFAULT, "_Znwm")), executable);
}

}  // namespace
