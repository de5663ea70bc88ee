// Element-wise ops: unary activations, dense conversion, fill, and binary
// arithmetic with broadcasting through strides. Memory-bound: one pass, f32
// arithmetic, 4-element accesses where the pointers are aligned for them.
#include <cstdint>

#include "ops_device.cuh"

namespace ss::cuda::ops {
namespace detail {
namespace {

constexpr int kThreads = 256;

__device__ __forceinline__ float apply_unary(UnaryOp op, float alpha, float x) {
    switch (op) {
        case UnaryOp::relu: return x > 0.f ? x : 0.f;
        case UnaryOp::leaky_relu: return x < 0.f ? alpha * x : x;
        // expf(-x) overflows to inf for x < -88: 1/inf = 0 and x/inf = -0, the right limits.
        case UnaryOp::sigmoid: return 1.f / (1.f + expf(-x));
        case UnaryOp::silu: return x / (1.f + expf(-x));
        case UnaryOp::exp: return expf(x);
        case UnaryOp::identity: break;
    }
    return x;
}

__device__ __forceinline__ float apply_binary(BinaryOp op, float x, float y) {
    switch (op) {
        case BinaryOp::add: return x + y;
        case BinaryOp::sub: return x - y;
        case BinaryOp::mul: return x * y;
        case BinaryOp::div: return x / y;
    }
    return x;
}

// Vec: groups of 4 elements through 16-byte (f32) / 8-byte (f16) accesses,
// then the last n % 4 elements one by one. In and out may be one buffer:
// each element is read and written by the same thread, read first.
template <class Tin, class Tout, bool Vec>
__global__ void unary_kernel(const Tin* in, Tout* out, std::int64_t n, UnaryOp op, float alpha) {
    std::int64_t first_scalar = 0;
    if constexpr (Vec) {
        const std::int64_t groups = n / 4;
        for (std::int64_t g = thread_index(); g < groups; g += thread_count()) {
            float v[4];
            load4(in + 4 * g, v);
#pragma unroll
            for (int j = 0; j < 4; ++j) v[j] = apply_unary(op, alpha, v[j]);
            store4(out + 4 * g, v);
        }
        first_scalar = 4 * groups;
    }
    for (std::int64_t i = first_scalar + thread_index(); i < n; i += thread_count())
        store(out + i, apply_unary(op, alpha, load(in + i)));
}

template <class T>
__global__ void fill_kernel(T* out, std::int64_t n, float value) {
    for (std::int64_t i = thread_index(); i < n; i += thread_count()) store(out + i, value);
}

template <class Ta, class Tb, class Tout, bool Vec>
__global__ void binary_dense_kernel(const Ta* a, const Tb* b, Tout* out, std::int64_t n, BinaryOp op) {
    std::int64_t first_scalar = 0;
    if constexpr (Vec) {
        const std::int64_t groups = n / 4;
        for (std::int64_t g = thread_index(); g < groups; g += thread_count()) {
            float x[4], y[4];
            load4(a + 4 * g, x);
            load4(b + 4 * g, y);
#pragma unroll
            for (int j = 0; j < 4; ++j) x[j] = apply_binary(op, x[j], y[j]);
            store4(out + 4 * g, x);
        }
        first_scalar = 4 * groups;
    }
    for (std::int64_t i = first_scalar + thread_index(); i < n; i += thread_count())
        store(out + i, apply_binary(op, load(a + i), load(b + i)));
}

// Broadcasting: out is dense over g's dims, so element i of the iteration is
// out[i]; strides[0] walks a, strides[1] walks b. Index: see strided_offsets.
template <class Ta, class Tb, class Tout, class Index>
__global__ void binary_strided_kernel(const Ta* a, const Tb* b, Tout* out, StridedGeometry g, Index n,
                                      BinaryOp op) {
    const Index step = static_cast<Index>(gridDim.x) * blockDim.x;
    for (Index i = static_cast<Index>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) {
        std::int64_t off[2];
        strided_offsets<2>(i, g, off);
        store(out + i, apply_binary(op, load(a + off[0]), load(b + off[1])));
    }
}

bool aligned4(const void* p, ElementType t) {
    return reinterpret_cast<std::uintptr_t>(p) % (4 * element_size(t)) == 0;
}

}  // namespace

void launch_dense_unary(const char* op_name, UnaryOp op, float alpha, const void* in, ElementType in_type, void* out,
                        ElementType out_type, std::int64_t n, cudaStream_t stream) {
    const bool vec = aligned4(in, in_type) && aligned4(out, out_type);
    const unsigned blocks = grid_blocks(vec ? n / 4 : n, kThreads);
    with_type(in_type, [&](auto tin) {
        with_type(out_type, [&](auto tout) {
            using Tin = decltype(tin);
            using Tout = decltype(tout);
            const Tin* src = static_cast<const Tin*>(in);
            Tout* dst = static_cast<Tout*>(out);
            if (vec)
                unary_kernel<Tin, Tout, true><<<blocks, kThreads, 0, stream>>>(src, dst, n, op, alpha);
            else
                unary_kernel<Tin, Tout, false><<<blocks, kThreads, 0, stream>>>(src, dst, n, op, alpha);
        });
    });
    check_launch(op_name);
}

}  // namespace detail

void unary(UnaryOp op, float alpha, Src in, Dst out, cudaStream_t stream) {
    const char* name = "unary";
    if (in.elements < 0 || in.elements != out.elements)
        detail::fail(name, "in has " + std::to_string(in.elements) + " elements, out " +
                               std::to_string(out.elements) + " (must be equal)");
    if (in.elements == 0) return;
    detail::check_not_null(name, "in", in.data);
    detail::check_not_null(name, "out", out.data);
    if (in.data == out.data && in.type != out.type)
        detail::fail(name, "in and out are one buffer but of different element types");
    detail::launch_dense_unary(name, op, alpha, in.data, in.type, out.data, out.type, in.elements, stream);
}

void convert(Src in, Dst out, cudaStream_t stream) {
    const char* name = "convert";
    if (in.elements < 0 || in.elements != out.elements)
        detail::fail(name, "in has " + std::to_string(in.elements) + " elements, out " +
                               std::to_string(out.elements) + " (must be equal)");
    if (in.elements == 0) return;
    detail::check_not_null(name, "in", in.data);
    detail::check_not_null(name, "out", out.data);
    detail::check_disjoint(name, in.data, in.type, {0, in.elements - 1}, out.data, out.type, {0, out.elements - 1});
    detail::launch_dense_unary(name, UnaryOp::identity, 0.f, in.data, in.type, out.data, out.type, in.elements,
                               stream);
}

void fill(Dst out, float value, cudaStream_t stream) {
    const char* name = "fill";
    if (out.elements < 0) detail::fail(name, "negative element count");
    if (out.elements == 0) return;
    detail::check_not_null(name, "out", out.data);
    const unsigned blocks = detail::grid_blocks(out.elements, detail::kThreads);
    detail::with_type(out.type, [&](auto tout) {
        using Tout = decltype(tout);
        detail::fill_kernel<Tout>
            <<<blocks, detail::kThreads, 0, stream>>>(static_cast<Tout*>(out.data), out.elements, value);
    });
    detail::check_launch(name);
}

void binary(BinaryOp op, Src a, const Shape& a_strides, Src b, const Shape& b_strides, Dst out, const Shape& dims,
            cudaStream_t stream) {
    const char* name = "binary";
    detail::check_rank(name, "a_strides", dims, a_strides);
    detail::check_rank(name, "b_strides", dims, b_strides);
    const std::int64_t n = detail::checked_count(name, dims);
    if (n == 0) return;
    detail::check_not_null(name, "a", a.data);
    detail::check_not_null(name, "b", b.data);
    detail::check_not_null(name, "out", out.data);
    detail::check_reach(name, "a", a.elements, 0, dims, a_strides);
    detail::check_reach(name, "b", b.elements, 0, dims, b_strides);
    detail::check_dense(name, "out", out.elements, n);
    // Writing out[i] while another thread still reads an operand element i'
    // != i of the same buffer would race; reading element i itself is fine.
    const Shape dense = row_major_strides(dims);
    if (a.data == out.data && (a.type != out.type || a_strides != dense))
        detail::fail(name, "out is operand a's buffer but a is not read densely with out's type");
    if (b.data == out.data && (b.type != out.type || b_strides != dense))
        detail::fail(name, "out is operand b's buffer but b is not read densely with out's type");

    Shape cd = dims, sa = a_strides, sb = b_strides;
    collapse_dims(cd, {&sa, &sb});
    const bool dense_operands = cd.rank == 0 || (cd.rank == 1 && sa[0] == 1 && sb[0] == 1);
    const unsigned threads = detail::kThreads;

    detail::with_type(a.type, [&](auto ta) {
        detail::with_type(b.type, [&](auto tb) {
            detail::with_type(out.type, [&](auto tout) {
                using Ta = decltype(ta);
                using Tb = decltype(tb);
                using Tout = decltype(tout);
                const Ta* pa = static_cast<const Ta*>(a.data);
                const Tb* pb = static_cast<const Tb*>(b.data);
                Tout* po = static_cast<Tout*>(out.data);
                if (dense_operands) {
                    const bool vec = detail::aligned4(pa, a.type) && detail::aligned4(pb, b.type) &&
                                     detail::aligned4(po, out.type);
                    const unsigned blocks = detail::grid_blocks(vec ? n / 4 : n, threads);
                    if (vec)
                        detail::binary_dense_kernel<Ta, Tb, Tout, true>
                            <<<blocks, threads, 0, stream>>>(pa, pb, po, n, op);
                    else
                        detail::binary_dense_kernel<Ta, Tb, Tout, false>
                            <<<blocks, threads, 0, stream>>>(pa, pb, po, n, op);
                    return;
                }
                detail::StridedGeometry g;
                g.rank = cd.rank;
                for (int d = 0; d < cd.rank; ++d) {
                    g.dims[d] = cd[d];
                    g.strides[0][d] = sa[d];
                    g.strides[1][d] = sb[d];
                }
                const unsigned blocks = detail::grid_blocks(n, threads);
                detail::with_index_type(n, [&](auto count) {
                    detail::binary_strided_kernel<Ta, Tb, Tout, decltype(count)>
                        <<<blocks, threads, 0, stream>>>(pa, pb, po, g, count, op);
                });
            });
        });
    });
    detail::check_launch(name);
}

}  // namespace ss::cuda::ops
