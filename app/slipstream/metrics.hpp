#pragma once
// GET /metrics: what the pipeline achieves, for Prometheus. The figures come
// from where the app already keeps them (CameraStats and the inputs' states,
// ssinfer's properties, the report's stage latencies, the MQTT counters,
// /proc/self); this only reads them, on the main loop, when scraped. The text
// format is written by prometheus_text.hpp.
#include <gst/gst.h>

#include <atomic>
#include <deque>
#include <string>
#include <vector>

#include "http_server.hpp"

namespace slipstream {

class CameraStats;
class FrameReport;
class Sources;

struct MetricsInputs {
    const Sources* sources = nullptr;
    const CameraStats* camera_stats = nullptr;
    const FrameReport* report = nullptr;               // stage latencies; may be null
    GstElement* infer = nullptr;                       // ssinfer: detected frames, deadline
    const std::atomic<guint64>* output_frames = nullptr;  // pictures out of the tiler
    std::vector<std::string> groups;                   // the config's counting groups: every one gets a series
};

class PipelineMetrics {
public:
    // Samples the pipeline's totals once a second on the main loop, for its rates.
    explicit PipelineMetrics(MetricsInputs inputs);
    ~PipelineMetrics();
    PipelineMetrics(const PipelineMetrics&) = delete;
    PipelineMetrics& operator=(const PipelineMetrics&) = delete;

    // The whole exposition, now.
    std::string exposition() const;

private:
    struct Sample {
        gint64 at_us;
        guint64 output_frames, detected_frames;
    };
    static gboolean tick(gpointer self);
    guint64 detected_frames() const;
    // Per second over the last few seconds: (output frames, detected frames).
    std::pair<double, double> rates() const;

    MetricsInputs in_;
    std::deque<Sample> samples_;  // oldest first; main loop only
    guint timer_ = 0;
};

// GET /metrics on the server (behind the token, when one is set).
void add_metrics_route(HttpServer& server, const PipelineMetrics& metrics);

}  // namespace slipstream
