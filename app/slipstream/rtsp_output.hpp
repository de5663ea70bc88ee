#pragma once
// Serves the encoded output with gst-rtsp-server as one shared media: every
// viewer gets the same live stream, fed from the main pipeline's appsink
// through a bounded, leaky appsrc, so a slow viewer never slows the pipeline.
#include <gst/gst.h>
#include <gst/rtsp-server/rtsp-server.h>

#include <mutex>
#include <string>
#include <vector>

#include "options.hpp"

namespace slipstream {

// The output's encoded stream as the encoder's parser, the appsink and the
// RTSP server's appsrc carry it: Annex B byte stream, one access unit per buffer.
GstCaps* encoded_caps(OutputCodec codec);

// Feeds a viewer's pipeline (an RTSP media, a WebRTC session) through its
// appsrc: the output's timestamps mapped onto that pipeline's running time, once
// at the first key frame, and again at a key frame when they have run far ahead
// of it (its running time started over: a flush, a pause), which would
// otherwise hold every buffer back for that long.
struct ViewerFeed {
    GstClockTimeDiff offset = 0;  // our running time -> the viewer pipeline's
    bool has_offset = false;
    // Pushes `buffer`, re-stamped, into `appsrc`; skips it while waiting for a key frame.
    void push(GstBuffer* buffer, GstElement* appsrc);
};

class RtspOutput {
public:
    RtspOutput(const Options& options, GstElement* encoder);
    ~RtspOutput();

    // Starts listening; returns an error line on failure (e.g. port in use).
    std::string start();
    // Called from the appsink's streaming thread for every encoded access unit.
    void push(GstSample* sample);
    std::string uri(const std::string& host) const;

private:
    static void on_media_configure(GstRTSPMediaFactory*, GstRTSPMedia* media, gpointer self);
    void request_key_frame();

    Options options_;
    GstElement* encoder_;
    GstRTSPServer* server_ = nullptr;
    GstRTSPMediaFactory* factory_ = nullptr;
    guint source_id_ = 0;
    std::mutex mutex_;
    struct Feed {
        GstElement* appsrc;
        ViewerFeed timing;
    };
    std::vector<Feed> feeds_;  // one per prepared (shared) media
    GstCaps* caps_ = nullptr;
};

// The first non-loopback IPv4 address of this host, or 127.0.0.1.
std::string lan_address();

}  // namespace slipstream
