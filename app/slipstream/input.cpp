#include "input.hpp"

#include <gst/video/video.h>
#ifdef __GLIBC__
#include <malloc.h>  // malloc_trim
#endif

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "console.hpp"
#include "slipstream/uri.hpp"

namespace slipstream {

namespace {

constexpr gint64 stall_after_us = 5 * G_USEC_PER_SEC;          // no frame for this long while connected: reconnect
constexpr gint64 first_frame_within_us = 20 * G_USEC_PER_SEC;  // connecting for this long without a frame: retry
constexpr guint probe_timeout_s = 1;                           // a reachability probe gives up after this
constexpr double probe_every_s = 0.5;                          // while waiting to retry an unreachable camera
constexpr gint64 timer_slack_us = 20 * 1000;                   // a tick this early still counts as on time

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

void on_source_setup(GstElement*, GstElement* source, gpointer data) {
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

constexpr const char* context_key = "slipstream-input";

// uridecodebin's autoplug-select answers (GstAutoplugSelectResult, which no public header declares).
enum AutoplugSelect { autoplug_try = 0, autoplug_skip = 2 };

bool is_video_decoder(GstElementFactory* factory) {
    const gchar* klass = gst_element_factory_get_metadata(factory, GST_ELEMENT_METADATA_KLASS);
    return klass && strstr(klass, "Decoder") && strstr(klass, "Video");
}

bool in_cuda_memory(const GstCaps* caps) {
    return caps && gst_caps_get_size(caps) && gst_caps_features_contains(gst_caps_get_features(caps, 0), "memory:CUDAMemory");
}

}  // namespace

// Lives as long as one bin (object data on it): lets its streaming-thread
// callbacks name the attempt they belong to, so a late event of an old
// attempt never tears down the next one.
struct Input::BinContext {
    Input* input;
    guint generation;
    GstElement* convert;
    GstElement* cuda_scale;  // the GPU path's, else null
    std::atomic<bool> video_linked{false};
    std::atomic<bool> no_video{false};  // all streams known, none of them video
};

std::shared_ptr<Input> Input::create(int index, const std::string& uri, const Host& host, const std::string& camera_id,
                                     const std::string& name) {
    return std::shared_ptr<Input>(new Input(index, uri, host, camera_id, name));
}

Input::Input(int index, const std::string& uri, const Host& host, const std::string& camera_id, const std::string& name)
    : host_(host), index_(index), camera_id_(camera_id.empty() ? std::to_string(index) : camera_id), name_(name),
      address_(parse_input_address(uri)), backoff_(host.options->reconnect_initial, host.options->reconnect_max) {
    if (host_.stats) counters_ = host_.stats->open(static_cast<guint>(index_));
    gchar* pad_name = g_strdup_printf("sink_%d", index_);
    mux_pad_ = gst_element_request_pad_simple(host_.mux, pad_name);
    g_free(pad_name);
}

Input::~Input() {
    stop();
    if (host_.stats) host_.stats->close(static_cast<guint>(index_));
    if (mux_pad_) {
        gst_element_release_request_pad(host_.mux, mux_pad_);
        gst_object_unref(mux_pad_);
    }
}

void Input::start() {
    console::say("Input " + std::to_string(index_) + ": " + address_.masked);
    create_bin();
}

void Input::pipeline_playing() {
    if (playing_ || stopped_) return;
    playing_ = true;
    play_bin();
}

void Input::stop() {
    stopped_ = true;
    if (retry_timer_) g_source_remove(retry_timer_);
    retry_timer_ = 0;
    probe_.cancel();
    // Locked bins do not follow the pipeline down: stop it here.
    remove_bin();
}

void Input::fail_later(guint generation, const InputFailure& failure) {
    struct Pending {
        std::weak_ptr<Input> input;
        guint generation;
        InputFailure failure;
    };
    g_idle_add_full(G_PRIORITY_DEFAULT_IDLE, +[](gpointer data) -> gboolean {
        auto* p = static_cast<Pending*>(data);
        if (auto input = p->input.lock()) input->fail(p->generation, p->failure);
        return G_SOURCE_REMOVE;
    }, new Pending{weak_from_this(), generation, failure}, +[](gpointer data) { delete static_cast<Pending*>(data); });
}

void Input::show_format(const GstCaps* caps) {
    GstVideoInfo video;
    if (!gst_video_info_from_caps(&video, caps)) return;
    std::string codec;
    const double fps = video.fps_d ? static_cast<double>(video.fps_n) / video.fps_d : 0;
    {
        std::lock_guard lock(codec_mutex_);
        codec = codec_.empty() ? "raw" : codec_;
        width_ = video.width;
        height_ = video.height;
        nominal_fps_ = fps;
    }
    char line[256];
    std::snprintf(line, sizeof line, "Input %d: %s %dx%d%s", index_, codec.c_str(), video.width, video.height,
                  fps > 0 ? (" @ " + seconds_text(fps).substr(0, seconds_text(fps).size() - 1) + " fps").c_str() : "");
    std::string where;
    if (host_.decode->gpu) {
        where = in_cuda_memory(caps) ? ", NVDEC on GPU " + std::to_string(host_.decode->device)
                                     : std::string(", decoded on the CPU: NVDEC takes H.264") +
                                           (host_.decode->h265_decoder.empty() ? "" : " and H.265") + " here";
    }
    console::say(line + where);
}

void Input::create_bin() {
    if (stopped_) return;
    probe_.cancel();
    ++generation_;
    gchar* bin_name = g_strdup_printf("input%d-%u", index_, generation_);
    GstElement* bin = gst_bin_new(bin_name);
    g_free(bin_name);
    // The input's own state changes (and failures) stay inside its bin, so one
    // camera that cannot preroll never holds the pipeline's state.
    g_object_set(bin, "async-handling", TRUE, nullptr);
    GstElement* decode = gst_element_factory_make("uridecodebin", nullptr);
    GstElement* convert = gst_element_factory_make("videoconvert", nullptr);
    GstElement* queue = gst_element_factory_make("queue", nullptr);
    GstElement* cuda_scale = host_.decode->gpu ? gst_element_factory_make("sscudascale", nullptr) : nullptr;
    if (!decode || !convert || !queue || (host_.decode->gpu && !cuda_scale)) {
        console::error(host_.decode->gpu && !cuda_scale ? "slipstream's sscudascale element is missing from this build; rebuild with the CUDA toolkit or run with --gpu none"
                                                        : "GStreamer elements uridecodebin/videoconvert/queue are missing; run ./setup.sh");
        for (GstElement* e : {decode, convert, queue, cuda_scale}) {
            if (e) gst_object_unref(gst_object_ref_sink(e));
        }
        gst_object_unref(gst_object_ref_sink(bin));
        host_.on_fatal("missing GStreamer plugins");
        return;
    }
    if (cuda_scale) {
        g_object_set(cuda_scale, "width", host_.decode->frame_width, "height", host_.decode->frame_height, nullptr);
        if (host_.decode->detect_width > 0) {
            g_object_set(cuda_scale, "detect-width", host_.decode->detect_width, "detect-height", host_.decode->detect_height,
                         "detect-keep-aspect", static_cast<gboolean>(host_.decode->detect_keep_aspect), nullptr);
        }
    }
    auto* context = new BinContext{this, generation_, convert, cuda_scale};
    g_object_set_data_full(G_OBJECT(bin), context_key, context, +[](gpointer data) { delete static_cast<BinContext*>(data); });

    GstCaps* video_only = gst_caps_from_string("video/x-raw(ANY)");
    g_object_set(decode, "uri", address_.uri.c_str(), "caps", video_only, "expose-all-streams", FALSE, nullptr);
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
    if (cuda_scale) gst_bin_add(GST_BIN(bin), cuda_scale);
    gst_element_link(convert, queue);

    // The decoder is chosen here, not by rank (avdec_h264 and nvh264dec share
    // PRIMARY): on the GPU path NVDEC takes H.264 and H.265, other codecs
    // decode on the CPU; on the CPU path NVIDIA's decoders are never picked.
    g_signal_connect(decode, "autoplug-select", G_CALLBACK(+[](GstElement*, GstPad*, GstCaps* caps, GstElementFactory* factory,
                                                               gpointer data) -> int {
        if (!is_video_decoder(factory)) return autoplug_try;
        const std::string wanted = static_cast<BinContext*>(data)->input->host_.decode->gpu_decoder_for(caps);
        if (!wanted.empty()) return wanted == gst_plugin_feature_get_name(GST_PLUGIN_FEATURE(factory)) ? autoplug_try : autoplug_skip;
        return is_gpu_decoder(factory) ? autoplug_skip : autoplug_try;
    }), context);
    // Before its pad is exposed and linked, a decoder asks decodebin what
    // downstream takes: tell NVDEC it is CUDA memory (sscudascale's), or it
    // would copy every full frame down to system memory.
    if (cuda_scale) {
        g_signal_connect(decode, "autoplug-query", G_CALLBACK(+[](GstElement*, GstPad*, GstElement* element, GstQuery* query,
                                                                  gpointer data) -> gboolean {
            GstElementFactory* factory = gst_element_get_factory(element);
            if (GST_QUERY_TYPE(query) != GST_QUERY_CAPS || !factory || !is_gpu_decoder(factory)) return FALSE;
            GstPad* sink = gst_element_get_static_pad(static_cast<BinContext*>(data)->cuda_scale, "sink");
            GstCaps* filter = nullptr;
            gst_query_parse_caps(query, &filter);
            GstCaps* caps = gst_pad_query_caps(sink, filter);
            gst_object_unref(sink);
            gst_query_set_caps_result(query, caps);
            gst_caps_unref(caps);
            return TRUE;
        }), context);
    }

    g_signal_connect(decode, "source-setup", G_CALLBACK(on_source_setup), const_cast<Options*>(host_.options));
    g_signal_connect(decode, "pad-added", G_CALLBACK(+[](GstElement*, GstPad* pad, gpointer data) {
        auto* context = static_cast<BinContext*>(data);
        GstCaps* caps = gst_pad_get_current_caps(pad);
        if (!caps) caps = gst_pad_query_caps(pad, nullptr);
        const bool video = caps && !gst_caps_is_empty(caps) &&
                           g_str_has_prefix(gst_structure_get_name(gst_caps_get_structure(caps, 0)), "video/");
        if (!video) {
            if (caps) gst_caps_unref(caps);
            return;
        }
        // NVDEC's frames go through the GPU scaler; the CPU's straight to the converter.
        const bool cuda = in_cuda_memory(caps) && context->cuda_scale;
        GstPad* sink = gst_element_get_static_pad(cuda ? context->cuda_scale : context->convert, "sink");
        // A stream that changes codec mid-way (a new program in a TS) comes
        // back on a new pad after the old one went: link that one too.
        if (!gst_pad_is_linked(sink) && GST_PAD_LINK_SUCCESSFUL(gst_pad_link(pad, sink))) {
            GstPad* convert_sink = gst_element_get_static_pad(context->convert, "sink");
            if (cuda && !gst_pad_is_linked(convert_sink)) gst_element_link(context->cuda_scale, context->convert);
            gst_object_unref(convert_sink);
            context->video_linked = true;
            // The decoded format, as the decoder gives it (before any scaling).
            gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, +[](GstPad*, GstPadProbeInfo* info, gpointer data) {
                GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
                if (GST_EVENT_TYPE(event) == GST_EVENT_CAPS) {
                    GstCaps* caps = nullptr;
                    gst_event_parse_caps(event, &caps);
                    static_cast<Input*>(data)->show_format(caps);
                }
                return GST_PAD_PROBE_OK;
            }, context->input, nullptr);
        }
        gst_object_unref(sink);
        gst_caps_unref(caps);
    }), context);
    // All streams are known: without a video one, this input can never show anything.
    g_signal_connect(decode, "no-more-pads", G_CALLBACK(+[](GstElement*, gpointer data) {
        auto* context = static_cast<BinContext*>(data);
        if (context->video_linked) return;
        context->no_video = true;
        context->input->fail_later(context->generation, InputFailure::because("no video stream"));
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
            auto* input = static_cast<Input*>(data);
            std::lock_guard lock(input->codec_mutex_);
            input->codec_ = codec_name(caps);
            return GST_PAD_PROBE_REMOVE;
        }, data, nullptr);
        gst_object_unref(sink);
    }), this);

    GstPad* queue_src = gst_element_get_static_pad(queue, "src");
    GstPad* ghost = gst_ghost_pad_new("src", queue_src);
    gst_object_unref(queue_src);
    gst_element_add_pad(bin, ghost);
    gst_pad_add_probe(ghost, static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM |
                                                          GST_PAD_PROBE_TYPE_EVENT_FLUSH),
        +[](GstPad*, GstPadProbeInfo* info, gpointer data) {
            auto* context = static_cast<BinContext*>(data);
            Input* input = context->input;
            if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
                input->last_frame_us_ = g_get_monotonic_time();
                input->got_frame_since_start_ = true;
                if (input->counters_) ++input->counters_->frames_received;
                return GST_PAD_PROBE_OK;
            }
            GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
            // A failing input flushes on its way down; its mux pad must stay usable
            // for the next attempt, so flushes stop here.
            if (GST_EVENT_TYPE(event) == GST_EVENT_FLUSH_START || GST_EVENT_TYPE(event) == GST_EVENT_FLUSH_STOP) {
                return GST_PAD_PROBE_DROP;
            }
            if (GST_EVENT_TYPE(event) == GST_EVENT_EOS) {
                // The stream ended (a file's end, or the camera closed it): reconnect from the main loop.
                InputFailure failure = InputFailure::because(input->address_.network() ? "the camera ended the stream" : "end of file");
                failure.link = failure.ended = true;
                input->fail_later(context->generation, failure);
            }
            return GST_PAD_PROBE_OK;
        }, context, nullptr);

    bin_ = bin;
    started_at_us_ = g_get_monotonic_time();
    got_frame_since_start_ = false;
    last_warning_.clear();
    // Locked: the pipeline's state changes pass it by (see input.hpp).
    gst_element_set_locked_state(bin, TRUE);
    gst_bin_add(GST_BIN(host_.pipeline), bin);
    if (gst_pad_link(ghost, mux_pad_) != GST_PAD_LINK_OK) {
        console::error("input " + std::to_string(index_) + ": cannot link to the batch mux");
    }
    // Retries join a pipeline that is already playing; the first attempt
    // starts when it reaches PLAYING (pipeline_playing).
    if (playing_) play_bin();
}

