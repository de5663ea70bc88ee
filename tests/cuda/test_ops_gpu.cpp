// The executor's kernels (slipstream/cuda/ops.hpp) on a real GPU against the
// CPU references in ops_reference.hpp: random inputs, odd sizes, f16 and f32.
// Copies must match exactly (a conversion rounds the same way on both sides);
// arithmetic within kF32 / kF16 below. Output buffers carry guard elements
// past their end that must come back untouched. Each test skips with the
// reason where find_devices() finds no usable GPU.
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <numeric>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "gpu_test.hpp"
#include "ops_reference.hpp"
#include "slipstream/cuda/devices.hpp"
#include "slipstream/cuda/ops.hpp"

namespace ss::cuda::test {
namespace {

using ops::BinaryOp;
using ops::ResizeMode;
using ops::UnaryOp;
constexpr ElementType f32 = ElementType::f32;
constexpr ElementType f16 = ElementType::f16;

void throw_if(cudaError_t status, const char* what) {
    if (status != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(status));
}

const char* name(ElementType t) { return t == f16 ? "f16" : "f32"; }

struct Tolerance {
    double rel, abs;
};
// f32: expf and f32 accumulation against double; f16: one f16 rounding of the result (2^-11) and more.
constexpr Tolerance kF32{1e-5, 1e-6};
constexpr Tolerance kF16{1e-2, 1e-3};
Tolerance tolerance(ElementType out) { return out == f16 ? kF16 : kF32; }
// Bilinear weights in f32 against double: a few ulps of the inputs (|x| <= 4),
// which is more than kF32 allows where the result is near 0.
constexpr Tolerance kF32Interpolated{1e-5, 1e-5};

constexpr std::uint8_t kGuardByte = 0x7F;
constexpr std::int64_t kGuard = 67;  // elements past the end; odd, so they straddle vector groups

// `n` elements of `type` on the device followed by kGuard guard elements
// (bytes kGuardByte) that no op may touch. src()/dst() expose only the n.
class DeviceBuffer {
public:
    DeviceBuffer(ElementType type, std::int64_t n, cudaStream_t stream) : type_(type), n_(n), stream_(stream) {
        throw_if(cudaMalloc(&p_, bytes(n_ + kGuard)), "cudaMalloc");
        throw_if(cudaMemsetAsync(p_, kGuardByte, bytes(n_ + kGuard), stream_), "cudaMemsetAsync");
        throw_if(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
    }
    ~DeviceBuffer() { (void)cudaFree(p_); }
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;

    // Values are stored rounded to the type (round_to gives what is kept).
    void upload(const std::vector<float>& values) {
        if (static_cast<std::int64_t>(values.size()) > n_) throw std::runtime_error("upload: too many values");
        std::vector<std::uint8_t> raw(bytes(static_cast<std::int64_t>(values.size())));
        for (std::size_t i = 0; i < values.size(); ++i) {
            if (type_ == f16) {
                const std::uint16_t h = half_bits(values[i]);
                std::memcpy(raw.data() + 2 * i, &h, 2);
            } else {
                std::memcpy(raw.data() + 4 * i, &values[i], 4);
            }
        }
        throw_if(cudaMemcpyAsync(p_, raw.data(), raw.size(), cudaMemcpyHostToDevice, stream_), "upload");
        throw_if(cudaStreamSynchronize(stream_), "upload sync");
    }
    std::vector<float> download() const { return download(0, n_); }
    std::vector<float> download(std::int64_t first, std::int64_t count) const {
        std::vector<std::uint8_t> raw(bytes(count));
        throw_if(cudaMemcpyAsync(raw.data(), static_cast<const char*>(p_) + bytes(first), raw.size(),
                                 cudaMemcpyDeviceToHost, stream_),
                 "download");
        throw_if(cudaStreamSynchronize(stream_), "download sync");
        std::vector<float> values(static_cast<std::size_t>(count));
        for (std::size_t i = 0; i < values.size(); ++i) {
            if (type_ == f16) {
                std::uint16_t h;
                std::memcpy(&h, raw.data() + 2 * i, 2);
                values[i] = half_value(h);
            } else {
                std::memcpy(&values[i], raw.data() + 4 * i, 4);
            }
        }
        return values;
    }
    bool guard_intact() const {
        std::vector<std::uint8_t> raw(bytes(kGuard));
        throw_if(cudaMemcpyAsync(raw.data(), static_cast<const char*>(p_) + bytes(n_), raw.size(),
                                 cudaMemcpyDeviceToHost, stream_),
                 "guard download");
        throw_if(cudaStreamSynchronize(stream_), "guard sync");
        return std::all_of(raw.begin(), raw.end(), [](std::uint8_t b) { return b == kGuardByte; });
    }

    ops::Src src() const { return {p_, type_, n_}; }
    ops::Dst dst() { return {p_, type_, n_}; }
    // The buffer from element `first` on: for misaligned starts.
    ops::Src src_from(std::int64_t first) const {
        return {static_cast<const char*>(p_) + bytes(first), type_, n_ - first};
    }
    ops::Dst dst_from(std::int64_t first) {
        return {static_cast<char*>(p_) + bytes(first), type_, n_ - first};
    }
    ElementType type() const { return type_; }
    std::int64_t size() const { return n_; }

private:
    std::size_t bytes(std::int64_t n) const { return static_cast<std::size_t>(n) * ops::element_size(type_); }
    ElementType type_;
    std::int64_t n_;
    cudaStream_t stream_;
    void* p_ = nullptr;
};

std::vector<float> random_values(std::int64_t n, unsigned seed, float lo = -4.f, float hi = 4.f) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> dist(lo, hi);
    std::vector<float> v(static_cast<std::size_t>(n));
    for (float& x : v) x = dist(rng);
    return v;
}

// Every element within tolerance; reports the count and the first few misses.
void expect_close(const std::vector<float>& got, const std::vector<double>& want, Tolerance tol) {
    ASSERT_EQ(got.size(), want.size());
    std::size_t bad = 0;
    std::ostringstream first;
    for (std::size_t i = 0; i < got.size(); ++i) {
        const double g = got[i], w = want[i];
        const bool same_inf = std::isinf(w) && g == w;
        if (same_inf || std::fabs(g - w) <= tol.abs + tol.rel * std::fabs(w)) continue;
        if (bad++ < 5) first << "  [" << i << "] got " << g << ", want " << w << "\n";
    }
    EXPECT_EQ(bad, 0u) << bad << " of " << got.size() << " elements off (rel " << tol.rel << ", abs " << tol.abs
                       << "); first:\n"
                       << first.str();
}

void expect_equal(const std::vector<float>& got, const std::vector<float>& want) {
    ASSERT_EQ(got.size(), want.size());
    std::size_t bad = 0;
    std::ostringstream first;
    for (std::size_t i = 0; i < got.size(); ++i) {
        if (got[i] == want[i]) continue;
        if (bad++ < 5) first << "  [" << i << "] got " << got[i] << ", want " << want[i] << "\n";
    }
    EXPECT_EQ(bad, 0u) << bad << " of " << got.size() << " elements differ; first:\n" << first.str();
}

std::string shape_text(const Shape& s) {
    std::string t = "[";
    for (int d = 0; d < s.rank; ++d) t += (d ? "," : "") + std::to_string(s[d]);
    return t + "]";
}

class OpsGpu : public ::testing::Test {
protected:
    void SetUp() override {
        SELECT_GPU_OR_SKIP();
        ASSERT_CUDA(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    }
    void TearDown() override {
        if (stream_ != nullptr) (void)cudaStreamDestroy(stream_);
    }
    // After an op: the stream finishes without error.
    void finish() {
        ASSERT_CUDA(cudaStreamSynchronize(stream_));
        ASSERT_CUDA(cudaGetLastError());
    }

    // Copies `in` (n_in random values) through dims/strides into an out of
    // n_out elements holding other random values; compares every element of
    // out (written or not) with the reference, exactly.
    void check_copy(ElementType tin, ElementType tout, std::int64_t n_in, std::int64_t in_offset,
                    const Shape& in_strides, std::int64_t n_out, std::int64_t out_offset, const Shape& out_strides,
                    const Shape& dims, unsigned seed) {
        SCOPED_TRACE(std::string(name(tin)) + " -> " + name(tout) + " dims " + shape_text(dims) + " in strides " +
                     shape_text(in_strides) + " out strides " + shape_text(out_strides));
        const std::vector<float> in = round_to(tin, random_values(n_in, seed));
        std::vector<float> expected = round_to(tout, random_values(n_out, seed + 1000));
        DeviceBuffer din(tin, n_in, stream_), dout(tout, n_out, stream_);
        din.upload(in);
        dout.upload(expected);
        ops::strided_copy(din.src(), in_offset, in_strides, dout.dst(), out_offset, out_strides, dims, stream_);
        finish();
        strided_copy_ref(in, in_offset, in_strides, expected, out_offset, out_strides, dims, tout);
        expect_equal(dout.download(), expected);
        EXPECT_TRUE(dout.guard_intact());
        EXPECT_TRUE(din.guard_intact());
    }

    cudaStream_t stream_ = nullptr;
};

// The network input: NCHW f32 from the host side -> NHWC in the activation
// type. Iterated in output order [N,H,W,C]. C=3 takes the per-element path,
// C >= 16 the tiled transpose, C=1 collapses to a dense conversion.
TEST_F(OpsGpu, CopyNchwToNhwc) {
    struct Case { std::int64_t n, c, h, w; };
    const Case cases[] = {{1, 3, 37, 53}, {2, 3, 320, 320}, {1, 80, 20, 20}, {2, 1, 17, 19},
                          {1, 33, 31, 29}, {1, 16, 16, 16}, {1, 64, 160, 160}, {3, 17, 1, 45}};
    unsigned seed = 1;
    for (const Case& c : cases)
        for (ElementType tout : {f16, f32}) {
            const std::int64_t count = c.n * c.c * c.h * c.w;
            check_copy(f32, tout, count, 0, {c.c * c.h * c.w, c.w, 1, c.h * c.w}, count, 0, {c.h * c.w * c.c, c.w * c.c, c.c, 1},
                       {c.n, c.h, c.w, c.c}, seed++);
        }
}

// Graph outputs: NHWC activations -> row-major [N,C,H,W] f32, iterated in
// output order.
TEST_F(OpsGpu, CopyNhwcToNchw) {
    struct Case { std::int64_t n, c, h, w; };
    const Case cases[] = {{1, 80, 40, 40}, {1, 3, 13, 17}, {2, 144, 7, 9}, {1, 1, 33, 33},
                          {1, 84, 1, 8400}, {1, 17, 80, 80}, {2, 32, 5, 3}};
    unsigned seed = 100;
    for (const Case& c : cases)
        for (ElementType tin : {f16, f32}) {
            const std::int64_t count = c.n * c.c * c.h * c.w;
            check_copy(tin, f32, count, 0, {c.h * c.w * c.c, 1, c.w * c.c, c.c}, count, 0, {c.c * c.h * c.w, c.h * c.w, c.w, 1},
                       {c.n, c.c, c.h, c.w}, seed++);
        }
}

// Transposes of rank 6 with odd sizes: every permutation of a few, each type pair.
TEST_F(OpsGpu, CopyRank6Permutations) {
    const std::int64_t logical[6] = {2, 3, 5, 1, 17, 19};
    std::vector<int> perm = {0, 1, 2, 3, 4, 5};
    std::mt19937 rng(7);
    unsigned seed = 200;
    for (int trial = 0; trial < 12; ++trial) {
        std::shuffle(perm.begin(), perm.end(), rng);
        // in is dense in logical order; out is dense in permuted order; iterate in out order.
        Shape in_dense = ops::row_major_strides(Shape{logical[0], logical[1], logical[2], logical[3], logical[4], logical[5]});
        Shape dims, in_strides;
        dims.rank = in_strides.rank = 6;
        for (int d = 0; d < 6; ++d) {
            dims[d] = logical[perm[static_cast<std::size_t>(d)]];
            in_strides[d] = in_dense[perm[static_cast<std::size_t>(d)]];
        }
        const std::int64_t count = ops::element_count(dims);
        const ElementType tin = trial % 2 ? f16 : f32, tout = trial % 3 ? f16 : f32;
        check_copy(tin, tout, count, 0, in_strides, count, 0, ops::row_major_strides(dims), dims, seed++);
    }
}

// Concat along NHWC channels: each input into its slab of out; the other
// channels keep what they had (check_copy compares all of out).
TEST_F(OpsGpu, CopyIntoConcatSlab) {
    const std::int64_t n = 2, h = 11, w = 13, c1 = 24, c2 = 7, ct = c1 + c2 + 5;
    const Shape out_strides{h * w * ct, w * ct, ct, 1};
    check_copy(f16, f16, n * h * w * c1, 0, ops::row_major_strides({n, h, w, c1}), n * h * w * ct, 0, out_strides,
               {n, h, w, c1}, 300);
    check_copy(f16, f16, n * h * w * c2, 0, ops::row_major_strides({n, h, w, c2}), n * h * w * ct, c1, out_strides,
               {n, h, w, c2}, 301);
    // Slabs that move in 16-, 8- and 4-byte units (copy_in_units), and one at an odd offset that cannot.
    const std::int64_t c3 = 16, cw = 48;
    const Shape wide{h * w * cw, w * cw, cw, 1};
    check_copy(f16, f16, n * h * w * c3, 0, ops::row_major_strides({n, h, w, c3}), n * h * w * cw, 16, wide, {n, h, w, c3}, 303);
    check_copy(f16, f16, n * h * w * c3, 0, ops::row_major_strides({n, h, w, c3}), n * h * w * cw, 2, wide, {n, h, w, c3}, 304);
    check_copy(f16, f16, n * h * w * c3, 0, ops::row_major_strides({n, h, w, c3}), n * h * w * cw, 1, wide, {n, h, w, c3}, 305);
    check_copy(f32, f32, n * h * w * c3, 0, ops::row_major_strides({n, h, w, c3}), n * h * w * cw, 4, wide, {n, h, w, c3}, 306);
    // Concat of row-major tensors along axis 1 ([1, 64, 80] into [1, 144, 80] at row 80).
    check_copy(f32, f32, 64 * 80, 0, {64 * 80, 80, 1}, 144 * 80 + 3, 80 * 80, {144 * 80, 80, 1}, {1, 64, 80}, 302);
}

// The executor may pass one arena pointer with offsets for both sides: a
// transposing copy between two disjoint regions of one buffer.
TEST_F(OpsGpu, CopyWithinOneAllocation) {
    const std::int64_t rows = 40, cols = 24, n = rows * cols, out_at = n + 5;
    std::vector<float> all = round_to(f16, random_values(out_at + n, 350));
    DeviceBuffer buf(f16, out_at + n, stream_);
    buf.upload(all);
    // out[c][r] = in[r][c]: iterated in out order [cols, rows].
    ops::strided_copy(buf.src(), 0, {1, cols}, buf.dst(), out_at, {rows, 1}, {cols, rows}, stream_);
    finish();
    strided_copy_ref(std::vector<float>(all), 0, {1, cols}, all, out_at, {rows, 1}, {cols, rows}, f16);
    expect_equal(buf.download(), all);
    EXPECT_TRUE(buf.guard_intact());
}

// Slice with a negative step (reversed), a strided slice with an offset, and
// Expand (0 strides), all with conversions.
TEST_F(OpsGpu, CopyNegativeZeroAndOffsetStrides) {
    // Reverse both axes of a 9 x 41 matrix.
    check_copy(f32, f16, 9 * 41, 9 * 41 - 1, {-41, -1}, 9 * 41, 0, {41, 1}, {9, 41}, 400);
    // Every 2nd row and 3rd column from (1, 2) of a 20 x 50 matrix.
    check_copy(f16, f32, 20 * 50, 50 + 2, {100, 3}, 10 * 16, 0, {16, 1}, {10, 16}, 401);
    // Expand [1, 80, 1] to [4, 80, 33]: a broadcast read.
    check_copy(f32, f16, 80, 0, {0, 1, 0}, 4 * 80 * 33, 0, {80 * 33, 33, 1}, {4, 80, 33}, 402);
    // Expand [C] along the rows (in stride 0 on an input-contiguous pattern).
    check_copy(f16, f16, 37, 0, {0, 1}, 500 * 37, 0, {37, 1}, {500, 37}, 403);
}

// Dense copies are a flat conversion; offsets that break 4-element alignment
// take the scalar path; sizes below and around one vector group.
TEST_F(OpsGpu, CopyDenseAlignedAndNot) {
    unsigned seed = 500;
    for (std::int64_t n : {1, 3, 4, 5, 1000, 1023, 100003})
        for (std::int64_t in_off : {0, 1, 4})
            for (std::int64_t out_off : {0, 3})
                for (ElementType tin : {f16, f32})
                    for (ElementType tout : {f16, f32})
                        check_copy(tin, tout, n + in_off, in_off, {1}, n + out_off + 2, out_off, {1}, {n}, seed++);
    // Rank 0: one element.
    check_copy(f32, f16, 5, 2, Shape{}, 3, 1, Shape{}, Shape{}, seed++);
}

// Tiled transposes whose p tiles (> 65535) and rest positions (> 65535) go
// past one grid dimension, so the kernel's loops over them run.
TEST_F(OpsGpu, CopyTransposeBeyondOneGridDimension) {
    const std::int64_t p = (std::int64_t{1} << 21) + 37;  // 65537+ tiles of 32
    check_copy(f16, f16, 16 * p, 0, {1, p}, 16 * p, 0, {16, 1}, {p, 16}, 600);
    const std::int64_t r = 70001;
    check_copy(f32, f16, r * 256, 0, {256, 1, 16}, r * 256, 0, {256, 16, 1}, {r, 16, 16}, 601);
}

TEST_F(OpsGpu, UnaryMatchesReference) {
    const UnaryOp all[] = {UnaryOp::relu, UnaryOp::leaky_relu, UnaryOp::sigmoid, UnaryOp::silu, UnaryOp::exp,
                           UnaryOp::identity};
    unsigned seed = 700;
    for (UnaryOp op : all)
        for (std::int64_t n : {1, 7, 1023, (1 << 20) + 3})
            for (ElementType tin : {f16, f32})
                for (ElementType tout : {f16, f32})
                    for (std::int64_t offset : {0, 1}) {  // 1: misaligned pointers, the scalar path
                        SCOPED_TRACE("op " + std::to_string(static_cast<int>(op)) + " n " + std::to_string(n) + " " +
                                     name(tin) + " -> " + name(tout) + " offset " + std::to_string(offset));
                        const std::vector<float> in = round_to(tin, random_values(n + offset, seed++, -12.f, 9.f));
                        DeviceBuffer din(tin, n + offset, stream_), dout(tout, n + offset, stream_);
                        din.upload(in);
                        ops::unary(op, 0.1f, din.src_from(offset), dout.dst_from(offset), stream_);
                        finish();
                        std::vector<double> want(static_cast<std::size_t>(n));
                        for (std::int64_t i = 0; i < n; ++i)
                            want[static_cast<std::size_t>(i)] = unary_ref(op, 0.1, in[static_cast<std::size_t>(i + offset)]);
                        const std::vector<float> got = dout.download(offset, n);
                        expect_close(got, want, tolerance(tout));
                        EXPECT_TRUE(dout.guard_intact());
                        if (HasFailure()) return;
                    }
}

TEST_F(OpsGpu, UnaryInPlace) {
    for (ElementType t : {f16, f32}) {
        const std::int64_t n = 100001;
        const std::vector<float> in = round_to(t, random_values(n, 800 + static_cast<unsigned>(t)));
        DeviceBuffer buf(t, n, stream_);
        buf.upload(in);
        ops::unary(UnaryOp::silu, 0.f, buf.src(), buf.dst(), stream_);
        finish();
        std::vector<double> want(in.size());
        for (std::size_t i = 0; i < in.size(); ++i) want[i] = unary_ref(UnaryOp::silu, 0, in[i]);
        expect_close(buf.download(), want, tolerance(t));
        EXPECT_TRUE(buf.guard_intact());
    }
}

// f32 -> f16 rounds to nearest and overflows to inf; f16 -> f32 is exact; fill rounds its value.
TEST_F(OpsGpu, ConvertAndFill) {
    std::vector<float> in = random_values(4099, 900, -70000.f, 70000.f);
    in[0] = 65504.f, in[1] = 65520.f, in[2] = -1e6f, in[3] = 1e-8f, in[4] = 0.1f;
    DeviceBuffer a(f32, 4099, stream_), b(f16, 4099, stream_), c(f32, 4099, stream_);
    a.upload(in);
    ops::convert(a.src(), b.dst(), stream_);
    ops::convert(b.src(), c.dst(), stream_);
    finish();
    const std::vector<float> want = round_to(f16, in);
    expect_equal(b.download(), want);
    expect_equal(c.download(), want);
    EXPECT_TRUE(std::isinf(want[1]) && std::isinf(want[2]));
    EXPECT_TRUE(b.guard_intact() && c.guard_intact());

    for (ElementType t : {f16, f32}) {
        DeviceBuffer d(t, 12345, stream_);
        ops::fill(d.dst(), 3.14159f, stream_);
        finish();
        expect_equal(d.download(), std::vector<float>(12345, round_to(t, 3.14159f)));
        EXPECT_TRUE(d.guard_intact());
    }
}

struct BinaryCase {
    const char* what;
    Shape dims, a_shape_strides, b_shape_strides;  // strides over dims
    std::int64_t a_elements, b_elements;
};

TEST_F(OpsGpu, BinaryBroadcastingMatchesReference) {
    const std::int64_t n = 2, c = 80, h = 13, w = 17;
    const std::int64_t nhwc = n * h * w * c;
    const Shape nhwc_dims{n, h, w, c};
    const Shape dense = ops::row_major_strides(nhwc_dims);
    const BinaryCase cases[] = {
        {"dense same shape", nhwc_dims, dense, dense, nhwc, nhwc},
        {"odd dense", {1, 1, 1, 100003}, {0, 0, 0, 1}, {0, 0, 0, 1}, 100003, 100003},
        {"[1,C,1,1] bias vs NHWC", nhwc_dims, dense, {0, 0, 0, 1}, nhwc, c},
        {"NHWC vs [1,C,1,1] as a", nhwc_dims, {0, 0, 0, 1}, dense, c, nhwc},
        {"[1,C,1,1] vs row-major NCHW", {n, c, h, w}, ops::row_major_strides({n, c, h, w}), {0, 1, 0, 0}, nhwc, c},
        {"scalar", nhwc_dims, dense, {0, 0, 0, 0}, nhwc, 1},
        {"[N,1,W] x [1,H,1]", {3, 29, 31}, {31, 0, 1}, {0, 1, 0}, 3 * 31, 29},
        {"C=1", {2, 9, 11, 1}, {99, 11, 1, 1}, {0, 0, 0, 0}, 2 * 99, 1},
        {"C=3 NHWC vs per-pixel [N,1,H,W]", {2, 9, 11, 3}, {297, 33, 3, 1}, {99, 11, 1, 0}, 2 * 297, 2 * 99},
        {"rank 6", {2, 3, 1, 5, 7, 4}, ops::row_major_strides({2, 3, 1, 5, 7, 4}), {0, 4, 0, 0, 0, 1}, 840, 12},
        {"anchors [1,8400,2] vs strides [1,8400,1]", {1, 8400, 2}, {0, 2, 1}, {0, 1, 0}, 16800, 8400},
    };
    const BinaryOp ops_list[] = {BinaryOp::add, BinaryOp::sub, BinaryOp::mul, BinaryOp::div};
    struct Types { ElementType a, b, out; };
    const Types types[] = {{f16, f16, f16}, {f16, f32, f16}, {f32, f32, f32}, {f32, f16, f32}, {f16, f16, f32}};
    unsigned seed = 1000;
    for (const BinaryCase& bc : cases)
        for (BinaryOp op : ops_list)
            for (const Types& t : types) {
                SCOPED_TRACE(std::string(bc.what) + " op " + std::to_string(static_cast<int>(op)) + " " + name(t.a) +
                             " " + name(t.b) + " -> " + name(t.out));
                const std::vector<float> a = round_to(t.a, random_values(bc.a_elements, seed++));
                std::vector<float> b = random_values(bc.b_elements, seed++, 0.5f, 3.f);  // away from 0 for div
                for (std::size_t i = 0; i < b.size(); i += 2) b[i] = -b[i];
                b = round_to(t.b, b);
                const std::int64_t count = ops::element_count(bc.dims);
                DeviceBuffer da(t.a, bc.a_elements, stream_), db(t.b, bc.b_elements, stream_),
                    dout(t.out, count, stream_);
                da.upload(a);
                db.upload(b);
                ops::binary(op, da.src(), bc.a_shape_strides, db.src(), bc.b_shape_strides, dout.dst(), bc.dims,
                            stream_);
                finish();
                expect_close(dout.download(), binary_ref(op, a, bc.a_shape_strides, b, bc.b_shape_strides, bc.dims),
                             tolerance(t.out));
                EXPECT_TRUE(dout.guard_intact());
                if (HasFailure()) return;
            }
}

// out aliasing a dense operand (residual adds in place); misaligned operands.
TEST_F(OpsGpu, BinaryInPlaceAndMisaligned) {
    const std::int64_t n = 4 * 40 * 40 * 64 + 5;
    const std::vector<float> a = round_to(f16, random_values(n, 1100));
    const std::vector<float> b = round_to(f16, random_values(n, 1101));
    DeviceBuffer da(f16, n, stream_), db(f16, n, stream_);
    da.upload(a);
    db.upload(b);
    ops::binary(BinaryOp::add, da.src(), {1}, db.src(), {1}, da.dst(), {n}, stream_);
    finish();
    expect_close(da.download(), binary_ref(BinaryOp::add, a, {1}, b, {1}, {n}), kF16);

    // Operands one element in: the scalar path.
    DeviceBuffer x(f32, n, stream_), y(f32, n, stream_), out(f32, n, stream_);
    const std::vector<float> xs = random_values(n, 1102), ys = random_values(n, 1103);
    x.upload(xs);
    y.upload(ys);
    ops::binary(BinaryOp::mul, x.src_from(1), {1}, y.src_from(1), {1}, out.dst_from(1), {n - 1}, stream_);
    finish();
    const std::vector<float> got = out.download(1, n - 1);
    std::vector<double> want(static_cast<std::size_t>(n - 1));
    for (std::size_t i = 0; i < want.size(); ++i) want[i] = static_cast<double>(xs[i + 1]) * ys[i + 1];
    expect_close(got, want, kF32);
    EXPECT_TRUE(out.guard_intact());
}

TEST_F(OpsGpu, ResizeNhwcMatchesReference) {
    struct Case { std::int64_t n, c, ih, iw, oh, ow; };
    // Channels in groups of 8 (f16) or 4 (f32) take the 16-byte path; 12 only for f32.
    const Case cases[] = {{1, 128, 20, 20, 40, 40}, {2, 3, 3, 5, 7, 11}, {1, 1, 17, 13, 5, 4}, {1, 80, 1, 1, 3, 2},
                          {1, 5, 6, 6, 1, 1},       {1, 64, 40, 40, 80, 80}, {3, 7, 9, 10, 18, 20},
                          {2, 12, 13, 13, 26, 26}};
    const ResizeMode modes[] = {ResizeMode::linear_half_pixel, ResizeMode::linear_align_corners,
                                ResizeMode::linear_asymmetric, ResizeMode::nearest_asymmetric_floor};
    unsigned seed = 1200;
    for (const Case& c : cases)
        for (ResizeMode mode : modes)
            for (ElementType t : {f16, f32}) {
                SCOPED_TRACE("mode " + std::to_string(static_cast<int>(mode)) + " " + name(t) + " n" +
                             std::to_string(c.n) + " c" + std::to_string(c.c) + " " + std::to_string(c.ih) + "x" +
                             std::to_string(c.iw) + " -> " + std::to_string(c.oh) + "x" + std::to_string(c.ow));
                const std::vector<float> in = round_to(t, random_values(c.n * c.c * c.ih * c.iw, seed++));
                DeviceBuffer din(t, c.n * c.c * c.ih * c.iw, stream_), dout(t, c.n * c.c * c.oh * c.ow, stream_);
                din.upload(in);
                ops::resize_nhwc(mode, din.src(), dout.dst(), c.n, c.c, c.ih, c.iw, c.oh, c.ow, stream_);
                finish();
                const std::vector<double> want = resize_nhwc_ref(mode, in, c.n, c.c, c.ih, c.iw, c.oh, c.ow);
                if (mode == ResizeMode::nearest_asymmetric_floor)
                    expect_equal(dout.download(), std::vector<float>(want.begin(), want.end()));
                else
                    expect_close(dout.download(), want, t == f16 ? kF16 : kF32Interpolated);
                EXPECT_TRUE(dout.guard_intact());
                if (HasFailure()) return;
            }
}

// half_pixel 2x upsampling worked by hand (ONNX's own example pattern):
// [1, 2] -> [1, 1.25, 1.75, 2], clamped at both borders.
TEST_F(OpsGpu, ResizeHalfPixelBordersClamp) {
    DeviceBuffer din(f32, 2, stream_), dout(f32, 4, stream_);
    din.upload({1.f, 2.f});
    ops::resize_nhwc(ResizeMode::linear_half_pixel, din.src(), dout.dst(), 1, 1, 1, 2, 1, 4, stream_);
    finish();
    expect_equal(dout.download(), {1.f, 1.25f, 1.75f, 2.f});
}

TEST_F(OpsGpu, MaxPoolNhwcMatchesReference) {
    struct Case { std::int64_t n, c, ih, iw; ops::PoolWindow w; bool ceil; };
    const Case cases[] = {
        {1, 64, 20, 20, {5, 5, 1, 1, 2, 2, 2, 2}, false},   // YOLOv8 SPPF
        {2, 3, 15, 17, {2, 2, 2, 2, 0, 0, 0, 0}, false},    // odd sizes, floor
        {1, 80, 15, 17, {3, 3, 2, 2, 1, 1, 1, 1}, true},    // ceil_mode
        {1, 1, 13, 13, {2, 2, 1, 1, 0, 0, 1, 1}, false},    // asymmetric pads (YOLO tiny)
        {1, 7, 9, 11, {3, 2, 3, 2, 2, 1, 0, 1}, true},
        {1, 16, 1, 1, {3, 3, 1, 1, 1, 1, 1, 1}, false},     // all but one position padded
        {2, 24, 33, 35, {3, 3, 2, 2, 1, 1, 1, 1}, false},   // NanoDet's stem pool: 8 f16 or 4 f32 channels a thread
        {1, 12, 9, 9, {3, 3, 2, 2, 1, 1, 1, 1}, false},     // f32 in groups of 4, f16 one channel a thread
    };
    unsigned seed = 1300;
    for (const Case& c : cases)
        for (ElementType t : {f16, f32})
            for (bool negative : {false, true}) {  // all negative: a padded 0 would win if pads took part
                const std::int64_t oh = ops::pooled_size(c.ih, c.w.kernel_h, c.w.stride_h, c.w.pad_top, c.w.pad_bottom, c.ceil);
                const std::int64_t ow = ops::pooled_size(c.iw, c.w.kernel_w, c.w.stride_w, c.w.pad_left, c.w.pad_right, c.ceil);
                SCOPED_TRACE(std::string(name(t)) + " " + std::to_string(c.ih) + "x" + std::to_string(c.iw) + " -> " +
                             std::to_string(oh) + "x" + std::to_string(ow) + " c" + std::to_string(c.c) +
                             (negative ? " negative" : ""));
                const std::int64_t count = c.n * c.c * c.ih * c.iw;
                const std::vector<float> in =
                    round_to(t, negative ? random_values(count, seed++, -9.f, -1.f) : random_values(count, seed++));
                DeviceBuffer din(t, count, stream_), dout(t, c.n * c.c * oh * ow, stream_);
                din.upload(in);
                ops::maxpool_nhwc(din.src(), dout.dst(), c.n, c.c, c.ih, c.iw, oh, ow, c.w, stream_);
                finish();
                const std::vector<double> want = maxpool_nhwc_ref(in, c.n, c.c, c.ih, c.iw, oh, ow, c.w);
                expect_equal(dout.download(), std::vector<float>(want.begin(), want.end()));
                EXPECT_TRUE(dout.guard_intact());
                if (HasFailure()) return;
            }
}

TEST_F(OpsGpu, SoftmaxMatchesReference) {
    struct Case { std::int64_t outer, axis, inner; float spread; };
    const Case cases[] = {
        {4 * 8400, 16, 1, 4.f},   // NanoDet/YOLO DFL, bins last
        {1, 16, 4 * 8400, 4.f},   // YOLOv8 DFL, bins in the middle
        {2 * 400, 400, 1, 4.f},   // attention scores
        {5, 8, 7, 4.f},
        {3, 1, 5, 4.f},           // one element: all 1
        {7, 33, 1, 1000.f},       // large logits: only stable with the max subtracted
        {2, 37, 3, 1000.f},
        {1, 5000, 1, 10.f},       // long row
    };
    unsigned seed = 1400;
    for (const Case& c : cases)
        for (ElementType tin : {f16, f32})
            for (ElementType tout : {f16, f32}) {
                SCOPED_TRACE(std::to_string(c.outer) + " x " + std::to_string(c.axis) + " x " + std::to_string(c.inner) +
                             " " + name(tin) + " -> " + name(tout));
                const std::int64_t count = c.outer * c.axis * c.inner;
                const std::vector<float> in = round_to(tin, random_values(count, seed++, -c.spread, c.spread));
                DeviceBuffer din(tin, count, stream_), dout(tout, count, stream_);
                din.upload(in);
                ops::softmax(din.src(), dout.dst(), c.outer, c.axis, c.inner, stream_);
                finish();
                expect_close(dout.download(), softmax_ref(in, c.outer, c.axis, c.inner), tolerance(tout));
                EXPECT_TRUE(dout.guard_intact());
                if (HasFailure()) return;
            }
    // In place.
    const std::vector<float> in = round_to(f16, random_values(6 * 16 * 9, 1499));
    DeviceBuffer buf(f16, 6 * 16 * 9, stream_);
    buf.upload(in);
    ops::softmax(buf.src(), buf.dst(), 6, 16, 9, stream_);
    finish();
    expect_close(buf.download(), softmax_ref(in, 6, 16, 9), kF16);
}

TEST_F(OpsGpu, MatmulMatchesReference) {
    struct Case { std::int64_t batch, m, n, k; bool broadcast_b; };
    const Case cases[] = {
        {2, 37, 53, 29, false}, {1, 1, 1, 1, false},     {4, 400, 400, 32, false},  // attention q*k
        {3, 17, 64, 80, true},  {2, 16, 16, 16, false},  {1, 5, 300, 7, true},
        {1, (1 << 20) + 17, 3, 5, true},  // more row tiles than grid.y holds
        {70001, 2, 3, 2, false},          // more batches than grid.z holds
    };
    struct Types { ElementType a, b, out; };
    const Types types[] = {{f32, f32, f32}, {f16, f32, f16}, {f16, f16, f32}};
    unsigned seed = 1500;
    for (const Case& c : cases)
        for (const Types& t : types) {
            SCOPED_TRACE(std::to_string(c.batch) + " x " + std::to_string(c.m) + "x" + std::to_string(c.k) + " * " +
                         std::to_string(c.k) + "x" + std::to_string(c.n) + (c.broadcast_b ? " (b shared) " : " ") +
                         name(t.a) + " " + name(t.b) + " -> " + name(t.out));
            const std::int64_t a_stride = c.m * c.k + 3;  // batch strides need not be dense
            const std::int64_t b_stride = c.broadcast_b ? 0 : c.k * c.n;
            const std::int64_t a_count = (c.batch - 1) * a_stride + c.m * c.k;
            const std::int64_t b_count = c.broadcast_b ? c.k * c.n : c.batch * c.k * c.n;
            const std::vector<float> a = round_to(t.a, random_values(a_count, seed++, -1.f, 1.f));
            const std::vector<float> b = round_to(t.b, random_values(b_count, seed++, -1.f, 1.f));
            DeviceBuffer da(t.a, a_count, stream_), db(t.b, b_count, stream_), dout(t.out, c.batch * c.m * c.n, stream_);
            da.upload(a);
            db.upload(b);
            ops::matmul(da.src(), a_stride, db.src(), b_stride, dout.dst(), c.batch, c.m, c.n, c.k, stream_);
            finish();
            std::vector<double> magnitude;
            const std::vector<double> want = matmul_ref(a, a_stride, b, b_stride, c.batch, c.m, c.n, c.k, &magnitude);
            const std::vector<float> got = dout.download();
            const Tolerance tol = tolerance(t.out);
            std::size_t bad = 0;
            for (std::size_t i = 0; i < got.size(); ++i)
                // f32 accumulation error grows with sum |a*b|, not with the (cancelling) result.
                if (std::fabs(got[i] - want[i]) > tol.abs + tol.rel * std::fabs(want[i]) + 1e-5 * magnitude[i]) {
                    if (bad++ < 5) ADD_FAILURE() << "[" << i << "] got " << got[i] << ", want " << want[i];
                }
            EXPECT_EQ(bad, 0u);
            EXPECT_TRUE(dout.guard_intact());
            if (HasFailure()) return;
        }
}

TEST_F(OpsGpu, MatmulWithKZeroWritesZeros) {
    DeviceBuffer out(f32, 6, stream_);
    ops::matmul({nullptr, f32, 0}, 0, {nullptr, f32, 0}, 0, out.dst(), 1, 2, 3, 0, stream_);
    finish();
    expect_equal(out.download(), std::vector<float>(6, 0.f));
}

// Iteration spaces of 2^31 elements and more take the 64-bit index path of
// the strided kernels. Needs about 4.3 GB of device memory.
TEST_F(OpsGpu, StridedKernelsBeyond2To31Elements) {
    std::size_t free_bytes = 0, total_bytes = 0;
    ASSERT_CUDA(cudaMemGetInfo(&free_bytes, &total_bytes));
    if (free_bytes < (std::size_t{12} << 30)) GTEST_SKIP() << "needs 12 GiB of free device memory";
    const std::int64_t row = 64, rows = (std::int64_t{1} << 31) / row + 3, n = rows * row;
    const std::vector<float> pattern = round_to(f16, random_values(row, 1600));
    const std::vector<float> bias = random_values(row, 1601);
    DeviceBuffer src(f32, row, stream_), b(f32, row, stream_), big(f16, n, stream_);
    src.upload(pattern);
    b.upload(bias);
    // Expand [64] to [rows, 64] (a 0 stride: no collapse to a dense copy).
    ops::strided_copy(src.src(), 0, {0, 1}, big.dst(), 0, {row, 1}, {rows, row}, stream_);
    // big += bias, broadcast over rows, in place.
    ops::binary(BinaryOp::add, big.src(), {row, 1}, b.src(), {0, 1}, big.dst(), {rows, row}, stream_);
    finish();
    std::vector<float> want(static_cast<std::size_t>(row));
    for (std::size_t j = 0; j < want.size(); ++j) want[j] = round_to(f16, pattern[j] + bias[j]);
    // Checked in chunks (the whole is 4 GiB), all of it.
    const std::int64_t chunk_rows = std::int64_t{1} << 20;
    std::size_t bad = 0;
    for (std::int64_t r0 = 0; r0 < rows; r0 += chunk_rows) {
        const std::int64_t nr = std::min(chunk_rows, rows - r0);
        const std::vector<float> got = big.download(r0 * row, nr * row);
        for (std::size_t i = 0; i < got.size(); ++i)
            if (got[i] != want[i % static_cast<std::size_t>(row)] && bad++ < 5)
                ADD_FAILURE() << "element " << r0 * row + static_cast<std::int64_t>(i) << ": got " << got[i]
                              << ", want " << want[i % static_cast<std::size_t>(row)];
    }
    EXPECT_EQ(bad, 0u);
    EXPECT_TRUE(big.guard_intact());
}

// Each op enqueues only: captured into a CUDA graph and replayed, the result
// is the same as launched directly.
TEST_F(OpsGpu, OpsCanBeCapturedIntoAGraph) {
    const std::int64_t n = 1, c = 24, h = 9, w = 7;
    const std::int64_t count = n * c * h * w;
    const std::vector<float> in = random_values(count, 1700);
    DeviceBuffer din(f32, count, stream_), nhwc(f16, count, stream_), act(f16, count, stream_),
        up(f16, count * 4, stream_), out(f32, count * 4, stream_);
    din.upload(in);
    cudaGraph_t graph = nullptr;
    ASSERT_CUDA(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal));
    try {
        ops::strided_copy(din.src(), 0, {c * h * w, w, 1, h * w}, nhwc.dst(), 0, {h * w * c, w * c, c, 1}, {n, h, w, c},
                          stream_);
        ops::unary(UnaryOp::sigmoid, 0.f, nhwc.src(), act.dst(), stream_);
        ops::resize_nhwc(ResizeMode::nearest_asymmetric_floor, act.src(), up.dst(), n, c, h, w, 2 * h, 2 * w, stream_);
        ops::strided_copy(up.src(), 0, {4 * h * w * c, 1, 2 * w * c, c}, out.dst(), 0, {4 * c * h * w, 4 * h * w, 2 * w, 1},
                          {n, c, 2 * h, 2 * w}, stream_);
    } catch (const std::exception& e) {
        (void)cudaStreamEndCapture(stream_, &graph);
        if (graph) (void)cudaGraphDestroy(graph);
        FAIL() << "during capture: " << e.what();
    }
    ASSERT_CUDA(cudaStreamEndCapture(stream_, &graph));
    cudaGraphExec_t exec = nullptr;
    ASSERT_CUDA(cudaGraphInstantiate(&exec, graph, 0));
    ASSERT_CUDA(cudaGraphLaunch(exec, stream_));
    finish();
    // Reference: nearest 2x of sigmoid(x) rounded to f16, as NCHW f32.
    std::vector<float> want(static_cast<std::size_t>(count * 4));
    for (std::int64_t ch = 0; ch < c; ++ch)
        for (std::int64_t y = 0; y < 2 * h; ++y)
            for (std::int64_t x = 0; x < 2 * w; ++x) {
                const float v = round_to(f16, in[static_cast<std::size_t>((ch * h + y / 2) * w + x / 2)]);
                want[static_cast<std::size_t>((ch * 2 * h + y) * 2 * w + x)] =
                    round_to(f16, static_cast<float>(unary_ref(UnaryOp::sigmoid, 0, v)));
            }
    expect_close(out.download(), std::vector<double>(want.begin(), want.end()), kF16);
    (void)cudaGraphExecDestroy(exec);
    (void)cudaGraphDestroy(graph);
}

}  // namespace
}  // namespace ss::cuda::test
