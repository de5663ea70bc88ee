#pragma once
// The fallback epilogue: y = act(y + bias[c] + residual) in place, NHWC
// (channel fastest), f16 or f32 y/residual, f32 bias, FP32 math. One launch on
// `stream`, no synchronisation (capturable).
#include <cuda_runtime_api.h>

#include <cstdint>

namespace ss::cudnn::detail {

enum class EpilogueAct : int { none = 0, relu = 1, leaky_relu = 2, sigmoid = 3, silu = 4 };

// bias and residual may be null. Returns the launch status.
cudaError_t launch_epilogue(bool half, void* y, const float* bias, const void* residual, std::int64_t elements,
                            int channels, EpilogueAct act, float alpha, cudaStream_t stream);

}  // namespace ss::cudnn::detail
