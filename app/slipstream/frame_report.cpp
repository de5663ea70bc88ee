#include "frame_report.hpp"

#include <array>
#include <cinttypes>

#include "console.hpp"
#include "meta/batch_meta.hpp"
#include "meta/running_time.hpp"
#include "mqtt/mqtt_report.hpp"
#include "slipstream/counts.hpp"
#include "slipstream/json.hpp"
#include "slipstream/track_event_feed.hpp"

namespace slipstream {

FrameReport::FrameReport(bool show_frames, FILE* metadata) : show_frames_(show_frames) {
    if (metadata == stdout) {
        metadata_ = &console::stdout_writer();  // one writer per stream keeps the lines whole and in order
    } else if (metadata) {
        metadata_file_ = std::make_unique<LineWriter>(metadata, "the metadata output");
        metadata_ = metadata_file_.get();
    }
}

FrameReport::~FrameReport() = default;

void FrameReport::attach(GstPad* pad) {
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, +[](GstPad* pad, GstPadProbeInfo* info, gpointer data) {
        GstElement* element = gst_pad_get_parent_element(pad);
        GstClockTime now = GST_CLOCK_TIME_NONE;
        if (element) {
            now = ss_running_time_now(element);
            gst_object_unref(element);
        }
        static_cast<FrameReport*>(data)->report(GST_PAD_PROBE_INFO_BUFFER(info), now);
        return GST_PAD_PROBE_OK;
    }, this, nullptr);
}

namespace {

// b - a in ms; -1 where either is unknown or b comes first.
double span_ms(GstClockTime a, GstClockTime b) {
    if (!GST_CLOCK_TIME_IS_VALID(a) || !GST_CLOCK_TIME_IS_VALID(b) || b < a) return -1;
    return static_cast<double>(b - a) / GST_MSECOND;
}

// A camera frame's receive, mux wait, detection and tracking stages, in ms.
std::array<double, 4> frame_stages(const SsBatchFrame& f, const SsBatchMeta& meta, GstClockTime now) {
    return {span_ms(f.frame->capture, f.frame->arrival), span_ms(f.frame->arrival, meta.built),
            span_ms(meta.built, meta.detection_done), span_ms(meta.detection_done, now)};
}

}  // namespace

void FrameReport::record_stages(const SsBatchMeta& meta, GstClockTime pts, GstClockTime now) {
    std::lock_guard lock(stages_lock_);
    for (const SsBatchFrame& f : *meta.frames) {
        if (!f.is_new()) continue;
        const auto parts = frame_stages(f, meta, now);
        for (int s = receive; s <= tracking; ++s) {
            if (parts[s] >= 0) {
                stages_[s].add(parts[s]);
                histograms_[s].observe(parts[s] / 1000);
            }
        }
    }
    if (GST_CLOCK_TIME_IS_VALID(pts) && GST_CLOCK_TIME_IS_VALID(now)) {
        tiled_.emplace_back(pts, now);
        // Pictures the leaky encode queue dropped never come out: keep only a few.
        while (tiled_.size() > 64) tiled_.pop_front();
    }
}

void FrameReport::attach_encoder(GstPad* encoder_sink) {
    gst_pad_add_probe(encoder_sink, GST_PAD_PROBE_TYPE_BUFFER, +[](GstPad*, GstPadProbeInfo* info, gpointer data) {
        auto* self = static_cast<FrameReport*>(data);
        const GstClockTime pts = GST_BUFFER_PTS(GST_PAD_PROBE_INFO_BUFFER(info));
        std::lock_guard lock(self->stages_lock_);
        // Pictures the leaky queue dropped are skipped here.
        while (!self->tiled_.empty() && self->tiled_.front().first < pts) self->tiled_.pop_front();
        if (!self->tiled_.empty() && self->tiled_.front().first == pts) {
            self->in_encoder_ = self->tiled_.front().second;
            self->tiled_.pop_front();
        }
        return GST_PAD_PROBE_OK;
    }, this, nullptr);
}

void FrameReport::encoded(GstClockTime now) {
    std::lock_guard lock(stages_lock_);
    if (const double ms = span_ms(in_encoder_, now); ms >= 0) {
        stages_[tiling_encoding].add(ms);
        histograms_[tiling_encoding].observe(ms / 1000);
    }
    in_encoder_ = GST_CLOCK_TIME_NONE;
}

