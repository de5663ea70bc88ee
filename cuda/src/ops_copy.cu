// strided_copy: every data movement of the plan (transpose, layout change,
// slice, concat slab, expand, casts). The iteration space is collapsed first;
// then a dense copy is a flat element-wise conversion, a transpose between an
// input-contiguous and an output-contiguous dim goes through a shared-memory
// tile (coalesced on both sides), and the rest is one thread per element in
// output order (coalesced writes).
#include <algorithm>
#include <cstdint>

#include "ops_device.cuh"

namespace ss::cuda::ops {
namespace detail {
namespace {

constexpr int kThreads = 256;
constexpr int kTile = 32;       // tile side
constexpr int kTileRows = 8;    // block is kTile x kTileRows threads, each moves kTile / kTileRows elements

template <class Tin, class Tout, class Index>
__global__ void copy_strided_kernel(const Tin* in, Tout* out, StridedGeometry g, Index n) {
    const Index step = static_cast<Index>(gridDim.x) * blockDim.x;
    for (Index i = static_cast<Index>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) {
        std::int64_t off[2];
        strided_offsets<2>(i, g, off);
        store(out + off[1], load(in + off[0]));
    }
}

// A copy between tensors of one type in units of several elements (no conversion).
template <class Unit, class Index>
__global__ void copy_units_kernel(const Unit* in, Unit* out, StridedGeometry g, Index n) {
    const Index step = static_cast<Index>(gridDim.x) * blockDim.x;
    for (Index i = static_cast<Index>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) {
        std::int64_t off[2];
        strided_offsets<2>(i, g, off);
        out[off[1]] = in[off[0]];
    }
}

// Copies whose innermost dim is contiguous on both sides, between tensors of
// one type (concat slabs, channel slices, splits): moved 16, 8 or 4 bytes at a
// time where every offset, stride and the inner size allow, instead of one
// element per thread. False when none does (the caller copies by element).
bool copy_in_units(const void* in, void* out, std::size_t element_bytes, const StridedGeometry& g, cudaStream_t stream) {
    const int inner = g.rank - 1;
    if (inner < 0 || g.strides[0][inner] != 1 || g.strides[1][inner] != 1) return false;
    for (const std::size_t unit : {std::size_t{16}, std::size_t{8}, std::size_t{4}}) {
        if (unit <= element_bytes) return false;
        const auto k = static_cast<std::int64_t>(unit / element_bytes);
        bool fits = g.dims[inner] % k == 0 && reinterpret_cast<std::uintptr_t>(in) % unit == 0 &&
                    reinterpret_cast<std::uintptr_t>(out) % unit == 0;
        for (int s = 0; s < 2 && fits; ++s) {
            fits = g.base[s] % k == 0;
            for (int d = 0; d < inner && fits; ++d) fits = g.strides[s][d] % k == 0;
        }
        if (!fits) continue;
        StridedGeometry u = g;
        u.dims[inner] /= k;
        for (int s = 0; s < 2; ++s) {
            u.base[s] /= k;
            for (int d = 0; d < inner; ++d) u.strides[s][d] /= k;
        }
        std::int64_t n = 1;
        for (int d = 0; d < u.rank; ++d) n *= u.dims[d];
        const unsigned blocks = grid_blocks(n, kThreads);
        auto launch = [&](auto unit_type) {
            using Unit = decltype(unit_type);
            with_index_type(n, [&](auto count) {
                copy_units_kernel<Unit, decltype(count)><<<blocks, kThreads, 0, stream>>>(
                    static_cast<const Unit*>(in), static_cast<Unit*>(out), u, count);
            });
        };
        if (unit == 16)
            launch(uint4{});
        else if (unit == 8)
            launch(uint2{});
        else
            launch(unsigned{});
        return true;
    }
    return false;
}

// One 32 x 32 tile of the (p, q) plane per block and step: p is contiguous
// in the input, q in the output. Lanes run along p to read and along q to
// write; the tile is f32 whatever the types (converted on the way in). The
// +1 column keeps the transposed reads of the tile free of bank conflicts.
// Loops over p tiles (grid.y) and rest positions (grid.z) are uniform per
// block, so the barriers inside are reached by all its threads.
template <class Tin, class Tout>
__global__ void __launch_bounds__(kTile* kTileRows) copy_transpose_kernel(const Tin* in, Tout* out, TransposeGeometry t) {
    __shared__ float tile[kTile][kTile + 1];
    const int tx = static_cast<int>(threadIdx.x);
    const int ty = static_cast<int>(threadIdx.y);
    const std::int64_t q0 = static_cast<std::int64_t>(blockIdx.x) * kTile;
    const std::int64_t p_tiles = (t.p_size + kTile - 1) / kTile;
    for (std::int64_t r = blockIdx.z; r < t.rest_count; r += gridDim.z) {
        std::int64_t in_base = t.in_base, out_base = t.out_base, rem = r;
        for (int d = t.rest_rank - 1; d >= 0; --d) {
            const std::int64_t idx = rem % t.rest_dims[d];
            rem /= t.rest_dims[d];
            in_base += idx * t.rest_in[d];
            out_base += idx * t.rest_out[d];
        }
        for (std::int64_t pt = blockIdx.y; pt < p_tiles; pt += gridDim.y) {
            const std::int64_t p0 = pt * kTile;
            for (int j = ty; j < kTile; j += kTileRows) {
                const std::int64_t p = p0 + tx, q = q0 + j;
                if (p < t.p_size && q < t.q_size) tile[j][tx] = load(in + in_base + p * t.in_p + q * t.in_q);
            }
            __syncthreads();
            for (int j = ty; j < kTile; j += kTileRows) {
                const std::int64_t q = q0 + tx, p = p0 + j;
                if (p < t.p_size && q < t.q_size) store(out + out_base + p * t.out_p + q * t.out_q, tile[tx][j]);
            }
            __syncthreads();  // the tile is refilled next step
        }
    }
}

}  // namespace
}  // namespace detail

void strided_copy(Src in, std::int64_t in_offset, const Shape& in_strides, Dst out, std::int64_t out_offset,
                  const Shape& out_strides, const Shape& dims, cudaStream_t stream) {
    const char* name = "strided_copy";
    detail::check_rank(name, "in_strides", dims, in_strides);
    detail::check_rank(name, "out_strides", dims, out_strides);
    const std::int64_t n = detail::checked_count(name, dims);
    if (n == 0) return;
    detail::check_not_null(name, "in", in.data);
    detail::check_not_null(name, "out", out.data);
    for (int d = 0; d < dims.rank; ++d)
        if (out_strides[d] == 0 && dims[d] > 1)
            detail::fail(name, "out_strides[" + std::to_string(d) + "] is 0 over " + std::to_string(dims[d]) +
                                   " elements: they would all write one place");
    const detail::Reach in_reach = detail::check_reach(name, "in", in.elements, in_offset, dims, in_strides);
    const detail::Reach out_reach = detail::check_reach(name, "out", out.elements, out_offset, dims, out_strides);
    detail::check_disjoint(name, in.data, in.type, in_reach, out.data, out.type, out_reach);

    Shape cd = dims, si = in_strides, so = out_strides;
    collapse_dims(cd, {&si, &so});
    if (cd.rank == 0 || (cd.rank == 1 && si[0] == 1 && so[0] == 1)) {
        detail::launch_dense_unary(name, UnaryOp::identity, 0.f, detail::advance(in.data, in.type, in_offset),
                                   in.type, detail::advance(out.data, out.type, out_offset), out.type, n, stream);
        return;
    }
    detail::StridedGeometry g;
    g.rank = cd.rank;
    g.base[0] = in_offset;
    g.base[1] = out_offset;
    for (int d = 0; d < cd.rank; ++d) {
        g.dims[d] = cd[d];
        g.strides[0][d] = si[d];
        g.strides[1][d] = so[d];
    }
    if (in.type == out.type && detail::copy_in_units(in.data, out.data, in.type == ElementType::f16 ? 2 : 4, g, stream)) {
        detail::check_launch(name);
        return;
    }
    detail::TransposeGeometry t;
    const bool transpose = detail::plan_transpose(g, t);

    detail::with_type(in.type, [&](auto tin) {
        detail::with_type(out.type, [&](auto tout) {
            using Tin = decltype(tin);
            using Tout = decltype(tout);
            const Tin* src = static_cast<const Tin*>(in.data);
            Tout* dst = static_cast<Tout*>(out.data);
            if (transpose) {
                const std::int64_t p_tiles = (t.p_size + detail::kTile - 1) / detail::kTile;
                const std::int64_t q_tiles = (t.q_size + detail::kTile - 1) / detail::kTile;
                const dim3 block(detail::kTile, detail::kTileRows);
                const dim3 grid(static_cast<unsigned>(q_tiles),
                                static_cast<unsigned>(std::min<std::int64_t>(p_tiles, 65535)),
                                static_cast<unsigned>(std::min<std::int64_t>(t.rest_count, 65535)));
                detail::copy_transpose_kernel<Tin, Tout><<<grid, block, 0, stream>>>(src, dst, t);
                return;
            }
            const unsigned blocks = detail::grid_blocks(n, detail::kThreads);
            detail::with_index_type(n, [&](auto count) {
                detail::copy_strided_kernel<Tin, Tout, decltype(count)>
                    <<<blocks, detail::kThreads, 0, stream>>>(src, dst, g, count);
            });
        });
    });
    detail::check_launch(name);
}

}  // namespace ss::cuda::ops
