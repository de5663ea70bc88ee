#include "camera_server.hpp"

#include <time.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <set>
#include <thread>

#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/rtsp-server/rtsp-server.h>

#include "frame_stamp.hpp"

namespace ss::camsim {
namespace {

constexpr const char* kFeederKey = "slipstream-camsim-feeder";

class MediaFeeder;

// Lets shutdown reach every live feeder, whichever thread owns it.
class FeederRegistry {
public:
    void add(MediaFeeder* feeder);
    void remove(MediaFeeder* feeder);
    void stop_all();
    size_t size() const {
        std::lock_guard lock(mutex_);
        return feeders_.size();
    }

private:
    mutable std::mutex mutex_;
    std::set<MediaFeeder*> feeders_;
    bool stopping_ = false;
};

// Immutable per-camera facts every feeder of that camera needs.
struct CameraFeed {
    int index = 0;
    std::shared_ptr<const EncodedStream> stream;
    std::shared_ptr<SendLog> send_log;
    std::shared_ptr<FeederRegistry> registry;
    std::chrono::steady_clock::time_point epoch;  // when the camera "started recording"
    guint64 max_queued_bytes = 0;
};

// Feeds one media's appsrc from its own thread. Owned by the media (object
// data), so it is destroyed when the media is unprepared or finalized.
class MediaFeeder {
public:
    MediaFeeder(std::shared_ptr<const CameraFeed> feed, GstElement* appsrc)
        : feed_(std::move(feed)), appsrc_(appsrc) {
        feed_->registry->add(this);
        thread_ = std::thread([this] { run(); });
    }

    ~MediaFeeder() {
        feed_->registry->remove(this);
        request_stop();
        thread_.join();
        gst_object_unref(appsrc_);
    }

    MediaFeeder(const MediaFeeder&) = delete;
    MediaFeeder& operator=(const MediaFeeder&) = delete;

    void request_stop() {
        std::lock_guard lock(mutex_);
        stop_ = true;
        wake_.notify_all();
    }

private:
    // Running time of the appsrc's pipeline, or nothing while it is not playing
    // (live sources only produce data in PLAYING).
    bool running_time_now(GstClockTime& now) const {
        GST_OBJECT_LOCK(appsrc_);
        GstClock* clock = GST_STATE(appsrc_) == GST_STATE_PLAYING ? GST_ELEMENT_CLOCK(appsrc_) : nullptr;
        if (clock) gst_object_ref(clock);
        GstClockTime base_time = GST_ELEMENT_CAST(appsrc_)->base_time;
        GST_OBJECT_UNLOCK(appsrc_);
        if (!clock) return false;
        GstClockTime clock_now = gst_clock_get_time(clock);
        gst_object_unref(clock);
        if (!GST_CLOCK_TIME_IS_VALID(clock_now) || clock_now < base_time) return false;
        now = clock_now - base_time;
        return true;
    }

    size_t live_start_unit() const {
        const EncodedStream& stream = *feed_->stream;
        auto elapsed = std::chrono::steady_clock::now() - feed_->epoch;
        auto elapsed_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count();
        guint64 frames = gst_util_uint64_scale(static_cast<guint64>(std::max<int64_t>(0, elapsed_ns)),
                                               static_cast<guint64>(stream.fps), GST_SECOND);
        return stream.keyframe_at_or_before(frames % stream.units.size());
    }

