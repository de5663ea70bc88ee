// The pre-processing kernel: one thread per input pixel of one image (all its
// channels), blockIdx.z the image of the batch; the arithmetic is
// preprocess_math.hpp's, shared with the CPU reference.
#include <cuda_runtime_api.h>

#include <string>

#include "preprocess_math.hpp"
#include "slipstream/cuda/preprocess.hpp"

namespace ss::cuda {
namespace {

// gridDim.z's limit.
constexpr int kMaxBatch = 65535;

__global__ void preprocess_array_kernel(const PreprocessSource* sources, detail::KernelParams k, void* tensor) {
    const int x = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
    const int y = static_cast<int>(blockIdx.y * blockDim.y + threadIdx.y);
    const int n = static_cast<int>(blockIdx.z);
    if (x >= k.width || y >= k.height) return;
    const PreprocessSource s = sources[n];
    detail::preprocess_pixel(s, k, n, x, y, tensor);
}

// Descriptors by value: 32 x 64 bytes plus the params stay under the 4 KiB
// kernel-parameter limit every architecture has.
struct InlineSources {
    PreprocessSource s[kInlineSources];
};
static_assert(sizeof(InlineSources) + sizeof(detail::KernelParams) + sizeof(void*) < 4000,
              "kernel parameters over the 4 KiB limit");

__global__ void preprocess_inline_kernel(InlineSources sources, detail::KernelParams k, void* tensor) {
    const int x = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
    const int y = static_cast<int>(blockIdx.y * blockDim.y + threadIdx.y);
    const int n = static_cast<int>(blockIdx.z);
    if (x >= k.width || y >= k.height) return;
    detail::preprocess_pixel(sources.s[n], k, n, x, y, tensor);
}

// 32 wide: a warp writes one contiguous run of a row (of each plane in NCHW).
const dim3 kBlock(32, 8);

dim3 grid_for(const PreprocessParams& p, int count) {
    return dim3(static_cast<unsigned>((p.width + static_cast<int>(kBlock.x) - 1) / static_cast<int>(kBlock.x)),
                static_cast<unsigned>((p.height + static_cast<int>(kBlock.y) - 1) / static_cast<int>(kBlock.y)),
                static_cast<unsigned>(count));
}

void check_launch(const char* who) {
    const cudaError_t status = cudaGetLastError();
    if (status == cudaSuccess) return;
    throw Error(std::string(who) + ": launching the kernel: " + cudaGetErrorString(status) + " (" +
                cudaGetErrorName(status) + ")");
}

}  // namespace

void preprocess_nv12(const PreprocessSource* device_sources, int count, const PreprocessParams& params,
                     void* device_tensor, cudaStream_t stream) {
    const char* who = "preprocess_nv12";
    detail::check_params(who, params);
    if (count <= 0) return;
    if (count > kMaxBatch) throw Error(std::string(who) + ": batch of " + std::to_string(count) + " is too large");
    if (device_sources == nullptr || device_tensor == nullptr)
        throw Error(std::string(who) + ": null sources or tensor");
    // Clear a stale error of an earlier, unrelated call so it is not blamed on this launch.
    (void)cudaGetLastError();
    preprocess_array_kernel<<<grid_for(params, count), kBlock, 0, stream>>>(device_sources,
                                                                             detail::kernel_params(params), device_tensor);
    check_launch(who);
}

void preprocess_nv12_inline(const PreprocessSource* host_sources, int count, const PreprocessParams& params,
                            void* device_tensor, cudaStream_t stream) {
    const char* who = "preprocess_nv12_inline";
    detail::check_params(who, params);
    if (count <= 0) return;
    if (host_sources == nullptr || device_tensor == nullptr) throw Error(std::string(who) + ": null sources or tensor");
    for (int n = 0; n < count; ++n) detail::check_source(who, host_sources[n], n);
    const detail::KernelParams k = detail::kernel_params(params);
    const std::size_t image_bytes = tensor_bytes(params, 1);
    (void)cudaGetLastError();
    for (int first = 0; first < count; first += kInlineSources) {
        const int chunk = count - first < kInlineSources ? count - first : kInlineSources;
        InlineSources sources{};
        for (int i = 0; i < chunk; ++i) sources.s[i] = host_sources[first + i];
        // Each chunk writes its own images: the tensor from image `first` on.
        void* out = static_cast<char*>(device_tensor) + static_cast<std::size_t>(first) * image_bytes;
        preprocess_inline_kernel<<<grid_for(params, chunk), kBlock, 0, stream>>>(sources, k, out);
        check_launch(who);
    }
}

}  // namespace ss::cuda
