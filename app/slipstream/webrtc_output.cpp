#include "webrtc_output.hpp"

#include <gst/app/gstappsrc.h>
#define GST_USE_UNSTABLE_API  // webrtc's headers say so in 1.22
#include <gst/sdp/sdp.h>
#include <gst/video/video.h>
#include <gst/webrtc/webrtc.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <vector>

#include "console.hpp"
#include "meta/running_time.hpp"
#include "rtsp_output.hpp"
#include "slipstream/json.hpp"
#include "whep.hpp"

// GST_DEBUG=slipstream-webrtc:5 shows each viewer's steps with their times.
GST_DEBUG_CATEGORY_STATIC(webrtc_output_debug);
#define GST_CAT_DEFAULT webrtc_output_debug

namespace slipstream {

struct WebRtcOutput::Session {
    std::string id;
    WebRtcOutput* owner = nullptr;
    GstElement* pipeline = nullptr;
    GstElement* appsrc = nullptr;
    GstElement* webrtc = nullptr;
    guint bus_watch = 0;
    gint64 created_us = g_get_monotonic_time();
    std::atomic<bool> connected{false};
    std::atomic<bool> failed{false};
    std::atomic<gint64> last_heard_us{-1};  // the viewer's last RTCP packet

    whep::H264Format format;  // the offer's, that we send

    // Main loop only: the POST waiting for the answer.
    HttpServer::Reply reply;

    // Answering (webrtcbin's threads): the answer is sent once it is set and
    // gathering is complete (or the gathering time is up).
    std::mutex answer_mutex;
    bool local_set = false, gathered = false, answered = false;
    bool ended = false;  // its pipeline is going or gone: nothing may touch webrtc
    std::vector<std::pair<unsigned, std::string>> candidates;

