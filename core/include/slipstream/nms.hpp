#pragma once
#include <functional>

#include "slipstream/detection.hpp"

namespace ss {

// Greedy non-maximum suppression within each class: keeps the most confident
// box and drops same-class boxes that overlap a kept one by more than the
// class's IoU threshold; keeps at most topk_of(class) per class (-1 = all).
// The result is sorted by confidence, highest first.
Detections non_maximum_suppression(Detections detections, const std::function<float(int)>& iou_threshold_of,
                                   const std::function<int(int)>& topk_of);

}  // namespace ss
