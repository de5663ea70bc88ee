#include "sources.hpp"

#include <gio/gio.h>
#include <gst/video/video.h>
#ifdef __GLIBC__
#include <malloc.h>  // malloc_trim
#endif

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "slipstream/reconnect_backoff.hpp"
#include "slipstream/uri.hpp"

namespace slipstream {

// Why an input went down, and what that says about retrying it.
struct Sources::Failure {
    std::string reason;
    bool link = false;      // unreachable or its link broke: a probe that reaches it again ends the wait early
    bool diagnose = false;  // GStreamer only said "could not connect": name the cause with our own TCP probe first
    bool ended = false;     // the stream ended (EOS); a warning posted just before may say why
    bool unreachable = false;  // our own probe could not connect: any later probe that can is news
};

namespace {

constexpr gint64 stall_after_us = 5 * G_USEC_PER_SEC;        // no frame for this long while connected: reconnect
constexpr gint64 first_frame_within_us = 20 * G_USEC_PER_SEC;  // connecting for this long without a frame: retry
constexpr guint probe_timeout_s = 1;                          // a reachability probe gives up after this
constexpr double probe_every_s = 0.5;                         // while waiting to retry an unreachable camera
constexpr gint64 timer_slack_us = 20 * 1000;                  // a tick this early still counts as on time

std::mutex print_mutex;

void say(FILE* to, const std::string& line) {
    std::lock_guard lock(print_mutex);
    std::fprintf(to, "%s\n", line.c_str());
    std::fflush(to);
}

std::string codec_name(const GstCaps* caps) {
    if (!caps || gst_caps_is_empty(caps)) return "unknown";
    const std::string name = gst_structure_get_name(gst_caps_get_structure(caps, 0));
    if (name == "video/x-h264") return "H.264";
    if (name == "video/x-h265") return "H.265";
    if (name == "video/x-vp8") return "VP8";
    if (name == "video/x-vp9") return "VP9";
    if (name == "video/x-av1") return "AV1";
    if (name == "image/jpeg") return "MJPEG";
    if (name == "video/mpeg") return "MPEG";
    if (name.rfind("video/x-", 0) == 0) return name.substr(8);
    return name;
}

std::string seconds_text(double s) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, s < 10 ? "%.1fs" : "%.0fs", s);
    return buffer;
}

bool contains_nocase(const std::string& text, const char* word) {
    const std::string w = word;
    return std::search(text.begin(), text.end(), w.begin(), w.end(), [](char a, char b) {
               return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
           }) != text.end();
}

// rtspsrc tells the status of a refused request only in its debug text:
// "Got error response: 503 (Service Unavailable)."
bool rtsp_status(const std::string& debug, int& code, std::string& phrase) {
    const auto at = debug.find("error response: ");
    if (at == std::string::npos) return false;
    const char* start = debug.c_str() + at + 16;
    char* end = nullptr;
    const long value = std::strtol(start, &end, 10);
    if (end == start || value < 100 || value > 999) return false;
    code = static_cast<int>(value);
    const auto open = debug.find('(', at), close = debug.find(')', at);
    phrase = open != std::string::npos && close != std::string::npos && close > open ? debug.substr(open + 1, close - open - 1) : "";
    return true;
}

// "... reason not-linked (-1)" in a streaming-thread error's debug text.
std::string flow_reason(const std::string& debug) {
    const auto at = debug.find("reason ");
    if (at == std::string::npos) return {};
    const auto end = debug.find_first_of(" (", at + 7);
    return debug.substr(at + 7, end == std::string::npos ? std::string::npos : end - at - 7);
}

// decodebin names what it could not decode only in its debug text, one line
// each: "Missing decoder: MPEG-4 AAC (audio/mpeg, mpegversion=(int)4, ...)".
// With our video-only caps, an audio stream is "missing" a decoder too.
void missing_decoders(const std::string& debug, std::string& video, std::string& other) {
    const std::string marker = "Missing decoder: ";
    for (auto at = debug.find(marker); at != std::string::npos; at = debug.find(marker, at + 1)) {
        const auto start = at + marker.size();
        const auto open = debug.find(" (", start);
        if (open == std::string::npos) break;
        const std::string what = debug.substr(start, open - start);
        const std::string media = debug.substr(open + 2, debug.find('/', open) - open - 2);
        (media == "video" || media == "image" ? video : other) = what;
    }
}

