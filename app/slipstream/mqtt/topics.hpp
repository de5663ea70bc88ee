#pragma once
// MQTT topic names and what travels on them, free of any MQTT library.
//
//   <prefix>/available            "online" / "offline" (retained; "offline" is also the last will)
//   <prefix>/events               one JSON message per track event (new, update, end)
//   <prefix>/<camera_id>/<group>  the group's current count on that camera (retained)
//   <prefix>/<camera_id>/frames   the per-frame metadata line (--mqtt-frames)
#include <cstddef>
#include <string>
#include <string_view>

namespace slipstream::mqtt {

inline constexpr const char* default_prefix = "slipstream";

struct Message {
    std::string topic;
    std::string payload;
    int qos = 0;
    bool retain = false;  // state (availability, counts): only the latest matters
};

// A name made fit to be one topic level: lower case, and the characters that
// mean something in topics ('/', '+', '#'), blanks and control characters as '_'.
std::string topic_level(std::string_view name);

// A prefix is one or more non-empty levels without wildcards, not starting
// with '$' (the broker's own topics). False with a reason otherwise.
bool valid_prefix(const std::string& prefix, std::string* why = nullptr);

struct Topics {
    std::string prefix = default_prefix;

    std::string available() const { return prefix + "/available"; }
    std::string events() const { return prefix + "/events"; }
    std::string count(std::string_view camera_id, std::string_view group) const {
        return prefix + "/" + topic_level(camera_id) + "/" + topic_level(group);
    }
    std::string frames(std::string_view camera_id) const { return prefix + "/" + topic_level(camera_id) + "/frames"; }
};

}  // namespace slipstream::mqtt