std::vector<std::pair<std::string, prometheus::HistogramSnapshot>> FrameReport::stage_histograms() const {
    // Label values without spaces, as Prometheus users write them.
    static const char* const label_values[stage_count] = {"receive", "mux_wait", "detection", "tracking", "tiling_encoding"};
    std::vector<std::pair<std::string, prometheus::HistogramSnapshot>> out;
    for (int s = 0; s < stage_count; ++s) out.emplace_back(label_values[s], histograms_[s].snapshot());
    return out;
}

std::string FrameReport::stages_text() const {
    static const char* const names[stage_count] = {"receive", "mux wait", "detection", "tracking", "tiling and encoding"};
    std::lock_guard lock(stages_lock_);
    if (stages_[receive].size() == 0) return {};
    std::string text;
    for (int s = 0; s < stage_count; ++s) {
        char part[96];
        if (stages_[s].size() == 0) {
            std::snprintf(part, sizeof part, "%s%s n/a", s ? ", " : "", names[s]);
        } else {
            std::snprintf(part, sizeof part, "%s%s %.1f / %.1f", s ? ", " : "", names[s], stages_[s].percentile(0.5),
                          stages_[s].percentile(0.99));
        }
        text += part;
    }
    return text;
}

void FrameReport::report(GstBuffer* batch, GstClockTime now) {
    const SsBatchMeta* meta = ss_buffer_get_batch_meta(batch);
    if (!meta) return;
    record_stages(*meta, GST_BUFFER_PTS(batch), now);  // the PTS finds the picture again at the encoder
    if (!show_frames_ && !metadata_ && !mqtt_ && !events_) return;
    static const ss::InferConfig no_detector;
    const ss::InferConfig& detector = *meta->detector_config ? **meta->detector_config : no_detector;
    const bool wants_line = metadata_ || (mqtt_ && mqtt_->wants_frames());
    const double wall_now = static_cast<double>(g_get_real_time()) / G_USEC_PER_SEC;  // track events' times are Unix times
    text_.clear();
    json_.clear();
    std::string line;
    for (std::size_t i = 0; i < meta->frames->size(); ++i) {
        const SsBatchFrame& f = (*meta->frames)[i];
        // One line per frame a camera sent, not per output tick that repeats it.
        if (!f.is_new()) continue;
        if (show_frames_) {
            // Streams are named by their source id, which stays theirs while others join and leave.
            text_ += ss::frame_line(static_cast<int>(f.source_id), f.frame->number, f.objects, detector.groups) + "\n";
        }
        if (!wants_line && !mqtt_ && !events_) continue;
        // Boxes in the camera's pixels, as the metadata, track events and MQTT tell them.
        const ss::Detections in_source =
            ss::resized(f.objects, f.frame->bgr.size(), {f.frame->source_width, f.frame->source_height});
        line.clear();
        if (wants_line) {
            char head[384];
            const double pts = GST_CLOCK_TIME_IS_VALID(f.frame->pts) ? static_cast<double>(f.frame->pts) / GST_SECOND : -1;
            const double latency = GST_CLOCK_TIME_IS_VALID(f.frame->capture) && GST_CLOCK_TIME_IS_VALID(now) && now >= f.frame->capture
                                       ? static_cast<double>(now - f.frame->capture) / GST_MSECOND : -1;
            const auto stages = frame_stages(f, *meta, now);
            std::snprintf(head, sizeof head,
                          "{\"stream\":%zu,\"frame\":%" G_GUINT64_FORMAT ",\"pts\":%.3f,\"latency_ms\":%.1f,"
                          "\"stages_ms\":{\"receive\":%.1f,\"mux_wait\":%.1f,\"detection\":%.1f,\"tracking\":%.1f},"
                          "\"width\":%d,\"height\":%d,\"detected\":%s,\"objects\":[",
                          static_cast<std::size_t>(f.source_id), f.frame->number, pts, latency, stages[0], stages[1], stages[2], stages[3],
                          f.frame->source_width, f.frame->source_height,
                          f.detected && f.detected_frame == f.frame->number ? "true" : "false");
            line += head;
            for (std::size_t k = 0; k < in_source.size(); ++k) {
                if (k) line += ',';
                ss::append_detection_json(line, in_source[k], detector);
            }
            line += "]}";
            if (metadata_) {
                json_ += line;
                json_ += '\n';
            }
        }
        const std::string source = std::to_string(f.source_id);
        if (events_) events_->frame(source, f.frame->number, in_source, detector, wall_now);
        if (mqtt_) mqtt_->frame(source, in_source, detector, line);
    }
    if (events_) events_->tick(wall_now);
    if (show_frames_) console::frame_lines(std::move(text_));
    if (metadata_) metadata_->write(std::move(json_));
}

}  // namespace slipstream
