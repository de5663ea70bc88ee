#include "camera_stats.hpp"

#include "meta/batch_meta.hpp"
#include "slipstream/config.hpp"

namespace slipstream {

namespace {
// Rates over the last few seconds: long enough to smooth a 10 fps camera's
// jitter, short enough that a camera that stopped reads 0 soon.
constexpr gint64 rate_window_us = 4 * G_USEC_PER_SEC;
}  // namespace

std::shared_ptr<CameraCounters> CameraStats::open(guint source_id) {
    std::lock_guard lock(mutex_);
    Camera& camera = cameras_[source_id];
    camera.counters = std::make_shared<CameraCounters>();
    camera.samples.clear();
    return camera.counters;
}

void CameraStats::close(guint source_id) {
    std::lock_guard lock(mutex_);
    cameras_.erase(source_id);
}

void CameraStats::attach(GstPad* batch_pad) {
    gst_pad_add_probe(batch_pad, GST_PAD_PROBE_TYPE_BUFFER, +[](GstPad*, GstPadProbeInfo* info, gpointer self) {
        static_cast<CameraStats*>(self)->count_batch(GST_PAD_PROBE_INFO_BUFFER(info));
        return GST_PAD_PROBE_OK;
    }, this, nullptr);
}

void CameraStats::count_batch(GstBuffer* batch) {
    const SsBatchMeta* meta = batch ? ss_buffer_get_batch_meta(batch) : nullptr;
    if (!meta) return;
    const ss::InferConfig* detector = meta->detector_config && *meta->detector_config ? meta->detector_config->get() : nullptr;
    std::lock_guard lock(mutex_);
    for (const SsBatchFrame& frame : *meta->frames) {
        const auto it = cameras_.find(frame.source_id);
        if (it == cameras_.end()) continue;
        CameraCounters& c = *it->second.counters;
        if (frame.is_new()) ++c.frames_shown;
        if (frame.detected) {
            ++c.frames_detected;
            c.objects_detected += frame.objects.size();
            if (detector) {
                for (const ss::Detection& d : frame.objects) {
                    if (d.group >= 0) ++it->second.detections_by_group[detector->group_name(d.group)];
                }
            }
        }
    }
}

void CameraStats::sample(gint64 now_us) {
    std::lock_guard lock(mutex_);
    for (auto& [id, camera] : cameras_) {
        const CameraCounters& c = *camera.counters;
        camera.samples.push_back({now_us, c.frames_received.load(), c.frames_shown.load(), c.frames_detected.load()});
        while (camera.samples.size() > 2 && now_us - camera.samples[1].at_us >= rate_window_us) camera.samples.pop_front();
    }
}

CameraRates CameraStats::rates(guint source_id) const {
    std::lock_guard lock(mutex_);
    const auto it = cameras_.find(source_id);
    CameraRates r;
    if (it == cameras_.end() || it->second.samples.size() < 2) return r;
    const Sample& first = it->second.samples.front();
    const Sample& last = it->second.samples.back();
    const double seconds = static_cast<double>(last.at_us - first.at_us) / G_USEC_PER_SEC;
    if (seconds <= 0) return r;
    r.received = static_cast<double>(last.received - first.received) / seconds;
    r.shown = static_cast<double>(last.shown - first.shown) / seconds;
    r.detected = static_cast<double>(last.detected - first.detected) / seconds;
    return r;
}

std::map<std::string, guint64> CameraStats::detections_by_group(guint source_id) const {
    std::lock_guard lock(mutex_);
    const auto it = cameras_.find(source_id);
    return it == cameras_.end() ? std::map<std::string, guint64>{} : it->second.detections_by_group;
}

}  // namespace slipstream
