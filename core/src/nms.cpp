#include "slipstream/nms.hpp"

#include <algorithm>
#include <unordered_map>

namespace ss {

Detections non_maximum_suppression(Detections detections, const std::function<float(int)>& iou_threshold_of,
                                   const std::function<int(int)>& topk_of) {
    std::stable_sort(detections.begin(), detections.end(),
                     [](const Detection& a, const Detection& b) { return a.confidence > b.confidence; });
    Detections kept;
    std::unordered_map<int, int> kept_per_class;
    for (const auto& candidate : detections) {
        int& count = kept_per_class[candidate.class_id];
        const int topk = topk_of(candidate.class_id);
        if (topk >= 0 && count >= topk) continue;
        const float threshold = iou_threshold_of(candidate.class_id);
        const bool suppressed = std::any_of(kept.begin(), kept.end(), [&](const Detection& k) {
            return k.class_id == candidate.class_id && intersection_over_union(k.box, candidate.box) > threshold;
        });
        if (!suppressed) {
            kept.push_back(candidate);
            ++count;
        }
    }
    return kept;
}

}  // namespace ss
