#include "frame_report.hpp"

#include <cinttypes>

#include "meta/batch_meta.hpp"
#include "slipstream/counts.hpp"
#include "slipstream/json.hpp"

namespace slipstream {

FrameReport::FrameReport(bool show_frames, FILE* metadata) : show_frames_(show_frames) {
    if (show_frames) lines_ = std::make_unique<LineWriter>(stdout, "stdout");
    if (metadata) metadata_ = std::make_unique<LineWriter>(metadata, "the metadata output");
}

void FrameReport::attach(GstPad* pad) {
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, +[](GstPad* pad, GstPadProbeInfo* info, gpointer data) {
        GstElement* element = gst_pad_get_parent_element(pad);
        GstClockTime now = GST_CLOCK_TIME_NONE;
        if (element) {
            if (GstClock* clock = gst_element_get_clock(element)) {
                now = gst_clock_get_time(clock) - gst_element_get_base_time(element);
                gst_object_unref(clock);
            }
            gst_object_unref(element);
        }
        static_cast<FrameReport*>(data)->report(GST_PAD_PROBE_INFO_BUFFER(info), now);
        return GST_PAD_PROBE_OK;
    }, this, nullptr);
}

void FrameReport::report(GstBuffer* batch, GstClockTime now) {
    const SsBatchMeta* meta = ss_buffer_get_batch_meta(batch);
    if (!meta || (!show_frames_ && !metadata_)) return;
    static const ss::InferConfig no_labels;
    const ss::InferConfig& labels = *meta->labels ? **meta->labels : no_labels;
    text_.clear();
    json_.clear();
    for (std::size_t i = 0; i < meta->frames->size(); ++i) {
        const SsBatchFrame& f = (*meta->frames)[i];
        // One line per frame a camera sent, not per output tick that repeats it.
        if (!f.fresh || !f.frame || f.state != SourceState::live) continue;
        if (show_frames_) {
            text_ += "Stream=" + std::to_string(i) + " Frame=" + std::to_string(f.frame->number) + " " +
                     ss::counts_text(ss::count_groups(f.objects, labels.groups), labels.groups) + "\n";
        }
        if (metadata_) {
            char head[256];
            const double pts = GST_CLOCK_TIME_IS_VALID(f.frame->pts) ? static_cast<double>(f.frame->pts) / GST_SECOND : -1;
            const double latency = GST_CLOCK_TIME_IS_VALID(f.frame->capture) && GST_CLOCK_TIME_IS_VALID(now) && now >= f.frame->capture
                                       ? static_cast<double>(now - f.frame->capture) / GST_MSECOND : -1;
            std::snprintf(head, sizeof head,
                          "{\"stream\":%zu,\"frame\":%" G_GUINT64_FORMAT ",\"pts\":%.3f,\"latency_ms\":%.1f,\"width\":%d,"
                          "\"height\":%d,\"detected\":%s,\"objects\":[",
                          i, f.frame->number, pts, latency, f.frame->source_width, f.frame->source_height,
                          f.detected && f.detected_frame == f.frame->number ? "true" : "false");
            json_ += head;
            for (std::size_t k = 0; k < f.objects.size(); ++k) {
                ss::Detection in_source = f.objects[k];
                in_source.box = ss_box_in_source(in_source.box, *f.frame);
                if (k) json_ += ',';
                ss::append_detection_json(json_, in_source, labels);
            }
            json_ += "]}\n";
        }
    }
    if (lines_) lines_->write(std::move(text_));
    if (metadata_) metadata_->write(std::move(json_));
}

}  // namespace slipstream
