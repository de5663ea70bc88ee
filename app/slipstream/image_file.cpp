#include "image_file.hpp"

#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include <cstring>
#include <filesystem>
#include <memory>

namespace slipstream {
namespace {

// An image decodes in milliseconds; this only bounds a decoder that hangs.
constexpr GstClockTime decode_timeout = 30 * GST_SECOND;

struct PipelineDeleter {
    void operator()(GstElement* pipeline) const {
        gst_element_set_state(pipeline, GST_STATE_NULL);
        gst_object_unref(pipeline);
    }
};

void link_video_pad(GstElement*, GstPad* pad, gpointer convert) {
    GstCaps* caps = gst_pad_get_current_caps(pad);
    const bool video = caps && gst_structure_has_name(gst_caps_get_structure(caps, 0), "video/x-raw");
    if (caps) gst_caps_unref(caps);
    if (!video) return;
    GstPad* sink = gst_element_get_static_pad(GST_ELEMENT(convert), "sink");
    if (!gst_pad_is_linked(sink)) gst_pad_link(pad, sink);
    gst_object_unref(sink);
}

// The first error on the bus, or "" once the pipeline prerolled.
std::string wait_for_preroll(GstElement* pipeline) {
    GstBus* bus = gst_element_get_bus(pipeline);
    GstMessage* message = gst_bus_timed_pop_filtered(
        bus, decode_timeout, static_cast<GstMessageType>(GST_MESSAGE_ASYNC_DONE | GST_MESSAGE_ERROR | GST_MESSAGE_EOS));
    gst_object_unref(bus);
    if (!message) return "no picture after 30 s";
    std::string why;
    if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR) {
        GError* error = nullptr;
        gst_message_parse_error(message, &error, nullptr);
        why = error ? error->message : "decoding failed";
        if (error) g_error_free(error);
    } else if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_EOS) {
        why = "it holds no picture";
    }
    gst_message_unref(message);
    return why;
}

}  // namespace

cv::Mat read_image(const std::string& path, std::string& why) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        why = "no such file";
        return {};
    }
    if (!gst_is_initialized()) gst_init(nullptr, nullptr);

    std::unique_ptr<GstElement, PipelineDeleter> pipeline(gst_pipeline_new("image"));
    GstElement* source = gst_element_factory_make("filesrc", nullptr);
    GstElement* decode = gst_element_factory_make("decodebin", nullptr);
    GstElement* convert = gst_element_factory_make("videoconvert", nullptr);
    GstElement* sink = gst_element_factory_make("appsink", nullptr);
    if (!source || !decode || !convert || !sink) {
        for (GstElement* e : {source, decode, convert, sink}) {
            if (e) gst_object_unref(e);
        }
        why = "GStreamer's filesrc, decodebin, videoconvert or appsink is missing";
        return {};
    }
    g_object_set(source, "location", path.c_str(), nullptr);
    GstCaps* bgr = gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, "BGR", nullptr);
    g_object_set(sink, "caps", bgr, "sync", FALSE, "max-buffers", 1u, nullptr);
    gst_caps_unref(bgr);
    gst_bin_add_many(GST_BIN(pipeline.get()), source, decode, convert, sink, nullptr);
    gst_element_link(source, decode);
    gst_element_link(convert, sink);
    g_signal_connect(decode, "pad-added", G_CALLBACK(link_video_pad), convert);

    if (gst_element_set_state(pipeline.get(), GST_STATE_PAUSED) == GST_STATE_CHANGE_FAILURE) {
        why = wait_for_preroll(pipeline.get());
        if (why.empty()) why = "cannot be opened";
        return {};
    }
    why = wait_for_preroll(pipeline.get());
    if (!why.empty()) return {};

    GstSample* sample = gst_app_sink_try_pull_preroll(GST_APP_SINK(sink), decode_timeout);
    if (!sample) {
        why = "it holds no picture";
        return {};
    }
    cv::Mat image;
    GstVideoInfo info;
    GstVideoFrame frame;
    if (gst_video_info_from_caps(&info, gst_sample_get_caps(sample)) &&
        gst_video_frame_map(&frame, &info, gst_sample_get_buffer(sample), GST_MAP_READ)) {
        const cv::Mat view(GST_VIDEO_FRAME_HEIGHT(&frame), GST_VIDEO_FRAME_WIDTH(&frame), CV_8UC3,
                           GST_VIDEO_FRAME_PLANE_DATA(&frame, 0), GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 0));
        image = view.clone();  // the sample goes back to GStreamer below
        gst_video_frame_unmap(&frame);
    } else {
        why = "its picture cannot be read";
    }
    gst_sample_unref(sample);
    return image;
}

}  // namespace slipstream
