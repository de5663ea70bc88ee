#pragma once
// Factories of the trackers, one per file; registry.cpp maps names to them.
#include <cstdint>
#include <vector>

#include "slipstream/tracker.hpp"

namespace ss {

std::unique_ptr<Tracker> make_bytetrack_tracker(const TrackerSettings& settings);
std::unique_ptr<Tracker> make_iou_tracker(const TrackerSettings& settings);

// What update() returns: the detections given an id (0 = not shown), with it
// set and predicted=false, in the order of `detections`.
inline Detections shown_with_ids(const Detections& detections, const std::vector<std::int64_t>& id_of_detection) {
    Detections shown;
    for (std::size_t i = 0; i < detections.size(); ++i) {
        if (id_of_detection[i] == 0) continue;
        Detection& d = shown.emplace_back(detections[i]);
        d.track_id = id_of_detection[i];
        d.predicted = false;
    }
    return shown;
}

}  // namespace ss
