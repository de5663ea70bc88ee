// Host side of the pre-processing: geometry (core's Preprocessor's
// arithmetic), argument checks, and the CPU reference the kernel is tested
// against.
#include <algorithm>
#include <cmath>
#include <string>

#include "preprocess_math.hpp"
#include "scale_math.hpp"  // kMaxSide
#include "slipstream/cuda/preprocess.hpp"

namespace ss::cuda {
namespace detail {

void check_params(const char* who, const PreprocessParams& p) {
    const std::string what = std::string(who) + ": ";
    if (p.width <= 0 || p.height <= 0 || p.width > kMaxSide || p.height > kMaxSide)
        throw Error(what + "network input " + std::to_string(p.width) + "x" + std::to_string(p.height) +
                    " is not within 1.." + std::to_string(kMaxSide));
    const bool gray = p.color == ColorOrder::gray;
    if (!(p.channels == 3 || (gray && p.channels == 1)))
        throw Error(what + std::to_string(p.channels) + " channels do not fit " + (gray ? "gray (1 or 3)" : "RGB/BGR (3)"));
}

void check_source(const char* who, const PreprocessSource& s, int index) {
    const std::string what = std::string(who) + ": source " + std::to_string(index) + " ";
    if (s.luma == nullptr || s.chroma == nullptr) throw Error(what + "has a null plane pointer");
    if (s.width <= 0 || s.height <= 0 || s.resized_width <= 0 || s.resized_height <= 0)
        throw Error(what + "is not described (use describe_source)");
}

}  // namespace detail

InputTransform input_transform(int width, int height, const PreprocessParams& p) {
    detail::check_params("input_transform", p);
    if (width <= 0 || height <= 0)
        throw Error("input_transform: source size " + std::to_string(width) + "x" + std::to_string(height) +
                    " is not positive");
    // Written as core/src/preprocess.cpp writes it (float arithmetic, lround,
    // integer halving of the padding), so boxes map back identically.
    InputTransform t;
    int resized_w = p.width, resized_h = p.height;
    if (p.resize != Resize::stretch) {
        const float scale = std::min(static_cast<float>(p.width) / width, static_cast<float>(p.height) / height);
        resized_w = std::clamp(static_cast<int>(std::lround(width * scale)), 1, p.width);
        resized_h = std::clamp(static_cast<int>(std::lround(height * scale)), 1, p.height);
        if (p.resize == Resize::letterbox_centered) {
            t.pad_x = static_cast<float>((p.width - resized_w) / 2);
            t.pad_y = static_cast<float>((p.height - resized_h) / 2);
        }
    }
    t.scale_x = static_cast<float>(resized_w) / width;
    t.scale_y = static_cast<float>(resized_h) / height;
    t.resized_width = resized_w;
    t.resized_height = resized_h;
    return t;
}

PreprocessSource describe_source(const std::uint8_t* luma, std::size_t luma_pitch, const std::uint8_t* chroma,
                                 std::size_t chroma_pitch, int width, int height, const PreprocessParams& params) {
    const std::string who = "describe_source: ";
    if (luma == nullptr || chroma == nullptr) throw Error(who + "a plane pointer is null");
    if (width <= 0 || height <= 0 || width > detail::kMaxSide || height > detail::kMaxSide)
        throw Error(who + "source size " + std::to_string(width) + "x" + std::to_string(height) + " is not within 1.." +
                    std::to_string(detail::kMaxSide));
    const auto w = static_cast<std::size_t>(width);
    if (luma_pitch < w) throw Error(who + "Y pitch " + std::to_string(luma_pitch) + " is smaller than the width");
    // The UV row holds (width+1)/2 pairs.
    if (chroma_pitch < 2 * ((w + 1) / 2))
        throw Error(who + "UV pitch " + std::to_string(chroma_pitch) + " is smaller than the width");
    const InputTransform t = input_transform(width, height, params);
    PreprocessSource s;
    s.luma = luma;
    s.chroma = chroma;
    s.luma_pitch = luma_pitch;
    s.chroma_pitch = chroma_pitch;
    s.width = width;
    s.height = height;
    s.resized_width = t.resized_width;
    s.resized_height = t.resized_height;
    s.pad_x = static_cast<int>(t.pad_x);
    s.pad_y = static_cast<int>(t.pad_y);
    s.step_x = static_cast<float>(width) / static_cast<float>(t.resized_width);
    s.step_y = static_cast<float>(height) / static_cast<float>(t.resized_height);
    return s;
}

std::size_t tensor_bytes(const PreprocessParams& params, int batch) {
    detail::check_params("tensor_bytes", params);
    const std::size_t element = params.type == TensorType::f16 ? 2 : 4;
    return static_cast<std::size_t>(batch < 0 ? 0 : batch) * static_cast<std::size_t>(params.channels) *
           static_cast<std::size_t>(params.height) * static_cast<std::size_t>(params.width) * element;
}

void preprocess_nv12_reference(const PreprocessSource* sources, int count, const PreprocessParams& params,
                               void* tensor) {
    const char* who = "preprocess_nv12_reference";
    detail::check_params(who, params);
    if (count <= 0) return;
    if (sources == nullptr || tensor == nullptr) throw Error(std::string(who) + ": null sources or tensor");
    const detail::KernelParams k = detail::kernel_params(params);
    for (int n = 0; n < count; ++n) {
        detail::check_source(who, sources[n], n);
        for (int y = 0; y < k.height; ++y)
            for (int x = 0; x < k.width; ++x) detail::preprocess_pixel(sources[n], k, n, x, y, tensor);
    }
}

}  // namespace ss::cuda
