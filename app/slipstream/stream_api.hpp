#pragma once
// DeepStream's stream REST API (nvmultiurisrcbin's paths and JSON shapes), so
// existing DeepStream clients add and remove slipstream's cameras unchanged:
//
//   POST /api/v1/stream/add       {"key":"sensor","value":{"camera_id","camera_name","camera_url","change":"camera_add",...},...}
//   POST /api/v1/stream/remove    the same body, "change":"camera_remove"
//   GET  /api/v1/stream/get-stream-info       every camera: state, codec, size, rates
//   GET  /api/v1/health/get-dsready-state     {"health-info":{"ds-ready":"YES"|"NO"}}
//   GET  /livez, /readyz                      for Kubernetes probes (no token needed)
//
// A bad request changes nothing and gets a status and a sentence saying what
// to do: 400 (not JSON, field missing), 404 (no such camera), 409 (id taken),
// 422 (a URL scheme slipstream cannot read); 401 and 413 come from HttpServer.
#include <functional>

#include "camera_stats.hpp"
#include "http_server.hpp"
#include "sources.hpp"

namespace slipstream {

// ready: whether the pipeline plays (answers /readyz and get-dsready-state).
void add_stream_api(HttpServer& server, Sources& sources, const CameraStats& stats, std::function<bool()> ready);

// The JSON of one camera for get-stream-info (credentials masked), with its rates.
std::string camera_json(const InputStatus& status, const CameraRates& rates);

}  // namespace slipstream