    // Feeding (under the owner's mutex).
    ViewerFeed feed;
};

namespace {

using SessionPtr = std::shared_ptr<WebRtcOutput::Session>;

// Runs f on the main loop (the HTTP server's and the reaper's), from any thread.
void on_main_loop(std::function<void()> f) {
    g_main_context_invoke_full(
        nullptr, G_PRIORITY_DEFAULT,
        +[](gpointer data) -> gboolean {
            (*static_cast<std::function<void()>*>(data))();
            return G_SOURCE_REMOVE;
        },
        new std::function<void()>(std::move(f)), +[](gpointer data) { delete static_cast<std::function<void()>*>(data); });
}

// A promise whose reply goes to f on webrtcbin's thread; the session lives until then.
GstPromise* promise_for(const SessionPtr& session, void (*f)(const SessionPtr&, GstPromise*)) {
    struct Pending {
        SessionPtr session;
        void (*f)(const SessionPtr&, GstPromise*);
    };
    return gst_promise_new_with_change_func(
        +[](GstPromise* promise, gpointer data) {
            auto* pending = static_cast<Pending*>(data);
            pending->f(pending->session, promise);
        },
        new Pending{session, f}, +[](gpointer data) { delete static_cast<Pending*>(data); });
}

// The promise's error as text, or empty when it succeeded.
std::string promise_error(GstPromise* promise) {
    if (gst_promise_wait(promise) != GST_PROMISE_RESULT_REPLIED) return "webrtcbin gave no answer";
    const GstStructure* reply = gst_promise_get_reply(promise);
    if (!reply || !gst_structure_has_field(reply, "error")) return {};
    GError* error = nullptr;
    gst_structure_get(reply, "error", G_TYPE_ERROR, &error, nullptr);
    std::string text = error ? error->message : "unknown error";
    g_clear_error(&error);
    return text;
}

// Sends the POST's answer (main loop); a session answered with an error goes.
void reply_on_main_loop(const SessionPtr& session, HttpResponse response) {
    on_main_loop([session, response] {
        if (!session->reply) return;
        auto reply = std::move(session->reply);
        session->reply = nullptr;
        reply(response);
    });
}

void fail_offer(const SessionPtr& session, int status, const std::string& reason, const std::string& message) {
    session->failed = true;  // the reaper ends it
    reply_on_main_loop(session, json_error(status, reason, message));
}

// Answer set and candidates gathered: the SDP answer goes back in the POST's reply.
void answer_if_ready(const SessionPtr& session) {
    std::vector<std::pair<unsigned, std::string>> candidates;
    {
        std::lock_guard lock(session->answer_mutex);
        if (session->ended || session->answered || !session->local_set || !session->gathered) return;
        session->answered = true;
        candidates = session->candidates;
    }
    GstWebRTCSessionDescription* local = nullptr;
    g_object_get(session->webrtc, "local-description", &local, nullptr);
    if (!local) {
        fail_offer(session, 500, "INTERNAL_ERROR", "webrtcbin has no local description after answering");
        return;
    }
    GST_DEBUG("%s: answering with %zu candidates", session->id.c_str(), candidates.size());
    gchar* text = gst_sdp_message_as_text(local->sdp);
    HttpResponse created;
    created.status = 201;
    created.content_type = "application/sdp";
    // webrtcbin leaves the profile out of the answer (its pad takes the stream's own,
    // 42c01e, which is not the string the viewer offered): name the viewer's.
    created.body = whep::with_candidates(whep::with_profile(text, session->format), candidates);
    created.headers.emplace_back("Location", std::string(WebRtcOutput::endpoint) + "/" + session->id);
    g_free(text);
    gst_webrtc_session_description_free(local);
    reply_on_main_loop(session, created);
}

// Candidates gathered (or no more waited for): the answer goes if it is set.
void gathering_done(const SessionPtr& session) {
    {
        std::lock_guard lock(session->answer_mutex);
        session->gathered = true;
    }
    answer_if_ready(session);
}

void on_answer_created(const SessionPtr& session, GstPromise* promise) {
    GST_DEBUG("%s: answer created", session->id.c_str());
    if (std::string error = promise_error(promise); !error.empty()) {
        fail_offer(session, 400, "BAD_OFFER", "the offer cannot be answered (" + error + ")");
        return;
    }
    GstWebRTCSessionDescription* answer = nullptr;
    gst_structure_get(gst_promise_get_reply(promise), "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &answer, nullptr);
    if (!answer) {
        fail_offer(session, 400, "BAD_OFFER", "webrtcbin made no answer to the offer");
        return;
    }
    g_signal_emit_by_name(session->webrtc, "set-local-description", answer, nullptr);
    gst_webrtc_session_description_free(answer);
    {
        std::lock_guard lock(session->answer_mutex);
        session->local_set = true;
    }
    answer_if_ready(session);
}

void on_offer_set(const SessionPtr& session, GstPromise* promise) {
    GST_DEBUG("%s: offer set", session->id.c_str());
    if (std::string error = promise_error(promise); !error.empty()) {
        fail_offer(session, 400, "BAD_OFFER", "the offer was refused (" + error + ")");
        return;
    }
    GstPromise* answered = promise_for(session, &on_answer_created);
    g_signal_emit_by_name(session->webrtc, "create-answer", nullptr, answered);
    gst_promise_unref(answered);  // webrtcbin holds its own until it replies
}

std::string short_id(const std::string& id) { return id.substr(0, 8); }

}  // namespace

WebRtcOutput::WebRtcOutput(const Options& options, GstElement* encoder) : options_(options), encoder_(encoder) {
    gst_object_ref(encoder_);
    caps_ = encoded_caps(options_.codec);
    GST_DEBUG_CATEGORY_INIT(webrtc_output_debug, "slipstream-webrtc", 0, "slipstream's WebRTC (WHEP) live view");
    if (options_.webrtc_viewers == 0) return;  // off: nothing to prepare
    // The first viewer's elements load their plugins (srtp with libsrtp2 and
    // OpenSSL: 0.4 s, over 1 s on a busy machine) and the DTLS certificate (an
    // RSA key, made once per process with the first DTLS element, 0.3 s): do
    // both now, beside start-up, not while the first viewer waits for its picture.
    // Joined by the destructor: a process that exits while the key is being
    // made (a port taken at start) would tear OpenSSL down under it and crash.
    warm_up_ = std::thread([] {
        for (const char* factory : {"webrtcbin", "dtlsdec", "dtlssrtpenc", "dtlssrtpdec", "srtpenc", "srtpdec", "nicesrc",
                                    "nicesink", "rtpbin", "rtpstorage", "rtph264pay", "h264parse"}) {
            if (GstElement* e = gst_element_factory_make(factory, nullptr)) gst_object_unref(gst_object_ref_sink(e));
        }
    });
}

WebRtcOutput::~WebRtcOutput() {
    if (warm_up_.joinable()) warm_up_.join();
    close();
    if (key_frame_timer_) g_source_remove(key_frame_timer_);
    gst_caps_unref(caps_);
    gst_object_unref(encoder_);
}

void WebRtcOutput::close() {
    if (reaper_) g_source_remove(reaper_);
    reaper_ = 0;
    std::vector<std::string> ids;
    {
        std::lock_guard lock(mutex_);
        for (const auto& [id, s] : sessions_) ids.push_back(id);
    }
    for (const auto& id : ids) end_session(id, "slipstream stops");
}

void WebRtcOutput::add_routes(HttpServer& server) {
    server.route_async("POST", endpoint, [this](const HttpRequest& r, HttpServer::Reply reply) { offer(r, std::move(reply)); });
    server.route("GET", endpoint, [this](const HttpRequest&) { return list(); });
    const std::string sessions = std::string(endpoint) + "/*";
    server.route("DELETE", sessions, [this](const HttpRequest& r) { return end(r); });
    server.route("PATCH", sessions, [](const HttpRequest&) {
        return json_error(405, "METHOD_NOT_ALLOWED",
                          "trickle ICE is not supported: send the offer once ICE gathering is complete (its candidates in it)");
    });
    reaper_ = g_timeout_add_seconds(1, +[](gpointer self) -> gboolean {
        static_cast<WebRtcOutput*>(self)->reap();
        return G_SOURCE_CONTINUE;
    }, this);
}

void WebRtcOutput::offer(const HttpRequest& request, HttpServer::Reply reply) {
    if (options_.webrtc_viewers == 0) {
        reply(json_error(422, "LIVE_VIEW_OFF",
                         "the live view is off (--webrtc-viewers 0 / WEBRTC_VIEWERS=0); start slipstream with "
                         "--webrtc-viewers N to let N browsers watch, or watch the RTSP output"));
        return;
    }
    if (options_.codec == OutputCodec::h265) {
        reply(json_error(422, "UNSUPPORTED_CODEC",
                         "the output is H.265 (--codec H265 / CODEC=H265), which browsers cannot receive over WebRTC; "
                         "run slipstream with --codec H264 for the live view (RTSP serves H.265)"));
        return;
    }
    if (g_ascii_strcasecmp(request.content_type.c_str(), "application/sdp") != 0) {  // media types ignore case
        reply(json_error(415, "UNSUPPORTED_MEDIA_TYPE",
                         "send the SDP offer with 'Content-Type: application/sdp' (got " +
                             (request.content_type.empty() ? std::string("none") : "'" + request.content_type + "'") + ")"));
        return;
    }
    const whep::OfferCheck check = whep::check_offer(request.body);
    if (!check.error.empty()) {
        reply(json_error(400, "BAD_OFFER", check.error));
        return;
    }
    // Read as webrtcbin will before anything is made for it: a refused offer costs no pipeline and no slot.
    GstSDPMessage* sdp = nullptr;
    if (gst_sdp_message_new_from_text(request.body.c_str(), &sdp) != GST_SDP_OK || !sdp) {
        if (sdp) gst_sdp_message_free(sdp);
        reply(json_error(400, "BAD_OFFER", "the offer is not SDP GStreamer can read: POST pc.localDescription.sdp as it is"));
        return;
    }
    auto session = std::make_shared<Session>();
    session->id = whep::new_session_id();
    GST_DEBUG("%s: offer", session->id.c_str());
    session->owner = this;
    session->format = check.format;
    {
        std::lock_guard lock(mutex_);
        if (static_cast<int>(sessions_.size()) >= options_.webrtc_viewers) {
            gst_sdp_message_free(sdp);
            reply(json_error(503, "TOO_MANY_VIEWERS",
                             "all " + std::to_string(options_.webrtc_viewers) +
                                 " live-view slots are in use; try again when a viewer leaves, or raise --webrtc-viewers"));
            return;
        }
        sessions_[session->id] = session;
    }
    session->reply = std::move(reply);

    // appsrc (bounded, leaky) -> h264parse -> rtph264pay -> webrtcbin
    const std::string name = "whep-" + short_id(session->id);
    session->pipeline = gst_pipeline_new(name.c_str());
    session->appsrc = gst_element_factory_make("appsrc", nullptr);
    GstElement* parse = gst_element_factory_make("h264parse", nullptr);
    GstElement* pay = gst_element_factory_make("rtph264pay", nullptr);
    session->webrtc = gst_element_factory_make("webrtcbin", nullptr);
    if (!session->appsrc || !parse || !pay || !session->webrtc) {
        for (GstElement* e : {session->appsrc, parse, pay, session->webrtc}) {
            if (e) gst_object_unref(e);
        }
        session->appsrc = session->webrtc = nullptr;
        gst_sdp_message_free(sdp);
        fail_offer(session, 500, "MISSING_PLUGIN",
                   "GStreamer's webrtcbin or libnice elements are missing: install gstreamer1.0-plugins-bad and "
                   "gstreamer1.0-nice (./setup.sh does)");
        return;
    }
    // 1 MiB at most (about 2 s at 4 Mbit/s); when the viewer's pipeline falls behind, old data goes.
    g_object_set(session->appsrc, "is-live", TRUE, "format", GST_FORMAT_TIME, "caps", caps_, "max-bytes",
                 static_cast<guint64>(1 << 20), "block", FALSE, nullptr);
    gst_util_set_object_arg(G_OBJECT(session->appsrc), "leaky-type", "downstream");
    // Parameter sets with every key frame; one RTP packet per NAL unit group, out at once.
    g_object_set(pay, "pt", static_cast<guint>(check.format.payload), "config-interval", -1, "mtu", 1200u, nullptr);
    gst_util_set_object_arg(G_OBJECT(pay), "aggregate-mode", "zero-latency");
    gst_util_set_object_arg(G_OBJECT(session->webrtc), "bundle-policy", "max-bundle");
    // UDP only: browsers reach us over UDP on a LAN, and TCP candidates only lengthen the answer.
    GObject* ice = nullptr;
    g_object_get(session->webrtc, "ice-agent", &ice, nullptr);
    if (ice) {
        if (g_object_class_find_property(G_OBJECT_GET_CLASS(ice), "ice-tcp")) g_object_set(ice, "ice-tcp", FALSE, nullptr);
        g_object_unref(ice);
    }
    if (!options_.stun_server.empty()) g_object_set(session->webrtc, "stun-server", options_.stun_server.c_str(), nullptr);
    if (!options_.turn_server.empty()) g_object_set(session->webrtc, "turn-server", options_.turn_server.c_str(), nullptr);
    // A viewer that lost a picture (PLI/FIR: packets lost, or sent before its
    // decoder was ready) asks for a key frame; it stops at our appsrc unless passed on.
    GstPad* appsrc_pad = gst_element_get_static_pad(session->appsrc, "src");
    gst_pad_add_probe(appsrc_pad, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, +[](GstPad*, GstPadProbeInfo* info, gpointer self) {
        if (gst_video_event_is_force_key_unit(GST_PAD_PROBE_INFO_EVENT(info))) {
            static_cast<WebRtcOutput*>(self)->request_key_frame();
        }
        return GST_PAD_PROBE_OK;
    }, this, nullptr);
    gst_object_unref(appsrc_pad);
    gst_bin_add_many(GST_BIN(session->pipeline), session->appsrc, parse, pay, session->webrtc, nullptr);
    gst_element_link_many(session->appsrc, parse, pay, nullptr);

    // Our one transceiver sends the offer's chosen H.264 format, with its payload type.
    GstPad* sink = gst_element_request_pad_simple(session->webrtc, "sink_%u");
    GstPad* pay_src = gst_element_get_static_pad(pay, "src");
    gst_pad_link(pay_src, sink);
    gst_object_unref(pay_src);
    GstWebRTCRTPTransceiver* transceiver = nullptr;
    g_object_get(sink, "transceiver", &transceiver, nullptr);
    gst_object_unref(sink);
    if (transceiver) {
        GstCaps* preferences = gst_caps_new_simple("application/x-rtp", "media", G_TYPE_STRING, "video", "encoding-name",
                                                   G_TYPE_STRING, "H264", "clock-rate", G_TYPE_INT, 90000, "payload",
                                                   G_TYPE_INT, check.format.payload, "packetization-mode", G_TYPE_STRING,
                                                   "1", nullptr);
        g_object_set(transceiver, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY, "codec-preferences", preferences,
                     nullptr);
        gst_caps_unref(preferences);
        gst_object_unref(transceiver);
    }

    Session* s = session.get();
    g_signal_connect(session->webrtc, "on-ice-candidate", G_CALLBACK(+[](GstElement*, guint mline, gchar* candidate, gpointer data) {
        auto* s = static_cast<Session*>(data);
        GST_DEBUG("%s: candidate %s", s->id.c_str(), candidate);
        bool first = false;
        {
            std::lock_guard lock(s->answer_mutex);
            first = s->candidates.empty();
            s->candidates.emplace_back(mline, candidate);
        }
        // Without STUN or TURN every candidate is a host one, all found at once;
        // webrtcbin says "complete" only some 200 ms later: answer after 20 ms.
        if (first && s->owner->options_.stun_server.empty() && s->owner->options_.turn_server.empty()) {
            // The timer holds the session itself: it may fire after the output is gone.
            SessionPtr session = s->owner->find_session(s->id);
            if (!session) return;
            on_main_loop([session] {
                g_timeout_add_full(G_PRIORITY_DEFAULT, 20, +[](gpointer data) -> gboolean {
                    gathering_done(*static_cast<SessionPtr*>(data));
                    return G_SOURCE_REMOVE;
                }, new SessionPtr(session), +[](gpointer data) { delete static_cast<SessionPtr*>(data); });
            });
        }
    }), s);
    g_signal_connect(session->webrtc, "notify::ice-gathering-state", G_CALLBACK(+[](GstElement* webrtc, GParamSpec*, gpointer data) {
        GstWebRTCICEGatheringState state = GST_WEBRTC_ICE_GATHERING_STATE_NEW;
        g_object_get(webrtc, "ice-gathering-state", &state, nullptr);
        auto* s = static_cast<Session*>(data);
        GST_DEBUG("%s: ICE gathering state %d", s->id.c_str(), state);
        if (state != GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE) return;
        if (SessionPtr session = s->owner->find_session(s->id)) gathering_done(session);
    }), s);
    g_signal_connect(session->webrtc, "notify::connection-state", G_CALLBACK(+[](GstElement* webrtc, GParamSpec*, gpointer data) {
        GstWebRTCPeerConnectionState state = GST_WEBRTC_PEER_CONNECTION_STATE_NEW;
        g_object_get(webrtc, "connection-state", &state, nullptr);
        auto* s = static_cast<Session*>(data);
        GST_DEBUG("%s: connection state %d", s->id.c_str(), state);
        if (state == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED && !s->connected.exchange(true)) {
            // The viewer's picture starts at once, at a key frame made for it.
            s->owner->request_key_frame();
        }
        if (state == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED || state == GST_WEBRTC_PEER_CONNECTION_STATE_CLOSED) s->failed = true;
    }), s);
    // The viewer's RTCP (receiver reports, at least every few seconds) says it is still there.
    if (GstElement* rtpbin = gst_bin_get_by_name(GST_BIN(session->webrtc), "rtpbin")) {
        g_signal_connect(rtpbin, "on-ssrc-active", G_CALLBACK(+[](GstElement*, guint, guint, gpointer data) {
            static_cast<Session*>(data)->last_heard_us = g_get_monotonic_time();
        }), s);
        g_signal_connect(rtpbin, "on-bye-ssrc", G_CALLBACK(+[](GstElement*, guint, guint, gpointer data) {
            static_cast<Session*>(data)->failed = true;
        }), s);
        gst_object_unref(rtpbin);
    }
    GstBus* bus = gst_element_get_bus(session->pipeline);
    session->bus_watch = gst_bus_add_watch(bus, +[](GstBus*, GstMessage* message, gpointer data) -> gboolean {
        if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR) {
            GError* error = nullptr;
            gst_message_parse_error(message, &error, nullptr);
            auto* s = static_cast<Session*>(data);
            console::warn("live view " + short_id(s->id) + ": " + (error ? error->message : "error") + "; the viewer is dropped");
            g_clear_error(&error);
            s->failed = true;
        }
        return G_SOURCE_CONTINUE;
    }, s);
    gst_object_unref(bus);

