// Trackers by name (the config's [tracker] type=). One line per tracker.
#include <functional>
#include <map>

#include "slipstream/error.hpp"
#include "trackers.hpp"

namespace ss {
namespace {

using Factory = std::function<std::unique_ptr<Tracker>(const TrackerSettings&)>;

const std::map<std::string, Factory>& registry() {
    static const std::map<std::string, Factory> trackers = {
        {"bytetrack", make_bytetrack_tracker},
        {"iou", make_iou_tracker},
    };
    return trackers;
}

}  // namespace

std::unique_ptr<Tracker> make_tracker(const TrackerSettings& settings) {
    auto it = registry().find(settings.type);
    if (it == registry().end()) {
        std::string known;
        for (const auto& [name, factory] : registry()) known += (known.empty() ? "" : ", ") + name;
        throw ConfigError("[tracker] type: unknown tracker '" + settings.type + "' (known: " + known + ")");
    }
    return it->second(settings);
}

std::vector<std::string> tracker_names() {
    std::vector<std::string> names;
    for (const auto& [name, factory] : registry()) names.push_back(name);
    return names;
}

}  // namespace ss
