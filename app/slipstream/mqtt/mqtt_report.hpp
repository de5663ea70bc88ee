#pragma once
// Turns what the pipeline shows, frame by frame, into MQTT messages: track
// events, per-group counts when they change, and (optionally) the metadata
// line of every frame. Free of GStreamer and of any MQTT library: messages
// go to `send` (the client's bounded queue). Thread-safe.
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "topics.hpp"
#include "track_events.hpp"

namespace slipstream::mqtt {

struct ReportSettings {
    std::string prefix = default_prefix;
    bool frames = false;  // --mqtt-frames: every frame's metadata line too
    TrackEventSettings events;
};

class MqttReport {
public:
    using Send = std::function<void(Message)>;
    MqttReport(ReportSettings settings, Send send);

    // Cameras are reported under their source (the mux's source id, as text)
    // unless named: a camera added through the API is told by its camera id.
    void name_camera(const std::string& source, const std::string& camera_id);
    // A new frame of a camera. objects: boxes in the camera's pixels.
    // frame_json: its metadata line (used with `frames`).
    void frame(const std::string& source, std::uint64_t frame_number, const ss::Detections& objects,
               const ss::InferConfig& config, double now, const std::string& frame_json = {});
    // Call often (every output tick): ends tracks gone for a while on every camera.
    void tick(double now);
    // Every camera's current counts again (after a reconnect: a broker that
    // restarted has lost what was retained, and counts are sent only on change).
    void resend_counts();
    // A camera left: its tracks end, its retained counts are cleared, and frames
    // of its source still on their way are ignored.
    void camera_gone(const std::string& source);
    // Slipstream stops: every track ends. Counts stay (retained) as last seen.
    void finish();

    bool wants_frames() const { return settings_.frames; }

private:
    struct Camera {
        TrackEvents events;
        std::vector<std::string> groups;  // names, as counted last
        std::vector<int> counts;          // per group, as last sent
    };
    void send_events(const std::vector<TrackEvent>& events);
    Camera& camera(const std::string& camera_id);

    ReportSettings settings_;
    Topics topics_;
    Send send_;
    std::mutex lock_;
    std::map<std::string, Camera> cameras_;           // by camera id
    std::map<std::string, std::string> names_;        // source -> camera id, where it differs
    std::set<std::string> gone_;                       // sources removed (never reused)
};

}  // namespace slipstream::mqtt
