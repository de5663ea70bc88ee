#pragma once
// Serves in-memory encoded streams as live RTSP cameras at /cam<i>.
//
// Each camera has one shared media: all its clients see the same stream. While
// a media exists a feeder thread pushes its access units into the media's
// appsrc at real-time pace with running-time timestamps, looping the stream
// with timestamps that keep increasing. A media that is (re)created starts at
// the key frame at or before where the camera "is" now, as if it had been
// recording all along since camsim started. Media are not reusable (the
// gst-rtsp-server default), so every prepare comes with a new media and a new
// feeder; unprepare stops the feeder.
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "encoded_stream.hpp"

namespace ss::camsim {

// Appends "cam<i> <counter> <CLOCK_REALTIME ns>" lines; shared by all feeders.
class SendLog {
public:
    explicit SendLog(const std::string& path);  // throws InputError
    ~SendLog();
    SendLog(const SendLog&) = delete;
    SendLog& operator=(const SendLog&) = delete;

    void record(int camera, uint32_t counter);

private:
    std::mutex mutex_;
    std::FILE* file_ = nullptr;
};

struct ServedCamera {
    int index = 0;
    std::shared_ptr<const EncodedStream> stream;
    int bitrate_bps = 0;
};

class CameraServer {
public:
    // Binds and listens at once, so a bad address or busy port is reported
    // before any encoding; throws InputError. Clients are answered only after
    // serve(): until then a connection waits in the listen queue, so a client
    // that reconnects while camsim starts never sees a 404 for a camera that
    // is not mounted yet.
    CameraServer(const std::string& address, int port, std::shared_ptr<SendLog> send_log);
    ~CameraServer();
    CameraServer(const CameraServer&) = delete;
    CameraServer& operator=(const CameraServer&) = delete;

    // Clients must log in as user/password (basic or digest auth); others
    // get 401. Call before add_camera.
    void require_login(const std::string& user, const std::string& password);

    // Serves `camera` at /cam<index>.
    void add_camera(const ServedCamera& camera);

    // Starts answering clients (on the default GLib main context).
    void serve();

    int port() const;
    std::string url(int camera) const;

    // Stops feeding, stops listening and drops all clients.
    void stop();
    // Feeders still alive (their media not yet torn down).
    size_t active_feeders() const;

private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace ss::camsim
