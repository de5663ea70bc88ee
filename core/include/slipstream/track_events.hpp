#pragma once
// Track events of one camera, from the tracker's confirmed tracks frame by
// frame (in the spirit of Frigate's frigate/events):
//   new     a track id is seen for the first time
//   update  its label or group changed since the last message about it, at
//           most once per update_interval (a change held back goes out later)
//   end     it has not been seen for end_after seconds, or the camera went
//           away or slipstream stops
// Each event carries the track's state when it was last told (before; none
// for new) and now (after). Times are seconds since the Unix epoch.
// TrackEventFeed (track_event_feed.hpp) runs one per camera and tells every
// event to MQTT and to the log of recent events that the HTTP API serves.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "slipstream/config.hpp"
#include "slipstream/detection.hpp"

namespace ss {

struct TrackEventSettings {
    // Longer than a tracker keeps a lost track (max-age, 30 frames: 3 s at
    // 10 fps), so a track that comes back is the same event, not a new one.
    double end_after = 5.0;
    double update_interval = 1.0;
};

struct TrackState {
    std::string camera_id;
    std::int64_t track_id = -1;
    int class_id = -1;
    std::string label;
    std::string group;  // empty: the class is in no group
    float confidence = 0;      // of the latest detection
    float top_confidence = 0;  // the highest so far
    Box box;               // latest, in the camera's pixels
    double first_seen = 0, last_seen = 0;
    std::uint64_t frame = 0;   // the camera's frame number it was last seen on
    bool ended = false;
};

enum class TrackEventType { started, updated, ended };

struct TrackEvent {
    TrackEventType type;
    std::optional<TrackState> before;  // the state last told; none for new
    TrackState after;
};

// "new", "update", "end".
const char* event_type_name(TrackEventType type);

// {"type":"new","before":null,"after":{"id":"<camera>-<track>","camera_id":..,"track_id":..,
//  "label":..,"group":..,"confidence":..,"top_confidence":..,"box":[l,t,w,h],
//  "first_seen":..,"last_seen":..,"frame":..,"ended":false}}
std::string event_json(const TrackEvent& event);

class TrackEvents {
public:
    TrackEvents(std::string camera_id, TrackEventSettings settings = {});

    // The objects shown on one of this camera's frames (boxes in the camera's
    // pixels); objects without a track id are not tracks and are left out.
    std::vector<TrackEvent> frame(std::uint64_t frame_number, const Detections& objects, const InferConfig& config,
                                  double now);
    // Ends the tracks not seen for end_after and sends held updates that are due.
    std::vector<TrackEvent> tick(double now);
    // Ends every track (the camera went away, or slipstream stops).
    std::vector<TrackEvent> end_all();

    std::size_t open_tracks() const { return tracks_.size(); }

private:
    struct Track {
        TrackState now;
        TrackState told;          // as the last event about it said
        double last_update = 0;   // when the last update went out
    };
    static bool changed(const TrackState& a, const TrackState& b) { return a.label != b.label || a.group != b.group; }
    void update_if_due(Track& track, double now, std::vector<TrackEvent>& events) const;

    std::string camera_id_;
    TrackEventSettings settings_;
    std::map<std::int64_t, Track> tracks_;
};

}  // namespace ss