    void push(size_t unit_index, GstClockTime pts, GstClockTime duration) {
        const EncodedStream& stream = *feed_->stream;
        const AccessUnit& unit = stream.units[unit_index];
        // Wrap the bytes without copying; the buffer keeps the stream alive.
        auto* keep_alive = new std::shared_ptr<const EncodedStream>(feed_->stream);
        GstBuffer* buffer = gst_buffer_new_wrapped_full(
            GST_MEMORY_FLAG_READONLY, const_cast<uint8_t*>(stream.data(unit)), unit.size, 0, unit.size, keep_alive,
            [](gpointer data) { delete static_cast<std::shared_ptr<const EncodedStream>*>(data); });
        GST_BUFFER_PTS(buffer) = pts;
        GST_BUFFER_DTS(buffer) = pts;  // no B-frames: decode order is display order
        GST_BUFFER_DURATION(buffer) = duration;
        if (!unit.keyframe) GST_BUFFER_FLAG_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT);
        if (feed_->send_log) feed_->send_log->record(feed_->index, unit_index & kStampCounterMask);
        gst_app_src_push_buffer(GST_APP_SRC(appsrc_), buffer);
    }

    void run() {
        using namespace std::chrono_literals;
        const EncodedStream& stream = *feed_->stream;
        const auto fps = static_cast<guint64>(stream.fps);
        const GstClockTime frame_duration = gst_util_uint64_scale(1, GST_SECOND, fps);

        bool started = false;
        size_t next_unit = 0;
        // Frame k is due at timeline_start + k / fps; computing it from k keeps
        // rounding from drifting the pace.
        GstClockTime timeline_start = 0;
        guint64 frames_on_timeline = 0;
        bool skip_to_keyframe = false;

        std::unique_lock lock(mutex_);
        while (!stop_) {
            GstClockTime now = 0;
            if (!running_time_now(now)) {
                wake_.wait_for(lock, 20ms);
                continue;
            }
            if (!started) {
                next_unit = live_start_unit();
                timeline_start = now;
                frames_on_timeline = 0;
                started = true;
            }
            GstClockTime due = timeline_start + gst_util_uint64_scale(frames_on_timeline, GST_SECOND, fps);
            // After a pause or a long stall, restart the timeline at "now"
            // instead of bursting to catch up or waiting for a far deadline.
            if (now > due + GST_SECOND || due > now + GST_SECOND) {
                timeline_start = due = now;
                frames_on_timeline = 0;
            }
            if (now < due) {
                wake_.wait_for(lock, std::chrono::nanoseconds(due - now));
                continue;
            }

            lock.unlock();
            const AccessUnit& unit = stream.units[next_unit];
            // If downstream stops taking data (e.g. a media prepared but not
            // yet played), drop frames like a congested camera would, and
            // resume on a key frame so decoders never see a broken reference.
            if (gst_app_src_get_current_level_bytes(GST_APP_SRC(appsrc_)) > feed_->max_queued_bytes)
                skip_to_keyframe = true;
            else if (skip_to_keyframe && unit.keyframe)
                skip_to_keyframe = false;
            if (!skip_to_keyframe) push(next_unit, due, frame_duration);
            lock.lock();

            next_unit = (next_unit + 1) % stream.units.size();
            ++frames_on_timeline;
        }
    }

