#include "slipstream/track_event_feed.hpp"

namespace ss {

TrackEventFeed::TrackEventFeed(TrackEventSettings settings) : settings_(settings) {}

void TrackEventFeed::listen(Listener listener) {
    std::lock_guard lock(lock_);
    listeners_.push_back(std::move(listener));
}

void TrackEventFeed::tell(const std::vector<TrackEvent>& events) const {
    for (const TrackEvent& event : events) {
        for (const Listener& listener : listeners_) listener(event);
    }
}

void TrackEventFeed::name_camera(const std::string& source, const std::string& camera_id) {
    std::lock_guard lock(lock_);
    names_.name(source, camera_id);
}

void TrackEventFeed::frame(const std::string& source, std::uint64_t frame_number, const Detections& objects,
                           const InferConfig& config, double now) {
    std::lock_guard lock(lock_);
    const auto camera_id = names_.camera_of(source);
    if (!camera_id) return;
    auto it = cameras_.find(*camera_id);
    if (it == cameras_.end()) it = cameras_.emplace(*camera_id, TrackEvents(*camera_id, settings_)).first;
    tell(it->second.frame(frame_number, objects, config, now));
}

void TrackEventFeed::tick(double now) {
    std::lock_guard lock(lock_);
    for (auto& [id, events] : cameras_) tell(events.tick(now));
}

void TrackEventFeed::camera_gone(const std::string& source) {
    std::lock_guard lock(lock_);
    const auto it = cameras_.find(names_.forget(source));
    if (it == cameras_.end()) return;
    tell(it->second.end_all());
    cameras_.erase(it);
}

void TrackEventFeed::finish() {
    std::lock_guard lock(lock_);
    for (auto& [id, events] : cameras_) tell(events.end_all());
}

}  // namespace ss
