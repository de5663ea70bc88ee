#include "sources.hpp"

#include <gio/gio.h>
#include <gst/video/video.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "slipstream/uri.hpp"

namespace slipstream {
namespace {

constexpr gint64 stall_after_us = 5 * G_USEC_PER_SEC;        // no frame for this long while connected: reconnect
constexpr gint64 first_frame_within_us = 20 * G_USEC_PER_SEC;  // connecting for this long without a frame: retry

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

}  // namespace

struct Sources::Source {
    Sources* owner = nullptr;
    int index = 0;
    std::string uri, masked;
    GstPad* mux_pad = nullptr;
    GstElement* bin = nullptr;
    guint generation = 0;
    guint retry_timer = 0;
    double backoff = 0;
    gint64 retry_at_us = 0;       // when the next full retry is due
    GCancellable* probe = nullptr;  // a reachability probe in flight
    bool ever_had_frame = false;
    bool failed_at_start = false;
    gint64 dropped_at_us = 0;     // when it was last seen failing (for the "back after" line)
    gint64 started_at_us = 0;     // when the current bin was created
    std::atomic<gint64> last_frame_us{0};
    std::atomic<bool> got_frame_since_start{false};
    std::string codec;            // set from the decoder's input caps
    std::mutex codec_mutex;
    bool restart_pending = false;
};

Sources::Sources(GstElement* pipeline, GstElement* mux, const Options& options, std::function<void(const std::string&)> on_fatal)
    : pipeline_(pipeline), mux_(mux), options_(options), on_fatal_(std::move(on_fatal)) {
    for (std::size_t i = 0; i < options_.inputs.size(); ++i) {
        auto s = std::make_unique<Source>();
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
        s->backoff = options_.reconnect_initial;
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

void Sources::create_bin(Source& source) {
    if (stopping_) return;
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
    g_signal_connect(decode, "pad-added", G_CALLBACK(+[](GstElement*, GstPad* pad, gpointer convert) {
        GstCaps* caps = gst_pad_get_current_caps(pad);
        if (!caps) caps = gst_pad_query_caps(pad, nullptr);
        const bool video = caps && !gst_caps_is_empty(caps) &&
                           g_str_has_prefix(gst_structure_get_name(gst_caps_get_structure(caps, 0)), "video/");
        if (caps) gst_caps_unref(caps);
        if (!video) return;
        GstPad* sink = gst_element_get_static_pad(GST_ELEMENT(convert), "sink");
        if (!gst_pad_is_linked(sink)) gst_pad_link(pad, sink);
        gst_object_unref(sink);
    }), convert);
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
            auto* s = static_cast<Source*>(data);
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
                // The stream ended (camera closed it): reconnect from the main loop.
                g_idle_add(+[](gpointer data) -> gboolean {
                    auto* s = static_cast<Source*>(data);
                    s->owner->schedule_retry(*s, "stream ended");
                    return G_SOURCE_REMOVE;
                }, s);
            }
            return GST_PAD_PROBE_OK;
        }, &source, nullptr);

    source.bin = bin;
    source.started_at_us = g_get_monotonic_time();
    source.got_frame_since_start = false;
    source.restart_pending = false;
    gst_bin_add(GST_BIN(pipeline_), bin);
    if (gst_pad_link(ghost, source.mux_pad) != GST_PAD_LINK_OK) {
        say(stderr, "error: input " + std::to_string(source.index) + ": cannot link to the batch mux");
    }
    // Retries join a pipeline that is already playing; the first inputs start with it.
    GstState pipeline_state = GST_STATE_NULL, pending = GST_STATE_VOID_PENDING;
    gst_element_get_state(pipeline_, &pipeline_state, &pending, 0);
    const GstState target = pending != GST_STATE_VOID_PENDING ? pending : pipeline_state;
    if (target == GST_STATE_PLAYING) {
        gst_element_set_state(bin, GST_STATE_PLAYING);
    } else {
        gst_element_sync_state_with_parent(bin);
    }
}

void Sources::remove_bin(Source& source) {
    if (!source.bin) return;
    GstElement* bin = source.bin;
    source.bin = nullptr;
    GstPad* ghost = gst_element_get_static_pad(bin, "src");
    if (ghost) {
        gst_pad_unlink(ghost, source.mux_pad);
        gst_object_unref(ghost);
    }
    gst_element_set_locked_state(bin, TRUE);
    gst_element_set_state(bin, GST_STATE_NULL);
    gst_bin_remove(GST_BIN(pipeline_), bin);
}

