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

}  // namespace ss