    std::shared_ptr<const CameraFeed> feed_;
    GstElement* appsrc_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stop_ = false;
    std::thread thread_;  // last, so it starts after everything it uses
};

void FeederRegistry::add(MediaFeeder* feeder) {
    std::lock_guard lock(mutex_);
    feeders_.insert(feeder);
    if (stopping_) feeder->request_stop();
}

void FeederRegistry::remove(MediaFeeder* feeder) {
    std::lock_guard lock(mutex_);
    feeders_.erase(feeder);
}

void FeederRegistry::stop_all() {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    for (MediaFeeder* feeder : feeders_) feeder->request_stop();
}

void on_media_unprepared(GstRTSPMedia* media, gpointer) {
    // The pipeline is being torn down: stop feeding it now rather than
    // whenever the media object is finally released.
    g_object_set_data(G_OBJECT(media), kFeederKey, nullptr);
}

void on_media_configure(GstRTSPMediaFactory*, GstRTSPMedia* media, gpointer data) {
    const auto& feed = *static_cast<std::shared_ptr<const CameraFeed>*>(data);
    GstElement* bin = gst_rtsp_media_get_element(media);
    GstElement* appsrc = gst_bin_get_by_name_recurse_up(GST_BIN(bin), "src");
    gst_object_unref(bin);
    if (!appsrc) return;

    GstCaps* caps = gst_caps_from_string(stream_caps(feed->stream->codec));
    gst_caps_set_simple(caps, "width", G_TYPE_INT, feed->stream->width, "height", G_TYPE_INT, feed->stream->height,
                        "framerate", GST_TYPE_FRACTION, feed->stream->fps, 1, nullptr);
    gst_app_src_set_caps(GST_APP_SRC(appsrc), caps);
    gst_caps_unref(caps);

    auto* feeder = new MediaFeeder(feed, appsrc);  // takes over the appsrc reference
    g_object_set_data_full(G_OBJECT(media), kFeederKey, feeder,
                           [](gpointer object) { delete static_cast<MediaFeeder*>(object); });
    g_signal_connect(media, "unprepared", G_CALLBACK(on_media_unprepared), nullptr);
}

GstRTSPFilterResult drop_client(GstRTSPServer*, GstRTSPClient*, gpointer) { return GST_RTSP_FILTER_REMOVE; }

GstRTSPFilterResult drop_session(GstRTSPSessionPool*, GstRTSPSession*, gpointer) { return GST_RTSP_FILTER_REMOVE; }

}  // namespace

SendLog::SendLog(const std::string& path) {
    file_ = std::fopen(path.c_str(), "a");
    if (!file_) {
        throw InputError("--send-log " + path + ": cannot open it for appending (" + std::strerror(errno) +
                         "); check the folder exists and is writable");
    }
}

SendLog::~SendLog() {
    if (file_) std::fclose(file_);
}

void SendLog::record(int camera, uint32_t counter) {
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    long long ns = static_cast<long long>(now.tv_sec) * 1'000'000'000LL + now.tv_nsec;
    std::lock_guard lock(mutex_);
    std::fprintf(file_, "cam%d %u %lld\n", camera, counter, ns);
    std::fflush(file_);  // readers follow the log while camsim runs
}

struct CameraServer::State {
    GstRTSPServer* server = nullptr;
    GSource* listener = nullptr;
    std::shared_ptr<FeederRegistry> registry = std::make_shared<FeederRegistry>();
    std::shared_ptr<SendLog> send_log;
    std::chrono::steady_clock::time_point epoch;  // shared by all cameras
    std::string url_host;
    int port = 0;
    bool login_required = false;
};

CameraServer::CameraServer(const std::string& address, int port, std::shared_ptr<SendLog> send_log)
    : state_(std::make_unique<State>()) {
    state_->send_log = std::move(send_log);
    state_->epoch = std::chrono::steady_clock::now();
    state_->server = gst_rtsp_server_new();
    gst_rtsp_server_set_address(state_->server, address.c_str());
    gst_rtsp_server_set_service(state_->server, std::to_string(port).c_str());
    // Clients of a wildcard address still reach it over loopback.
    state_->url_host = address == "0.0.0.0" ? "127.0.0.1" : address == "::" ? "::1" : address;
    if (state_->url_host.find(':') != std::string::npos) state_->url_host = "[" + state_->url_host + "]";

    GError* error = nullptr;
    state_->listener = gst_rtsp_server_create_source(state_->server, nullptr, &error);
    if (!state_->listener) {
        std::string reason = error ? error->message : "unknown error";
        if (error) g_error_free(error);
        g_object_unref(state_->server);
        state_->server = nullptr;
        throw InputError("cannot listen on " + address + " port " + std::to_string(port) + " (" + reason +
                         "); pick a free --port (0 picks one) or another --address");
    }
    state_->port = gst_rtsp_server_get_bound_port(state_->server);
}

