#pragma once
// SsBatchMeta: what one output frame period carries through the pipeline —
// the latest frame of every source plus the objects found in it. Shaped like
// the upstream GStreamer analytics stack (1.24+) and gst-plugins-rs' batch
// meta: per-source frame references and per-object class, confidence, box and
// tracking id, so a port to GstAnalyticsRelationMeta is mechanical.
//
// The batch buffer itself holds no memory; pixels live in the frames, which are
// shared (reference counted) between consecutive batches when a source sends
// slower than the output rate.
#include <gst/gst.h>

#include <memory>
#include <vector>

#include <opencv2/core.hpp>

#include "slipstream/backend.hpp"
#include "slipstream/config.hpp"
#include "slipstream/detection.hpp"

#define SS_BATCH_CAPS "application/x-slipstream-batch"

enum class SourceState {
    waiting,    // no frame yet
    live,       // frames arriving
    no_signal,  // nothing for longer than the mux's no-signal timeout, or ended
};

struct SsVideoFrame {
    cv::Mat bgr;                       // working-size picture, never written after creation
    int source_width = 0, source_height = 0;  // camera resolution, to report boxes in source pixels
    GstClockTime pts = GST_CLOCK_TIME_NONE;   // the source buffer's timestamp
    GstClockTime arrival = GST_CLOCK_TIME_NONE;  // running time the frame reached the mux
    GstClockTime capture = GST_CLOCK_TIME_NONE;  // running time of the source buffer: latency is measured from here
    guint64 number = 0;                // frames received from this source so far (1-based)
    // The same frame in GPU memory at the detector's input size (GPU path with
    // sscudascale's detect-* set), or null. Holds a buffer of sscudascale's
    // small pool: ssinfer lets go of it once the frame cannot be detected any more.
    std::shared_ptr<const ss::DeviceFrame> device;
};

struct SsBatchFrame {
    guint source_id = 0;
    SourceState state = SourceState::waiting;
    std::shared_ptr<const SsVideoFrame> frame;  // null while waiting
    bool fresh = false;                // a new frame since the previous batch
    GstClockTime since_last_frame = 0; // for the NO SIGNAL display
    ss::Detections objects;            // in frame->bgr pixels
    bool detected = false;             // objects come from a detection that finished for this batch
    guint64 detected_frame = 0;        // number of the frame those detections were run on

    // A frame the camera just sent, not a repeat for the output's rate: what
    // gets detected, and reported once.
    bool is_new() const { return fresh && frame && state == SourceState::live; }
};

struct SsBatchMeta {
    GstMeta meta;
    std::vector<SsBatchFrame>* frames;
    guint64 batch_number;
    // Running times for the latency of each stage, with the frames' capture and
    // arrival: when the mux built the batch (its PTS is the tick it was due at,
    // which a late mux may have passed), and when ssinfer let it go after
    // waiting for its detections (NONE where no ssinfer ran).
    GstClockTime built;
    GstClockTime detection_done;
    // The config of the detector that filled `objects` (set by ssinfer): its labels,
    // class groups and [tracker] section, so downstream elements can name, count and
    // track objects without a config of their own.
    std::shared_ptr<const ss::InferConfig>* detector_config;
};

GType ss_batch_meta_api_get_type();
const GstMetaInfo* ss_batch_meta_get_info();

// Adds an empty batch meta to a (writable) buffer.
SsBatchMeta* ss_buffer_add_batch_meta(GstBuffer* buffer);
SsBatchMeta* ss_buffer_get_batch_meta(GstBuffer* buffer);
