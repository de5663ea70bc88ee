#pragma once
// Every camera's track events (track_events.hpp), made once and told to each
// listener in the order they happen: the MQTT report and the log of recent
// events the HTTP API serves. Runs whether or not MQTT is on. Thread-safe:
// frames come from a streaming thread, cameras come and go on the main loop.
// Listeners are called under the feed's lock, so they must be quick and must
// not call back into the feed.
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "slipstream/camera_names.hpp"
#include "slipstream/track_events.hpp"

namespace ss {

class TrackEventFeed {
public:
    using Listener = std::function<void(const TrackEvent&)>;
    explicit TrackEventFeed(TrackEventSettings settings = {});

    // Add listeners before frames flow.
    void listen(Listener listener);

    // Cameras are told by their source (the mux's source id, as text) unless
    // named: a camera added through the API is told by its camera id.
    void name_camera(const std::string& source, const std::string& camera_id);
    // The objects shown on one of a camera's frames (boxes in its pixels).
    void frame(const std::string& source, std::uint64_t frame_number, const Detections& objects, const InferConfig& config,
               double now);
    // Call often (every output tick): ends tracks gone for a while, sends held updates.
    void tick(double now);
    // A camera left: its tracks end, and frames of its source still on their way are ignored.
    void camera_gone(const std::string& source);
    // Slipstream stops: every track ends.
    void finish();

private:
    void tell(const std::vector<TrackEvent>& events) const;

    TrackEventSettings settings_;
    std::vector<Listener> listeners_;
    std::mutex lock_;
    std::map<std::string, TrackEvents> cameras_;  // by camera id
    CameraNames names_;
};

}  // namespace ss
