#pragma once
// The detector's pre-processing on the GPU: a batch of NV12 frames (each its
// own size) -> the network's input tensor, in one kernel launch. Per output
// element: bilinear sample of Y and of the interleaved UV plane, BT.601
// limited-range YUV -> RGB (what OpenCV's COLOR_YUV2BGR_NV12, and so the CPU
// path, uses), RGB/BGR/gray, y = net_scale_factor * (x - offsets[c]), written
// as NCHW or NHWC, f32 or f16.
//
// Geometry is core's Preprocessor's (core/src/preprocess.cpp) to the bit:
// stretched to W x H, or letterboxed keeping the aspect with the resized size
// rounded as it rounds it, padded top-left or centred, padding 0 in pixel
// space (so scale * (0 - offset) in the tensor). input_transform() gives the
// mapping back, as core's InputTransform does.
//
// Per-source descriptors: PreprocessSource, built on the host with
// describe_source(). preprocess_nv12() reads them from a device array the
// caller filled (e.g. cudaMemcpyAsync from pinned memory on the same stream);
// preprocess_nv12_inline() passes them by value as kernel parameters, up to
// kInlineSources per launch. Neither allocates, synchronises, nor touches
// anything but the stream given, so both can be captured into a CUDA graph.
#include <cuda_runtime_api.h>

#include <array>
#include <cstddef>
#include <cstdint>

#include "slipstream/cuda/nv12_scaler.hpp"  // ss::cuda::Error

namespace ss::cuda {

enum class ColorOrder { rgb, bgr, gray };
enum class TensorLayout { nchw, nhwc };
enum class TensorType { f32, f16 };
enum class Resize {
    stretch,             // to exactly W x H
    letterbox,           // aspect kept, picture at the top-left, padding right/bottom
    letterbox_centered,  // aspect kept, padding split evenly (symmetric-padding=1)
};

struct PreprocessParams {
    int width = 0, height = 0;  // the network input
    int channels = 3;           // 3; or 1 or 3 for gray (3: the gray value in each)
    ColorOrder color = ColorOrder::rgb;
    Resize resize = Resize::stretch;
    float net_scale_factor = 1.f;
    std::array<float, 3> offsets{0, 0, 0};  // per model channel, in 0..255 pixel units
    TensorLayout layout = TensorLayout::nchw;
    TensorType type = TensorType::f32;
};

// Maps network-input pixels back to source pixels: source = (net - pad) / scale.
struct InputTransform {
    float scale_x = 1, scale_y = 1;
    float pad_x = 0, pad_y = 0;
    int resized_width = 0, resized_height = 0;  // the picture's size inside the input
};

// The transform for a source of `width` x `height` (core's Preprocessor's arithmetic).
InputTransform input_transform(int width, int height, const PreprocessParams& params);

// One source of a batch. Pointers are device memory for preprocess_nv12*()
// and host memory for the reference. NV12: Y rows of `width` bytes, then
// (height+1)/2 rows of (width+1)/2 interleaved U,V pairs. Plain data, so an
// array of them can be copied to the device as it is.
struct PreprocessSource {
    const std::uint8_t* luma = nullptr;
    const std::uint8_t* chroma = nullptr;
    std::size_t luma_pitch = 0, chroma_pitch = 0;  // bytes between rows
    int width = 0, height = 0;
    // Geometry, from describe_source(): where the picture lands in the input,
    // and source pixels per input pixel on each axis.
    int resized_width = 0, resized_height = 0;
    int pad_x = 0, pad_y = 0;
    float step_x = 1, step_y = 1;
};

// Checks the arguments (sizes 1..16384, pitches, pointers set) and fills in
// the geometry for `params`. Throws Error.
PreprocessSource describe_source(const std::uint8_t* luma, std::size_t luma_pitch, const std::uint8_t* chroma,
                                 std::size_t chroma_pitch, int width, int height, const PreprocessParams& params);

// Bytes of the tensor for `batch` sources (batch x channels x height x width elements).
std::size_t tensor_bytes(const PreprocessParams& params, int batch);

// Most sources one preprocess_nv12_inline() launch carries as kernel parameters.
constexpr int kInlineSources = 32;

// One launch for `count` sources whose descriptors are in device memory
// (`device_sources`, count elements, alive until the kernel ran); writes
// `device_tensor` (tensor_bytes(params, count) bytes, 16-byte aligned is best).
// Asynchronous on `stream`; throws Error on bad arguments or a failed launch.
void preprocess_nv12(const PreprocessSource* device_sources, int count, const PreprocessParams& params,
                     void* device_tensor, cudaStream_t stream);

// The same with the descriptors read from host memory and passed by value in
// the launch (ceil(count / kInlineSources) launches), nothing to upload first.
void preprocess_nv12_inline(const PreprocessSource* host_sources, int count, const PreprocessParams& params,
                            void* device_tensor, cudaStream_t stream);

// The same arithmetic on the CPU, host memory on both sides: what the kernel
// is tested against (equal up to floating-point contraction).
void preprocess_nv12_reference(const PreprocessSource* host_sources, int count, const PreprocessParams& params,
                               void* host_tensor);

}  // namespace ss::cuda
