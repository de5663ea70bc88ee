#pragma once
// What the pipeline tells about every frame: the original's per-frame line on
// stdout and, optionally, one JSON line per frame per stream.
#include <gst/gst.h>

#include <array>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "line_writer.hpp"
#include "prometheus_text.hpp"
#include "slipstream/recent_samples.hpp"

struct SsBatchMeta;

namespace ss {
class TrackEventFeed;
}

namespace slipstream {

namespace mqtt {
class MqttReport;
}

class FrameReport {
public:
    // metadata: nullptr for none; stdout allowed (it then shares the console's writer).
    FrameReport(bool show_frames, FILE* metadata);
    ~FrameReport();  // writes out the metadata that is queued

    // Also tell every frame's counts (and lines, if it wants them)
    // to MQTT; set before the pipeline runs. Not owned.
    void set_mqtt(mqtt::MqttReport* mqtt) { mqtt_ = mqtt; }
    // Also tell every frame's tracks to the track events (before MQTT's counts,
    // so an event goes out ahead of the count it changes). Not owned.
    void set_track_events(ss::TrackEventFeed* events) { events_ = events; }

    // Attach to a pad that carries batches after detection (and tracking).
    void attach(GstPad* pad);
    // The encoder's sink pad: pictures entering the encoder, matched to their
    // batch by PTS (the encoder re-stamps its output, so matching happens here).
    void attach_encoder(GstPad* encoder_sink);
    // Each encoded picture, at the running time it came out of the encoder.
    // x264 and x265 with zerolatency encode each picture within its push, and
    // the appsink takes it on that same thread: one picture at most is in the
    // encoder, so the latest one in is the one out.
    void encoded(GstClockTime now);
    // Median / p99 latency of each stage over recent frames, in ms, as one
    // line's text; empty before the first frame.
    std::string stages_text() const;
    // Every stage's latency since the start, for /metrics: (stage name, histogram in seconds).
    std::vector<std::pair<std::string, prometheus::HistogramSnapshot>> stage_histograms() const;

private:
    void report(GstBuffer* batch, GstClockTime now);
    void record_stages(const SsBatchMeta& meta, GstClockTime pts, GstClockTime now);

    bool show_frames_;
    std::unique_ptr<LineWriter> metadata_file_;  // a file of its own
    LineWriter* metadata_ = nullptr;             // that file's writer, or the console's stdout
    mqtt::MqttReport* mqtt_ = nullptr;
    ss::TrackEventFeed* events_ = nullptr;
    std::string text_;  // reused: one write per batch
    std::string json_;

    // From the camera's timestamp to the encoded picture:
    //   receive    capture -> the mux (network, jitter buffer, decode, scaling)
    //   mux wait   -> the mux builds the batch the frame leaves in (its output tick)
    //   detection  -> ssinfer lets the batch go (waiting for its detections)
    //   tracking   -> the tiler
    //   tiling and encoding  the tiler -> out of the encoder (per output picture)
    enum Stage { receive, mux_wait, detection, tracking, tiling_encoding, stage_count };
    mutable std::mutex stages_lock_;
    std::array<ss::RecentSamples, stage_count> stages_;
    std::array<prometheus::LatencyHistogram, stage_count> histograms_;  // the same observations, since the start
    std::deque<std::pair<GstClockTime, GstClockTime>> tiled_;  // (PTS, running time at the tiler), oldest first
    GstClockTime in_encoder_ = GST_CLOCK_TIME_NONE;  // running time at the tiler of the picture in the encoder
};

}  // namespace slipstream