// A reason a person can act on, from a GStreamer error's domain and code (its
// own text is often generic: "Could not open resource for reading and writing.").
Sources::Failure describe_error(const GError* error, const std::string& debug, bool network, bool has_login,
                                const std::string& where) {
    Sources::Failure f;
    const std::string message = error && error->message ? error->message : "unknown error";
    f.reason = message;
    if (!error) return f;
    if (error->domain == GST_RESOURCE_ERROR) {
        switch (error->code) {
            case GST_RESOURCE_ERROR_NOT_FOUND:
                f.reason = network ? "not found (404): check the path in the URI" : "file not found";
                f.link = f.unreachable = !network;  // a missing file may appear; a server that said 404 is reachable
                return f;
            case GST_RESOURCE_ERROR_NOT_AUTHORIZED:
                f.reason = !network ? "permission denied"
                           : has_login ? "unauthorized (401): check the user name and password"
                                       : "unauthorized (401): the camera needs a login: add USER:PASSWORD@ before the host in the URI";
                return f;
            case GST_RESOURCE_ERROR_OPEN_READ:
            case GST_RESOURCE_ERROR_OPEN_WRITE:
            case GST_RESOURCE_ERROR_OPEN_READ_WRITE:
                if (!network) {
                    f.reason = "cannot open the file (" + message + ")";
                    return f;
                }
                f.reason = "cannot connect to " + where;
                f.link = f.diagnose = true;
                return f;
            default:
                break;
        }
        if (network) {
            int code = 0;
            std::string phrase;
            if (rtsp_status(debug, code, phrase)) {
                f.reason = "the camera refused the request: " + std::to_string(code) + (phrase.empty() ? "" : " " + phrase);
            } else if (contains_nocase(debug, "timeout") || contains_nocase(debug, "timed out")) {
                f.reason = "no answer from " + where + " (timed out)";
                f.link = true;
            } else if (debug.find("Could not receive message") != std::string::npos) {
                f.reason = "connection lost: receiving from the camera failed";
                f.link = true;
            } else if (debug.find("Could not send message") != std::string::npos) {
                f.reason = "connection lost: sending to the camera failed";
                f.link = true;
            } else {
                f.reason = "connection lost (" + message + ")";
                f.link = true;
            }
            return f;
        }
        return f;
    }
    if (error->domain == GST_STREAM_ERROR) {
        switch (error->code) {
            case GST_STREAM_ERROR_TYPE_NOT_FOUND:
                f.reason = network ? "not a media stream (unrecognised data)" : "not a media file (unrecognised data)";
                return f;
            case GST_STREAM_ERROR_WRONG_TYPE: {  // "This appears to be a text file"
                std::string what = message;
                if (!what.empty()) what[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(what[0])));
                if (!what.empty() && what.back() == '.') what.pop_back();
                f.reason = std::string(network ? "not a media stream (" : "not a media file (") + what + ")";
                return f;
            }
            case GST_STREAM_ERROR_CODEC_NOT_FOUND:
                break;  // as a missing plugin, below
            case GST_STREAM_ERROR_DECODE:
            case GST_STREAM_ERROR_DEMUX:
            case GST_STREAM_ERROR_FORMAT:
                f.reason = "unreadable stream (" + message + ")";
                return f;
            case GST_STREAM_ERROR_FAILED:
                if (const std::string flow = flow_reason(debug); !flow.empty()) f.reason = "stream failed (" + flow + ")";
                return f;
            default:
                return f;
        }
    }
    if ((error->domain == GST_CORE_ERROR && error->code == GST_CORE_ERROR_MISSING_PLUGIN) ||
        (error->domain == GST_STREAM_ERROR && error->code == GST_STREAM_ERROR_CODEC_NOT_FOUND)) {
        std::string video, other;
        missing_decoders(debug, video, other);
        if (!video.empty()) {
            f.reason = "no decoder for its " + video + " video: install the GStreamer plugin for it";
        } else if (!other.empty()) {
            f.reason = "no video stream (only " + other + ")";
        } else {
            f.reason = "no decoder for this stream (" + message + ")";
        }
    }
    return f;
}

// What a TCP connection attempt to the camera found, in words.
std::string connect_failure_text(const GError* error, const std::string& host, const std::string& where) {
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED)) return "connection refused: nothing listens at " + where;
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)) return "no answer from " + where + " (timed out)";
    if (error->domain == G_RESOLVER_ERROR) return "host not found: " + host;
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_HOST_UNREACHABLE)) return "host unreachable: " + host;
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE)) return "network unreachable: " + host;
    return "cannot connect to " + where + " (" + error->message + ")";
}

}  // namespace

