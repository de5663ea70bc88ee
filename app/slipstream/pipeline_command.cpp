// `slipstream [options]`: the streaming pipeline.
//
//   N x [uridecodebin -> videoconvert -> leaky queue] -> ssbatchmux -> ssinfer
//     -> sstracker -> sstiler -> leaky queue -> x264enc/x265enc -> parse -> appsink -> RTSP server
#include <glib-unix.h>
#include <gst/app/gstappsink.h>
#include <gst/gst.h>

#include <algorithm>
#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <memory>

#include "camera_stats.hpp"
#include "commands.hpp"
#ifdef SS_HAVE_CUDA
#include "cudascale/shared_context.hpp"
#endif
#include "console.hpp"
#include "events_api.hpp"
#include "frame_report.hpp"
#include "http_server.hpp"
#include "meta/running_time.hpp"
#include "metrics.hpp"
#include "mqtt/mosquitto_client.hpp"
#include "mqtt/mqtt_report.hpp"
#include "mqtt/mqtt_stats.hpp"
#include "options.hpp"
#include "plugin.hpp"
#include "rtsp_output.hpp"
#include "slipstream/config.hpp"
#include "slipstream/error.hpp"
#include "slipstream/grid.hpp"
#include "slipstream/log.hpp"
#include "slipstream/recent_track_events.hpp"
#include "slipstream/track_event_feed.hpp"
#include "slipstream/tracker.hpp"
#include "sources.hpp"
#include "stream_api.hpp"
#include "webrtc_output.hpp"
#include "web_page.hpp"

