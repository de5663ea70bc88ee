#pragma once
// Which camera a source's frames belong to, for those who report per camera
// (track events, MQTT counts): a source (the mux's source id, as text) is its
// own camera unless named (a camera added through the API goes by its camera
// id); once it left, its frames still on their way belong to none, until the
// source is named again. Not thread-safe: its owner locks.
#include <map>
#include <set>
#include <string>

namespace ss {

class CameraNames {
public:
    void name(const std::string& source, const std::string& camera_id) {
        names_[source] = camera_id;
        gone_.erase(source);
    }

    // The camera `source`'s frames belong to: its name, or `source` itself;
    // nullptr after it left. Valid while both stay unchanged (per frame: no copy).
    const std::string* camera_of(const std::string& source) const {
        if (gone_.count(source)) return nullptr;
        const auto named = names_.find(source);
        return named == names_.end() ? &source : &named->second;
    }

    // The source left: the camera it was.
    std::string forget(const std::string& source) {
        gone_.insert(source);
        const auto named = names_.find(source);
        if (named == names_.end()) return source;
        std::string camera_id = named->second;
        names_.erase(named);
        return camera_id;
    }

private:
    std::map<std::string, std::string> names_;  // source -> camera id, where it differs
    std::set<std::string> gone_;                // sources removed, until one is named again
};

}  // namespace ss