struct Sources::Source {
    Sources* owner = nullptr;
    std::weak_ptr<Source> self;  // for main-loop callbacks queued from streaming threads
    int index = 0;
    std::string uri, masked, scheme;
    std::string host;  // network inputs: where the reachability probe connects
    guint16 port = 0;  // 0: not a network input
    bool has_login = false;  // the URI carries a user name (and password)
    GstPad* mux_pad = nullptr;
    GstElement* bin = nullptr;
    guint generation = 0;
    guint retry_timer = 0;
    ss::ReconnectBackoff backoff{1, 10};  // set from the options when the source is made
    gint64 retry_at_us = 0;         // when the next full retry is due
    gint64 probes_from_us = 0;      // probes may cut the wait short from then on
    bool probe_ends_wait = false;   // the failure was about reachability: a probe may end the wait
    GCancellable* probe = nullptr;  // a TCP probe in flight
    bool ever_had_frame = false;
    bool failed_at_start = false;
    gint64 dropped_at_us = 0;       // when it was last seen failing (for the "back after" line)
    gint64 started_at_us = 0;       // when the current bin was created
    std::string last_warning;       // of the current bin: may explain a following end of stream
    std::atomic<gint64> last_frame_us{0};
    std::atomic<bool> got_frame_since_start{false};
    std::string codec;              // set from the decoder's input caps
    std::mutex codec_mutex;

    std::string who() const { return "input " + std::to_string(index) + " (" + masked + ")"; }
    std::string where() const { return host + ":" + std::to_string(port); }
};

namespace {

// Lives as long as one bin (object data on it): lets its streaming-thread
// callbacks name the attempt they belong to, so a late event of an old
// attempt never tears down the next one.
struct BinContext {
    Sources::Source* source;
    guint generation;
    GstElement* convert;
    std::atomic<bool> video_linked{false};
    std::atomic<bool> no_video{false};  // all streams known, none of them video
};

constexpr const char* context_key = "slipstream-input";

}  // namespace

Sources::Sources(GstElement* pipeline, GstElement* mux, const Options& options, std::function<void(const std::string&)> on_fatal)
    : pipeline_(pipeline), mux_(mux), options_(options), on_fatal_(std::move(on_fatal)) {
    for (std::size_t i = 0; i < options_.inputs.size(); ++i) {
        auto s = std::make_shared<Source>();
        s->self = s;
        s->owner = this;
        s->index = static_cast<int>(i);
        s->uri = options_.inputs[i];
        if (s->uri.find("://") == std::string::npos) {
            // A plain path is taken as a local file.
            gchar* uri = gst_filename_to_uri(s->uri.c_str(), nullptr);
            if (uri) s->uri = uri;
            g_free(uri);
        }
        s->masked = ss::mask_credentials(s->uri);
        const char* scheme = g_uri_peek_scheme(s->uri.c_str());  // interned: not freed
        s->scheme = scheme ? scheme : "";
        const guint16 default_port = s->scheme == "rtsp" ? 554 : s->scheme == "rtsps" ? 322 : s->scheme == "http" ? 80
                                   : s->scheme == "https" ? 443 : s->scheme == "rtspt" ? 554 : 0;
        if (default_port) {
            if (GUri* uri = g_uri_parse(s->uri.c_str(), G_URI_FLAGS_NONE, nullptr)) {
                s->has_login = g_uri_get_userinfo(uri) != nullptr;
                if (g_uri_get_host(uri) && *g_uri_get_host(uri)) {
                    s->host = g_uri_get_host(uri);
                    s->port = g_uri_get_port(uri) > 0 ? static_cast<guint16>(g_uri_get_port(uri)) : default_port;
                }
                g_uri_unref(uri);
            }
        }
        s->backoff = ss::ReconnectBackoff(options_.reconnect_initial, options_.reconnect_max);
        gchar* name = g_strdup_printf("sink_%d", s->index);
        s->mux_pad = gst_element_request_pad_simple(mux_, name);
        g_free(name);
        sources_.push_back(std::move(s));
    }
}

Sources::~Sources() {
    stop();
    for (auto& s : sources_) {
        if (s->mux_pad) {
            gst_element_release_request_pad(mux_, s->mux_pad);
            gst_object_unref(s->mux_pad);
        }
    }
}

