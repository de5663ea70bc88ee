// Softmax and batched matmul: the two ops that reduce. Both accumulate in f32.
#include <algorithm>
#include <cstdint>

#include "ops_device.cuh"

namespace ss::cuda::ops {
namespace detail {
namespace {

constexpr int kThreads = 256;
constexpr int kWarp = 32;

// inner == 1 (softmax over the last axis, e.g. attention scores): a warp per
// row, lanes striding along the row (coalesced), shuffles for max and sum.
// Each lane writes only what it read, so in == out is safe.
template <class Tin, class Tout>
__global__ void softmax_rows_kernel(const Tin* in, Tout* out, std::int64_t rows, std::int64_t axis) {
    const int lane = static_cast<int>(threadIdx.x) % kWarp;
    const std::int64_t warps = thread_count() / kWarp;
    for (std::int64_t row = thread_index() / kWarp; row < rows; row += warps) {
        const Tin* x = in + row * axis;
        Tout* y = out + row * axis;
        float m = -INFINITY;
        for (std::int64_t j = lane; j < axis; j += kWarp) m = fmaxf(m, load(x + j));
        for (int o = kWarp / 2; o > 0; o /= 2) m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, o));
        float s = 0.f;
        for (std::int64_t j = lane; j < axis; j += kWarp) s += expf(load(x + j) - m);
        for (int o = kWarp / 2; o > 0; o /= 2) s += __shfl_xor_sync(0xffffffffu, s, o);
        const float inv = 1.f / s;
        for (std::int64_t j = lane; j < axis; j += kWarp) store(y + j, expf(load(x + j) - m) * inv);
    }
}

// inner > 1 (e.g. YOLOv8's DFL: [1, 16, 4*8400]): a thread per (outer, inner)
// column, neighbouring threads on neighbouring inner positions (coalesced),
// three passes down the (short) axis.
template <class Tin, class Tout>
__global__ void softmax_columns_kernel(const Tin* in, Tout* out, std::int64_t outer, std::int64_t axis,
                                       std::int64_t inner) {
    const std::int64_t columns = outer * inner;
    for (std::int64_t col = thread_index(); col < columns; col += thread_count()) {
        const std::int64_t base = (col / inner) * axis * inner + col % inner;
        const Tin* x = in + base;
        Tout* y = out + base;
        float m = -INFINITY;
        for (std::int64_t j = 0; j < axis; ++j) m = fmaxf(m, load(x + j * inner));
        float s = 0.f;
        for (std::int64_t j = 0; j < axis; ++j) s += expf(load(x + j * inner) - m);
        const float inv = 1.f / s;
        for (std::int64_t j = 0; j < axis; ++j) store(y + j * inner, expf(load(x + j * inner) - m) * inv);
    }
}

constexpr int kMmTile = 16;

struct MatmulGeometry {
    std::int64_t batch, m, n, k, a_stride, b_stride;
};

// Classic shared-memory tiling: a block computes a 16 x 16 tile of one
// out[i], stepping 16 along k with one tile of a and one of b in shared
// memory (zeros past the edges, so the inner loop needs no checks). Loops
// over row tiles (grid.y) and batch (grid.z) are uniform per block: every
// thread reaches every barrier.
template <class Ta, class Tb, class Tout>
__global__ void __launch_bounds__(kMmTile* kMmTile) matmul_kernel(const Ta* a, const Tb* b, Tout* out, MatmulGeometry g) {
    __shared__ float as[kMmTile][kMmTile];
    __shared__ float bs[kMmTile][kMmTile + 1];
    const int tx = static_cast<int>(threadIdx.x), ty = static_cast<int>(threadIdx.y);
    const std::int64_t col = static_cast<std::int64_t>(blockIdx.x) * kMmTile + tx;
    const std::int64_t row_tiles = (g.m + kMmTile - 1) / kMmTile;
    for (std::int64_t bi = blockIdx.z; bi < g.batch; bi += gridDim.z) {
        const Ta* ab = a + bi * g.a_stride;
        const Tb* bb = b + bi * g.b_stride;
        for (std::int64_t rt = blockIdx.y; rt < row_tiles; rt += gridDim.y) {
            const std::int64_t row = rt * kMmTile + ty;
            float acc = 0.f;
            for (std::int64_t k0 = 0; k0 < g.k; k0 += kMmTile) {
                const std::int64_t ka = k0 + tx, kb = k0 + ty;
                as[ty][tx] = (row < g.m && ka < g.k) ? load(ab + row * g.k + ka) : 0.f;
                bs[ty][tx] = (kb < g.k && col < g.n) ? load(bb + kb * g.n + col) : 0.f;
                __syncthreads();
#pragma unroll
                for (int kk = 0; kk < kMmTile; ++kk) acc += as[ty][kk] * bs[kk][tx];
                __syncthreads();  // the tiles are refilled next step
            }
            if (row < g.m && col < g.n) store(out + (bi * g.m + row) * g.n + col, acc);
        }
    }
}

}  // namespace
}  // namespace detail

