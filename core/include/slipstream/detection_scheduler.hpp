#pragma once
// Which queued frames go to the detectors next, when there are more frames
// than detectors can take.
//
// Each source gets its newest frame that still wants detection (per
// `interval`), so results come back while their frame is still on its way
// out and the boxes are as fresh as can be. Sources take turns: whoever
// was served longest ago goes first. Without that, a source with more frames per
// second fills the queue more often and starves the slower ones.
#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

namespace ss {

struct QueuedFrame {
    int source = 0;
    std::uint64_t number = 0;  // the source's frame counter, rising
    std::size_t batch = 0;     // where the caller holds it: oldest batch first
};

class DetectionScheduler {
public:
    // `interval`: frames skipped per source between detections, as nvinfer's.
    explicit DetectionScheduler(int interval = 0) { set_interval(interval); }
    void set_interval(int interval);

    // Call for every new frame as it arrives. A number lower than one already
    // handed over means the source restarted: its history is forgotten, and
    // results of its jobs still running will be refused as stale. Returns
    // whether it did.
    bool arrived(int source, std::uint64_t number);
    // Whether this frame wants detection: more than `interval` frames after
    // the source's last frame handed to a detector.
    bool due(int source, std::uint64_t number) const;
    // Up to `count` frames to detect next, of distinct sources: the newest due
    // frame of each, sources served longest ago first. `queued` must list
    // each source's frames oldest first.
    std::vector<QueuedFrame> pick(const std::vector<QueuedFrame>& queued, std::size_t count) const;
    // The frames were handed to the detector as job `job` (rising numbers).
    void handed_over(const std::vector<QueuedFrame>& frames, std::uint64_t job);
    // Whether a finished result of `job` for `source` is to be used. Workers
    // finish out of order: a job older than the source's last accepted one, or
    // than its restart, is stale.
    bool accept(int source, std::uint64_t job);

private:
    struct Source {
        std::uint64_t handed_frame = 0;   // newest frame handed to a detector
        std::uint64_t handed_job = 0;     // its job
        std::uint64_t stale_before = 0;   // results of lower-numbered jobs are stale
        std::uint64_t served_turn = 0;    // turn of the last hand-over; 0: never
    };
    std::map<int, Source> sources_;
    std::uint64_t turns_ = 0;
    std::uint64_t interval_ = 0;
};

}  // namespace ss
