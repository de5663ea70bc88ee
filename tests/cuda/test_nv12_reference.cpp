// The CPU reference of the NV12 scaler (what the kernels are held to) and the
// argument checks; all run without a GPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <iostream>
#include <string>
#include <tuple>
#include <utility>

#include "nv12_test_util.hpp"
#include "slipstream/cuda/devices.hpp"
#include "slipstream/cuda/nv12_scaler.hpp"

namespace ss::cuda::test {
namespace {

struct Sizes {
    int sw, sh, dw, dh;
};

std::string name_of(const Sizes& s) {
    return std::to_string(s.sw) + "x" + std::to_string(s.sh) + "_to_" + std::to_string(s.dw) + "x" +
           std::to_string(s.dh);
}

void PrintTo(const Sizes& s, std::ostream* os) { *os << name_of(s); }

// Shrinking, enlarging, mixed, same size and the extremes.
const Sizes kSizes[] = {
    {1920, 1080, 740, 416}, {1280, 720, 200, 112}, {64, 64, 96, 96},  {640, 360, 1280, 720},
    {1920, 1080, 1920, 540}, {640, 720, 1280, 360}, {100, 60, 100, 60}, {2, 2, 64, 64},
    {1280, 720, 2, 2},       {30, 18, 28, 16},
};

TEST(Nv12Reference, ConstantImageStaysConstant) {
    for (const Sizes& s : kSizes) {
        SCOPED_TRACE(name_of(s));
        HostNv12 src(s.sw, s.sh, 3);
        src.fill([](int, int) { return std::uint8_t{37}; },
                 [](int, int, int c) { return std::uint8_t(c == 0 ? 90 : 201); });
        HostNv12 dst(s.dw, s.dh);
        scale_nv12_reference(src.frame(), dst.frame());
        for (int y = 0; y < s.dh; ++y)
            for (int x = 0; x < s.dw; ++x) ASSERT_EQ(dst.luma(x, y), 37) << x << "," << y;
        for (int y = 0; y < s.dh / 2; ++y)
            for (int x = 0; x < s.dw / 2; ++x) {
                ASSERT_EQ(dst.chroma(x, y, 0), 90) << x << "," << y;
                ASSERT_EQ(dst.chroma(x, y, 1), 201) << x << "," << y;
            }
    }
}

TEST(Nv12Reference, HalfSizeIsTheRoundedMeanOf2x2Blocks) {
    HostNv12 src(64, 48, 5);
    src.fill_random(1);
    HostNv12 dst(32, 24);
    scale_nv12_reference(src.frame(), dst.frame());
    for (int y = 0; y < 24; ++y)
        for (int x = 0; x < 32; ++x) {
            const int sum = src.luma(2 * x, 2 * y) + src.luma(2 * x + 1, 2 * y) +
                            src.luma(2 * x, 2 * y + 1) + src.luma(2 * x + 1, 2 * y + 1);
            ASSERT_EQ(dst.luma(x, y), (sum + 2) / 4) << x << "," << y;
        }
    for (int y = 0; y < 12; ++y)
        for (int x = 0; x < 16; ++x)
            for (int c = 0; c < 2; ++c) {
                const int sum = src.chroma(2 * x, 2 * y, c) + src.chroma(2 * x + 1, 2 * y, c) +
                                src.chroma(2 * x, 2 * y + 1, c) + src.chroma(2 * x + 1, 2 * y + 1, c);
                ASSERT_EQ(dst.chroma(x, y, c), (sum + 2) / 4) << x << "," << y << " c" << c;
            }
}

TEST(Nv12Reference, SameSizeCopiesExactly) {
    HostNv12 src(100, 60, 7, 0xEE);
    src.fill_random(2);
    HostNv12 dst(100, 60, 4, 0xAB);
    scale_nv12_reference(src.frame(), dst.frame());
    EXPECT_EQ(count_differences(src, dst), 0u);
    EXPECT_TRUE(dst.padding_is(0xAB));
}

class Nv12ReferenceGradient : public ::testing::TestWithParam<Sizes> {};

// A ramp along one axis (the other constant) must come out as a ramp: every
// row (or column) the same, never decreasing, within the source's range and
// reaching close to both of its ends.
TEST_P(Nv12ReferenceGradient, HorizontalAndVerticalRampsStayMonotonic) {
    const Sizes s = GetParam();
    for (const bool horizontal : {true, false}) {
        SCOPED_TRACE(horizontal ? "horizontal" : "vertical");
        auto ramp = [&](int x, int y, int w, int h) {
            const int i = horizontal ? x : y;
            const int n = horizontal ? w : h;
            return static_cast<std::uint8_t>((i * 255 + (n - 1) / 2) / (n - 1));
        };
        HostNv12 src(s.sw, s.sh, 2, 0xFF);
        src.fill([&](int x, int y) { return ramp(x, y, s.sw, s.sh); },
                 [&](int x, int y, int c) {
                     const std::uint8_t v = ramp(x, y, s.sw / 2, s.sh / 2);
                     return static_cast<std::uint8_t>(c == 0 ? v : 255 - v);  // V falls
                 });
        HostNv12 dst(s.dw, s.dh);
        scale_nv12_reference(src.frame(), dst.frame());

        // sample(i, j): value at position i along the ramp, j across it.
        auto check = [&](int along, int across, auto sample, bool rising, const char* what) {
            SCOPED_TRACE(what);
            for (int j = 0; j < across; ++j)
                for (int i = 0; i < along; ++i) {
                    ASSERT_EQ(sample(i, j), sample(i, 0)) << "not constant across, at " << i << "," << j;
                    if (i > 0) {
                        if (rising) ASSERT_GE(sample(i, j), sample(i - 1, j)) << "at " << i;
                        else ASSERT_LE(sample(i, j), sample(i - 1, j)) << "at " << i;
                    }
                }
            const int first = sample(0, 0), last = sample(along - 1, 0);
            EXPECT_LE(rising ? first : 255 - first, 3);
            EXPECT_GE(rising ? last : 255 - last, 252);
        };
        const int lw = horizontal ? s.dw : s.dh, lh = horizontal ? s.dh : s.dw;
        auto at = [&](int i, int j) { return horizontal ? std::pair(i, j) : std::pair(j, i); };
        check(lw, lh, [&](int i, int j) { auto [x, y] = at(i, j); return int(dst.luma(x, y)); }, true, "Y");
        check(lw / 2, lh / 2, [&](int i, int j) { auto [x, y] = at(i, j); return int(dst.chroma(x, y, 0)); },
              true, "U");
        check(lw / 2, lh / 2, [&](int i, int j) { auto [x, y] = at(i, j); return int(dst.chroma(x, y, 1)); },
              false, "V");
    }
}

INSTANTIATE_TEST_SUITE_P(OddFactors, Nv12ReferenceGradient,
                         ::testing::Values(Sizes{1920, 1080, 740, 416}, Sizes{1280, 720, 200, 112},
                                           Sizes{64, 64, 96, 96}),
                         [](const auto& info) { return name_of(info.param); });

// Bytes past the width: whatever they hold never reaches the result (same
// output as from a packed copy), and those of the destination stay untouched.
TEST(Nv12Reference, PitchesLargerThanTheWidthAreHonoured) {
    for (const Sizes& s : kSizes) {
        SCOPED_TRACE(name_of(s));
        HostNv12 packed(s.sw, s.sh);
        packed.fill_random(3);
        HostNv12 padded(s.sw, s.sh, 61, 0xFF);
        padded.fill([&](int x, int y) { return packed.luma(x, y); },
                    [&](int x, int y, int c) { return packed.chroma(x, y, c); });

        HostNv12 expected(s.dw, s.dh);
        scale_nv12_reference(packed.frame(), expected.frame());
        HostNv12 out(s.dw, s.dh, 9, 0xAB);
        scale_nv12_reference(padded.frame(), out.frame());
        EXPECT_EQ(count_differences(expected, out), 0u);
        EXPECT_TRUE(out.padding_is(0xAB));
        EXPECT_TRUE(padded.padding_is(0xFF));
    }
}

// The message a call with `change` applied to a valid pair throws.
template <class Call, class Change>
std::string error_of(Call call, Change change) {
    HostNv12 src(64, 48), dst(32, 24);
    Nv12Frame s = src.frame(), d = dst.frame();
    change(s, d);
    try {
        call(s, d);
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

void check_invalid_arguments(const std::string& who,
                             const std::function<void(const Nv12Frame&, const Nv12Frame&)>& call) {
    using F = Nv12Frame;
    const std::tuple<std::function<void(F&, F&)>, std::string> cases[] = {
        {[](F& s, F&) { s.y = nullptr; }, "source Y plane pointer is null"},
        {[](F& s, F&) { s.uv = nullptr; }, "source UV plane pointer is null"},
        {[](F&, F& d) { d.y = nullptr; }, "destination Y plane pointer is null"},
        {[](F&, F& d) { d.uv = nullptr; }, "destination UV plane pointer is null"},
        {[](F& s, F&) { s.width = 0; }, "source size 0x48 is not positive"},
        {[](F&, F& d) { d.height = -2; }, "destination size 32x-2 is not positive"},
        {[](F& s, F&) { s.width = 63; }, "source size 63x48 is odd"},
        {[](F&, F& d) { d.height = 23; }, "destination size 32x23 is odd"},
        {[](F& s, F&) { s.y_pitch = 60; }, "source Y pitch 60 is smaller than the width 64"},
        {[](F&, F& d) { d.uv_pitch = 31; }, "destination UV pitch 31 is smaller than the width 32"},
        {[](F& s, F&) { s.width = 20000; s.y_pitch = s.uv_pitch = 20000; },
         "source size 20000x48 is larger than 16384"},
    };
    for (const auto& [change, words] : cases) {
        const std::string message = error_of(call, change);
        EXPECT_EQ(message.rfind(who + ": ", 0), 0u) << message;
        EXPECT_NE(message.find(words), std::string::npos) << "wanted '" << words << "' in: " << message;
    }
}

TEST(Nv12Reference, InvalidArgumentsThrowErrorsThatSayWhatIsWrong) {
    check_invalid_arguments("scale_nv12_reference",
                            [](const Nv12Frame& s, const Nv12Frame& d) { scale_nv12_reference(s, d); });
}

// The scaler checks its arguments before any CUDA call, so this runs anywhere.
TEST(Nv12Scaler, InvalidArgumentsThrowErrorsThatSayWhatIsWrong) {
    Nv12Scaler scaler;
    check_invalid_arguments("Nv12Scaler::scale",
                            [&](const Nv12Frame& s, const Nv12Frame& d) { scaler.scale(s, d); });
}

TEST(Nv12Scaler, ConstructsAndDestructsWithoutTouchingTheGpu) {
    for (int i = 0; i < 3; ++i) Nv12Scaler scaler;
}

// Without a GPU a valid call must fail with an Error, not crash.
TEST(Nv12Scaler, WithoutAGpuScaleThrowsError) {
    if (!find_devices().list.empty()) GTEST_SKIP() << "a CUDA device is present";
    HostNv12 src(64, 48), dst(32, 24);
    Nv12Scaler scaler;
    try {
        scaler.scale(src.frame(), dst.frame());
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()).rfind("Nv12Scaler: ", 0), 0u) << e.what();
        std::cout << "as expected: " << e.what() << "\n";
    }
}

TEST(Devices, FindDevicesGivesDevicesOrAReason) {
    for (int i = 0; i < 2; ++i) {  // repeatable
        const Devices d = find_devices();
        EXPECT_EQ(d.list.empty(), !d.why_none.empty()) << d.why_none;
        if (d.list.empty()) {
            std::cout << "no device: " << d.why_none << "\n";
            EXPECT_LT(d.why_none.size(), 120u) << "not a short phrase: " << d.why_none;
        }
        for (const DeviceInfo& info : d.list) {
            std::cout << "GPU " << info.index << ": " << info.name << ", compute " << info.compute_major
                      << "." << info.compute_minor << ", " << (info.memory_bytes >> 20) << " MiB\n";
            EXPECT_FALSE(info.name.empty());
            EXPECT_GE(info.compute_major, 3);
            EXPECT_GT(info.memory_bytes, 0u);
        }
    }
}

}  // namespace
}  // namespace ss::cuda::test
