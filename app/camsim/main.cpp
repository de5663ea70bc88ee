// slipstream-camsim: video files served over RTSP as simulated live IP cameras.
// See usage_text() in options.cpp for the command line.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <map>
#include <set>
#include <thread>

#include <glib-unix.h>
#include <gst/gst.h>

#include "camera_server.hpp"
#include "encoded_stream.hpp"
#include "options.hpp"

namespace {

using namespace ss::camsim;

struct StopState {
    GMainLoop* loop = nullptr;
    bool requested = false;
};

gboolean on_stop_signal(gpointer data) {
    auto* stop = static_cast<StopState*>(data);
    stop->requested = true;
    g_main_loop_quit(stop->loop);
    return G_SOURCE_CONTINUE;
}

int run(const Options& options, StopState& stop) {
    // Encoding runs on this thread, so signals are picked up by polling the
    // main context between encoded frames.
    auto stop_requested = [&stop] {
        while (g_main_context_iteration(nullptr, FALSE)) {
        }
        return stop.requested;
    };

    // Check every file before spending time encoding any of them.
    for (const std::string& file : std::set<std::string>(options.files.begin(), options.files.end()))
        check_input_file(file);
    std::shared_ptr<SendLog> send_log;
    if (!options.send_log_path.empty()) send_log = std::make_shared<SendLog>(options.send_log_path);

    CameraServer server(options.address, options.port, send_log);
    if (!options.auth_user.empty()) server.require_login(options.auth_user, options.auth_password);
    const auto cache_dir = default_cache_dir();
    std::map<std::string, std::shared_ptr<const EncodedStream>> streams_by_identity;
    std::vector<CameraSettings> cameras = expand_cameras(options);
    std::vector<ServedCamera> served;
    for (const CameraSettings& camera : cameras) {
        StreamRequest request;
        request.file = camera.file;
        request.codec = camera.codec;
        request.width = camera.width;
        request.height = camera.height;
        request.fps = camera.fps;
        request.bitrate_bps = camera.bitrate_bps;
        request.stamp = options.stamp;
        request.stamp_cell = options.stamp_cell;
        request.stamp_bottom = options.stamp_bottom;
        request.stamp_shape = options.stamp_shape;
        request.duration_s = options.duration_s;
        auto& stream = streams_by_identity[request.identity()];
        if (!stream) stream = load_or_encode(request, cache_dir, stop_requested);
        if (!stream) return 0;  // stopped by a signal while encoding
        served.push_back({camera.index, stream, camera.bitrate_bps});
    }
    if (stop_requested()) return 0;

    for (const ServedCamera& camera : served) server.add_camera(camera);
    server.serve();
    for (size_t i = 0; i < cameras.size(); ++i) {
        const EncodedStream& stream = *served[i].stream;
        std::printf("cam%d %s %s %dx%d@%d from %s\n", cameras[i].index, server.url(cameras[i].index).c_str(),
                    codec_name(stream.codec), stream.width, stream.height, stream.fps, cameras[i].file.c_str());
    }
    std::printf("ready\n");
    std::fflush(stdout);

    if (!stop.requested) g_main_loop_run(stop.loop);

    server.stop();
    // Media teardown finishes on GStreamer's threads; give it a short,
    // bounded moment so exit is clean but still prompt.
    for (int waited_ms = 0; server.active_feeders() > 0 && waited_ms < 500; waited_ms += 10) {
        while (g_main_context_iteration(nullptr, FALSE)) {
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    gst_init(nullptr, nullptr);

    Options options;
    try {
        options = parse_options(argc, argv);
    } catch (const InputError& error) {
        std::fprintf(stderr, "slipstream-camsim: error: %s\n", error.what());
        return 2;
    }
    if (options.show_help) {
        std::fputs(usage_text().c_str(), stdout);
        return 0;
    }

    StopState stop;
    stop.loop = g_main_loop_new(nullptr, FALSE);
    guint sigint_watch = g_unix_signal_add(SIGINT, on_stop_signal, &stop);
    guint sigterm_watch = g_unix_signal_add(SIGTERM, on_stop_signal, &stop);

    int status = 0;
    try {
        status = run(options, stop);
    } catch (const InputError& error) {
        std::fprintf(stderr, "slipstream-camsim: error: %s\n", error.what());
        status = 2;
    } catch (const std::exception& error) {
        std::fprintf(stderr, "slipstream-camsim: error: %s\n", error.what());
        status = 1;
    }

    g_source_remove(sigint_watch);
    g_source_remove(sigterm_watch);
    g_main_loop_unref(stop.loop);
    return status;
}