void Sources::schedule_retry(Source& source, const std::string& reason) {
    if (stopping_ || source.restart_pending) return;
    source.restart_pending = true;
    const bool had_frame = source.got_frame_since_start;
    const std::string who = "input " + std::to_string(source.index) + " (" + source.masked + ")";
    if (had_frame) {
        source.backoff = options_.reconnect_initial;  // it worked until now: retry soon
        source.dropped_at_us = g_get_monotonic_time();
        say(stderr, who + ": dropped: " + ss::mask_credentials_in_text(reason) + "; reconnecting in " + seconds_text(source.backoff));
    } else {
        if (!source.ever_had_frame && !source.failed_at_start) {
            source.failed_at_start = true;
            if (!source.dropped_at_us) source.dropped_at_us = g_get_monotonic_time();
            if (options_.require_all) {
                say(stderr, "error: " + who + ": " + ss::mask_credentials_in_text(reason));
                on_fatal_(who + " failed at start");
                return;
            }
        }
        say(stderr, "error: " + who + ": " + ss::mask_credentials_in_text(reason) + "; retrying in " + seconds_text(source.backoff));
    }
    // Tear down from the main loop, never from a streaming thread.
    remove_bin(source);
    const double wait = source.backoff;
    source.backoff = std::min(source.backoff * 2, options_.reconnect_max);
    source.retry_at_us = g_get_monotonic_time() + static_cast<gint64>(wait * G_USEC_PER_SEC);
    // Tick once a second: retry when the backoff is over, or earlier as soon
    // as a cheap probe finds the camera reachable again.
    source.retry_timer = g_timeout_add(static_cast<guint>(std::min(wait, 1.0) * 1000), &Sources::retry_tick, &source);
}

gboolean Sources::retry_tick(gpointer data) {
    auto* s = static_cast<Source*>(data);
    if (g_get_monotonic_time() >= s->retry_at_us) {
        s->retry_timer = 0;
        s->owner->create_bin(*s);
        return G_SOURCE_REMOVE;
    }
    s->owner->probe_reachable(*s);
    return G_SOURCE_CONTINUE;
}

// Reachable means: a TCP connection to the camera's host and port opens (RTSP,
// HTTP), or the file exists again. Anything else waits for the full retry.
void Sources::probe_reachable(Source& source) {
    if (source.probe) return;
    const char* scheme = g_uri_peek_scheme(source.uri.c_str());  // interned: not freed
    const std::string kind = scheme ? scheme : "";
    if (kind == "file") {
        gchar* path = g_filename_from_uri(source.uri.c_str(), nullptr, nullptr);
        const bool exists = path && g_file_test(path, G_FILE_TEST_IS_REGULAR);
        g_free(path);
        if (exists) source.retry_at_us = 0;
        return;
    }
    const guint16 default_port = kind == "rtsp" ? 554 : kind == "rtsps" ? 322 : kind == "http" ? 80 : kind == "https" ? 443 : 0;
    if (!default_port) return;
    GUri* uri = g_uri_parse(source.uri.c_str(), G_URI_FLAGS_NONE, nullptr);
    if (!uri || !g_uri_get_host(uri)) {
        if (uri) g_uri_unref(uri);
        return;
    }
    const guint16 port = g_uri_get_port(uri) > 0 ? static_cast<guint16>(g_uri_get_port(uri)) : default_port;
    GSocketClient* client = g_socket_client_new();
    g_socket_client_set_timeout(client, 1);
    source.probe = g_cancellable_new();
    g_socket_client_connect_to_host_async(client, g_uri_get_host(uri), port, source.probe,
        +[](GObject* client, GAsyncResult* result, gpointer data) {
            GError* error = nullptr;
            GSocketConnection* connection = g_socket_client_connect_to_host_finish(G_SOCKET_CLIENT(client), result, &error);
            const bool cancelled = error && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
            g_clear_error(&error);
            if (connection) {
                g_io_stream_close(G_IO_STREAM(connection), nullptr, nullptr);
                g_object_unref(connection);
            }
            if (!cancelled) {
                auto* s = static_cast<Source*>(data);
                g_clear_object(&s->probe);
                if (connection) s->retry_at_us = 0;  // the next tick retries
            }
        }, &source);
    g_object_unref(client);
    g_uri_unref(uri);
}

bool Sources::handle_message(GstMessage* message) {
    for (auto& s : sources_) {
        if (!s->bin || !gst_object_has_as_ancestor(GST_MESSAGE_SRC(message), GST_OBJECT(s->bin))) continue;
        if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR) {
            GError* error = nullptr;
            gchar* debug = nullptr;
            gst_message_parse_error(message, &error, &debug);
            std::string reason = error ? error->message : "unknown error";
            g_clear_error(&error);
            g_free(debug);
            schedule_retry(*s, reason);
        }
        return true;  // warnings, state changes etc. of an input concern only it
    }
    return false;
}

gboolean Sources::watchdog(gpointer data) {
    auto* self = static_cast<Sources*>(data);
    const gint64 now = g_get_monotonic_time();
    for (auto& s : self->sources_) {
        if (!s->bin || s->restart_pending) continue;
        if (s->got_frame_since_start) {
            if (!s->ever_had_frame || s->dropped_at_us) {
                if (s->dropped_at_us) {
                    say(stderr, "input " + std::to_string(s->index) + " (" + s->masked + "): back after " +
                                    seconds_text(static_cast<double>(now - s->dropped_at_us) / G_USEC_PER_SEC));
                }
                s->ever_had_frame = true;
                s->dropped_at_us = 0;
                s->backoff = self->options_.reconnect_initial;
            }
            if (now - s->last_frame_us > stall_after_us) self->schedule_retry(*s, "no frames for 5 s");
        } else if (now - s->started_at_us > first_frame_within_us) {
            self->schedule_retry(*s, "no video after 20 s");
        }
    }
    return G_SOURCE_CONTINUE;
}

}  // namespace slipstream