void Sources::start() {
    for (auto& s : sources_) {
        say(stdout, "Input " + std::to_string(s->index) + ": " + s->masked);
        create_bin(*s);
    }
    watchdog_id_ = g_timeout_add(500, &Sources::watchdog, this);
}

void Sources::stop() {
    stopping_ = true;
    if (watchdog_id_) g_source_remove(watchdog_id_);
    watchdog_id_ = 0;
    for (auto& s : sources_) {
        if (s->retry_timer) g_source_remove(s->retry_timer);
        s->retry_timer = 0;
        if (s->probe) {
            g_cancellable_cancel(s->probe);
            g_clear_object(&s->probe);
        }
        // Locked bins do not follow the pipeline down: stop each here.
        remove_bin(*s);
    }
}

static void on_source_setup(GstElement*, GstElement* source, gpointer data) {
    const auto* options = static_cast<const Options*>(data);
    GObjectClass* klass = G_OBJECT_GET_CLASS(source);
    auto set_if = [&](const char* name, auto value) {
        if (g_object_class_find_property(klass, name)) g_object_set(source, name, value, nullptr);
    };
    // rtspsrc: a short jitter buffer, TCP (reliable through NAT and firewalls,
    // no losses on busy links), and old frames dropped rather than queued.
    set_if("latency", static_cast<guint>(options->rtsp_latency_ms));
    set_if("drop-on-latency", TRUE);
    if (g_object_class_find_property(klass, "protocols")) gst_util_set_object_arg(G_OBJECT(source), "protocols", "tcp");
    set_if("tcp-timeout", static_cast<guint64>(5 * G_USEC_PER_SEC));
    set_if("teardown-timeout", static_cast<guint64>(100 * GST_MSECOND));
}

void Sources::fail_later(const std::shared_ptr<Source>& source, guint generation, const Failure& failure) {
    struct Pending {
        std::weak_ptr<Source> source;
        guint generation;
        Failure failure;
    };
    g_idle_add_full(G_PRIORITY_DEFAULT_IDLE, +[](gpointer data) -> gboolean {
        auto* p = static_cast<Pending*>(data);
        if (auto s = p->source.lock()) s->owner->fail(*s, p->generation, p->failure);
        return G_SOURCE_REMOVE;
    }, new Pending{source, generation, failure}, +[](gpointer data) { delete static_cast<Pending*>(data); });
}

