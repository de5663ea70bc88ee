#include "slipstream/preprocess.hpp"

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

#include "slipstream/error.hpp"

namespace ss {

Preprocessor::Preprocessor(const InferConfig& config)
    : channels_(config.input_channels),
      height_(config.input_height),
      width_(config.input_width),
      color_(config.model_color_format),
      order_(config.network_input_order),
      scale_(config.net_scale_factor),
      offsets_(config.offsets),
      keep_aspect_(config.maintain_aspect_ratio),
      symmetric_(config.symmetric_padding) {}

// ss::cuda::input_transform (cuda/src/preprocess_reference.cpp) repeats this
// arithmetic for the GPU path: change both or neither.
Preprocessor::Geometry Preprocessor::geometry(cv::Size source) const {
    Geometry g;
    InputTransform& transform = g.transform;
    int resized_w = width_, resized_h = height_;
    if (keep_aspect_) {
        const float scale = std::min(static_cast<float>(width_) / source.width, static_cast<float>(height_) / source.height);
        resized_w = std::clamp(static_cast<int>(std::lround(source.width * scale)), 1, width_);
        resized_h = std::clamp(static_cast<int>(std::lround(source.height * scale)), 1, height_);
        if (symmetric_) {
            transform.pad_x = static_cast<float>((width_ - resized_w) / 2);
            transform.pad_y = static_cast<float>((height_ - resized_h) / 2);
        }
    }
    transform.scale_x = static_cast<float>(resized_w) / source.width;
    transform.scale_y = static_cast<float>(resized_h) / source.height;
    g.resized = {resized_w, resized_h};
    return g;
}

InputTransform Preprocessor::run(const cv::Mat& image, float* dst) const {
    if (image.empty() || image.depth() != CV_8U || (image.channels() != 1 && image.channels() != 3 && image.channels() != 4)) {
        throw Error("pre-processing needs an 8-bit gray, BGR or BGRA image");
    }
    cv::Mat source = image;
    if (color_ == ColorFormat::gray && image.channels() != 1) {
        cv::cvtColor(image, source, image.channels() == 4 ? cv::COLOR_BGRA2GRAY : cv::COLOR_BGR2GRAY);
    }

    const Geometry g = geometry(source.size());
    const InputTransform transform = g.transform;
    const int resized_w = g.resized.width, resized_h = g.resized.height;

    // Resize in 8 bits into a black canvas, then convert to float once.
    cv::Mat canvas(height_, width_, source.type(), cv::Scalar::all(0));
    cv::Mat roi = canvas(cv::Rect(static_cast<int>(transform.pad_x), static_cast<int>(transform.pad_y), resized_w, resized_h));
    if (source.size() == roi.size()) {
        source.copyTo(roi);
    } else {
        cv::resize(source, roi, roi.size(), 0, 0, cv::INTER_LINEAR);
    }

    // Which source channel feeds each model channel: OpenCV images are BGR(A).
    const int step = canvas.channels();
    int channel_of[3] = {0, 0, 0};
    if (step >= 3) {
        const bool rgb = color_ == ColorFormat::rgb;
        channel_of[0] = rgb ? 2 : 0;
        channel_of[1] = 1;
        channel_of[2] = rgb ? 0 : 2;
    }
    const std::size_t plane = static_cast<std::size_t>(height_) * width_;
    if (order_ == InputOrder::nchw) {
        // One plane per model channel: OpenCV's vectorised channel copy and
        // scaling write straight into the tensor.
        cv::Mat channel;
        for (int c = 0; c < channels_; ++c) {
            cv::Mat out(height_, width_, CV_32F, dst + c * plane);
            if (step == 1) {
                channel = canvas;
            } else {
                cv::extractChannel(canvas, channel, channel_of[c]);
            }
            channel.convertTo(out, CV_32F, scale_, -scale_ * offsets_[c]);
        }
        return transform;
    }
    for (int y = 0; y < height_; ++y) {
        const std::uint8_t* row = canvas.ptr<std::uint8_t>(y);
        for (int c = 0; c < channels_; ++c) {
            const float offset = offsets_[c], scale = scale_;
            const std::uint8_t* in = row + channel_of[c];
            float* out = dst + (static_cast<std::size_t>(y) * width_) * channels_ + c;
            for (int x = 0; x < width_; ++x) out[x * channels_] = scale * (static_cast<float>(in[x * step]) - offset);
        }
    }
    return transform;
}

}  // namespace ss