void Input::play_bin() {
    if (!bin_) return;
    // The bin runs on the pipeline's clock and time line, as if it had gone
    // up with it.
    if (GstClock* clock = gst_element_get_clock(host_.pipeline)) {
        gst_element_set_clock(bin_, clock);
        gst_object_unref(clock);
    }
    gst_element_set_base_time(bin_, gst_element_get_base_time(host_.pipeline));
    started_at_us_ = g_get_monotonic_time();
    if (gst_element_set_state(bin_, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
        // The element that failed posted why (handled first: the bus outranks
        // idle callbacks); this only covers one that did not.
        fail_later(generation_, InputFailure::because("could not start"));
    }
}

void Input::remove_bin() {
    if (!bin_) return;
    GstElement* bin = bin_;
    bin_ = nullptr;
    const bool had_frames = got_frame_since_start_;
    GstPad* ghost = gst_element_get_static_pad(bin, "src");
    if (ghost) {
        gst_pad_unlink(ghost, mux_pad_);
        gst_object_unref(ghost);
    }
    // A file's streaming thread may sit in the mux, waiting (up to a frame
    // period) for its frame's time to come; stopping the bin would wait for
    // it. A flush of the mux pad wakes it, and resets the pad for the next
    // attempt; being unlinked, the thread cannot push again.
    gst_pad_send_event(mux_pad_, gst_event_new_flush_start());
    gst_pad_send_event(mux_pad_, gst_event_new_flush_stop(TRUE));
    gst_element_set_state(bin, GST_STATE_NULL);
    gst_bin_remove(GST_BIN(host_.pipeline), bin);
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
void Input::fail(guint generation, const InputFailure& failure) {
    if (stopped_ || !bin_ || generation != generation_) return;
    InputFailure f = failure;
    if (f.ended && !last_warning_.empty()) f.reason = last_warning_;
    if (auto* context = static_cast<BinContext*>(g_object_get_data(G_OBJECT(bin_), context_key)); context && context->no_video) {
        // All its streams were found and none is video; whatever failed after that is beside the point.
        f = InputFailure::because("no video stream");
    }
    remove_bin();
    if (f.diagnose && address_.network()) {
        diagnose(f);
    } else {
        schedule_retry(f);
    }
}

// GStreamer says only "could not connect"; one TCP connection of our own
// (at most probe_timeout_s) tells refused from timed out from unknown host.
void Input::diagnose(const InputFailure& failure) {
    probe_.start(address_.host, address_.port, probe_timeout_s, [this, failure](const GError* error) {
        InputFailure f = failure;
        // Connected now: it came back in between; keep GStreamer's account.
        if (error) {
            f.reason = connect_failure_text(error, address_.host, address_.where());
            f.unreachable = true;
        }
        schedule_retry(f);
    });
}

void Input::schedule_retry(const InputFailure& failure) {
    if (stopped_) return;
    const bool had_frame = got_frame_since_start_;
    const std::string& reason = failure.reason;  // masked by the console
    last_failure_ = ss::mask_credentials_in_text(reason);
    if (had_frame) {
        if (counters_) ++counters_->reconnects;
        backoff_.reset();  // it worked until now: retry soon
        dropped_at_us_ = g_get_monotonic_time();
        console::note(who() + ": dropped: " + reason + "; reconnecting in " + seconds_text(backoff_.upcoming()));
    } else {
        if (!ever_had_frame_ && !failed_at_start_) {
            failed_at_start_ = true;
            if (!dropped_at_us_) dropped_at_us_ = g_get_monotonic_time();
            if (host_.options->require_all) {
                console::error(who() + ": " + reason);
                host_.on_fatal(who() + " failed at start");
                return;
            }
        }
        console::error(who() + ": " + reason + "; retrying in " + seconds_text(backoff_.upcoming()));
    }
    got_frame_since_start_ = false;
    const double wait = backoff_.next_wait();
    const gint64 now = g_get_monotonic_time();
    retry_at_us_ = now + static_cast<gint64>(wait * G_USEC_PER_SEC);
    // Retry when the backoff is over, or as soon as a cheap probe (twice a
    // second) finds an unreachable camera reachable again, so a camera that
    // is back is back within a second whatever the backoff. A camera that
    // answered (404, 401, no video) gets the full backoff: probing it proves nothing.
    // Probes start at once when the camera was just found unreachable (then
    // reaching it is news); otherwise after reconnect_initial, so a camera
    // that accepts connections but fails is not retried more than once a second.
    probe_ends_wait_ = failure.link;
    probes_from_us_ = failure.unreachable ? now : now + static_cast<gint64>(host_.options->reconnect_initial * G_USEC_PER_SEC);
    // Ticks that land exactly on the end of the wait.
    const double ticks = std::max(1.0, std::ceil(wait / probe_every_s - 1e-6));
    if (retry_timer_) g_source_remove(retry_timer_);
    retry_timer_ = g_timeout_add(static_cast<guint>(wait / ticks * 1000), &Input::retry_tick, this);
}

void Input::retry_now() {
    if (retry_timer_) g_source_remove(retry_timer_);
    retry_timer_ = 0;
    create_bin();
}

gboolean Input::retry_tick(gpointer data) {
    auto* self = static_cast<Input*>(data);
    const gint64 now = g_get_monotonic_time() + timer_slack_us;
    if (now >= self->retry_at_us_ || (self->probe_ends_wait_ && now >= self->probes_from_us_ && self->probe_reachable())) {
        self->retry_timer_ = 0;
        self->create_bin();
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

// Reachable means: a TCP connection to the camera's host and port opens (RTSP,
// HTTP; answered asynchronously: a success retries at once), or the file
// exists again (answered here). Anything else waits for the full retry.
bool Input::probe_reachable() {
    if (address_.scheme == "file") {
        gchar* path = g_filename_from_uri(address_.uri.c_str(), nullptr, nullptr);
        const bool exists = path && g_file_test(path, G_FILE_TEST_IS_REGULAR);
        g_free(path);
        return exists;
    }
    if (!address_.network() || probe_.in_flight()) return false;
    probe_.start(address_.host, address_.port, probe_timeout_s, [this](const GError* error) {
        if (!error && retry_timer_ && !bin_) retry_now();
    });
    return false;
}

bool Input::handle_message(GstMessage* message) {
    if (!bin_ || !gst_object_has_as_ancestor(GST_MESSAGE_SRC(message), GST_OBJECT(bin_))) return false;
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
            fail(generation_, describe_error(error, details, failure_context(), is_decoder(GST_MESSAGE_SRC(message))));
        } else if (std::string why = explain_warning(details, failure_context()); !why.empty()) {
            last_warning_ = std::move(why);
        }
        g_clear_error(&error);
        g_free(debug);
    }
    return true;  // warnings, state changes etc. of an input concern only it
}

void Input::watch(gint64 now) {
    if (!bin_ || !playing_) return;
    if (got_frame_since_start_) {
        if (!ever_had_frame_ || dropped_at_us_) {
            if (dropped_at_us_) console::note(who() + ": back after " + seconds_text(static_cast<double>(now - dropped_at_us_) / G_USEC_PER_SEC));
            ever_had_frame_ = true;
            dropped_at_us_ = 0;
            backoff_.reset();
        }
        if (now - last_frame_us_ > stall_after_us) {
            InputFailure failure = InputFailure::because("no frames for " + std::to_string(stall_after_us / G_USEC_PER_SEC) + " s");
            failure.link = true;
            fail(generation_, failure);
        }
    } else if (now - started_at_us_ > first_frame_within_us) {
        fail(generation_, InputFailure::because("no video after " + std::to_string(first_frame_within_us / G_USEC_PER_SEC) + " s"));
    }
}

InputStatus Input::status(gint64 now_us) const {
    InputStatus s;
    s.index = index_;
    s.camera_id = camera_id_;
    s.name = name_;
    s.masked_url = address_.masked;
    s.counters = counters_;
    {
        std::lock_guard lock(codec_mutex_);
        s.codec = codec_;
        s.width = width_;
        s.height = height_;
        s.nominal_fps = nominal_fps_;
    }
    if (bin_) {
        s.state = got_frame_since_start_ ? "playing" : "connecting";
    } else {
        // Waiting for a retry (or a probe finding the camera back).
        s.state = ever_had_frame_ ? "reconnecting" : "failed";
        s.reason = last_failure_;
        if (retry_timer_) s.next_retry_s = std::max(0.0, static_cast<double>(retry_at_us_ - now_us) / G_USEC_PER_SEC);
    }
    return s;
}

}  // namespace slipstream
