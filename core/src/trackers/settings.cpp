// [tracker] section -> TrackerSettings, with the checks a user needs to fix a config.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "slipstream/error.hpp"
#include "slipstream/tracker.hpp"

namespace ss {
namespace {

[[noreturn]] void fail(const std::string& key, const std::string& what) {
    throw ConfigError("[tracker] " + key + ": " + what);
}

// Thresholds and IoUs are fractions; `zero_allowed` false for gates where 0 makes no sense.
float fraction(const std::string& key, const std::string& text, bool zero_allowed) {
    errno = 0;
    char* end = nullptr;
    const float value = std::strtof(text.c_str(), &end);
    if (text.empty() || *end != '\0' || errno == ERANGE || !std::isfinite(value)) {
        fail(key, "'" + text + "' is not a number");
    }
    if (value < 0.f || (!zero_allowed && value == 0.f) || value > 1.f) {
        fail(key, text + " is out of range " + (zero_allowed ? "[0, 1]" : "(0, 1]"));
    }
    return value;
}

int integer_in(const std::string& key, const std::string& text, long min, long max) {
    errno = 0;
    char* end = nullptr;
    const long value = std::strtol(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || errno == ERANGE) fail(key, "'" + text + "' is not an integer");
    if (value < min || value > max) {
        fail(key, text + " is out of range " + std::to_string(min) + ".." + std::to_string(max));
    }
    return static_cast<int>(value);
}

std::string to_text(float value) {
    std::ostringstream out;
    out << value;  // shortest form: 0.6, not 0.600000
    return out.str();
}

}  // namespace

TrackerSettings parse_tracker_settings(const std::map<std::string, std::string>& keys,
                                       std::vector<std::string>* warnings) {
    // Ages are in frames; ten minutes at 60 fps is more than any real use.
    constexpr long max_frames = 36000;
    TrackerSettings settings;
    for (const auto& [key, value] : keys) {
        if (key == "type") {
            const auto names = tracker_names();
            if (std::find(names.begin(), names.end(), value) == names.end()) {
                std::string known;
                for (const auto& name : names) known += (known.empty() ? "" : ", ") + name;
                fail(key, "unknown tracker '" + value + "' (known: " + known + ")");
            }
            settings.type = value;
        } else if (key == "high-threshold") {
            settings.high_threshold = fraction(key, value, true);
        } else if (key == "low-threshold") {
            settings.low_threshold = fraction(key, value, true);
        } else if (key == "match-iou") {
            settings.match_iou = fraction(key, value, false);  // 0 would pair boxes that do not touch
        } else if (key == "low-match-iou") {
            settings.low_match_iou = fraction(key, value, false);
        } else if (key == "min-hits") {
            settings.min_hits = integer_in(key, value, 1, max_frames);
        } else if (key == "max-age") {
            settings.max_age = integer_in(key, value, 0, max_frames);
        } else if (key == "max-predict") {
            settings.max_predict = integer_in(key, value, 0, max_frames);
        } else if (warnings) {
            warnings->push_back("[tracker] " + key + ": unknown key; ignored");
        }
    }
    // Relations between keys, checked once all are read so the order of keys does not matter.
    if (settings.low_threshold > settings.high_threshold) {
        fail("low-threshold", to_text(settings.low_threshold) + " is above high-threshold " +
                                  to_text(settings.high_threshold));
    }
    if (settings.predict_frames() > settings.max_age) {
        fail("max-predict", std::to_string(settings.predict_frames()) + " is above max-age " +
                                std::to_string(settings.max_age) + ": a track is dropped after max-age frames");
    }
    return settings;
}

}  // namespace ss