    if (gst_element_set_state(session->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
        gst_sdp_message_free(sdp);
        fail_offer(session, 500, "INTERNAL_ERROR", "the viewer's WebRTC pipeline did not start (see the log)");
        return;
    }
    GST_DEBUG("%s: pipeline playing", session->id.c_str());
    GstWebRTCSessionDescription* description = gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_OFFER, sdp);
    GstPromise* offer_set = promise_for(session, &on_offer_set);
    g_signal_emit_by_name(session->webrtc, "set-remote-description", description, offer_set);
    gst_promise_unref(offer_set);  // webrtcbin holds its own until it replies
    gst_webrtc_session_description_free(description);

    // Host candidates come at once; a STUN or TURN server may not answer: answer anyway.
    auto* waiting = new SessionPtr(session);
    g_timeout_add_full(G_PRIORITY_DEFAULT, 3000, +[](gpointer data) -> gboolean {
        gathering_done(*static_cast<SessionPtr*>(data));
        return G_SOURCE_REMOVE;
    }, waiting, +[](gpointer data) { delete static_cast<SessionPtr*>(data); });
    console::note("live view: viewer " + short_id(session->id) + " joins (" + std::to_string(sessions_.size()) + " of " +
                  std::to_string(options_.webrtc_viewers) + ")");
}

std::shared_ptr<WebRtcOutput::Session> WebRtcOutput::find_session(const std::string& id) const {
    std::lock_guard lock(mutex_);
    auto it = sessions_.find(id);
    return it == sessions_.end() ? nullptr : it->second;
}

HttpResponse WebRtcOutput::end(const HttpRequest& request) {
    const std::string id = whep::session_id_in(request.path, endpoint);
    bool known = false;
    {
        std::lock_guard lock(mutex_);
        known = !id.empty() && sessions_.count(id);
    }
    if (!known) {
        return json_error(404, "NOT_FOUND", "no live-view session " + request.path + " (ended already, or never made)");
    }
    end_session(id, "ended by the viewer (DELETE)");
    HttpResponse r;
    r.body = "{\"status\":";
    ss::append_json_string(r.body, status_line(200));
    r.body += "}";
    return r;
}

HttpResponse WebRtcOutput::list() const {
    HttpResponse r;
    const gint64 now = g_get_monotonic_time();
    std::lock_guard lock(mutex_);
    r.body = "{\"limit\":" + std::to_string(options_.webrtc_viewers) + ",\"viewers\":[";
    bool first = true;
    for (const auto& [id, s] : sessions_) {
        r.body += first ? "{" : ",{";
        first = false;
        r.body += "\"id\":";
        ss::append_json_string(r.body, id);
        r.body += ",\"connected\":" + std::string(s->connected ? "true" : "false");
        r.body += ",\"age_s\":" + std::to_string((now - s->created_us) / G_USEC_PER_SEC);
        r.body += "}";
    }
    r.body += "]}";
    return r;
}

void WebRtcOutput::end_session(const std::string& id, const char* why) {
    SessionPtr session;
    std::size_t left = 0;
    {
        std::lock_guard lock(mutex_);
        auto it = sessions_.find(id);
        if (it == sessions_.end()) return;
        session = it->second;
        sessions_.erase(it);
        left = sessions_.size();
    }
    if (session->reply) {
        auto reply = std::move(session->reply);
        session->reply = nullptr;
        reply(json_error(500, "SESSION_ENDED", std::string("the live-view session ended before it was answered: ") + why));
    }
    {
        // Timers and callbacks that still hold the session (the gathering time
        // limit, an answer on its way) find it ended and leave webrtcbin alone.
        std::lock_guard lock(session->answer_mutex);
        session->ended = true;
    }
    if (session->bus_watch) g_source_remove(session->bus_watch);
    gst_element_set_state(session->pipeline, GST_STATE_NULL);
    gst_object_unref(session->pipeline);
    session->pipeline = nullptr;
    console::note("live view: viewer " + short_id(id) + " leaves, " + why + " (" + std::to_string(left) + " left)");
}

void WebRtcOutput::reap() {
    std::vector<std::pair<std::string, whep::Reap>> ending;
    const gint64 now = g_get_monotonic_time();
    {
        std::lock_guard lock(mutex_);
        for (const auto& [id, s] : sessions_) {
            whep::SessionHealth health;
            health.connected = s->connected;
            health.failed = s->failed;
            health.age_s = static_cast<double>(now - s->created_us) / G_USEC_PER_SEC;
            const gint64 heard = s->last_heard_us;
            health.silent_s = heard < 0 ? -1 : static_cast<double>(now - heard) / G_USEC_PER_SEC;
            if (const whep::Reap r = whep::reap_decision(health); r != whep::Reap::keep) ending.emplace_back(id, r);
        }
    }
    for (const auto& [id, r] : ending) end_session(id, whep::reap_reason(r));
}

void WebRtcOutput::request_key_frame() {
    // Viewers ask together (several joining, or all losing the same packets): one
    // key frame per 200 ms serves them all, and a flood of them would cost every viewer bits.
    // One that comes too soon is not lost: a single request goes when the 200 ms are up.
    const gint64 now = g_get_monotonic_time();
    gint64 last = last_key_frame_request_us_.load();
    if (now - last < 200000 || !last_key_frame_request_us_.compare_exchange_strong(last, now)) {
        if (key_frame_deferred_.exchange(true)) return;
        const guint wait_ms = static_cast<guint>(std::clamp<gint64>((last + 200000 - now) / 1000 + 1, 1, 200));
        key_frame_timer_ = g_timeout_add_full(G_PRIORITY_DEFAULT, wait_ms, +[](gpointer data) -> gboolean {
            auto* self = static_cast<WebRtcOutput*>(data);
            self->key_frame_timer_ = 0;
            self->key_frame_deferred_ = false;
            self->last_key_frame_request_us_ = g_get_monotonic_time();
            self->send_key_frame_request();
            return G_SOURCE_REMOVE;
        }, this, nullptr);
        return;
    }
    send_key_frame_request();
}

void WebRtcOutput::send_key_frame_request() {
    GST_DEBUG("key frame requested");
    GstPad* pad = gst_element_get_static_pad(encoder_, "src");
    if (!pad) return;
    gst_pad_send_event(pad, gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
    gst_object_unref(pad);
}

void WebRtcOutput::push(GstSample* sample) {
    GstBuffer* buffer = gst_sample_get_buffer(sample);
    if (!buffer || !GST_BUFFER_PTS_IS_VALID(buffer)) return;
    std::lock_guard lock(mutex_);
    for (auto& [id, s] : sessions_) {
        // Nothing before ICE and DTLS are up: webrtcbin would drop it anyway.
        if (!s->connected || s->failed) continue;
        const bool started = s->feed.has_offset;
        s->feed.push(buffer, s->appsrc);
        if (!started && s->feed.has_offset) GST_DEBUG("%s: first key frame", s->id.c_str());
    }
}

}  // namespace slipstream