void CameraServer::require_login(const std::string& user, const std::string& password) {
    GstRTSPAuth* auth = gst_rtsp_auth_new();
    GstRTSPToken* token = gst_rtsp_token_new(GST_RTSP_TOKEN_MEDIA_FACTORY_ROLE, G_TYPE_STRING, "viewer", nullptr);
    gchar* basic = gst_rtsp_auth_make_basic(user.c_str(), password.c_str());
    gst_rtsp_auth_add_basic(auth, basic, token);
    g_free(basic);
    gst_rtsp_auth_add_digest(auth, user.c_str(), password.c_str(), token);
    gst_rtsp_auth_set_supported_methods(auth, static_cast<GstRTSPAuthMethod>(GST_RTSP_AUTH_BASIC | GST_RTSP_AUTH_DIGEST));
    gst_rtsp_token_unref(token);
    gst_rtsp_server_set_auth(state_->server, auth);
    g_object_unref(auth);
    state_->login_required = true;
}

void CameraServer::serve() {
    if (state_->listener) g_source_attach(state_->listener, nullptr);
}

void CameraServer::add_camera(const ServedCamera& camera) {
    auto feed = std::make_shared<CameraFeed>();
    feed->index = camera.index;
    feed->stream = camera.stream;
    feed->send_log = state_->send_log;
    feed->registry = state_->registry;
    feed->epoch = state_->epoch;
    // About a second of video, and never less than a large key frame.
    feed->max_queued_bytes = std::max<guint64>(camera.bitrate_bps / 8, 512 * 1024);

    const bool h264 = camera.stream->codec == Codec::h264;
    std::string launch = std::string("( appsrc name=src is-live=true format=time ! ") +
                         (h264 ? "h264parse ! rtph264pay" : "h265parse ! rtph265pay") +
                         " name=pay0 pt=96 config-interval=-1 )";
    GstRTSPMediaFactory* factory = gst_rtsp_media_factory_new();
    gst_rtsp_media_factory_set_launch(factory, launch.c_str());
    gst_rtsp_media_factory_set_shared(factory, TRUE);
    if (state_->login_required) {
        // Only the logged-in role may see and play the camera.
        gst_rtsp_media_factory_add_role(factory, "viewer", GST_RTSP_PERM_MEDIA_FACTORY_ACCESS, G_TYPE_BOOLEAN, TRUE,
                                        GST_RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, G_TYPE_BOOLEAN, TRUE, nullptr);
    }
    g_signal_connect_data(
        factory, "media-configure", G_CALLBACK(on_media_configure),
        new std::shared_ptr<const CameraFeed>(std::move(feed)),
        [](gpointer data, GClosure*) { delete static_cast<std::shared_ptr<const CameraFeed>*>(data); },
        GConnectFlags(0));
    GstRTSPMountPoints* mounts = gst_rtsp_server_get_mount_points(state_->server);
    std::string path = "/cam" + std::to_string(camera.index);
    gst_rtsp_mount_points_add_factory(mounts, path.c_str(), factory);
    g_object_unref(mounts);
}

CameraServer::~CameraServer() {
    stop();
    if (state_->server) g_object_unref(state_->server);
}

int CameraServer::port() const { return state_->port; }

std::string CameraServer::url(int camera) const {
    return "rtsp://" + state_->url_host + ":" + std::to_string(state_->port) + "/cam" + std::to_string(camera);
}

void CameraServer::stop() {
    state_->registry->stop_all();
    if (state_->listener) {
        g_source_destroy(state_->listener);
        g_source_unref(state_->listener);
        state_->listener = nullptr;
    }
    if (!state_->server) return;
    gst_rtsp_server_client_filter(state_->server, drop_client, nullptr);
    // Removing the sessions releases their media, which unprepares them.
    GstRTSPSessionPool* sessions = gst_rtsp_server_get_session_pool(state_->server);
    gst_rtsp_session_pool_filter(sessions, drop_session, nullptr);
    g_object_unref(sessions);
}

size_t CameraServer::active_feeders() const { return state_->registry->size(); }

}  // namespace ss::camsim
