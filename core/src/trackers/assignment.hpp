#pragma once
// Optimal one-to-one assignment (Hungarian method with potentials, O(n^2 m))
// and IoU matching of boxes built on it, shared by the trackers.
#include <cmath>
#include <cstddef>
#include <utility>
#include <vector>

#include "slipstream/detection.hpp"

namespace ss {

using IndexPairs = std::vector<std::pair<std::size_t, std::size_t>>;

// `cost` is rows x cols, row-major, all finite. Returns the min(rows, cols)
// (row, col) pairs, sorted by row, with distinct rows and columns and the least
// total cost. Ties are broken the same way on every run.
IndexPairs solve_assignment(const std::vector<double>& cost, std::size_t rows, std::size_t cols);

// A box a tracker can use: finite, with positive width and height. One bad
// box would otherwise poison a Kalman state for good.
inline bool is_trackable(const Box& b) {
    return std::isfinite(b.left) && std::isfinite(b.top) && std::isfinite(b.width) && std::isfinite(b.height) &&
           b.width > 0 && b.height > 0;
}

struct BoxOfClass {
    Box box;
    int class_id;
};

// Pairs (track, detection) of the same class with IoU >= min_iou, chosen to
// maximise the sum of (IoU - min_iou) over the pairs: a pair just over the gate
// adds little, so two such pairs never displace one close match (as maximising
// the number of pairs would). Indices are into the given vectors, sorted by track.
IndexPairs match_by_iou(const std::vector<BoxOfClass>& tracks, const std::vector<BoxOfClass>& detections,
                        float min_iou);

// match_by_iou between the tracks listed in `track_indices` and the detections
// listed in `detection_indices`, for matching in stages: returns the pairs as
// (track index, detection index) and removes them from both lists.
IndexPairs match_remaining_by_iou(const std::vector<BoxOfClass>& tracks, std::vector<std::size_t>& track_indices,
                                  const std::vector<BoxOfClass>& detections,
                                  std::vector<std::size_t>& detection_indices, float min_iou);

}  // namespace ss
