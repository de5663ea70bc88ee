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

Detections scaled(Detections objects, float sx, float sy) {
    for (auto& d : objects) d.box = {d.box.left * sx, d.box.top * sy, d.box.width * sx, d.box.height * sy};
    return objects;
}

namespace {

bool same_or_unknown(cv::Size from, cv::Size to) {
    return from == to || from.width <= 0 || from.height <= 0 || to.width <= 0 || to.height <= 0;
}

}  // namespace

Box resized(const Box& box, cv::Size from, cv::Size to) {
    if (same_or_unknown(from, to)) return box;
    const float sx = static_cast<float>(to.width) / from.width, sy = static_cast<float>(to.height) / from.height;
    return {box.left * sx, box.top * sy, box.width * sx, box.height * sy};
}

Detections resized(Detections objects, cv::Size from, cv::Size to) {
    if (same_or_unknown(from, to)) return objects;
    return scaled(std::move(objects), static_cast<float>(to.width) / from.width, static_cast<float>(to.height) / from.height);
}

Box clipped(const Box& box, float width, float height) {
    const float left = std::clamp(box.left, 0.f, width), top = std::clamp(box.top, 0.f, height);
    const float right = std::clamp(box.right(), 0.f, width), bottom = std::clamp(box.bottom(), 0.f, height);
    return {left, top, std::max(0.f, right - left), std::max(0.f, bottom - top)};
}

}  // namespace ss
