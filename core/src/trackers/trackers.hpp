#pragma once
// Factories of the trackers, one per file; registry.cpp maps names to them.
#include <memory>

#include "slipstream/tracker.hpp"

namespace ss {

std::unique_ptr<Tracker> make_bytetrack_tracker(const TrackerSettings& settings);
std::unique_ptr<Tracker> make_iou_tracker(const TrackerSettings& settings);

}  // namespace ss
