#pragma once
// Device-side helpers of the ops (nvcc only): f16/f32 loads and stores that
// compute in f32, the two element types as template arguments, index
// decomposition over a collapsed iteration space.
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "ops_internal.hpp"

namespace ss::cuda::ops::detail {

__device__ __forceinline__ float load(const float* p) { return *p; }
__device__ __forceinline__ float load(const __half* p) { return __half2float(*p); }
__device__ __forceinline__ void store(float* p, float v) { *p = v; }
__device__ __forceinline__ void store(__half* p, float v) { *p = __float2half_rn(v); }

// Four consecutive elements in one memory access; the address must be
// aligned to 4 elements (checked by the launcher).
struct alignas(8) Half4 {
    __half2 lo, hi;
};
__device__ __forceinline__ void load4(const float* p, float (&v)[4]) {
    const float4 x = *reinterpret_cast<const float4*>(p);
    v[0] = x.x, v[1] = x.y, v[2] = x.z, v[3] = x.w;
}
__device__ __forceinline__ void load4(const __half* p, float (&v)[4]) {
    const Half4 x = *reinterpret_cast<const Half4*>(p);
    const float2 a = __half22float2(x.lo), b = __half22float2(x.hi);
    v[0] = a.x, v[1] = a.y, v[2] = b.x, v[3] = b.y;
}
__device__ __forceinline__ void store4(float* p, const float (&v)[4]) {
    *reinterpret_cast<float4*>(p) = make_float4(v[0], v[1], v[2], v[3]);
}
__device__ __forceinline__ void store4(__half* p, const float (&v)[4]) {
    Half4 x;
    x.lo = __floats2half2_rn(v[0], v[1]);
    x.hi = __floats2half2_rn(v[2], v[3]);
    *reinterpret_cast<Half4*>(p) = x;
}

// 16 bytes of consecutive elements in one access (4 f32 or 8 f16), computed
// in f32 element by element exactly as the scalar paths do; the address must
// be 16-byte aligned (checked by the launcher).
template <class T>
struct Vec16 {
    static constexpr int n = 16 / sizeof(T);
};
template <class T>
__device__ __forceinline__ void load16(const T* p, float (&v)[Vec16<T>::n]) {
    const uint4 raw = *reinterpret_cast<const uint4*>(p);
    const T* e = reinterpret_cast<const T*>(&raw);
#pragma unroll
    for (int k = 0; k < Vec16<T>::n; ++k) v[k] = load(e + k);
}
template <class T>
__device__ __forceinline__ void store16(T* p, const float (&v)[Vec16<T>::n]) {
    uint4 raw;
    T* e = reinterpret_cast<T*>(&raw);
#pragma unroll
    for (int k = 0; k < Vec16<T>::n; ++k) store(e + k, v[k]);
    *reinterpret_cast<uint4*>(p) = raw;
}

// Index of this thread in a 1-D grid and the grid-stride step, in int64 so a
// loop over more than 2^31 elements cannot wrap.
__device__ __forceinline__ std::int64_t thread_index() {
    return static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ __forceinline__ std::int64_t thread_count() {
    return static_cast<std::int64_t>(gridDim.x) * blockDim.x;
}

// Offsets of the element with row-major linear index `i` over g's dims in
// the first S stride sets (added to their bases). Index is uint32_t when the
// whole space is below 2^31 (cheaper divisions), else uint64_t.
template <int S, class Index>
__device__ __forceinline__ void strided_offsets(Index i, const StridedGeometry& g, std::int64_t (&off)[S]) {
#pragma unroll
    for (int s = 0; s < S; ++s) off[s] = g.base[s];
#pragma unroll
    for (int d = max_rank - 1; d >= 0; --d) {
        if (d >= g.rank) continue;
        const Index dim = static_cast<Index>(g.dims[d]);
        const Index idx = i % dim;
        i /= dim;
#pragma unroll
        for (int s = 0; s < S; ++s) off[s] += static_cast<std::int64_t>(idx) * g.strides[s][d];
    }
}

// Calls f(count) with `count` as uint32_t when it is below 2^31 (the kernels'
// index math then divides in 32 bits, much cheaper), else as uint64_t.
template <class F>
void with_index_type(std::int64_t count, F&& f) {
    if (count < (std::int64_t{1} << 31))
        f(static_cast<std::uint32_t>(count));
    else
        f(static_cast<std::uint64_t>(count));
}

// Calls f(float{}) or f(__half{}): the C++ type of an ElementType as a
// template argument (decltype of the parameter).
template <class F>
void with_type(ElementType t, F&& f) {
    if (t == ElementType::f16)
        f(__half{});
    else
        f(float{});
}

}  // namespace ss::cuda::ops::detail
