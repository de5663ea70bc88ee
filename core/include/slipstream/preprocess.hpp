#pragma once
// Turns images into the network's input tensor the way nvinfer does:
//   y = net-scale-factor * (x - offsets[c])
// after converting to the model's colour format and resizing (stretched, or
// letterboxed with the image top-left or centred when symmetric-padding=1).
#include <opencv2/core.hpp>

#include "slipstream/config.hpp"

namespace ss {

// Maps network-input pixels back to image pixels: image = (net - pad) / scale.
struct InputTransform {
    float scale_x = 1, scale_y = 1;
    float pad_x = 0, pad_y = 0;

    float to_image_x(float x) const { return (x - pad_x) / scale_x; }
    float to_image_y(float y) const { return (y - pad_y) / scale_y; }
};

class Preprocessor {
public:
    explicit Preprocessor(const InferConfig& config);

    std::size_t floats_per_image() const {
        return static_cast<std::size_t>(channels_) * height_ * width_;
    }

    // Writes one 8-bit BGR, BGRA or gray image into dst (floats_per_image() floats).
    InputTransform run(const cv::Mat& image, float* dst) const;

    // What run() returns for an image of this size, without an image: how a
    // backend that pre-processes itself (ss::cuda's kernel, same arithmetic)
    // placed it, to map boxes back.
    InputTransform transform_for(cv::Size image) const { return geometry(image).transform; }

private:
    struct Geometry {
        InputTransform transform;
        cv::Size resized;  // the picture's size inside the input
    };
    Geometry geometry(cv::Size image) const;

    int channels_, height_, width_;
    ColorFormat color_;
    InputOrder order_;
    float scale_;
    std::array<float, 3> offsets_;
    bool keep_aspect_, symmetric_;
};

}  // namespace ss
