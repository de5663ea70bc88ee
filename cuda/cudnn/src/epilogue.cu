#include <cuda_fp16.h>

#include "epilogue.hpp"

namespace ss::cudnn::detail {
namespace {

__device__ __forceinline__ float load(const float* p, std::int64_t i) { return p[i]; }
__device__ __forceinline__ float load(const __half* p, std::int64_t i) { return __half2float(p[i]); }
__device__ __forceinline__ void store(float* p, std::int64_t i, float v) { p[i] = v; }
__device__ __forceinline__ void store(__half* p, std::int64_t i, float v) { p[i] = __float2half_rn(v); }

template <typename T>
__global__ void epilogue_kernel(T* y, const float* bias, const T* residual, std::int64_t elements, int channels,
                                int act, float alpha) {
    const std::int64_t step = std::int64_t(gridDim.x) * blockDim.x;
    for (std::int64_t i = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < elements; i += step) {
        float v = load(y, i);
        if (bias != nullptr) v += bias[i % channels];
        if (residual != nullptr) v += load(residual, i);
        switch (act) {
        case 1: v = fmaxf(v, 0.f); break;
        case 2: v = v < 0.f ? alpha * v : v; break;
        case 3: v = 1.f / (1.f + expf(-v)); break;
        case 4: v = v / (1.f + expf(-v)); break;
        default: break;
        }
        store(y, i, v);
    }
}

}  // namespace

cudaError_t launch_epilogue(bool half, void* y, const float* bias, const void* residual, std::int64_t elements,
                            int channels, EpilogueAct act, float alpha, cudaStream_t stream) {
    if (elements <= 0) return cudaSuccess;
    constexpr int threads = 256;
    std::int64_t blocks = (elements + threads - 1) / threads;
    if (blocks > 65535 * 8) blocks = 65535 * 8;  // grid-stride beyond
    if (half) {
        epilogue_kernel<__half><<<unsigned(blocks), threads, 0, stream>>>(
            static_cast<__half*>(y), bias, static_cast<const __half*>(residual), elements, channels, int(act), alpha);
    } else {
        epilogue_kernel<float><<<unsigned(blocks), threads, 0, stream>>>(
            static_cast<float*>(y), bias, static_cast<const float*>(residual), elements, channels, int(act), alpha);
    }
    return cudaGetLastError();
}

}  // namespace ss::cudnn::detail
