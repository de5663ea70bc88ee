#pragma once
// What each camera achieves, counted in one place for every reader (the stream
// API's get-stream-info, Prometheus /metrics): frames received from the
// camera, frames shown (new frames that went out in a batch), frames detected,
// objects found, reconnects; and their rates over the last few seconds.
//
// Counters are atomics written by streaming threads; the table of cameras and
// the rate samples are behind a mutex, taken once per batch and twice a second.
#include <gst/gst.h>

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace slipstream {

struct CameraCounters {
    std::atomic<guint64> frames_received{0};  // decoded frames that reached the batch mux
    std::atomic<guint64> frames_shown{0};     // new frames that went out in a batch
    std::atomic<guint64> frames_detected{0};  // frames detection ran on
    std::atomic<guint64> objects_detected{0}; // objects found on those
    std::atomic<guint64> reconnects{0};       // times it dropped after having shown video
};

struct CameraRates {
    double received = 0, shown = 0, detected = 0;  // frames per second
};

class CameraStats {
public:
    // A camera joins under its mux source id; its counters live as long as someone holds them.
    std::shared_ptr<CameraCounters> open(guint source_id);
    void close(guint source_id);
    // Counts shown and detected frames from the batches passing this pad (SsBatchMeta, after the tracker).
    void attach(GstPad* batch_pad);
    // Takes a sample of every camera's counters (call about twice a second).
    void sample(gint64 now_us);
    CameraRates rates(guint source_id) const;
    // Objects found on the frames detected, by counting group (objects of no group are left out).
    std::map<std::string, guint64> detections_by_group(guint source_id) const;

private:
    struct Sample {
        gint64 at_us;
        guint64 received, shown, detected;
    };
    struct Camera {
        std::shared_ptr<CameraCounters> counters;
        std::deque<Sample> samples;  // oldest first, over the rate window
        std::map<std::string, guint64> detections_by_group;
    };
    void count_batch(GstBuffer* batch);

    mutable std::mutex mutex_;
    std::map<guint, Camera> cameras_;
};

}  // namespace slipstream
