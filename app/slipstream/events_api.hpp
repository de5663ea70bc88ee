#pragma once
// The recent track events over HTTP, for the web page and other pollers:
//
//   GET /api/v1/events/recent?after=<seq>&limit=<n>
//     {"status":..,"reason":"GET_RECENT_EVENTS_SUCCESS","latest":N,"oldest":M,"more":false,
//      "events":[{"seq":..,"time":..,"type":"new"|"update"|"end","before":..,"after":{..}},..]}
//
// Events come oldest first: with `after`, those numbered above it (ask again
// with the last seq while "more" is true); without it, the newest `limit`
// (default 50, at most the log's size). Each event is the MQTT message's JSON
// with its number and time. A bad parameter gets 400 and a sentence saying
// what to send; the token is needed as for every /api/v1 route.
#include "http_server.hpp"
#include "slipstream/recent_track_events.hpp"

namespace slipstream {

void add_events_api(HttpServer& server, const ss::RecentTrackEvents& events);

}  // namespace slipstream
