// The host-side logic of slipstream/cuda/ops.hpp, no GPU needed: shape
// helpers, dim collapsing, pooled sizes, and the argument checks, which all
// throw before any CUDA call (so they run here, where a launch would fail).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ops_reference.hpp"
#include "slipstream/cuda/ops.hpp"

namespace ss::cuda::test {
namespace {

using namespace ss::cuda::ops;

TEST(OpsShapes, ShapeHoldsUpToSixDims) {
    const Shape s{2, 3, 4};
    EXPECT_EQ(s.rank, 3);
    EXPECT_EQ(s[2], 4);
    EXPECT_EQ(Shape(std::vector<std::int64_t>{1, 2, 3, 4, 5, 6}).rank, 6);
    EXPECT_EQ(Shape{}.rank, 0);
    EXPECT_THROW(Shape({1, 2, 3, 4, 5, 6, 7}), Error);
    EXPECT_THROW(Shape(std::vector<std::int64_t>(7, 1)), Error);
    EXPECT_EQ(Shape({1, 2}), Shape({1, 2}));
    EXPECT_NE(Shape({1, 2}), Shape({1, 2, 1}));
}

TEST(OpsShapes, ElementCountAndRowMajorStrides) {
    EXPECT_EQ(element_count(Shape{}), 1);
    EXPECT_EQ(element_count({2, 3, 0}), 0);
    EXPECT_EQ(element_count({1, 80, 80, 64}), 409600);
    EXPECT_THROW(element_count({2, -1}), Error);
    EXPECT_THROW(element_count({std::int64_t{1} << 40, std::int64_t{1} << 40}), Error);
    EXPECT_EQ(row_major_strides({2, 3, 4}), Shape({12, 4, 1}));
    EXPECT_EQ(row_major_strides({5}), Shape({1}));
    EXPECT_EQ(row_major_strides(Shape{}), Shape{});
    EXPECT_EQ(element_size(ElementType::f16), 2u);
    EXPECT_EQ(element_size(ElementType::f32), 4u);
}

TEST(OpsShapes, CollapseMergesDenseRuns) {
    // A dense copy is one flat run.
    Shape dims{2, 3, 4, 5}, a = row_major_strides(dims), b = row_major_strides(dims);
    collapse_dims(dims, {&a, &b});
    EXPECT_EQ(dims, Shape({120}));
    EXPECT_EQ(a, Shape({1}));
    EXPECT_EQ(b, Shape({1}));
}

TEST(OpsShapes, CollapseNchwToNhwcKeepsTheTranspose) {
    // Iterated in NHWC order [N,H,W,C], read from NCHW: H and W merge, C and
    // N stay apart.
    const std::int64_t n = 2, c = 80, h = 20, w = 30;
    Shape dims{n, h, w, c}, in{c * h * w, w, 1, h * w}, out{h * w * c, w * c, c, 1};
    collapse_dims(dims, {&in, &out});
    EXPECT_EQ(dims, Shape({n, h * w, c}));
    EXPECT_EQ(in, Shape({c * h * w, 1, h * w}));
    EXPECT_EQ(out, Shape({h * w * c, c, 1}));
}

TEST(OpsShapes, CollapseDropsOnesAndMergesBroadcasts) {
    // [1,C,1,1] bias against NHWC [N,H,W,C]: N,H,W merge (0 strides merge too).
    Shape dims{2, 13, 17, 80}, a = row_major_strides(dims), b{0, 0, 0, 1};
    collapse_dims(dims, {&a, &b});
    EXPECT_EQ(dims, Shape({2 * 13 * 17, 80}));
    EXPECT_EQ(a, Shape({80, 1}));
    EXPECT_EQ(b, Shape({0, 1}));

    Shape ones{1, 1, 1}, s{5, 6, 7};
    collapse_dims(ones, {&s});
    EXPECT_EQ(ones, Shape{});
    EXPECT_EQ(s, Shape{});

    // Reversed traversal merges like a forward one.
    Shape rev{9, 41}, rs{-41, -1}, ro{41, 1};
    collapse_dims(rev, {&rs, &ro});
    EXPECT_EQ(rev, Shape({369}));
    EXPECT_EQ(rs, Shape({-1}));

    // A concat slab: the channel run does not merge with the pixels.
    Shape slab{2, 11, 13, 24}, si = row_major_strides(slab), so{11 * 13 * 36, 13 * 36, 36, 1};
    collapse_dims(slab, {&si, &so});
    EXPECT_EQ(slab, Shape({2 * 11 * 13, 24}));
    EXPECT_EQ(so, Shape({36, 1}));

    Shape bad{2, 3}, short_strides{1};
    EXPECT_THROW(collapse_dims(bad, {&short_strides}), Error);
}

TEST(OpsShapes, PooledSize) {
    EXPECT_EQ(pooled_size(20, 5, 1, 2, 2, false), 20);  // SPPF
    EXPECT_EQ(pooled_size(15, 2, 2, 0, 0, false), 7);
    EXPECT_EQ(pooled_size(15, 2, 2, 0, 0, true), 8);
    EXPECT_EQ(pooled_size(13, 2, 1, 0, 1, false), 13);
    // ceil_mode drops a last window that would start in the end padding.
    EXPECT_EQ(pooled_size(11, 2, 2, 1, 1, true), 6);
    EXPECT_EQ(pooled_size(9, 3, 3, 2, 0, true), 4);
    EXPECT_THROW(pooled_size(2, 5, 1, 0, 0, false), Error);
    EXPECT_THROW(pooled_size(10, 0, 1, 0, 0, false), Error);
    EXPECT_THROW(pooled_size(10, 2, 1, -1, 0, false), Error);
}

// Host f16 rounding used by the references: round to nearest even, overflow to inf.
TEST(OpsReference, HalfRounding) {
    EXPECT_EQ(round_to(ElementType::f16, 1.f), 1.f);
    EXPECT_EQ(round_to(ElementType::f16, 65504.f), 65504.f);
    EXPECT_TRUE(std::isinf(round_to(ElementType::f16, 65520.f)));
    // One f16 ulp at 1 is 1/1024.
    EXPECT_EQ(round_to(ElementType::f16, 1.f + 1.f / 2048), 1.f);               // a tie: to even (down)
    EXPECT_EQ(round_to(ElementType::f16, 1.f + 3.f / 2048), 1.f + 2.f / 1024);  // a tie: to even (up)
    EXPECT_EQ(round_to(ElementType::f16, 1.f + 3.f / 4096), 1.f + 1.f / 1024);  // nearest
    EXPECT_EQ(round_to(ElementType::f32, 0.1f), 0.1f);
}

TEST(OpsReference, ResizeHalfPixelByHand) {
    const std::vector<double> got = resize_nhwc_ref(ResizeMode::linear_half_pixel, {1.f, 2.f}, 1, 1, 1, 2, 1, 4);
    EXPECT_EQ(got, (std::vector<double>{1, 1.25, 1.75, 2}));
    const std::vector<double> ac = resize_nhwc_ref(ResizeMode::linear_align_corners, {1.f, 2.f}, 1, 1, 1, 2, 1, 3);
    EXPECT_EQ(ac, (std::vector<double>{1, 1.5, 2}));
    const std::vector<double> nn =
        resize_nhwc_ref(ResizeMode::nearest_asymmetric_floor, {1.f, 2.f, 3.f}, 1, 1, 1, 3, 1, 6);
    EXPECT_EQ(nn, (std::vector<double>{1, 1, 2, 2, 3, 3}));
}

// Calls `f` and expects an Error whose message names the op and contains `words`.
void expect_error(const std::function<void()>& f, const std::string& op, const std::string& words) {
    try {
        f();
        ADD_FAILURE() << "no error; expected '" << words << "'";
    } catch (const Error& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("ss::cuda::ops::" + op + ":"), std::string::npos) << what;
        EXPECT_NE(what.find(words), std::string::npos) << what;
    }
}

// Never dereferenced: every call below fails its checks before a launch.
void* const fake = reinterpret_cast<void*>(std::uintptr_t{0x10000});
constexpr cudaStream_t no_stream = nullptr;
const ElementType f16 = ElementType::f16;
const ElementType f32 = ElementType::f32;

TEST(OpsChecks, StridedCopy) {
    const Src in{fake, f32, 100};
    const Dst out{fake, f16, 100};
    const Dst other{reinterpret_cast<char*>(fake) + 4096, f16, 100};
    expect_error([&] { strided_copy({nullptr, f32, 100}, 0, {1}, other, 0, {1}, {10}, no_stream); }, "strided_copy",
                 "in is null");
    expect_error([&] { strided_copy(in, 0, {1}, {nullptr, f16, 10}, 0, {1}, {10}, no_stream); }, "strided_copy",
                 "out is null");
    expect_error([&] { strided_copy(in, 0, {1, 1}, other, 0, {1}, {10}, no_stream); }, "strided_copy",
                 "in_strides has 2 strides for 1 dims");
    Shape seven;
    seven.rank = 7;
    expect_error([&] { strided_copy(in, 0, seven, other, 0, seven, seven, no_stream); }, "strided_copy",
                 "rank 7");
    expect_error([&] { strided_copy(in, 0, {10, 1}, other, 0, {10, 1}, {11, 10}, no_stream); }, "strided_copy",
                 "in reaches elements 0..109 of a buffer of 100");
    expect_error([&] { strided_copy(in, 5, {-1}, other, 0, {1}, {10}, no_stream); }, "strided_copy",
                 "in reaches elements -4..5");
    expect_error([&] { strided_copy(in, 0, {1}, other, 95, {1}, {10}, no_stream); }, "strided_copy",
                 "out reaches elements 95..104");
    expect_error([&] { strided_copy(in, 0, {1}, other, 0, {0}, {10}, no_stream); }, "strided_copy",
                 "would all write one place");
    expect_error([&] { strided_copy(in, 0, {1}, out, 0, {1}, {10}, no_stream); }, "strided_copy",
                 "in and out overlap");
    // One allocation, offsets whose bytes overlap (in: floats 10..19 = bytes 40..79, out: halves 30..39 = bytes 60..79).
    expect_error([&] { strided_copy(in, 10, {1}, out, 30, {1}, {10}, no_stream); }, "strided_copy",
                 "in and out overlap");
    expect_error([&] { strided_copy(in, 0, {1}, other, 0, {1}, {-2}, no_stream); }, "strided_copy", "negative");
    // Nothing to copy: no checks of the pointers, no CUDA call.
    EXPECT_NO_THROW(strided_copy({nullptr, f32, 0}, 0, {1, 1}, {nullptr, f16, 0}, 0, {1, 1}, {0, 5}, no_stream));
}

TEST(OpsChecks, UnaryConvertFill) {
    expect_error([&] { unary(UnaryOp::relu, 0, {fake, f16, 10}, {fake, f16, 11}, no_stream); }, "unary",
                 "in has 10 elements, out 11");
    expect_error([&] { unary(UnaryOp::relu, 0, {nullptr, f16, 10}, {fake, f16, 10}, no_stream); }, "unary",
                 "in is null");
    expect_error([&] { unary(UnaryOp::relu, 0, {fake, f16, 10}, {fake, f32, 10}, no_stream); }, "unary",
                 "different element types");
    expect_error([&] { convert({fake, f32, 10}, {fake, f16, 10}, no_stream); }, "convert", "in and out overlap");
    expect_error([&] { convert({fake, f32, 10}, {fake, f16, 9}, no_stream); }, "convert", "must be equal");
    expect_error([&] { fill({nullptr, f16, 10}, 0.f, no_stream); }, "fill", "out is null");
    EXPECT_NO_THROW(unary(UnaryOp::exp, 0, {nullptr, f16, 0}, {nullptr, f16, 0}, no_stream));
    EXPECT_NO_THROW(fill({nullptr, f16, 0}, 1.f, no_stream));
}

TEST(OpsChecks, Binary) {
    const Src a{fake, f16, 2 * 4 * 4 * 8};
    const Src bias{reinterpret_cast<char*>(fake) + 4096, f32, 8};
    void* o = reinterpret_cast<char*>(fake) + 8192;
    const Shape dims{2, 4, 4, 8};
    const Shape dense = row_major_strides(dims);
    expect_error([&] { binary(BinaryOp::add, a, dense, bias, {0, 0, 1}, {o, f16, 256}, dims, no_stream); }, "binary",
                 "b_strides has 3 strides for 4 dims");
    expect_error([&] { binary(BinaryOp::add, a, dense, bias, {0, 0, 1, 1}, {o, f16, 256}, dims, no_stream); },
                 "binary", "b reaches elements 0..10 of a buffer of 8");
    expect_error([&] { binary(BinaryOp::add, a, dense, bias, {0, 0, 0, 1}, {o, f16, 255}, dims, no_stream); },
                 "binary", "out has 255 elements, 256 needed");
    expect_error([&] { binary(BinaryOp::add, a, dense, {nullptr, f32, 8}, {0, 0, 0, 1}, {o, f16, 256}, dims, no_stream); },
                 "binary", "b is null");
    // out may alias a only where a is read densely, with out's type.
    expect_error([&] { binary(BinaryOp::add, a, {0, 0, 0, 1}, bias, {0, 0, 0, 1}, {fake, f16, 256}, dims, no_stream); },
                 "binary", "out is operand a's buffer");
    expect_error([&] { binary(BinaryOp::add, a, dense, bias, {0, 0, 0, 1}, {fake, f32, 256}, dims, no_stream); },
                 "binary", "out is operand a's buffer");
    EXPECT_NO_THROW(binary(BinaryOp::mul, {nullptr, f16, 0}, {0, 1}, {nullptr, f16, 0}, {0, 1}, {nullptr, f16, 0},
                           {0, 3}, no_stream));
}

TEST(OpsChecks, ResizeAndMaxPool) {
    const Src in{fake, f16, 2 * 3 * 4 * 5};
    const Dst out{reinterpret_cast<char*>(fake) + 4096, f16, 2 * 3 * 8 * 10};
    expect_error([&] { resize_nhwc(ResizeMode::linear_half_pixel, in, out, 2, 3, 4, 6, 8, 10, no_stream); },
                 "resize_nhwc", "in has 120 elements, 144 needed");
    expect_error([&] { resize_nhwc(ResizeMode::linear_half_pixel, in, out, 2, 3, 4, 5, 8, 11, no_stream); },
                 "resize_nhwc", "out has 480 elements, 528 needed");
    expect_error([&] { resize_nhwc(ResizeMode::linear_half_pixel, in, out, 2, 3, 0, 5, 8, 10, no_stream); },
                 "resize_nhwc", "empty input");
    expect_error([&] { resize_nhwc(ResizeMode::linear_half_pixel, in, {fake, f16, 480}, 2, 3, 4, 5, 8, 10, no_stream); },
                 "resize_nhwc", "in and out overlap");
    expect_error([&] { resize_nhwc(static_cast<ResizeMode>(9), in, out, 2, 3, 4, 5, 8, 10, no_stream); },
                 "resize_nhwc", "unknown mode");

    const Dst pooled{reinterpret_cast<char*>(fake) + 4096, f16, 2 * 3 * 4 * 5};
    expect_error([&] { maxpool_nhwc(in, pooled, 2, 3, 4, 5, 4, 5, {3, 3, 1, 1, 3, 1, 1, 1}, no_stream); },
                 "maxpool_nhwc", "first window lies in the padding");
    expect_error([&] { maxpool_nhwc(in, pooled, 2, 3, 4, 5, 4, 6, {1, 1, 1, 1, 0, 0, 0, 0}, no_stream); },
                 "maxpool_nhwc", "last window starts past the input");
    expect_error([&] { maxpool_nhwc(in, pooled, 2, 3, 4, 5, 4, 5, {3, 3, 0, 1, 1, 1, 1, 1}, no_stream); },
                 "maxpool_nhwc", "must be positive");
    expect_error([&] { maxpool_nhwc(in, pooled, 2, 3, 4, 5, 4, 5, {3, 3, 1, 1, 1, -1, 1, 1}, no_stream); },
                 "maxpool_nhwc", "must not be negative");
    expect_error([&] { maxpool_nhwc(in, {pooled.data, f16, 100}, 2, 3, 4, 5, 4, 5, {3, 3, 1, 1, 1, 1, 1, 1}, no_stream); },
                 "maxpool_nhwc", "out has 100 elements, 120 needed");
}

TEST(OpsChecks, SoftmaxAndMatmul) {
    expect_error([&] { softmax({fake, f16, 100}, {fake, f32, 100}, 2, 5, 10, no_stream); }, "softmax",
                 "different element types");
    expect_error([&] { softmax({fake, f16, 99}, {fake, f16, 100}, 2, 5, 10, no_stream); }, "softmax",
                 "in has 99 elements, 100 needed");
    expect_error([&] { softmax({fake, f16, 100}, {fake, f16, 100}, 2, -5, 10, no_stream); }, "softmax", "negative");

    char* base = static_cast<char*>(fake);
    const Src a{base, f16, 2 * 3 * 4};
    const Src b{base + 4096, f32, 4 * 5};
    const Dst out{base + 8192, f32, 2 * 3 * 5};
    expect_error([&] { matmul(a, 13, b, 0, out, 2, 3, 5, 4, no_stream); }, "matmul", "a reaches elements 0..24");
    expect_error([&] { matmul(a, 12, b, 20, out, 2, 3, 5, 4, no_stream); }, "matmul", "b reaches elements 0..39");
    expect_error([&] { matmul(a, 12, b, 0, {out.data, f32, 29}, 2, 3, 5, 4, no_stream); }, "matmul",
                 "out has 29 elements, 30 needed");
    expect_error([&] { matmul(a, -1, b, 0, out, 2, 3, 5, 4, no_stream); }, "matmul", "must not be negative");
    expect_error([&] { matmul(a, 12, b, 0, {base, f32, 30}, 2, 3, 5, 4, no_stream); }, "matmul",
                 "out must not be an operand's buffer");
}

}  // namespace
}  // namespace ss::cuda::test
