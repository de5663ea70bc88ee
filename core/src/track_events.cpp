#include "slipstream/track_events.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "slipstream/json.hpp"

namespace ss {
namespace {

void append_state(std::string& out, const TrackState& s) {
    out += "{\"id\":";
    append_json_string(out, s.camera_id + "-" + std::to_string(s.track_id));
    out += ",\"camera_id\":";
    append_json_string(out, s.camera_id);
    out += ",\"track_id\":" + std::to_string(s.track_id);
    out += ",\"class_id\":" + std::to_string(s.class_id);
    out += ",\"label\":";
    append_json_string(out, s.label);
    out += ",\"group\":";
    if (s.group.empty()) {
        out += "null";
    } else {
        append_json_string(out, s.group);
    }
    out += ",\"confidence\":";
    append_json_number(out, s.confidence, 4);
    out += ",\"top_confidence\":";
    append_json_number(out, s.top_confidence, 4);
    out += ",\"box\":";
    append_box_json(out, s.box);
    out += ",\"first_seen\":";
    append_json_number(out, s.first_seen, 3);
    out += ",\"last_seen\":";
    append_json_number(out, s.last_seen, 3);
    out += ",\"frame\":" + std::to_string(s.frame);
    out += s.ended ? ",\"ended\":true}" : ",\"ended\":false}";
}

}  // namespace

const char* event_type_name(TrackEventType type) {
    switch (type) {
        case TrackEventType::started: return "new";
        case TrackEventType::updated: return "update";
        case TrackEventType::ended: return "end";
    }
    return "?";
}

std::string event_json(const TrackEvent& event) {
    std::string out = "{\"type\":\"";
    out += event_type_name(event.type);
    out += "\",\"before\":";
    if (event.before) {
        append_state(out, *event.before);
    } else {
        out += "null";
    }
    out += ",\"after\":";
    append_state(out, event.after);
    out += '}';
    return out;
}

TrackEvents::TrackEvents(std::string camera_id, TrackEventSettings settings)
    : camera_id_(std::move(camera_id)), settings_(settings) {}

void TrackEvents::update_if_due(Track& track, double now, std::vector<TrackEvent>& events) const {
    if (!changed(track.now, track.told) || now - track.last_update < settings_.update_interval) return;
    events.push_back({TrackEventType::updated, track.told, track.now});
    track.told = track.now;
    track.last_update = now;
}

std::vector<TrackEvent> TrackEvents::frame(std::uint64_t frame_number, const Detections& objects,
                                           const InferConfig& config, double now) {
    std::vector<TrackEvent> events;
    for (const Detection& d : objects) {
        if (d.track_id < 0) continue;
        auto [it, is_new] = tracks_.try_emplace(d.track_id);
        TrackState& s = it->second.now;
        s.class_id = d.class_id;
        s.label = config.label(d.class_id);
        s.group = d.group >= 0 ? config.group_name(d.group) : std::string();
        // A predicted box carries the confidence of the detection it came from.
        if (!d.predicted || is_new) s.confidence = d.confidence;
        s.top_confidence = std::max(s.top_confidence, d.confidence);
        s.box = d.box;
        s.last_seen = now;
        s.frame = frame_number;
        if (is_new) {
            s.camera_id = camera_id_;
            s.track_id = d.track_id;
            s.first_seen = now;
            it->second.told = s;
            it->second.last_update = now;
            events.push_back({TrackEventType::started, std::nullopt, s});
        } else {
            update_if_due(it->second, now, events);
        }
    }
    return events;
}

std::vector<TrackEvent> TrackEvents::tick(double now) {
    std::vector<TrackEvent> events;
    for (auto it = tracks_.begin(); it != tracks_.end();) {
        Track& track = it->second;
        if (now - track.now.last_seen >= settings_.end_after) {
            TrackState last = track.now;
            last.ended = true;
            events.push_back({TrackEventType::ended, track.told, last});
            it = tracks_.erase(it);
            continue;
        }
        update_if_due(track, now, events);
        ++it;
    }
    return events;
}

std::vector<TrackEvent> TrackEvents::end_all() {
    std::vector<TrackEvent> events;
    for (auto& [id, track] : tracks_) {
        TrackState last = track.now;
        last.ended = true;
        events.push_back({TrackEventType::ended, track.told, last});
    }
    tracks_.clear();
    return events;
}

}  // namespace ss
