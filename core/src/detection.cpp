#include "slipstream/detection.hpp"

#include <algorithm>

namespace ss {

float intersection_over_union(const Box& a, const Box& b) {
    const float left = std::max(a.left, b.left);
    const float top = std::max(a.top, b.top);
    const float right = std::min(a.right(), b.right());
    const float bottom = std::min(a.bottom(), b.bottom());
    if (right <= left || bottom <= top) return 0.f;
    const float inter = (right - left) * (bottom - top);
    const float uni = a.area() + b.area() - inter;
    return uni > 0 ? inter / uni : 0.f;
}

namespace {

Box scaled(const Box& b, float sx, float sy) { return {b.left * sx, b.top * sy, b.width * sx, b.height * sy}; }

// The factors from `from` to `to`, or none where the sizes match or either is empty.
bool resize_factors(cv::Size from, cv::Size to, float& sx, float& sy) {
    if (from == to || from.width <= 0 || from.height <= 0 || to.width <= 0 || to.height <= 0) return false;
    sx = static_cast<float>(to.width) / from.width;
    sy = static_cast<float>(to.height) / from.height;
    return true;
}

}  // namespace

Detections scaled(Detections objects, float sx, float sy) {
    for (auto& d : objects) d.box = scaled(d.box, sx, sy);
    return objects;
}

Box resized(const Box& box, cv::Size from, cv::Size to) {
    float sx, sy;
    return resize_factors(from, to, sx, sy) ? scaled(box, sx, sy) : box;
}

Detections resized(Detections objects, cv::Size from, cv::Size to) {
    float sx, sy;
    return resize_factors(from, to, sx, sy) ? scaled(std::move(objects), sx, sy) : objects;
}

Box clipped(const Box& box, float width, float height) {
    const float left = std::clamp(box.left, 0.f, width), top = std::clamp(box.top, 0.f, height);
    const float right = std::clamp(box.right(), 0.f, width), bottom = std::clamp(box.bottom(), 0.f, height);
    return {left, top, std::max(0.f, right - left), std::max(0.f, bottom - top)};
}

}  // namespace ss
