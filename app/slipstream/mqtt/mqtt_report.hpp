#pragma once
// Turns what the pipeline shows, frame by frame, into MQTT messages: track
// events (made by core's TrackEventFeed, which tells them here first), per-group
// counts when they change, and (optionally) the metadata line of every frame.
// Free of GStreamer and of any MQTT library: messages go to `send` (the
// client's bounded queue). Thread-safe.
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "slipstream/camera_names.hpp"
#include "slipstream/detection.hpp"
#include "slipstream/track_events.hpp"
#include "topics.hpp"

namespace slipstream::mqtt {

struct ReportSettings {
    std::string prefix = default_prefix;
    bool frames = false;  // --mqtt-frames: every frame's metadata line too
};

class MqttReport {
public:
    using Send = std::function<void(Message)>;
    MqttReport(ReportSettings settings, Send send);

    // Cameras are reported under their source (the mux's source id, as text)
    // unless named: a camera added through the API is told by its camera id.
    void name_camera(const std::string& source, const std::string& camera_id);
    // A track event, as the feed tells it (before the frame's counts).
    void track_event(const ss::TrackEvent& event);
    // A new frame of a camera. objects: boxes in the camera's pixels.
    // frame_json: its metadata line (used with `frames`).
    void frame(const std::string& source, const ss::Detections& objects, const ss::InferConfig& config,
               const std::string& frame_json = {});
    // Every camera's current counts again (after a reconnect: a broker that
    // restarted has lost what was retained, and counts are sent only on change).
    void resend_counts();
    // A camera left (the feed has ended its tracks): its retained counts are
    // cleared, and frames of its source still on their way are ignored.
    // When slipstream stops, counts stay (retained) as last seen.
    void camera_gone(const std::string& source);

    bool wants_frames() const { return settings_.frames; }

private:
    struct Camera {
        std::vector<std::string> groups;  // names, as counted last
        std::vector<int> counts;          // per group, as last sent
    };

    ReportSettings settings_;
    Topics topics_;
    Send send_;
    std::mutex lock_;
    std::map<std::string, Camera> cameras_;           // by camera id
    ss::CameraNames names_;
};

}  // namespace slipstream::mqtt
