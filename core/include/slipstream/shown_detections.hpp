#pragma once
// What one source's frames show of its detections as batches leave ssinfer.
//
// Results come back per job, often ahead of the batches: a GPU detects the
// next batch's frames while this batch still waits for a slower job. Each
// result therefore waits for the batch that shows its own frame, where it is
// drawn and announced once (trackers update exactly once per result). A
// result whose frame left without it goes on the next frame shown; of several
// such, only the newest (the older can no longer be shown anywhere useful).
#include <cstdint>
#include <deque>

#include <opencv2/core.hpp>

#include "slipstream/async_detector.hpp"
#include "slipstream/detection.hpp"

namespace ss {

struct ShownFrame {
    const Detections* objects = nullptr;  // the source's latest detections, in pixels of a frame of `size`
    cv::Size size;
    std::uint64_t detected_frame = 0;  // the frame they were found in; 0: none yet
    bool detected = false;  // announce them on this frame: a result not announced before
    bool on_time = false;   // announced on the very frame it was found in, shown for the first time
};

class ShownDetections {
public:
    // An accepted result (DetectionScheduler::accept), in the order of jobs.
    void add(DetectionResult result);
    // A batch showing frame `number` of this source leaves; `is_new`: shown
    // for the first time (not a repeat). What goes on that frame.
    ShownFrame show(std::uint64_t number, bool is_new);
    std::size_t waiting() const { return waiting_.size(); }

private:
    std::deque<DetectionResult> waiting_;  // of frames not shown yet, oldest first
    Detections objects_;
    cv::Size size_;
    std::uint64_t detected_frame_ = 0;
    std::uint64_t announced_frame_ = 0;  // detected_frame_ already announced
};

}  // namespace ss
