#include "events_api.hpp"

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <optional>

#include "slipstream/json.hpp"

namespace slipstream {

namespace {

constexpr const char* recent_path = "/api/v1/events/recent";
constexpr const char* failed = "GET_RECENT_EVENTS_FAIL";
constexpr std::size_t default_limit = 50;

// A whole number written as digits only (no sign, no spaces), or nothing.
std::optional<std::uint64_t> whole_number(const std::string& text) {
    if (text.empty() || text.size() > 19 || text.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    errno = 0;
    const unsigned long long value = std::strtoull(text.c_str(), nullptr, 10);
    if (errno) return std::nullopt;
    return value;
}

}  // namespace

void add_events_api(HttpServer& server, const ss::RecentTrackEvents& events) {
    // Sequence numbers start again with each run: `started` tells a poller that
    // kept an old number (a page left open) that it belongs to another run.
    const double started =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    server.route("GET", recent_path, [&events, started](const HttpRequest& request) {
        const std::string range = "1 to " + std::to_string(events.capacity());
        for (const auto& [name, value] : request.query) {
            if (name != "after" && name != "limit") {
                return json_error(400, failed, "unknown parameter '" + name + "': " + recent_path +
                                                   " takes after=<seq> (the last seq you saw) and limit=<" + range + ">");
            }
        }
        std::optional<std::uint64_t> after;
        if (const auto it = request.query.find("after"); it != request.query.end()) {
            after = whole_number(it->second);
            if (!after) {
                return json_error(400, failed, "after='" + it->second +
                                                   "' is not a sequence number: give the seq of the last event you saw (0 or more), "
                                                   "or leave after out for the newest events");
            }
        }
        std::size_t limit = default_limit;
        if (const auto it = request.query.find("limit"); it != request.query.end()) {
            const auto n = whole_number(it->second);
            if (!n || *n < 1 || *n > events.capacity()) {
                return json_error(400, failed, "limit='" + it->second + "' is not a whole number from " + range +
                                                   ": give how many events to send at most (default " +
                                                   std::to_string(default_limit) + ")");
            }
            limit = static_cast<std::size_t>(*n);
        }

        const ss::RecentTrackEvents::Page page = events.read(after, limit);
        std::string body = "{\"status\":";
        ss::append_json_string(body, status_line(200));
        body += ",\"reason\":\"GET_RECENT_EVENTS_SUCCESS\",\"started\":";
        ss::append_json_number(body, started, 3);
        body += ",\"latest\":" + std::to_string(page.latest) +
                ",\"oldest\":" + std::to_string(page.oldest) + ",\"more\":" + (page.more ? "true" : "false") + ",\"events\":[";
        for (std::size_t i = 0; i < page.events.size(); ++i) {
            if (i) body += ',';
            body += ss::recent_event_json(page.events[i]);
        }
        body += "]}";
        HttpResponse response;
        response.body = std::move(body);
        return response;
    });
}

}  // namespace slipstream
