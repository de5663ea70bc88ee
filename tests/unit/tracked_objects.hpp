#pragma once
// What the track event and MQTT tests feed in: a config with people and cars
// counted in two groups (birds in none), and tracked objects of those classes.
#include <cstdint>
#include <string>

#include "slipstream/config.hpp"
#include "slipstream/detection.hpp"

namespace sstest {

inline ss::InferConfig person_and_car() {
    ss::InferConfig config;
    config.labels = {"person", "car", "bird"};
    config.groups.names = {"Person", "Vehicle"};
    config.groups.group_of_class = {0, 1, -1};
    return config;
}

// A tracked object of class 0 (person), 1 (car) or 2 (bird), in its group.
inline ss::Detection object(std::int64_t track, int class_id, float confidence = 0.8f, float left = 10,
                            bool predicted = false) {
    ss::Detection d;
    d.class_id = class_id;
    d.group = class_id == 0 ? 0 : class_id == 1 ? 1 : -1;
    d.confidence = confidence;
    d.box = {left, 20, 30, 60};
    d.track_id = track;
    d.predicted = predicted;
    return d;
}

inline bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace sstest
