#pragma once
// The live view over WebRTC, signalled with WHEP (IETF WebRTC-HTTP egress) on
// slipstream's HTTP server:
//
//   POST   /api/v1/whep        SDP offer (application/sdp) -> 201, the SDP answer,
//                              Location: /api/v1/whep/<session>
//   DELETE /api/v1/whep/<id>   ends the session (PATCH, trickle ICE: 405)
//   GET    /api/v1/whep        the sessions now, as JSON
//
// The output is encoded once; each viewer gets its own small pipeline
//   appsrc (bounded, leaky) -> h264parse -> rtph264pay -> webrtcbin
// fed like the RTSP server's, so a viewer that stalls or vanishes costs only
// its own queue: never the pipeline, never the other viewers. Non-trickle: the
// answer carries our ICE candidates (host ones; STUN/TURN only when configured).
#include <gst/gst.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "http_server.hpp"
#include "options.hpp"

namespace slipstream {

class WebRtcOutput {
public:
    WebRtcOutput(const Options& options, GstElement* encoder);
    ~WebRtcOutput();
    WebRtcOutput(const WebRtcOutput&) = delete;
    WebRtcOutput& operator=(const WebRtcOutput&) = delete;

    static constexpr const char* endpoint = "/api/v1/whep";

    // Routes the WHEP endpoint and starts the reaper (on the main loop).
    void add_routes(HttpServer& server);
    // Called from the appsink's streaming thread for every encoded access unit.
    void push(GstSample* sample);
    // Ends every session (a POST still waiting gets its answer) while the HTTP server is still there.
    void close();

    struct Session;

private:
    void offer(const HttpRequest& request, HttpServer::Reply reply);
    HttpResponse end(const HttpRequest& request);
    HttpResponse list() const;
    // Takes a session out and stops its pipeline; "why" goes to the log.
    void end_session(const std::string& id, const char* why);
    void reap();
    std::shared_ptr<Session> find_session(const std::string& id) const;
    void request_key_frame();
    void send_key_frame_request();

    Options options_;
    GstElement* encoder_;
    GstCaps* caps_ = nullptr;
    guint reaper_ = 0;
    std::thread warm_up_;  // loads the viewers' plugins and makes the DTLS key at start
    std::atomic<gint64> last_key_frame_request_us_{-1000000};
    std::atomic<bool> key_frame_deferred_{false};  // a request waits for the 200 ms to pass
    std::atomic<guint> key_frame_timer_{0};
    mutable std::mutex mutex_;  // sessions_ and each session's feed state
    std::map<std::string, std::shared_ptr<Session>> sessions_;
};

}  // namespace slipstream
