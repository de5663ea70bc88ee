// Host-side logic of the ops: shape helpers, argument checks, the choice of
// the tiled transpose. Pure C++ (g++), tested on the CPU.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <limits>

#include "ops_internal.hpp"

namespace ss::cuda::ops {

std::int64_t element_count(const Shape& dims) {
    if (dims.rank < 0 || dims.rank > max_rank)
        throw Error("ss::cuda::ops::element_count: rank " + std::to_string(dims.rank) + " out of range");
    std::int64_t n = 1;
    for (int d = 0; d < dims.rank; ++d) {
        if (dims[d] < 0)
            throw Error("ss::cuda::ops::element_count: dim " + std::to_string(d) + " is negative (" +
                        std::to_string(dims[d]) + ")");
        if (__builtin_mul_overflow(n, dims[d], &n))
            throw Error("ss::cuda::ops::element_count: element count overflows int64");
    }
    return n;
}

Shape row_major_strides(const Shape& dims) {
    Shape s;
    s.rank = dims.rank;
    std::int64_t step = 1;
    for (int d = dims.rank - 1; d >= 0; --d) {
        s[d] = step;
        step *= dims[d];
    }
    return s;
}

void collapse_dims(Shape& dims, std::initializer_list<Shape*> stride_sets) {
    for (const Shape* s : stride_sets)
        if (s->rank != dims.rank)
            throw Error("ss::cuda::ops::collapse_dims: a stride set has rank " + std::to_string(s->rank) +
                        ", the dims " + std::to_string(dims.rank));
    // Drop dims of size 1: they contribute nothing to any offset.
    int r = 0;
    for (int d = 0; d < dims.rank; ++d) {
        if (dims[d] == 1) continue;
        dims[r] = dims[d];
        for (Shape* s : stride_sets) (*s)[r] = (*s)[d];
        ++r;
    }
    // Merge d into d+1 (outer into inner) where every set walks them as one.
    int out = 0;
    for (int d = 0; d < r; ++d) {
        if (out > 0) {
            bool mergeable = true;
            for (const Shape* s : stride_sets)
                if ((*s)[out - 1] != (*s)[d] * dims[d]) mergeable = false;
            if (mergeable) {
                dims[out - 1] *= dims[d];
                for (Shape* s : stride_sets) (*s)[out - 1] = (*s)[d];
                continue;
            }
        }
        dims[out] = dims[d];
        for (Shape* s : stride_sets) (*s)[out] = (*s)[d];
        ++out;
    }
    for (int d = out; d < max_rank; ++d) {
        dims[d] = 0;
        for (Shape* s : stride_sets) (*s)[d] = 0;
    }
    dims.rank = out;
    for (Shape* s : stride_sets) s->rank = out;
}

std::int64_t pooled_size(std::int64_t in, int kernel, int stride, int pad_before, int pad_after, bool ceil_mode) {
    const char* op = "pooled_size";
    if (in < 1) detail::fail(op, "input size " + std::to_string(in) + " is not positive");
    if (kernel < 1 || stride < 1) detail::fail(op, "kernel and stride must be positive");
    if (pad_before < 0 || pad_after < 0) detail::fail(op, "pads must not be negative");
    const std::int64_t span = in + pad_before + pad_after - kernel;
    if (span < 0)
        detail::fail(op, "kernel " + std::to_string(kernel) + " is larger than the padded input " +
                             std::to_string(in + pad_before + pad_after));
    std::int64_t out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
    // ONNX / PyTorch: with ceil_mode, a last window that starts past the input
    // (in the end padding) is dropped.
    if (ceil_mode && (out - 1) * stride >= in + pad_before) --out;
    return out;
}

namespace detail {

void fail(const char* op, const std::string& what) {
    throw Error(std::string("ss::cuda::ops::") + op + ": " + what);
}

void check_launch(const char* op) {
    const cudaError_t status = cudaGetLastError();
    if (status != cudaSuccess)
        fail(op, std::string("kernel launch failed: ") + cudaGetErrorString(status) + " (" +
                     cudaGetErrorName(status) + ")");
}

void check_not_null(const char* op, const char* what, const void* p) {
    if (p == nullptr) fail(op, std::string(what) + " is null");
}

void check_rank(const char* op, const char* what, const Shape& dims, const Shape& strides) {
    if (dims.rank < 0 || dims.rank > max_rank)
        fail(op, "rank " + std::to_string(dims.rank) + " is not in 0.." + std::to_string(max_rank));
    if (strides.rank != dims.rank)
        fail(op, std::string(what) + " has " + std::to_string(strides.rank) + " strides for " +
                     std::to_string(dims.rank) + " dims");
}

Reach check_reach(const char* op, const char* what, std::int64_t elements, std::int64_t offset, const Shape& dims,
                  const Shape& strides) {
    std::int64_t lo = offset, hi = offset;
    for (int d = 0; d < dims.rank; ++d) {
        std::int64_t extent = 0;
        bool overflow = __builtin_mul_overflow(dims[d] - 1, strides[d], &extent);
        overflow = overflow || (extent > 0 ? __builtin_add_overflow(hi, extent, &hi)
                                           : __builtin_add_overflow(lo, extent, &lo));
        if (overflow) fail(op, std::string(what) + ": offsets overflow int64");
    }
    if (lo < 0 || hi >= elements)
        fail(op, std::string(what) + " reaches elements " + std::to_string(lo) + ".." + std::to_string(hi) +
                     " of a buffer of " + std::to_string(elements));
    return {lo, hi};
}

void check_disjoint(const char* op, const void* a, ElementType a_type, Reach a_reach, const void* b,
                    ElementType b_type, Reach b_reach) {
    const auto a0 = reinterpret_cast<std::uintptr_t>(a), b0 = reinterpret_cast<std::uintptr_t>(b);
    const auto as = static_cast<std::uintptr_t>(element_size(a_type));
    const auto bs = static_cast<std::uintptr_t>(element_size(b_type));
    const std::uintptr_t a_first = a0 + static_cast<std::uintptr_t>(a_reach.lo) * as;
    const std::uintptr_t a_end = a0 + static_cast<std::uintptr_t>(a_reach.hi + 1) * as;
    const std::uintptr_t b_first = b0 + static_cast<std::uintptr_t>(b_reach.lo) * bs;
    const std::uintptr_t b_end = b0 + static_cast<std::uintptr_t>(b_reach.hi + 1) * bs;
    if (a_first < b_end && b_first < a_end) fail(op, "in and out overlap");
}

void check_dense(const char* op, const char* what, std::int64_t elements, std::int64_t count) {
    if (elements < count)
        fail(op, std::string(what) + " has " + std::to_string(elements) + " elements, " + std::to_string(count) +
                     " needed");
}

std::int64_t checked_product(const char* op, std::initializer_list<std::int64_t> sizes) {
    std::int64_t n = 1;
    for (std::int64_t s : sizes) {
        if (s < 0) fail(op, "a size is negative (" + std::to_string(s) + ")");
        if (__builtin_mul_overflow(n, s, &n)) fail(op, "element count overflows int64");
    }
    return n;
}

std::int64_t checked_count(const char* op, const Shape& dims) {
    if (dims.rank < 0 || dims.rank > max_rank)
        fail(op, "rank " + std::to_string(dims.rank) + " is not in 0.." + std::to_string(max_rank));
    std::int64_t n = 1;
    for (int d = 0; d < dims.rank; ++d) {
        if (dims[d] < 0) fail(op, "dim " + std::to_string(d) + " is negative (" + std::to_string(dims[d]) + ")");
        if (__builtin_mul_overflow(n, dims[d], &n)) fail(op, "element count overflows int64");
    }
    return n;
}

bool plan_transpose(const StridedGeometry& g, TransposeGeometry& t) {
    if (g.rank < 2) return false;
    const int q = g.rank - 1;
    if (g.strides[1][q] != 1 || g.strides[0][q] == 1) return false;
    int p = -1;
    for (int d = 0; d < q; ++d)
        if (g.strides[0][d] == 1) p = d;
    if (p < 0) return false;
    if (g.dims[p] < transpose_min_side || g.dims[q] < transpose_min_side) return false;
    // Tiles along q go into grid.x (up to 2^31 - 1).
    if ((g.dims[q] + 31) / 32 > std::numeric_limits<int>::max()) return false;
    t = TransposeGeometry{};
    t.p_size = g.dims[p];
    t.q_size = g.dims[q];
    t.in_p = g.strides[0][p];
    t.in_q = g.strides[0][q];
    t.out_p = g.strides[1][p];
    t.out_q = g.strides[1][q];
    t.in_base = g.base[0];
    t.out_base = g.base[1];
    for (int d = 0; d < q; ++d) {
        if (d == p) continue;
        t.rest_dims[t.rest_rank] = g.dims[d];
        t.rest_in[t.rest_rank] = g.strides[0][d];
        t.rest_out[t.rest_rank] = g.strides[1][d];
        t.rest_count *= g.dims[d];
        ++t.rest_rank;
    }
    return true;
}

unsigned grid_blocks(std::int64_t n, int threads) {
    // Grid-stride loops cover the rest; 2^20 blocks keep every SM busy.
    const std::int64_t cap = std::int64_t{1} << 20;
    return static_cast<unsigned>(std::max<std::int64_t>(1, std::min(cap, (n + threads - 1) / threads)));
}

}  // namespace detail
}  // namespace ss::cuda::ops