void Sources::create_bin(Source& source) {
    if (stopping_) return;
    if (source.probe) {
        g_cancellable_cancel(source.probe);
        g_clear_object(&source.probe);
    }
    ++source.generation;
    gchar* bin_name = g_strdup_printf("input%d-%u", source.index, source.generation);
    GstElement* bin = gst_bin_new(bin_name);
    g_free(bin_name);
    // The input's own state changes (and failures) stay inside its bin, so one
    // camera that cannot preroll never holds the pipeline's state.
    g_object_set(bin, "async-handling", TRUE, nullptr);
    GstElement* decode = gst_element_factory_make("uridecodebin", nullptr);
    GstElement* convert = gst_element_factory_make("videoconvert", nullptr);
    GstElement* queue = gst_element_factory_make("queue", nullptr);
    if (!decode || !convert || !queue) {
        say(stderr, "error: GStreamer elements uridecodebin/videoconvert/queue are missing; run ./setup.sh");
        on_fatal_("missing GStreamer plugins");
        return;
    }
    auto* context = new BinContext{&source, source.generation, convert};
    g_object_set_data_full(G_OBJECT(bin), context_key, context, +[](gpointer data) { delete static_cast<BinContext*>(data); });

    GstCaps* video_only = gst_caps_from_string("video/x-raw(ANY)");
    g_object_set(decode, "uri", source.uri.c_str(), "caps", video_only, "expose-all-streams", FALSE, nullptr);
    gst_caps_unref(video_only);
    // Bounded: at most two decoded frames wait. For a live camera older ones are
    // dropped, never queued up; a file instead waits for the mux's real-time pacing.
    g_object_set(queue, "max-size-buffers", 2u, "max-size-bytes", 0u, "max-size-time", static_cast<guint64>(0), nullptr);
    GstPad* convert_sink = gst_element_get_static_pad(convert, "sink");
    gst_pad_add_probe(convert_sink, GST_PAD_PROBE_TYPE_BUFFER, +[](GstPad* pad, GstPadProbeInfo*, gpointer queue) {
        GstQuery* query = gst_query_new_latency();
        gboolean live = FALSE;
        if (gst_pad_peer_query(pad, query)) gst_query_parse_latency(query, &live, nullptr, nullptr);
        gst_query_unref(query);
        gst_util_set_object_arg(G_OBJECT(queue), "leaky", live ? "downstream" : "no");
        return GST_PAD_PROBE_REMOVE;
    }, queue, nullptr);
    gst_object_unref(convert_sink);
    gst_bin_add_many(GST_BIN(bin), decode, convert, queue, nullptr);
    gst_element_link(convert, queue);

    g_signal_connect(decode, "source-setup", G_CALLBACK(on_source_setup), &options_);
    g_signal_connect(decode, "pad-added", G_CALLBACK(+[](GstElement*, GstPad* pad, gpointer data) {
        auto* context = static_cast<BinContext*>(data);
        GstCaps* caps = gst_pad_get_current_caps(pad);
        if (!caps) caps = gst_pad_query_caps(pad, nullptr);
        const bool video = caps && !gst_caps_is_empty(caps) &&
                           g_str_has_prefix(gst_structure_get_name(gst_caps_get_structure(caps, 0)), "video/");
        if (caps) gst_caps_unref(caps);
        if (!video) return;
        GstPad* sink = gst_element_get_static_pad(context->convert, "sink");
        // A stream that changes codec mid-way (a new program in a TS) comes
        // back on a new pad after the old one went: link that one too.
        if (!gst_pad_is_linked(sink) && GST_PAD_LINK_SUCCESSFUL(gst_pad_link(pad, sink))) context->video_linked = true;
        gst_object_unref(sink);
    }), context);
    // All streams are known: without a video one, this input can never show anything.
    g_signal_connect(decode, "no-more-pads", G_CALLBACK(+[](GstElement*, gpointer data) {
        auto* context = static_cast<BinContext*>(data);
        if (context->video_linked) return;
        context->no_video = true;
        Failure failure;
        failure.reason = "no video stream";
        if (auto s = context->source->self.lock()) fail_later(s, context->generation, failure);
    }), context);
    // The codec is read from the decoder's input caps once the decoder is plugged.
    g_signal_connect(bin, "deep-element-added", G_CALLBACK(+[](GstBin*, GstBin*, GstElement* element, gpointer data) {
        GstElementFactory* factory = gst_element_get_factory(element);
        if (!factory) return;
        const gchar* klass = gst_element_factory_get_metadata(factory, GST_ELEMENT_METADATA_KLASS);
        if (!klass || !strstr(klass, "Decoder") || !strstr(klass, "Video")) return;
        GstPad* sink = gst_element_get_static_pad(element, "sink");
        if (!sink) return;
        gst_pad_add_probe(sink, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, +[](GstPad*, GstPadProbeInfo* info, gpointer data) {
            GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
            if (GST_EVENT_TYPE(event) != GST_EVENT_CAPS) return GST_PAD_PROBE_OK;
            GstCaps* caps = nullptr;
            gst_event_parse_caps(event, &caps);
            auto* s = static_cast<Source*>(data);
            std::lock_guard lock(s->codec_mutex);
            s->codec = codec_name(caps);
            return GST_PAD_PROBE_REMOVE;
        }, data, nullptr);
        gst_object_unref(sink);
    }), &source);

    GstPad* queue_src = gst_element_get_static_pad(queue, "src");
    GstPad* ghost = gst_ghost_pad_new("src", queue_src);
    gst_object_unref(queue_src);
    gst_element_add_pad(bin, ghost);
    gst_pad_add_probe(ghost, static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM |
                                                          GST_PAD_PROBE_TYPE_EVENT_FLUSH),
        +[](GstPad*, GstPadProbeInfo* info, gpointer data) {
            auto* context = static_cast<BinContext*>(data);
            Source* s = context->source;
            if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
                s->last_frame_us = g_get_monotonic_time();
                s->got_frame_since_start = true;
                return GST_PAD_PROBE_OK;
            }
            GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
            // A failing input flushes on its way down; its mux pad must stay usable
            // for the next attempt, so flushes stop here.
            if (GST_EVENT_TYPE(event) == GST_EVENT_FLUSH_START || GST_EVENT_TYPE(event) == GST_EVENT_FLUSH_STOP) {
                return GST_PAD_PROBE_DROP;
            }
            if (GST_EVENT_TYPE(event) == GST_EVENT_CAPS) {
                GstCaps* caps = nullptr;
                gst_event_parse_caps(event, &caps);
                GstVideoInfo video;
                if (gst_video_info_from_caps(&video, caps)) {
                    std::string codec;
                    {
                        std::lock_guard lock(s->codec_mutex);
                        codec = s->codec.empty() ? "raw" : s->codec;
                    }
                    char line[256];
                    const double fps = video.fps_d ? static_cast<double>(video.fps_n) / video.fps_d : 0;
                    std::snprintf(line, sizeof line, "Input %d: %s %dx%d%s", s->index, codec.c_str(), video.width, video.height,
                                  fps > 0 ? (" @ " + seconds_text(fps).substr(0, seconds_text(fps).size() - 1) + " fps").c_str() : "");
                    say(stdout, line);
                }
            } else if (GST_EVENT_TYPE(event) == GST_EVENT_EOS) {
                // The stream ended (a file's end, or the camera closed it): reconnect from the main loop.
                Failure failure;
                failure.reason = s->port ? "the camera ended the stream" : "end of file";
                failure.link = failure.ended = true;
                if (auto shared = s->self.lock()) fail_later(shared, context->generation, failure);
            }
            return GST_PAD_PROBE_OK;
        }, context, nullptr);

    source.bin = bin;
    source.started_at_us = g_get_monotonic_time();
    source.got_frame_since_start = false;
    source.last_warning.clear();
    // Locked: the pipeline's state changes pass it by (see sources.hpp).
    gst_element_set_locked_state(bin, TRUE);
    gst_bin_add(GST_BIN(pipeline_), bin);
    if (gst_pad_link(ghost, source.mux_pad) != GST_PAD_LINK_OK) {
        say(stderr, "error: input " + std::to_string(source.index) + ": cannot link to the batch mux");
    }
    // Retries join a pipeline that is already playing; the first inputs start
    // when it reaches PLAYING (handle_message).
    if (playing_) play_bin(source);
}

