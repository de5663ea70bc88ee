#include "rtsp_output.hpp"

#include <gst/app/gstappsrc.h>
#include <gst/video/video.h>
#include <ifaddrs.h>
#include <arpa/inet.h>
#include <net/if.h>

#include <algorithm>

#include "meta/running_time.hpp"

namespace slipstream {

GstCaps* encoded_caps(OutputCodec codec) {
    // H.264 in constrained baseline: what every browser's WebRTC takes (the
    // live view is the same stream), at a small cost in bits over High.
    return gst_caps_from_string(codec == OutputCodec::h265 ? "video/x-h265,stream-format=byte-stream,alignment=au"
                                                           : "video/x-h264,stream-format=byte-stream,alignment=au,"
                                                             "profile=constrained-baseline");
}

RtspOutput::RtspOutput(const Options& options, GstElement* encoder) : options_(options), encoder_(encoder) {
    gst_object_ref(encoder_);
    const bool h265 = options_.codec == OutputCodec::h265;
    caps_ = encoded_caps(options_.codec);
    server_ = gst_rtsp_server_new();
    gst_rtsp_server_set_address(server_, options_.bind_address.c_str());
    gst_rtsp_server_set_service(server_, std::to_string(options_.port).c_str());
    factory_ = gst_rtsp_media_factory_new();
    // Timestamps keep the output's exact frame spacing; parameter sets travel in-band
    // with every key frame (the parser's config-interval=-1 upstream), so a viewer can
    // start at any key frame.
    const std::string launch = std::string("( appsrc name=src is-live=true format=time ") +
                               (h265 ? "! h265parse ! rtph265pay" : "! h264parse ! rtph264pay") +
                               " name=pay0 pt=96 )";
    gst_rtsp_media_factory_set_launch(factory_, launch.c_str());
    gst_rtsp_media_factory_set_shared(factory_, TRUE);
    g_signal_connect(factory_, "media-configure", G_CALLBACK(&RtspOutput::on_media_configure), this);

    if (!options_.rtsp_user.empty()) {
        GstRTSPAuth* auth = gst_rtsp_auth_new();
        GstRTSPToken* token = gst_rtsp_token_new(GST_RTSP_TOKEN_MEDIA_FACTORY_ROLE, G_TYPE_STRING, "viewer", nullptr);
        gchar* basic = gst_rtsp_auth_make_basic(options_.rtsp_user.c_str(), options_.rtsp_password.c_str());
        gst_rtsp_auth_add_basic(auth, basic, token);
        g_free(basic);
        gst_rtsp_auth_add_digest(auth, options_.rtsp_user.c_str(), options_.rtsp_password.c_str(), token);
        gst_rtsp_auth_set_supported_methods(auth, static_cast<GstRTSPAuthMethod>(GST_RTSP_AUTH_BASIC | GST_RTSP_AUTH_DIGEST));
        gst_rtsp_token_unref(token);
        gst_rtsp_media_factory_add_role(factory_, "viewer", GST_RTSP_PERM_MEDIA_FACTORY_ACCESS, G_TYPE_BOOLEAN, TRUE,
                                        GST_RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, G_TYPE_BOOLEAN, TRUE, nullptr);
        gst_rtsp_server_set_auth(server_, auth);
        g_object_unref(auth);
    }

    // Every viewer that starts playing gets a key frame at once, also when it
    // joins a shared media that is already running.
    g_signal_connect(server_, "client-connected", G_CALLBACK(+[](GstRTSPServer*, GstRTSPClient* client, gpointer self) {
        g_signal_connect(client, "play-request", G_CALLBACK(+[](GstRTSPClient*, GstRTSPContext*, gpointer self) {
            static_cast<RtspOutput*>(self)->request_key_frame();
        }), self);
    }), this);

    GstRTSPMountPoints* mounts = gst_rtsp_server_get_mount_points(server_);
    gst_rtsp_mount_points_add_factory(mounts, options_.path.c_str(), GST_RTSP_MEDIA_FACTORY(g_object_ref(factory_)));
    g_object_unref(mounts);
}

RtspOutput::~RtspOutput() {
    if (source_id_) g_source_remove(source_id_);
    {
        std::lock_guard lock(mutex_);
        for (auto& feed : feeds_) gst_object_unref(feed.appsrc);
        feeds_.clear();
    }
    if (factory_) g_object_unref(factory_);
    if (server_) g_object_unref(server_);
    gst_caps_unref(caps_);
    gst_object_unref(encoder_);
}

std::string RtspOutput::start() {
    source_id_ = gst_rtsp_server_attach(server_, nullptr);
    if (!source_id_) {
        return "cannot serve RTSP on " + options_.bind_address + ":" + std::to_string(options_.port) +
               " (port in use or address not on this host?); choose another with --port or --bind";
    }
    return {};
}

std::string RtspOutput::uri(const std::string& host) const {
    return "rtsp://" + host + ":" + std::to_string(options_.port) + options_.path;
}

void RtspOutput::request_key_frame() {
    // A new viewer should not wait for the next scheduled key frame.
    GstPad* pad = gst_element_get_static_pad(encoder_, "src");
    if (!pad) return;
    gst_pad_send_event(pad, gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
    gst_object_unref(pad);
}

void RtspOutput::on_media_configure(GstRTSPMediaFactory*, GstRTSPMedia* media, gpointer data) {
    auto* self = static_cast<RtspOutput*>(data);
    GstElement* element = gst_rtsp_media_get_element(media);
    GstElement* appsrc = gst_bin_get_by_name(GST_BIN(element), "src");
    gst_object_unref(element);
    if (!appsrc) return;
    // Bounded and leaky: when the media pipeline cannot keep up, the oldest
    // data goes, nothing upstream waits.
    g_object_set(appsrc, "caps", self->caps_, "max-bytes", static_cast<guint64>(4 << 20), "block", FALSE, nullptr);
    gst_util_set_object_arg(G_OBJECT(appsrc), "leaky-type", "downstream");
    {
        std::lock_guard lock(self->mutex_);
        self->feeds_.push_back({appsrc});
    }
    using Binding = std::pair<RtspOutput*, GstElement*>;
    auto on_unprepared = +[](GstRTSPMedia*, gpointer data) {
        auto* binding = static_cast<Binding*>(data);
        std::lock_guard lock(binding->first->mutex_);
        auto& list = binding->first->feeds_;
        auto it = std::find_if(list.begin(), list.end(), [&](const Feed& f) { return f.appsrc == binding->second; });
        if (it != list.end()) {
            gst_object_unref(it->appsrc);
            list.erase(it);
        }
    };
    auto free_binding = +[](gpointer data, GClosure*) { delete static_cast<Binding*>(data); };
    g_signal_connect_data(media, "unprepared", G_CALLBACK(on_unprepared), new Binding(self, appsrc), free_binding,
                          static_cast<GConnectFlags>(0));
    self->request_key_frame();
}

void RtspOutput::push(GstSample* sample) {
    GstBuffer* buffer = gst_sample_get_buffer(sample);
    if (!buffer || !GST_BUFFER_PTS_IS_VALID(buffer)) return;
    std::lock_guard lock(mutex_);
    for (auto& feed : feeds_) feed.timing.push(buffer, feed.appsrc);
}

namespace {

// The viewer pipeline's running time now, or NONE while the appsrc is not
// PLAYING: its base time is only set on the way to PLAYING, and a clock can come
// first (a media being prepared), when clock less base is the clock's whole
// time, minutes ahead; a buffer stamped that far ahead holds the sink for good.
GstClockTime playing_running_time(GstElement* appsrc) {
    GST_OBJECT_LOCK(appsrc);
    const bool playing = GST_STATE(appsrc) == GST_STATE_PLAYING;
    GST_OBJECT_UNLOCK(appsrc);
    return playing ? ss_running_time_now(appsrc) : GST_CLOCK_TIME_NONE;
}

}  // namespace

void ViewerFeed::push(GstBuffer* buffer, GstElement* appsrc) {
    const bool key_frame = !GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT);
    // Mapped once so frame spacing stays exact; at a key frame the mapping is
    // checked against the viewer pipeline's clock (3 s: far beyond any delay of ours).
    if (has_offset && key_frame) {
        const GstClockTime now = playing_running_time(appsrc);
        const GstClockTimeDiff mapped = static_cast<GstClockTimeDiff>(GST_BUFFER_PTS(buffer)) + offset;
        if (GST_CLOCK_TIME_IS_VALID(now) && mapped - static_cast<GstClockTimeDiff>(now) > 3 * GST_SECOND) has_offset = false;
    }
    if (!has_offset) {
        // A viewer's stream starts at a key frame (one was requested when it joined).
        if (!key_frame) return;
        const GstClockTime now = playing_running_time(appsrc);
        if (!GST_CLOCK_TIME_IS_VALID(now)) return;
        offset = GST_CLOCK_DIFF(GST_BUFFER_PTS(buffer), now);
        has_offset = true;
    }
    const GstClockTimeDiff pts = static_cast<GstClockTimeDiff>(GST_BUFFER_PTS(buffer)) + offset;
    if (pts < 0) return;
    GstBuffer* copy = gst_buffer_copy(buffer);  // shares the data
    GST_BUFFER_PTS(copy) = static_cast<GstClockTime>(pts);
    GST_BUFFER_DTS(copy) = static_cast<GstClockTime>(pts);  // no B-frames
    gst_app_src_push_buffer(GST_APP_SRC(appsrc), copy);
}

std::string lan_address() {
    struct ifaddrs* list = nullptr;
    std::string found = "127.0.0.1";
    if (getifaddrs(&list) != 0) return found;
    for (auto* a = list; a; a = a->ifa_next) {
        if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET) continue;
        if ((a->ifa_flags & IFF_LOOPBACK) || !(a->ifa_flags & IFF_UP)) continue;
        char text[INET_ADDRSTRLEN];
        if (inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr, text, sizeof text)) {
            found = text;
            break;
        }
    }
    freeifaddrs(list);
    return found;
}

}  // namespace slipstream
