#include "slipstream/counts.hpp"

namespace ss {

GroupCounts count_groups(const Detections& objects, const ClassGroups& groups) {
    GroupCounts counts;
    counts.per_group.assign(groups.names.size(), 0);
    for (const auto& d : objects) {
        ++counts.objects;
        if (d.group >= 0 && d.group < static_cast<int>(counts.per_group.size())) ++counts.per_group[d.group];
    }
    return counts;
}

std::string plural(const std::string& name) {
    if (name.empty() || name.back() == 's' || name.back() == 'S') return name;
    return name + "s";
}

std::string frame_line(int stream, std::uint64_t frame, const Detections& objects, const ClassGroups& groups) {
    return "Stream=" + std::to_string(stream) + " Frame=" + std::to_string(frame) + " " +
           counts_text(count_groups(objects, groups), groups);
}

std::string counts_text(const GroupCounts& counts, const ClassGroups& groups) {
    std::string text = "Objects=" + std::to_string(counts.objects);
    for (std::size_t g = 0; g < groups.names.size(); ++g) {
        text += ' ';
        text += plural(groups.names[g]);
        text += '=';
        text += std::to_string(g < counts.per_group.size() ? counts.per_group[g] : 0);
    }
    return text;
}

}  // namespace ss