void softmax(Src in, Dst out, std::int64_t outer, std::int64_t axis, std::int64_t inner, cudaStream_t stream) {
    const char* name = "softmax";
    const std::int64_t count = detail::checked_product(name, {outer, axis, inner});
    if (count == 0) return;
    detail::check_not_null(name, "in", in.data);
    detail::check_not_null(name, "out", out.data);
    detail::check_dense(name, "in", in.elements, count);
    detail::check_dense(name, "out", out.elements, count);
    if (in.data == out.data && in.type != out.type)
        detail::fail(name, "in and out are one buffer but of different element types");
    detail::with_type(in.type, [&](auto tin) {
        detail::with_type(out.type, [&](auto tout) {
            using Tin = decltype(tin);
            using Tout = decltype(tout);
            const Tin* x = static_cast<const Tin*>(in.data);
            Tout* y = static_cast<Tout*>(out.data);
            if (inner == 1) {
                // A warp per row: rows * 32 threads.
                const unsigned blocks = detail::grid_blocks(outer * detail::kWarp, detail::kThreads);
                detail::softmax_rows_kernel<Tin, Tout><<<blocks, detail::kThreads, 0, stream>>>(x, y, outer, axis);
            } else {
                const unsigned blocks = detail::grid_blocks(outer * inner, detail::kThreads);
                detail::softmax_columns_kernel<Tin, Tout>
                    <<<blocks, detail::kThreads, 0, stream>>>(x, y, outer, axis, inner);
            }
        });
    });
    detail::check_launch(name);
}

void matmul(Src a, std::int64_t a_batch_stride, Src b, std::int64_t b_batch_stride, Dst out, std::int64_t batch,
            std::int64_t m, std::int64_t n, std::int64_t k, cudaStream_t stream) {
    const char* name = "matmul";
    const std::int64_t out_count = detail::checked_product(name, {batch, m, n});
    if (k < 0) detail::fail(name, "k is negative");
    if (a_batch_stride < 0 || b_batch_stride < 0) detail::fail(name, "batch strides must not be negative");
    if (out_count == 0) return;
    detail::check_not_null(name, "out", out.data);
    detail::check_dense(name, "out", out.elements, out_count);
    if (k == 0) {  // an empty sum: zeros, and a and b are never read
        fill(out, 0.f, stream);
        return;
    }
    detail::check_not_null(name, "a", a.data);
    detail::check_not_null(name, "b", b.data);
    // a[i] is m x k at i * a_batch_stride, b[i] k x n at i * b_batch_stride.
    detail::check_reach(name, "a", a.elements, 0, Shape{batch, m * k}, Shape{a_batch_stride, 1});
    detail::check_reach(name, "b", b.elements, 0, Shape{batch, k * n}, Shape{b_batch_stride, 1});
    if (a.data == out.data || b.data == out.data) detail::fail(name, "out must not be an operand's buffer");

    const detail::MatmulGeometry g{batch, m, n, k, a_batch_stride, b_batch_stride};
    const std::int64_t col_tiles = (n + detail::kMmTile - 1) / detail::kMmTile;
    const std::int64_t row_tiles = (m + detail::kMmTile - 1) / detail::kMmTile;
    if (col_tiles > 0x7fffffff) detail::fail(name, "n is too large");
    const dim3 block(detail::kMmTile, detail::kMmTile);
    const dim3 grid(static_cast<unsigned>(col_tiles), static_cast<unsigned>(std::min<std::int64_t>(row_tiles, 65535)),
                    static_cast<unsigned>(std::min<std::int64_t>(batch, 65535)));
    detail::with_type(a.type, [&](auto ta) {
        detail::with_type(b.type, [&](auto tb) {
            detail::with_type(out.type, [&](auto tout) {
                using Ta = decltype(ta);
                using Tb = decltype(tb);
                using Tout = decltype(tout);
                detail::matmul_kernel<Ta, Tb, Tout><<<grid, block, 0, stream>>>(
                    static_cast<const Ta*>(a.data), static_cast<const Tb*>(b.data), static_cast<Tout*>(out.data), g);
            });
        });
    });
    detail::check_launch(name);
}

}  // namespace ss::cuda::ops
