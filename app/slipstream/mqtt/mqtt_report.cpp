#include "mqtt_report.hpp"

#include "slipstream/counts.hpp"

namespace slipstream::mqtt {

MqttReport::MqttReport(ReportSettings settings, Send send)
    : settings_(std::move(settings)), topics_{settings_.prefix}, send_(std::move(send)) {}

void MqttReport::track_event(const ss::TrackEvent& event) {
    send_({topics_.events(), ss::event_json(event), 1, false});
}

void MqttReport::name_camera(const std::string& source, const std::string& camera_id) {
    std::lock_guard lock(lock_);
    names_.name(source, camera_id);
}

void MqttReport::frame(const std::string& source, const ss::Detections& objects, const ss::InferConfig& config,
                       const std::string& frame_json) {
    std::lock_guard lock(lock_);
    const auto named = names_.camera_of(source);
    if (!named) return;
    const std::string& camera_id = *named;
    Camera& cam = cameras_[camera_id];

    // Counts as on the frame's line (Persons=2): every group, the first time all of them.
    const ss::GroupCounts counts = ss::count_groups(objects, config.groups);
    if (cam.groups != config.groups.names) {
        cam.groups = config.groups.names;
        cam.counts.assign(cam.groups.size(), -1);
    }
    for (std::size_t g = 0; g < cam.groups.size() && g < counts.per_group.size(); ++g) {
        if (counts.per_group[g] == cam.counts[g]) continue;
        cam.counts[g] = counts.per_group[g];
        send_({topics_.count(camera_id, cam.groups[g]), std::to_string(counts.per_group[g]), 1, true});
    }
    if (settings_.frames && !frame_json.empty()) send_({topics_.frames(camera_id), frame_json, 0, false});
}

void MqttReport::resend_counts() {
    std::lock_guard lock(lock_);
    for (const auto& [id, cam] : cameras_) {
        for (std::size_t g = 0; g < cam.groups.size(); ++g) {
            if (cam.counts[g] >= 0) send_({topics_.count(id, cam.groups[g]), std::to_string(cam.counts[g]), 1, true});
        }
    }
}

void MqttReport::camera_gone(const std::string& source) {
    std::lock_guard lock(lock_);
    const std::string camera_id = names_.forget(source);
    const auto it = cameras_.find(camera_id);
    if (it == cameras_.end()) return;
    // An empty retained message removes the retained count from the broker.
    for (const std::string& group : it->second.groups) send_({topics_.count(camera_id, group), {}, 1, true});
    cameras_.erase(it);
}

}  // namespace slipstream::mqtt
