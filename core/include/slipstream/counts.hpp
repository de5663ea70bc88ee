#pragma once
// Per-frame object counts per class group, and the text the original printed:
//   Stream=<i> Frame=<n> Objects=<k> Vehicles=<a> Cycles=<b> Persons=<c> Signs=<d>
#include <cstdint>
#include <string>
#include <vector>

#include "slipstream/config.hpp"
#include "slipstream/detection.hpp"

namespace ss {

struct GroupCounts {
    int objects = 0;
    std::vector<int> per_group;  // indexed like ClassGroups::names
};

GroupCounts count_groups(const Detections& objects, const ClassGroups& groups);

// "Objects=3 Vehicles=1 Cycles=0 Persons=2 Signs=0" (group names made plural).
std::string counts_text(const GroupCounts& counts, const ClassGroups& groups);

// The original's per-frame line, as printed on stdout and drawn on each tile:
// "Stream=0 Frame=12 Objects=3 Vehicles=1 Cycles=0 Persons=2 Signs=0".
std::string frame_line(int stream, std::uint64_t frame, const Detections& objects, const ClassGroups& groups);

// "Persons" for "Person"; names already ending in s stay as they are.
std::string plural(const std::string& name);

}  // namespace ss