namespace slipstream {
namespace {

struct DetectionCounts {
    guint64 detected = 0, on_time = 0;  // frames detected; of those, boxes out with their own frame
    guint64 from_gpu = 0;               // of those, detected from their copy in GPU memory (the GPU path)
};

struct App {
    Options options;
    GMainLoop* loop = nullptr;
    GstElement* pipeline = nullptr;
    GstElement* mux = nullptr;
    GstElement* infer = nullptr;
    GstElement* tiler = nullptr;
    GstElement* encoder = nullptr;
    GstElement* sink = nullptr;
    CameraStats camera_stats;  // before sources, whose inputs count into it
    std::unique_ptr<Sources> sources;
    std::unique_ptr<PipelineMetrics> metrics;  // read by the API's /metrics
    std::unique_ptr<HttpServer> api;  // after sources: its routes use them
    std::unique_ptr<RtspOutput> output;
    std::unique_ptr<WebRtcOutput> webrtc;  // browsers' live view (WHEP), with the API
    ss::RecentTrackEvents recent_events;  // the latest track events, for the API and the page
    ss::TrackEventFeed track_events;      // frames -> track events -> recent_events (and MQTT)
    std::unique_ptr<mqtt::MosquittoClient> mqtt_client;  // --mqtt: the broker connection
    std::unique_ptr<mqtt::MqttReport> mqtt_report;       // frames -> its messages
    std::unique_ptr<FrameReport> report;
    std::vector<std::string> groups;  // the config's counting groups
    FILE* metadata = nullptr;
    int exit_code = 0;
    std::atomic<guint64> output_frames{0};
    gint64 started_us = 0;
    guint64 last_output_frames = 0;
    gint64 last_status_us = 0;
    DetectionCounts last_counts;
};

// printf's formatting (checked by the compiler), for the lines with many numbers.
[[gnu::format(printf, 1, 2)]] std::string printed(const char* format, ...) {
    char line[512];
    va_list args;
    va_start(args, format);
    std::vsnprintf(line, sizeof line, format, args);
    va_end(args);
    return line;
}

DetectionCounts detection_counts(App& app) {
    DetectionCounts n;
    g_object_get(app.infer, "detected-frames", &n.detected, "on-time-frames", &n.on_time, "device-frames", &n.from_gpu,
                 nullptr);
    return n;
}

// One line on stderr: what the pipeline achieved since the last line.
void print_status(App& app, const char* label) {
    const gint64 now = g_get_monotonic_time();
    const gint64 since = std::string(label) == "summary" ? app.started_us : app.last_status_us;
    const double seconds = static_cast<double>(now - since) / G_USEC_PER_SEC;
    if (seconds <= 0) return;
    const bool summary = std::string(label) == "summary";
    const guint64 frames = app.output_frames.load();
    const DetectionCounts counts = detection_counts(app);
    const guint64 base_frames = summary ? 0 : app.last_output_frames;
    const DetectionCounts base = summary ? DetectionCounts{} : app.last_counts;
    const guint64 detected = counts.detected - base.detected, on_time = counts.on_time - base.on_time;
    // Cameras come and go through the API: count those there now.
    const std::size_t camera_count = app.sources ? app.sources->size() : app.options.inputs.size();
    const double cameras = static_cast<double>(std::max<std::size_t>(1, camera_count));
    gdouble deadline = 0;
    g_object_get(app.infer, "deadline", &deadline, nullptr);
    // "on their own frame": boxes that went out with the very frame they were found in.
    console::note(printed(
                 "%s: %.0f s, output %.1f fps, detection %.1f frames/s (%.2f per camera), %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
                 " on their own frame, deadline %.0f ms%s",
                 label, seconds, static_cast<double>(frames - base_frames) / seconds, static_cast<double>(detected) / seconds,
                 static_cast<double>(detected) / seconds / cameras, on_time, detected, deadline,
                 app.options.max_delay_ms < 0 ? " (auto)" : "") +
                 // The GPU path: how many were detected from their copy in GPU memory
                 // (the rest went the slow way, from their CPU picture).
                 (counts.from_gpu ? printed(", %" G_GUINT64_FORMAT " from GPU frames", counts.from_gpu - base.from_gpu)
                                  : std::string()));
    if (app.report) {
        if (const std::string stages = app.report->stages_text(); !stages.empty()) {
            console::note(std::string(label) + " latency by stage, median / p99 ms: " + stages);
        }
    }
    if (const mqtt::MqttStats& m = mqtt::mqtt_stats(); m.enabled) {
        console::note(printed("%s mqtt: %s, %" G_GUINT64_FORMAT " messages published, %" G_GUINT64_FORMAT
                              " dropped, %" G_GUINT64_FORMAT " connections",
                              label, m.connected ? "connected" : "not connected", m.published.load(), m.dropped.load(),
                              m.connects.load()));
    }
    app.last_status_us = now;
    app.last_output_frames = frames;
    app.last_counts = counts;
}

GstElement* make(const char* factory, const char* name = nullptr) {
    GstElement* e = gst_element_factory_make(factory, name);
    if (!e) throw ss::Error(std::string("GStreamer element '") + factory + "' is missing; run ./setup.sh to install the plugins");
    return e;
}

void build_pipeline(App& app, const ss::InferConfig& config, DecodePath& decode) {
    const Options& o = app.options;
    app.pipeline = gst_pipeline_new("slipstream");
    app.mux = make("ssbatchmux", "mux");
    app.infer = make("ssinfer", "infer");
    GstElement* tracker = make("sstracker", "tracker");
    app.tiler = make("sstiler", "tiler");
    GstElement* encode_queue = make("queue", "encode-queue");
    const bool h265 = o.codec == OutputCodec::h265;
    app.encoder = make(h265 ? "x265enc" : "x264enc", "encoder");
    GstElement* parse = make(h265 ? "h265parse" : "h264parse", "parse");
    app.sink = make("appsink", "output");

    // Working frames big enough for both the tile and the detector's input.
    const ss::GridShape grid = ss::grid_shape(static_cast<int>(o.inputs.size()));
    const int frame_w = std::max(o.width / grid.columns, config.input_width);
    const int frame_h = std::max(o.height / grid.rows, config.input_height);
    g_object_set(app.mux, "frame-width", frame_w, "frame-height", frame_h, "end-on-eos", FALSE, nullptr);
    decode.frame_width = frame_w;  // on the GPU path frames come down at this size already
    decode.frame_height = frame_h;
    set_device_frames(decode, config);  // and, for backend=cuda, also stay up there at the network's size
    gst_util_set_object_arg(G_OBJECT(app.mux), "fps", (std::to_string(o.fps) + "/1").c_str());
    g_object_set(app.infer, "config-file", config.config_file.c_str(), nullptr);
    if (decode.gpu) g_object_set(app.infer, "backend", config.backend.c_str(), "gpu-id", decode.device, nullptr);
    if (o.interval) g_object_set(app.infer, "interval", *o.interval, nullptr);
    g_object_set(app.infer, "workers", o.workers, "threads", o.threads, "max-delay", o.max_delay_ms, "latency-budget",
                 o.latency_budget_ms, nullptr);
    g_object_set(app.tiler, "width", o.width, "height", o.height, nullptr);
    // The encoder gets its own thread; if it falls behind, old pictures are dropped, never queued.
    // 8 pictures (a quarter second at 30 fps) ride out the encoder's stalls on a busy machine:
    // with 3, one core kept busy by another program cost the output 2-4 of its 30 fps, while
    // the encoder needs 4 ms of the 33 per picture. Normally the queue is empty: no latency added.
    g_object_set(encode_queue, "max-size-buffers", 8u, "max-size-bytes", 0u, "max-size-time", static_cast<guint64>(0), nullptr);
    gst_util_set_object_arg(G_OBJECT(encode_queue), "leaky", "downstream");

    const std::string kbps = std::to_string(std::max(1, o.bitrate / 1000));
    gst_util_set_object_arg(G_OBJECT(app.encoder), "bitrate", kbps.c_str());
    gst_util_set_object_arg(G_OBJECT(app.encoder), "tune", "zerolatency");
    gst_util_set_object_arg(G_OBJECT(app.encoder), "speed-preset", h265 ? "ultrafast" : "superfast");
    // A key frame every second: viewers join within a second.
    g_object_set(app.encoder, "key-int-max", static_cast<guint>(o.fps), nullptr);
    g_object_set(parse, "config-interval", -1, nullptr);
    GstCaps* caps = encoded_caps(o.codec);
    g_object_set(app.sink, "caps", caps, "sync", FALSE, "max-buffers", 5u, "drop", TRUE, "emit-signals", FALSE, nullptr);
    gst_caps_unref(caps);

    gst_bin_add_many(GST_BIN(app.pipeline), app.mux, app.infer, tracker, app.tiler, encode_queue, app.encoder, parse, app.sink, nullptr);
    if (!gst_element_link_many(app.mux, app.infer, tracker, app.tiler, encode_queue, app.encoder, parse, app.sink, nullptr)) {
        throw ss::Error("could not link the output pipeline");
    }

    app.output = std::make_unique<RtspOutput>(o, app.encoder);
    // With the API on, the WHEP endpoint answers also when the live view is off (saying so).
    if (o.api_port != 0) app.webrtc = std::make_unique<WebRtcOutput>(o, app.encoder);
    app.report = std::make_unique<FrameReport>(o.show_frames, app.metadata);  // before anything can call it
    app.report->set_mqtt(app.mqtt_report.get());
    app.report->set_track_events(&app.track_events);
    GstAppSinkCallbacks callbacks{};
    callbacks.new_sample = +[](GstAppSink* sink, gpointer data) -> GstFlowReturn {
        auto& app = *static_cast<App*>(data);
        GstSample* sample = gst_app_sink_pull_sample(sink);
        if (sample) {
            app.report->encoded(ss_running_time_now(GST_ELEMENT(sink)));
            app.output->push(sample);
            if (app.webrtc) app.webrtc->push(sample);
            gst_sample_unref(sample);
        }
        return GST_FLOW_OK;
    };
    gst_app_sink_set_callbacks(GST_APP_SINK(app.sink), &callbacks, &app, nullptr);

    GstPad* tiler_src = gst_element_get_static_pad(app.tiler, "src");
    gst_pad_add_probe(tiler_src, GST_PAD_PROBE_TYPE_BUFFER, +[](GstPad*, GstPadProbeInfo*, gpointer data) {
        ++static_cast<App*>(data)->output_frames;
        return GST_PAD_PROBE_OK;
    }, &app, nullptr);
    gst_object_unref(tiler_src);

    GstPad* tiler_sink = gst_element_get_static_pad(app.tiler, "sink");
    app.report->attach(tiler_sink);
    app.camera_stats.attach(tiler_sink);
    gst_object_unref(tiler_sink);
    GstPad* encoder_sink = gst_element_get_static_pad(app.encoder, "sink");
    app.report->attach_encoder(encoder_sink);
    gst_object_unref(encoder_sink);
}

gboolean on_bus_message(GstBus*, GstMessage* message, gpointer data) {
    auto& app = *static_cast<App*>(data);
    if (app.sources && app.sources->handle_message(message)) return TRUE;
    // Late messages of an input that was already torn down for a retry.
    if (GST_MESSAGE_SRC(message) != GST_OBJECT(app.pipeline) &&
        !gst_object_has_as_ancestor(GST_MESSAGE_SRC(message), GST_OBJECT(app.pipeline))) {
        return TRUE;
    }
    switch (GST_MESSAGE_TYPE(message)) {
        case GST_MESSAGE_ERROR: {
            GError* error = nullptr;
            gchar* debug = nullptr;
            gst_message_parse_error(message, &error, &debug);
            console::error(std::string(GST_OBJECT_NAME(GST_MESSAGE_SRC(message))) + ": " + (error ? error->message : "unknown error"));
            g_clear_error(&error);
            g_free(debug);
            app.exit_code = 1;
            g_main_loop_quit(app.loop);
            break;
        }
        case GST_MESSAGE_EOS:
            g_main_loop_quit(app.loop);
            break;
        case GST_MESSAGE_ELEMENT: {
            const GstStructure* s = gst_message_get_structure(message);
            if (s && gst_structure_has_name(s, "slipstream-interval")) {
                gint interval = 0;
                gdouble rate = 0, cost = 0, detections = 0;
                gst_structure_get(s, "interval", G_TYPE_INT, &interval, "frames-per-second", G_TYPE_DOUBLE, &rate,
                                  "ms-per-detection", G_TYPE_DOUBLE, &cost, "detections-per-second", G_TYPE_DOUBLE, &detections,
                                  nullptr);
                console::note(printed("detection interval (auto): %d — %.1f detections/s of %.1f new frames/s, %.0f ms each",
                                      interval, detections, rate, cost));
            }
            if (s && gst_structure_has_name(s, "slipstream-deadline")) {
                gdouble needed = 0, budget = 0, per_frame = 0;
                gst_structure_get(s, "needed-ms", G_TYPE_DOUBLE, &needed, "budget-ms", G_TYPE_DOUBLE, &budget, "ms-per-frame",
                                  G_TYPE_DOUBLE, &per_frame, nullptr);
                console::warn(printed(
                    "detection needs %.0f ms per batch (%.0f ms per frame), more than the %.0f ms latency budget: "
                    "boxes will land on later frames; raise --interval, use fewer cameras or a smaller network input, "
                    "or raise --latency-budget",
                    needed, per_frame, budget));
            }
            break;
        }
        default:
            break;
    }
    return TRUE;
}

// --mqtt: the client connects (and reconnects) on its own thread; frames reach
// it through the report and a bounded queue. The error, or empty.
std::string start_mqtt(App& app) {
    const Options& o = app.options;
    mqtt::ClientSettings settings;
    settings.broker = *o.mqtt;
    settings.prefix = o.mqtt_prefix;
    settings.queue_messages = static_cast<std::size_t>(o.mqtt_queue);
    app.mqtt_client = std::make_unique<mqtt::MosquittoClient>(settings);
    app.mqtt_report = std::make_unique<mqtt::MqttReport>(
        mqtt::ReportSettings{o.mqtt_prefix, o.mqtt_frames},
        [client = app.mqtt_client.get()](mqtt::Message m) { client->publish(std::move(m)); });
    app.mqtt_client->on_connected([report = app.mqtt_report.get()] { report->resend_counts(); });
    app.track_events.listen([report = app.mqtt_report.get()](const ss::TrackEvent& event) { report->track_event(event); });
    return app.mqtt_client->start();
}

// The HTTP server with the stream API, health and /metrics; the error, or empty.
std::string start_api(App& app) {
    auto server = std::make_unique<HttpServer>();
    server->require_token(app.options.api_token);
    add_stream_api(*server, *app.sources, app.camera_stats, [&app] {
        GstState state = GST_STATE_NULL;
        gst_element_get_state(app.pipeline, &state, nullptr, 0);
        return state == GST_STATE_PLAYING;
    });
    app.metrics = std::make_unique<PipelineMetrics>(
        MetricsInputs{app.sources.get(), &app.camera_stats, app.report.get(), app.infer, &app.output_frames, app.groups});
    add_metrics_route(*server, *app.metrics);
    add_events_api(*server, app.recent_events);
    if (app.webrtc) app.webrtc->add_routes(*server);
    add_web_page(*server);
    if (std::string error = server->listen(app.options.bind_address, app.options.api_port); !error.empty()) return error;
    app.api = std::move(server);
    return {};
}

void route_core_logs() {
    ss::set_log_sink([](ss::LogLevel level, std::string_view message) {
        if (level == ss::LogLevel::error) console::error(message);
        if (level == ss::LogLevel::warning) console::warn(message);
        if (level == ss::LogLevel::info) console::note(message);
    });
}

}  // namespace
}  // namespace slipstream