void Sources::play_bin(Source& source) {
    GstElement* bin = source.bin;
    if (!bin) return;
    // The bin runs on the pipeline's clock and time line, as if it had gone
    // up with it.
    if (GstClock* clock = gst_element_get_clock(pipeline_)) {
        gst_element_set_clock(bin, clock);
        gst_object_unref(clock);
    }
    gst_element_set_base_time(bin, gst_element_get_base_time(pipeline_));
    source.started_at_us = g_get_monotonic_time();
    if (gst_element_set_state(bin, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
        // The element that failed posted why (handled first: the bus outranks
        // idle callbacks); this only covers one that did not.
        Failure failure;
        failure.reason = "could not start";
        if (auto s = source.self.lock()) fail_later(s, source.generation, failure);
    }
}

void Sources::remove_bin(Source& source) {
    if (!source.bin) return;
    GstElement* bin = source.bin;
    source.bin = nullptr;
    const bool had_frames = source.got_frame_since_start;
    GstPad* ghost = gst_element_get_static_pad(bin, "src");
    if (ghost) {
        gst_pad_unlink(ghost, source.mux_pad);
        gst_object_unref(ghost);
    }
    // A file's streaming thread may sit in the mux, waiting (up to a frame
    // period) for its frame's time to come; stopping the bin would wait for
    // it. A flush of the mux pad wakes it, and resets the pad for the next
    // attempt; being unlinked, the thread cannot push again.
    gst_pad_send_event(source.mux_pad, gst_event_new_flush_start());
    gst_pad_send_event(source.mux_pad, gst_event_new_flush_stop(TRUE));
    gst_element_set_state(bin, GST_STATE_NULL);
    gst_bin_remove(GST_BIN(pipeline_), bin);
#ifdef __GLIBC__
    // The attempt's decoder and frames were just freed, on threads of their
    // own whose glibc arenas keep free pages: hand those back, or RSS creeps up
    // with every reconnect (measured: +8% in 30 reconnects of one camera).
    // (Limiting the arenas instead starved detection on a loaded machine.)
    if (had_frames) malloc_trim(0);
#endif
}

// The current attempt (generation) failed: tear it down now, from the main
// loop, then retry. Later reports about the same attempt find no bin and stop here.
void Sources::fail(Source& source, guint generation, const Failure& failure) {
    if (stopping_ || !source.bin || generation != source.generation) return;
    Failure f = failure;
    if (f.ended && !source.last_warning.empty()) f.reason = source.last_warning;
    if (auto* context = static_cast<BinContext*>(g_object_get_data(G_OBJECT(source.bin), context_key)); context && context->no_video) {
        // All its streams were found and none is video; whatever failed after that is beside the point.
        f = Failure{};
        f.reason = "no video stream";
    }
    remove_bin(source);
    if (f.diagnose && source.port) {
        diagnose(source, f);
    } else {
        schedule_retry(source, f);
    }
}

void Sources::schedule_retry(Source& source, const Failure& failure) {
    if (stopping_) return;
    const bool had_frame = source.got_frame_since_start;
    const std::string reason = ss::mask_credentials_in_text(failure.reason);
    if (had_frame) {
        source.backoff.reset();  // it worked until now: retry soon
        source.dropped_at_us = g_get_monotonic_time();
        say(stderr, source.who() + ": dropped: " + reason + "; reconnecting in " + seconds_text(source.backoff.upcoming()));
    } else {
        if (!source.ever_had_frame && !source.failed_at_start) {
            source.failed_at_start = true;
            if (!source.dropped_at_us) source.dropped_at_us = g_get_monotonic_time();
            if (options_.require_all) {
                say(stderr, "error: " + source.who() + ": " + reason);
                on_fatal_(source.who() + " failed at start");
                return;
            }
        }
        say(stderr, "error: " + source.who() + ": " + reason + "; retrying in " + seconds_text(source.backoff.upcoming()));
    }
    source.got_frame_since_start = false;
    const double wait = source.backoff.next_wait();
    const gint64 now = g_get_monotonic_time();
    source.retry_at_us = now + static_cast<gint64>(wait * G_USEC_PER_SEC);
    // Retry when the backoff is over, or as soon as a cheap probe (twice a
    // second) finds an unreachable camera reachable again, so a camera that
    // is back is back within a second whatever the backoff. A camera that
    // answered (404, 401, no video) gets the full backoff: probing it proves nothing.
    // Probes start at once when the camera was just found unreachable (then
    // reaching it is news); otherwise after reconnect_initial, so a camera
    // that accepts connections but fails is not retried more than once a second.
    source.probe_ends_wait = failure.link;
    source.probes_from_us = failure.unreachable ? now : now + static_cast<gint64>(options_.reconnect_initial * G_USEC_PER_SEC);
    // Ticks that land exactly on the end of the wait.
    const double ticks = std::max(1.0, std::ceil(wait / probe_every_s - 1e-6));
    if (source.retry_timer) g_source_remove(source.retry_timer);
    source.retry_timer = g_timeout_add(static_cast<guint>(wait / ticks * 1000), &Sources::retry_tick, &source);
}

void Sources::retry_now(Source& source) {
    if (source.retry_timer) g_source_remove(source.retry_timer);
    source.retry_timer = 0;
    create_bin(source);
}

gboolean Sources::retry_tick(gpointer data) {
    auto* s = static_cast<Source*>(data);
    const gint64 now = g_get_monotonic_time() + timer_slack_us;
    if (now >= s->retry_at_us || (s->probe_ends_wait && now >= s->probes_from_us && s->owner->probe_reachable(*s))) {
        s->retry_timer = 0;
        s->owner->create_bin(*s);
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

// Reachable means: a TCP connection to the camera's host and port opens (RTSP,
// HTTP; answered asynchronously: a success retries at once), or the file
// exists again (answered here). Anything else waits for the full retry.
bool Sources::probe_reachable(Source& source) {
    if (source.scheme == "file") {
        gchar* path = g_filename_from_uri(source.uri.c_str(), nullptr, nullptr);
        const bool exists = path && g_file_test(path, G_FILE_TEST_IS_REGULAR);
        g_free(path);
        return exists;
    }
    if (!source.port || source.probe) return false;
    GSocketClient* client = g_socket_client_new();
    g_socket_client_set_timeout(client, probe_timeout_s);
    source.probe = g_cancellable_new();
    g_socket_client_connect_to_host_async(client, source.host.c_str(), source.port, source.probe,
        +[](GObject* client, GAsyncResult* result, gpointer data) {
            GError* error = nullptr;
            GSocketConnection* connection = g_socket_client_connect_to_host_finish(G_SOCKET_CLIENT(client), result, &error);
            const bool cancelled = g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
            g_clear_error(&error);
            if (connection) {
                g_io_stream_close(G_IO_STREAM(connection), nullptr, nullptr);
                g_object_unref(connection);
            }
            if (cancelled) return;  // stopped, or a retry began: the source may be gone
            auto* s = static_cast<Source*>(data);
            g_clear_object(&s->probe);
            if (connection && s->retry_timer && !s->bin) s->owner->retry_now(*s);
        }, &source);
    g_object_unref(client);
    return false;
}

// GStreamer says only "could not connect"; one TCP connection of our own
// (at most probe_timeout_s) tells refused from timed out from unknown host.
void Sources::diagnose(Source& source, const Failure& failure) {
    if (source.probe) {
        g_cancellable_cancel(source.probe);
        g_clear_object(&source.probe);
    }
    struct Pending {
        Source* source;
        Failure failure;
    };
    GSocketClient* client = g_socket_client_new();
    g_socket_client_set_timeout(client, probe_timeout_s);
    source.probe = g_cancellable_new();
    g_socket_client_connect_to_host_async(client, source.host.c_str(), source.port, source.probe,
        +[](GObject* client, GAsyncResult* result, gpointer data) {
            std::unique_ptr<Pending> pending(static_cast<Pending*>(data));
            GError* error = nullptr;
            GSocketConnection* connection = g_socket_client_connect_to_host_finish(G_SOCKET_CLIENT(client), result, &error);
            if (connection) {
                g_io_stream_close(G_IO_STREAM(connection), nullptr, nullptr);
                g_object_unref(connection);
            }
            if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
                g_clear_error(&error);
                return;  // stopping: the source may be gone
            }
            Source* s = pending->source;
            g_clear_object(&s->probe);
            Failure f = pending->failure;
            // Connected now: it came back in between; keep GStreamer's account.
            if (error) {
                f.reason = connect_failure_text(error, s->host, s->where());
                f.unreachable = true;
            }
            g_clear_error(&error);
            s->owner->schedule_retry(*s, f);
        }, new Pending{&source, failure});
    g_object_unref(client);
}

bool Sources::handle_message(GstMessage* message) {
    if (GST_MESSAGE_SRC(message) == GST_OBJECT(pipeline_) && GST_MESSAGE_TYPE(message) == GST_MESSAGE_STATE_CHANGED) {
        GstState old_state, new_state, pending;
        gst_message_parse_state_changed(message, &old_state, &new_state, &pending);
        if (new_state == GST_STATE_PLAYING && !playing_ && !stopping_) {
            playing_ = true;
            for (auto& s : sources_) play_bin(*s);
        }
        return false;
    }
    for (auto& s : sources_) {
        if (!s->bin || !gst_object_has_as_ancestor(GST_MESSAGE_SRC(message), GST_OBJECT(s->bin))) continue;
        if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR || GST_MESSAGE_TYPE(message) == GST_MESSAGE_WARNING) {
            GError* error = nullptr;
            gchar* debug = nullptr;
            if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR) {
                gst_message_parse_error(message, &error, &debug);
            } else {
                gst_message_parse_warning(message, &error, &debug);
            }
            const std::string details = debug ? debug : "";
            if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR) {
                fail(*s, s->generation, describe_error(error, details, s->port != 0, s->has_login, s->where()));
            } else if (s->port && contains_nocase(details, "closed the connection")) {
                // rtspsrc warns this just before it ends the stream: the better reason.
                s->last_warning = "the camera closed the connection";
            }
            g_clear_error(&error);
            g_free(debug);
        }
        return true;  // warnings, state changes etc. of an input concern only it
    }
    return false;
}

gboolean Sources::watchdog(gpointer data) {
    auto* self = static_cast<Sources*>(data);
    const gint64 now = g_get_monotonic_time();
    for (auto& s : self->sources_) {
        if (!s->bin || !self->playing_) continue;
        if (s->got_frame_since_start) {
            if (!s->ever_had_frame || s->dropped_at_us) {
                if (s->dropped_at_us) {
                    say(stderr, s->who() + ": back after " + seconds_text(static_cast<double>(now - s->dropped_at_us) / G_USEC_PER_SEC));
                }
                s->ever_had_frame = true;
                s->dropped_at_us = 0;
                s->backoff.reset();
            }
            if (now - s->last_frame_us > stall_after_us) {
                Failure failure;
                failure.reason = "no frames for " + std::to_string(stall_after_us / G_USEC_PER_SEC) + " s";
                failure.link = true;
                self->fail(*s, s->generation, failure);
            }
        } else if (now - s->started_at_us > first_frame_within_us) {
            Failure failure;
            failure.reason = "no video after " + std::to_string(first_frame_within_us / G_USEC_PER_SEC) + " s";
            self->fail(*s, s->generation, failure);
        }
    }
    return G_SOURCE_CONTINUE;
}

}  // namespace slipstream
