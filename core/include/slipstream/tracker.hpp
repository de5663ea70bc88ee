#pragma once
// Object tracking: gives each object a stable id across frames, one Tracker
// per camera. Implementations live one per file under core/src/trackers/ and
// are chosen by name (the config's [tracker] type=) from the registry in
// core/src/trackers/registry.cpp.
//
// [tracker] keys (all optional):
//   type=bytetrack|iou     bytetrack (default): Kalman motion model and matching
//                          in stages (ByteTrack); iou: last box, no motion model
//   high-threshold=0.5     only detections at or above it start tracks
//   low-threshold=0.1      detections below it are ignored; bytetrack uses those
//                          between the two only to keep confirmed tracks alive
//   match-iou=0.3          least IoU between a track's box and its detection
//   low-match-iou=0.5      the same for detections below high-threshold (bytetrack)
//   min-hits=3             consecutive matches before a track is shown and gets an id
//   max-age=30             frames (with or without detection) a confirmed track
//                          survives without a match; meanwhile it is lost: not shown
//   max-predict=<max-age>  frames after its last match a track is still shown, with
//                          its predicted box, on frames without detection (predict())
// Matching is an optimal assignment (not greedy) and only within a class.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "slipstream/detection.hpp"

namespace ss {

struct TrackerSettings {
    std::string type = "bytetrack";
    float high_threshold = 0.5f;
    float low_threshold = 0.1f;
    float match_iou = 0.3f;
    float low_match_iou = 0.5f;
    int min_hits = 3;
    int max_age = 30;
    std::optional<int> max_predict;  // unset: max_age

    int predict_frames() const { return max_predict.value_or(max_age); }
};

// Reads InferConfig::tracker. Unknown keys add a line to *warnings (when given);
// bad values throw ConfigError("[tracker] <key>: ...").
TrackerSettings parse_tracker_settings(const std::map<std::string, std::string>& keys,
                                       std::vector<std::string>* warnings);

class Tracker {
public:
    virtual ~Tracker() = default;

    // A frame with fresh detections (boxes in this camera's pixels). Returns the
    // confirmed tracks matched on this frame, in the order of `detections`, each a
    // copy of its detection with track_id set (>= 1, increasing per tracker,
    // never reused) and predicted=false. Tentative and lost tracks are not shown.
    virtual Detections update(const Detections& detections) = 0;

    // A frame on which detection did not run: advances the motion model one frame
    // and returns the confirmed tracks matched within the last max-predict frames
    // (and not missed on the last detection frame) with their predicted boxes and
    // predicted=true.
    virtual Detections predict() = 0;
};

// Throws ConfigError for an unknown settings.type.
std::unique_ptr<Tracker> make_tracker(const TrackerSettings& settings);
std::vector<std::string> tracker_names();

}  // namespace ss