int run_pipeline_command(int argc, char** argv) {
    using namespace slipstream;
    // NVIDIA's decoders look for an OpenGL display when they open; without a
    // Wayland session GStreamer's default tries Wayland anyway and libwayland
    // prints "XDG_RUNTIME_DIR is invalid or not set" once per camera (seen on
    // a GPU server). X11 fails quietly where there is none. A setting of the
    // user's own wins.
    if (!g_getenv("WAYLAND_DISPLAY")) g_setenv("GST_GL_WINDOW", "x11", FALSE);
    gst_init(&argc, &argv);
    auto parsed = parse_options(argc, argv);
    if (parsed.exit_now) {
        if (!parsed.error.empty()) console::error(parsed.error);
        return parsed.exit_code;
    }
    route_core_logs();
    ss_register_elements();

    App app;
    app.options = parsed.options;
    const Options& o = app.options;
    ss::InferConfig config;
    try {
        // Read once here so a bad config stops us before anything starts, with its file:line.
        config = ss::load_infer_config(o.config_file.empty() ? ss::default_config_path() : std::filesystem::path(o.config_file));
        ss::parse_tracker_settings(config.tracker, &config.warnings);
        for (const auto& warning : config.warnings) console::warn(warning);
    } catch (const ss::Error& e) {
        console::error(e.what());
        return 2;
    }
    if (!o.metadata_file.empty()) {
        app.metadata = o.metadata_file == "-" ? stdout : std::fopen(o.metadata_file.c_str(), "w");
        if (!app.metadata) {
            console::error(o.metadata_file + ": cannot write the metadata file (" + std::strerror(errno) + ")");
            return 2;
        }
    }

    DecodePathChoice decode = choose_decode_path(o.gpu, config.gpu_id);
    if (!decode.error.empty()) {
        console::error(decode.error);
        return 2;
    }
    if (decode.path.gpu) {
        // Detection follows decoding onto the GPU unless the config names a backend.
        config.gpu_id = decode.path.device;
        if (!config.backend_given) config.backend = "cuda";
    }
    console::say(decode.path.summary);
    app.groups = config.groups.names;
    app.track_events.listen([&app](const ss::TrackEvent& event) {
        app.recent_events.add(event, static_cast<double>(g_get_real_time()) / G_USEC_PER_SEC);
    });
    if (o.mqtt) {
        if (const std::string error = start_mqtt(app); !error.empty()) {
            console::error(error);
            return 1;
        }
    }
    try {
        build_pipeline(app, config, decode.path);
    } catch (const ss::Error& e) {
        console::error(e.what());
        return 1;
    }
#ifdef SS_HAVE_CUDA
    if (decode.path.gpu) {
        if (const std::string why = ssgst::share_cuda_context(app.pipeline, decode.path.device); !why.empty()) {
            console::warn("could not share one CUDA context on GPU " + std::to_string(decode.path.device) + " (" + why +
                          "); each camera's decoder makes its own CUDA context");
        }
    }
#endif
    app.loop = g_main_loop_new(nullptr, FALSE);
    GstBus* bus = gst_pipeline_get_bus(GST_PIPELINE(app.pipeline));
    const guint bus_watch = gst_bus_add_watch(bus, on_bus_message, &app);
    gst_object_unref(bus);

    if (const std::string error = app.output->start(); !error.empty()) {
        console::error(error);
        return 1;
    }
    app.sources = std::make_unique<Sources>(app.pipeline, app.mux, o, decode.path, [&app](const std::string&) {
        app.exit_code = 1;
        g_main_loop_quit(app.loop);
    }, &app.camera_stats);
    if (o.api_port > 0) {
        if (const std::string error = start_api(app); !error.empty()) {
            // A port asked for, or the only way to get cameras, must work; the default one may be taken.
            if (o.api_port_given || o.inputs.empty()) {
                console::error(error);
                return 2;
            }
            console::warn(error);
        }
    }
    // Cameras added through the API are told by their camera id; a removed one's tracks end (first) and its counts go.
    app.sources->on_camera_change([&app](int index, const std::string& camera_id, bool joined) {
        const std::string source = std::to_string(index);
        if (joined) {
            app.track_events.name_camera(source, camera_id);
            if (app.mqtt_report) app.mqtt_report->name_camera(source, camera_id);
        } else {
            app.track_events.camera_gone(source);
            if (app.mqtt_report) app.mqtt_report->camera_gone(source);
        }
    });
    app.sources->start();
    if (gst_element_set_state(app.pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
        // The bus holds the reason (e.g. the model failed to load); show it.
        GstBus* b = gst_pipeline_get_bus(GST_PIPELINE(app.pipeline));
        while (GstMessage* m = gst_bus_pop_filtered(b, GST_MESSAGE_ERROR)) {
            GError* error = nullptr;
            gst_message_parse_error(m, &error, nullptr);
            console::error(error ? error->message : "the pipeline failed to start");
            g_clear_error(&error);
            gst_message_unref(m);
        }
        gst_object_unref(b);
        gst_element_set_state(app.pipeline, GST_STATE_NULL);
        return 1;
    }
    const std::string shown_host = o.ip_address.empty() ? lan_address() : o.ip_address;
    if (app.api) console::say("API: " + app.api->url(shown_host) + "/api/v1/stream/get-stream-info");
    if (o.inputs.empty()) console::say("No cameras yet: add them with POST /api/v1/stream/add");
    console::say("Output: " + app.output->uri(shown_host));

    auto quit = +[](gpointer data) -> gboolean {
        g_main_loop_quit(static_cast<App*>(data)->loop);
        return G_SOURCE_CONTINUE;
    };
    const guint sigint = g_unix_signal_add(SIGINT, quit, &app);
    const guint sigterm = g_unix_signal_add(SIGTERM, quit, &app);
    guint duration = 0;
    if (o.duration > 0) duration = g_timeout_add(static_cast<guint>(o.duration * 1000), quit, &app);
    app.started_us = app.last_status_us = g_get_monotonic_time();
    const guint status = g_timeout_add_seconds(60, +[](gpointer data) -> gboolean {
        print_status(*static_cast<App*>(data), "status");
        return G_SOURCE_CONTINUE;
    }, &app);

    g_main_loop_run(app.loop);
    g_source_remove(status);
    print_status(app, "summary");

    g_source_remove(sigint);
    g_source_remove(sigterm);
    if (duration) g_source_remove(duration);
    if (app.webrtc) app.webrtc->close();  // viewers go (and a waiting offer is answered) while the server is there
    app.api.reset();  // no request may add a camera while the pipeline stops
    app.metrics.reset();
    app.sources->stop();
    gst_element_set_state(app.pipeline, GST_STATE_NULL);
    app.sources.reset();
    g_source_remove(bus_watch);
    app.output.reset();
    gst_object_unref(app.pipeline);
    app.report.reset();  // writes out what is queued
    app.track_events.finish();                       // every open track ends
    if (app.mqtt_client) app.mqtt_client->stop();    // sends those and "offline" while the broker takes them
    g_main_loop_unref(app.loop);
    if (app.metadata && app.metadata != stdout) std::fclose(app.metadata);
    return app.exit_code;
}
