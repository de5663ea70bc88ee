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
    names_[source] = camera_id;
    gone_.erase(source);
}

void TrackEventFeed::frame(const std::string& source, std::uint64_t frame_number, const Detections& objects,
                           const InferConfig& config, double now) {
    std::lock_guard lock(lock_);
    if (gone_.count(source)) return;
    const auto named = names_.find(source);
    const std::string& camera_id = named == names_.end() ? source : named->second;
    auto it = cameras_.find(camera_id);
    if (it == cameras_.end()) it = cameras_.emplace(camera_id, TrackEvents(camera_id, settings_)).first;
    tell(it->second.frame(frame_number, objects, config, now));
}

void TrackEventFeed::tick(double now) {
    std::lock_guard lock(lock_);
    for (auto& [id, events] : cameras_) tell(events.tick(now));
}

void TrackEventFeed::camera_gone(const std::string& source) {
    std::lock_guard lock(lock_);
    gone_.insert(source);
    std::string camera_id = source;
    if (const auto named = names_.find(source); named != names_.end()) {
        camera_id = named->second;
        names_.erase(named);
    }
    const auto it = cameras_.find(camera_id);
    if (it == cameras_.end()) return;
    tell(it->second.end_all());
    cameras_.erase(it);
}

void TrackEventFeed::finish() {
    std::lock_guard lock(lock_);
    for (auto& [id, events] : cameras_) tell(events.end_all());
}

}  // namespace ss
