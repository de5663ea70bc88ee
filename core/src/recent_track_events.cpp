#include "slipstream/recent_track_events.hpp"

#include <algorithm>

#include "slipstream/json.hpp"

namespace ss {

RecentTrackEvents::RecentTrackEvents(std::size_t capacity) : capacity_(std::max<std::size_t>(1, capacity)) {}

std::uint64_t RecentTrackEvents::add(const TrackEvent& event, double time) {
    std::lock_guard lock(lock_);
    entries_.push_back({++latest_, time, event});
    if (entries_.size() > capacity_) entries_.pop_front();
    return latest_;
}

RecentTrackEvents::Page RecentTrackEvents::read(std::optional<std::uint64_t> after, std::size_t limit) const {
    std::lock_guard lock(lock_);
    Page page;
    page.latest = latest_;
    page.oldest = entries_.empty() ? 0 : entries_.front().seq;
    std::size_t first = 0;  // index of the first entry to give
    if (after) {
        // Numbers are consecutive, so the entry after `after` is found by subtraction.
        if (!entries_.empty() && *after >= page.oldest) {
            first = static_cast<std::size_t>(std::min<std::uint64_t>(*after - page.oldest + 1, entries_.size()));
        }
    } else if (entries_.size() > limit) {
        first = entries_.size() - limit;
    }
    const std::size_t last = std::min(entries_.size(), first + limit);
    page.events.assign(entries_.begin() + static_cast<std::ptrdiff_t>(first), entries_.begin() + static_cast<std::ptrdiff_t>(last));
    page.more = last < entries_.size();
    return page;
}

std::string recent_event_json(const RecentTrackEvents::Entry& entry) {
    std::string out = "{\"seq\":" + std::to_string(entry.seq) + ",\"time\":";
    append_json_number(out, entry.time, 3);
    out += ',';
    out += event_json(entry.event).substr(1);  // the event's own fields, its '{' dropped
    return out;
}

}  // namespace ss
