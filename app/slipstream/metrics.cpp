#include "metrics.hpp"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "camera_stats.hpp"
#include "frame_report.hpp"
#include "line_writer.hpp"
#include "mqtt/mqtt_stats.hpp"
#include "prometheus_text.hpp"
#include "sources.hpp"

namespace slipstream {

namespace {

using prometheus::Labels;
using Type = prometheus::TextWriter::Type;

// Rates over the last few seconds, like the cameras' own (camera_stats.cpp).
constexpr gint64 rate_window_us = 4 * G_USEC_PER_SEC;

struct ProcessFigures {
    double cpu_seconds = -1;
    double resident_bytes = -1;
};

// utime + stime (fields 14 and 15 of /proc/self/stat) and resident pages (/proc/self/statm).
ProcessFigures process_figures() {
    ProcessFigures p;
    std::ifstream stat("/proc/self/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
    if (const auto close = text.rfind(')'); close != std::string::npos) {
        std::istringstream fields(text.substr(close + 1));
        std::string field;
        unsigned long long utime = 0, stime = 0;
        for (int number = 3; fields >> field && number <= 15; ++number) {
            if (number == 14) utime = std::stoull(field);
            if (number == 15) stime = std::stoull(field);
        }
        p.cpu_seconds = static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
    }
    std::ifstream statm("/proc/self/statm");
    unsigned long long size = 0, resident = 0;
    if (statm >> size >> resident) p.resident_bytes = static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
    return p;
}

}  // namespace

PipelineMetrics::PipelineMetrics(MetricsInputs inputs) : in_(std::move(inputs)) {
    tick(this);
    timer_ = g_timeout_add_seconds(1, &PipelineMetrics::tick, this);
}

PipelineMetrics::~PipelineMetrics() {
    if (timer_) g_source_remove(timer_);
}

guint64 PipelineMetrics::detected_frames() const {
    guint64 detected = 0;
    if (in_.infer) g_object_get(in_.infer, "detected-frames", &detected, nullptr);
    return detected;
}

gboolean PipelineMetrics::tick(gpointer data) {
    auto* self = static_cast<PipelineMetrics*>(data);
    const gint64 now = g_get_monotonic_time();
    const guint64 output = self->in_.output_frames ? self->in_.output_frames->load() : 0;
    self->samples_.push_back({now, output, self->detected_frames()});
    while (self->samples_.size() > 2 && now - self->samples_[1].at_us >= rate_window_us) self->samples_.pop_front();
    return G_SOURCE_CONTINUE;
}

std::pair<double, double> PipelineMetrics::rates() const {
    if (samples_.size() < 2) return {0, 0};
    const Sample& first = samples_.front();
    const Sample& last = samples_.back();
    const double seconds = static_cast<double>(last.at_us - first.at_us) / G_USEC_PER_SEC;
    if (seconds <= 0) return {0, 0};
    return {static_cast<double>(last.output_frames - first.output_frames) / seconds,
            static_cast<double>(last.detected_frames - first.detected_frames) / seconds};
}

std::string PipelineMetrics::exposition() const {
    prometheus::TextWriter w;
    const std::vector<InputStatus> cameras = in_.sources ? in_.sources->statuses() : std::vector<InputStatus>{};
    auto camera_labels = [](const InputStatus& camera) {
        // The id and the name only: never the URL, which may carry credentials.
        return Labels{{"camera_id", camera.camera_id}, {"camera_name", camera.name}};
    };
    // One family of per-camera counters, read from each camera's counters.
    auto camera_counter = [&](const char* name, const char* help, auto read) {
        w.family(name, Type::counter, help);
        for (const InputStatus& camera : cameras) {
            if (camera.counters) w.sample(name, camera_labels(camera), static_cast<double>(read(*camera.counters)));
        }
    };
    camera_counter("slipstream_camera_frames_received_total", "Decoded frames from the camera that reached the batch mux.",
                   [](const CameraCounters& c) { return c.frames_received.load(); });
    camera_counter("slipstream_camera_frames_shown_total", "New frames of the camera that went out in a batch (one metadata line each).",
                   [](const CameraCounters& c) { return c.frames_shown.load(); });
    camera_counter("slipstream_camera_frames_detected_total", "Frames of the camera that detection ran on.",
                   [](const CameraCounters& c) { return c.frames_detected.load(); });
    camera_counter("slipstream_camera_reconnects_total", "Times the camera dropped after having shown video.",
                   [](const CameraCounters& c) { return c.reconnects.load(); });

    w.family("slipstream_camera_detections_total", Type::counter,
             "Objects found on the camera's detected frames, by counting group.");
    for (const InputStatus& camera : cameras) {
        std::map<std::string, guint64> by_group =
            in_.camera_stats ? in_.camera_stats->detections_by_group(static_cast<guint>(camera.index)) : std::map<std::string, guint64>{};
        for (const std::string& group : in_.groups) by_group.emplace(group, 0);  // every group, seen or not yet
        for (const auto& [group, count] : by_group) {
            Labels labels = camera_labels(camera);
            labels.emplace_back("group", group);
            w.sample("slipstream_camera_detections_total", labels, static_cast<double>(count));
        }
    }
    w.family("slipstream_camera_up", Type::gauge, "1 while frames arrive from the camera, else 0 (connecting, reconnecting, failed).");
    for (const InputStatus& camera : cameras) w.sample("slipstream_camera_up", camera_labels(camera), camera.state == "playing" ? 1 : 0);

    const auto [output_fps, detection_rate] = rates();
    w.family("slipstream_output_frames_total", Type::counter, "Pictures the tiler made for the output stream.");
    w.sample("slipstream_output_frames_total", {}, static_cast<double>(in_.output_frames ? in_.output_frames->load() : 0));
    w.family("slipstream_output_fps", Type::gauge, "Output pictures per second over the last few seconds.");
    w.sample("slipstream_output_fps", {}, output_fps);
    guint64 on_time = 0;
    if (in_.infer) g_object_get(in_.infer, "on-time-frames", &on_time, nullptr);
    w.family("slipstream_detected_frames_total", Type::counter, "Frames detection ran on, all cameras.");
    w.sample("slipstream_detected_frames_total", {}, static_cast<double>(detected_frames()));
    w.family("slipstream_detected_frames_on_time_total", Type::counter,
             "Detected frames whose boxes went out with the very frame they were found in.");
    w.sample("slipstream_detected_frames_on_time_total", {}, static_cast<double>(on_time));
    w.family("slipstream_detection_rate", Type::gauge, "Frames detected per second over the last few seconds, all cameras.");
    w.sample("slipstream_detection_rate", {}, detection_rate);
    gdouble deadline_ms = 0;
    if (in_.infer) g_object_get(in_.infer, "deadline", &deadline_ms, nullptr);
    w.family("slipstream_detection_deadline_seconds", Type::gauge,
             "How long a batch may wait for its detections before it goes on without them (the deadline in force).");
    w.sample("slipstream_detection_deadline_seconds", {}, deadline_ms / 1000);

    w.family("slipstream_stage_latency_seconds", Type::histogram,
             "Latency of each stage from the camera's timestamp to the encoded picture, per new frame "
             "(tiling_encoding: per output picture).");
    if (in_.report) {
        for (const auto& [stage, histogram] : in_.report->stage_histograms()) {
            w.histogram("slipstream_stage_latency_seconds", {{"stage", stage}}, histogram);
        }
    }

    w.family("slipstream_dropped_lines_total", Type::counter,
             "Output lines (per-frame lines, metadata) dropped because their reader did not keep up.");
    for (const auto& [output, lines] : LineWriter::dropped_lines()) {
        w.sample("slipstream_dropped_lines_total", {{"output", output}}, static_cast<double>(lines));
    }

    const mqtt::MqttStats& m = mqtt::mqtt_stats();
    if (m.enabled) {
        w.family("slipstream_mqtt_messages_published_total", Type::counter, "MQTT messages the broker took.");
        w.sample("slipstream_mqtt_messages_published_total", {}, static_cast<double>(m.published.load()));
        w.family("slipstream_mqtt_messages_dropped_total", Type::counter,
                 "MQTT messages given up because the bounded queue was full (broker slow or gone).");
        w.sample("slipstream_mqtt_messages_dropped_total", {}, static_cast<double>(m.dropped.load()));
        w.family("slipstream_mqtt_connected", Type::gauge, "1 while connected to the MQTT broker, else 0.");
        w.sample("slipstream_mqtt_connected", {}, m.connected ? 1 : 0);
    }

    const ProcessFigures process = process_figures();
    if (process.cpu_seconds >= 0) {
        w.family("process_cpu_seconds_total", Type::counter, "Total user and system CPU time spent in seconds.");
        w.sample("process_cpu_seconds_total", {}, process.cpu_seconds);
    }
    if (process.resident_bytes >= 0) {
        w.family("process_resident_memory_bytes", Type::gauge, "Resident memory size in bytes.");
        w.sample("process_resident_memory_bytes", {}, process.resident_bytes);
    }
    return w.text();
}

void add_metrics_route(HttpServer& server, const PipelineMetrics& metrics) {
    server.route("GET", "/metrics", [&metrics](const HttpRequest&) {
        HttpResponse response;
        response.content_type = prometheus::content_type;
        response.body = metrics.exposition();
        return response;
    });
}

}  // namespace slipstream
