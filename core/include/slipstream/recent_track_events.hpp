#pragma once
// The latest track events in memory, each with a rising sequence number, for
// the HTTP API (GET /api/v1/events/recent) and the web page that polls it: a
// client asks for what came after the last number it saw. Bounded: the oldest
// event goes when the log is full. Thread-safe (added to from a streaming
// thread, read on the main loop).
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "slipstream/track_events.hpp"

namespace ss {

class RecentTrackEvents {
public:
    static constexpr std::size_t default_capacity = 200;

    struct Entry {
        std::uint64_t seq = 0;  // 1 for the first event told, then one more for each
        double time = 0;        // when it was told, seconds since the Unix epoch
        TrackEvent event;
    };
    struct Page {
        std::vector<Entry> events;  // oldest first
        std::uint64_t latest = 0;   // the number of the latest event told (0: none yet)
        std::uint64_t oldest = 0;   // the number of the oldest still kept (0: none kept)
        bool more = false;          // more events follow the last one here: ask again after it
    };

    explicit RecentTrackEvents(std::size_t capacity = default_capacity);

    // Keeps the event with the next number; the oldest one goes when full.
    std::uint64_t add(const TrackEvent& event, double time);
    // after given: the events numbered above it, oldest first, at most `limit`.
    // after not given: the newest `limit` events, oldest first.
    Page read(std::optional<std::uint64_t> after, std::size_t limit) const;
    std::size_t capacity() const { return capacity_; }

private:
    std::size_t capacity_;
    mutable std::mutex lock_;
    std::deque<Entry> entries_;  // consecutive numbers, oldest first
    std::uint64_t latest_ = 0;
};

// {"seq":N,"time":T,"type":"new","before":..,"after":{..}}: the MQTT event's
// JSON (track_events.hpp) with its number and time first.
std::string recent_event_json(const RecentTrackEvents::Entry& entry);

}  // namespace ss
