// The failures an input meets, as GStreamer 1.22 reports them: the GError's
// domain, code and message, and the debug text of rtspsrc and decodebin. The
// expected reasons are the ones the fault suite (tests/faults) reads on stderr.
#include <gst/gst.h>
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <string>

#include "input_failure.hpp"

using slipstream::describe_error;
using slipstream::FailureContext;
using slipstream::InputFailure;

namespace {

const FailureContext camera{true, true, "127.0.0.1:8554"};
const FailureContext camera_without_login{true, false, "127.0.0.1:8554"};
const FailureContext file{false, false, ":0"};

// How an element's ERROR message arrives: the debug text starts with where it was posted.
std::string debug_of(const char* element, const char* text) {
    return std::string("../gst/rtsp/gstrtspsrc.c(6585): gst_rtsp_src_send (): /GstPipeline:slipstream/GstBin:input1-1/"
                       "GstURIDecodeBin:uridecodebin0/") + element + ":source:\n" + text;
}

InputFailure failure(GQuark domain, gint code, const char* message, const std::string& debug, const FailureContext& input) {
    GError* error = g_error_new_literal(domain, code, message);
    InputFailure f = describe_error(error, debug, input);
    g_error_free(error);
    return f;
}

}  // namespace

TEST(InputFailure, ADecodersOwnFailureIsNotCalledAConnectionLoss) {
    // nvh264dec, when the GPU memory for its frames cannot be had.
    GError* error = g_error_new_literal(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS, "Failed to configure the buffer pool");
    const std::string debug = "../gst-libs/gst/video/gstvideodecoder.c(4715): gst_video_decoder_decide_allocation_default ()";
    EXPECT_EQ(describe_error(error, debug, camera, true).reason, "the video decoder failed (Failed to configure the buffer pool)");
    EXPECT_EQ(describe_error(error, debug, camera).reason, "connection lost (Failed to configure the buffer pool)")
        << "the same error from another element of a camera's input";
    g_error_free(error);
}

TEST(InputFailure, OnlyDecoderElementsCountAsDecoders) {
    gst_init(nullptr, nullptr);
    GstElement* decoder = gst_element_factory_make("avdec_h264", nullptr);
    GstElement* decodebin = gst_element_factory_make("decodebin", nullptr);
    GstElement* queue = gst_element_factory_make("queue", nullptr);
    if (!decoder || !decodebin || !queue) {
        for (GstElement* e : {decoder, decodebin, queue})
            if (e) gst_object_unref(e);
        GTEST_SKIP() << "GStreamer plugins missing";
    }
    EXPECT_TRUE(slipstream::is_decoder(GST_OBJECT(decoder)));
    EXPECT_FALSE(slipstream::is_decoder(GST_OBJECT(decodebin))) << "a bin that decodes is no decoder";
    EXPECT_FALSE(slipstream::is_decoder(GST_OBJECT(queue)));
    EXPECT_FALSE(slipstream::is_decoder(nullptr));
    for (GstElement* e : {decoder, decodebin, queue}) gst_object_unref(e);
}

TEST(InputFailure, RtspNotFoundNamesThePath) {
    const auto f = failure(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND, "Not found",
                           debug_of("GstRTSPSrc", "Got error response: 404 (Not Found)."), camera);
    EXPECT_EQ(f.reason, "not found (404): check the path in the URI");
    EXPECT_FALSE(f.link);  // the server answered: probing it proves nothing
}

TEST(InputFailure, RtspUnauthorizedSaysWhatToFix) {
    const std::string debug = debug_of("GstRTSPSrc", "Got error response: 401 (Unauthorized).");
    EXPECT_EQ(failure(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_AUTHORIZED, "Unauthorized", debug, camera).reason,
              "unauthorized (401): check the user name and password");
    EXPECT_EQ(failure(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_AUTHORIZED, "Unauthorized", debug, camera_without_login).reason,
              "unauthorized (401): the camera needs a login: add USER:PASSWORD@ before the host in the URI");
}

TEST(InputFailure, OtherRtspStatusesAreQuoted) {
    const auto f = failure(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ, "Unhandled error",
                           debug_of("GstRTSPSrc", "Got error response: 503 (Service Unavailable)."), camera);
    EXPECT_EQ(f.reason, "the camera refused the request: 503 Service Unavailable");
    EXPECT_FALSE(f.link);
}

TEST(InputFailure, CouldNotConnectAsksForOurOwnProbe) {
    const auto f = failure(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ_WRITE, "Could not open resource for reading and writing.",
                           debug_of("GstRTSPSrc", "Failed to connect. (Generic error)"), camera);
    EXPECT_EQ(f.reason, "cannot connect to 127.0.0.1:8554");
    EXPECT_TRUE(f.link);
    EXPECT_TRUE(f.diagnose);
}

TEST(InputFailure, TimeoutsAndLostConnectionsAreLinkFailures) {
    const auto timeout = failure(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ, "Could not read from resource.",
                                 debug_of("GstRTSPSrc", "Could not receive message. (Timeout while waiting for server response)"),
                                 camera);
    EXPECT_EQ(timeout.reason, "no answer from 127.0.0.1:8554 (timed out)");
    EXPECT_TRUE(timeout.link);
    const auto reset = failure(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ, "Could not read from resource.",
                               debug_of("GstRTSPSrc", "Could not receive message. (System error)"), camera);
    EXPECT_EQ(reset.reason, "connection lost: receiving from the camera failed");
    EXPECT_TRUE(reset.link);
    const auto send = failure(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_WRITE, "Could not write to resource.",
                              debug_of("GstRTSPSrc", "Could not send message. (System error)"), camera);
    EXPECT_EQ(send.reason, "connection lost: sending to the camera failed");
    const auto other = failure(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS, "Could not get/set settings from/on resource.",
                               debug_of("GstRTSPSrc", "something else"), camera);
    EXPECT_EQ(other.reason, "connection lost (Could not get/set settings from/on resource.)");
}

TEST(InputFailure, FilesSayWhatIsWrongWithTheFile) {
    const auto missing = failure(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND, "Resource not found.", "", file);
    EXPECT_EQ(missing.reason, "file not found");
    EXPECT_TRUE(missing.link);  // it may appear: looking for it ends the wait
    EXPECT_TRUE(missing.unreachable);
    EXPECT_EQ(failure(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_AUTHORIZED, "Not authorized", "", file).reason, "permission denied");
    EXPECT_EQ(failure(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ, "Could not open file for reading.", "", file).reason,
              "cannot open the file (Could not open file for reading.)");
    EXPECT_EQ(failure(GST_STREAM_ERROR, GST_STREAM_ERROR_TYPE_NOT_FOUND, "Could not determine type of stream.", "", file).reason,
              "not a media file (unrecognised data)");
    EXPECT_EQ(failure(GST_STREAM_ERROR, GST_STREAM_ERROR_TYPE_NOT_FOUND, "Could not determine type of stream.", "", camera).reason,
              "not a media stream (unrecognised data)");
    EXPECT_EQ(failure(GST_STREAM_ERROR, GST_STREAM_ERROR_WRONG_TYPE, "This appears to be a text file.",
                      "decodebin cannot decode plain text files", file).reason,
              "not a media file (this appears to be a text file)");
}

TEST(InputFailure, MissingDecodersAreNamed) {
    const std::string audio_only =
        "../gst/playback/gstdecodebin2.c(4719): gst_decode_bin_expose (): /GstURIDecodeBin:uridecodebin0/GstDecodeBin:decodebin0:\n"
        "no suitable plugins found:\n"
        "Missing decoder: MPEG-4 AAC (audio/mpeg, mpegversion=(int)4, framed=(boolean)true, stream-format=(string)raw)\n";
    EXPECT_EQ(failure(GST_STREAM_ERROR, GST_STREAM_ERROR_CODEC_NOT_FOUND, "Your GStreamer installation is missing a plug-in.",
                      audio_only, file).reason,
              "no video stream (only MPEG-4 AAC)");
    const std::string video = audio_only + "Missing decoder: H.265 (video/x-h265, stream-format=(string)hvc1)\n";
    EXPECT_EQ(failure(GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN, "Your GStreamer installation is missing a plug-in.", video,
                      camera).reason,
              "no decoder for its H.265 video: install the GStreamer plugin for it");
    EXPECT_EQ(failure(GST_STREAM_ERROR, GST_STREAM_ERROR_CODEC_NOT_FOUND, "Your GStreamer installation is missing a plug-in.",
                      "no suitable plugins found", file).reason,
              "no decoder for this stream (Your GStreamer installation is missing a plug-in.)");
}

TEST(InputFailure, StreamingErrorsGiveTheFlowReason) {
    EXPECT_EQ(failure(GST_STREAM_ERROR, GST_STREAM_ERROR_FAILED, "Internal data stream error.",
                      "../libs/gst/base/gstbasesrc.c(3132): gst_base_src_loop (): /GstBin:input0-1/GstURIDecodeBin:uridecodebin0/"
                      "GstFileSrc:source:\nstreaming stopped, reason not-negotiated (-4)",
                      file).reason,
              "stream failed (not-negotiated)");
    EXPECT_EQ(failure(GST_STREAM_ERROR, GST_STREAM_ERROR_FAILED, "Internal data stream error.", "streaming stopped", file).reason,
              "Internal data stream error.");
    EXPECT_EQ(failure(GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE, "Could not decode stream.", "", camera).reason,
              "unreadable stream (Could not decode stream.)");
}

TEST(InputFailure, UnknownErrorsKeepGStreamersText) {
    EXPECT_EQ(failure(GST_LIBRARY_ERROR, GST_LIBRARY_ERROR_INIT, "Could not initialize supporting library.", "", camera).reason,
              "Could not initialize supporting library.");
    EXPECT_EQ(describe_error(nullptr, "", camera).reason, "unknown error");
}

TEST(InputFailure, AClosingWarningExplainsTheEndOfACameraStream) {
    EXPECT_EQ(slipstream::explain_warning("...: The server closed the connection.", camera), "the camera closed the connection");
    EXPECT_EQ(slipstream::explain_warning("...: The server closed the connection.", file), "");
    EXPECT_EQ(slipstream::explain_warning("something else", camera), "");
}

TEST(InputFailure, OurOwnConnectAttemptNamesTheCause) {
    auto text = [](GQuark domain, gint code) {
        GError* error = g_error_new_literal(domain, code, "Could not connect: whatever");
        std::string t = slipstream::connect_failure_text(error, "cam.example", "cam.example:554");
        g_error_free(error);
        return t;
    };
    EXPECT_EQ(text(G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED), "connection refused: nothing listens at cam.example:554");
    EXPECT_EQ(text(G_IO_ERROR, G_IO_ERROR_TIMED_OUT), "no answer from cam.example:554 (timed out)");
    EXPECT_EQ(text(G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND), "host not found: cam.example");
    EXPECT_EQ(text(G_IO_ERROR, G_IO_ERROR_HOST_UNREACHABLE), "host unreachable: cam.example");
    EXPECT_EQ(text(G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE), "network unreachable: cam.example");
    EXPECT_EQ(text(G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED), "cannot connect to cam.example:554 (Could not connect: whatever)");
}

TEST(InputFailure, DebugTextReaders) {
    int code = 0;
    std::string phrase;
    EXPECT_TRUE(slipstream::debug_text::rtsp_status("x\nGot error response: 454 (Session Not Found).", code, phrase));
    EXPECT_EQ(code, 454);
    EXPECT_EQ(phrase, "Session Not Found");
    EXPECT_FALSE(slipstream::debug_text::rtsp_status("Got error response: none", code, phrase));
    EXPECT_EQ(slipstream::debug_text::flow_reason("streaming stopped, reason not-linked (-1)"), "not-linked");
    EXPECT_EQ(slipstream::debug_text::flow_reason("streaming stopped, reason error"), "error");
}

// The real thing: uridecodebin's own errors for unusable files, read as the app reads them.
namespace {

InputFailure real_failure(const std::string& path) {
    GstElement* pipeline = gst_pipeline_new(nullptr);
    GstElement* decode = gst_element_factory_make("uridecodebin", nullptr);
    GstElement* sink = gst_element_factory_make("fakesink", nullptr);
    EXPECT_TRUE(decode && sink);
    gst_bin_add_many(GST_BIN(pipeline), decode, sink, nullptr);
    gchar* uri = gst_filename_to_uri(path.c_str(), nullptr);
    GstCaps* video_only = gst_caps_from_string("video/x-raw(ANY)");
    g_object_set(decode, "uri", uri, "caps", video_only, "expose-all-streams", FALSE, nullptr);
    gst_caps_unref(video_only);
    g_free(uri);
    gst_element_set_state(pipeline, GST_STATE_PAUSED);
    GstBus* bus = gst_element_get_bus(pipeline);
    GstMessage* message = gst_bus_timed_pop_filtered(bus, 10 * GST_SECOND, GST_MESSAGE_ERROR);
    InputFailure f;
    f.reason = "no error";
    if (message) {
        GError* error = nullptr;
        gchar* debug = nullptr;
        gst_message_parse_error(message, &error, &debug);
        f = describe_error(error, debug ? debug : "", file);
        g_clear_error(&error);
        g_free(debug);
        gst_message_unref(message);
    }
    gst_object_unref(bus);
    gst_element_set_state(pipeline, GST_STATE_NULL);
    gst_object_unref(pipeline);
    return f;
}

std::string temp_file(const std::string& name, const std::string& content) {
    const std::string path = std::string(g_get_tmp_dir()) + "/slipstream-app-test-" + std::to_string(getpid()) + "-" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
}

}  // namespace

TEST(InputFailureFromGStreamer, MissingFile) {
    EXPECT_EQ(real_failure("/nonexistent/slipstream/no-such-file.mp4").reason, "file not found");
}

TEST(InputFailureFromGStreamer, TextFile) {
    std::string text;  // as the fault suite's text.txt: typefinding needs more than a few lines
    for (int i = 0; i < 3000; ++i) text += "line " + std::to_string(i) + ": this is a text file, not a video\n";
    const std::string path = temp_file("text.txt", text);
    EXPECT_EQ(real_failure(path).reason, "not a media file (this appears to be a text file)");
    std::remove(path.c_str());
}

TEST(InputFailureFromGStreamer, Garbage) {
    std::string noise(64 * 1024, '\0');
    guint32 state = 12345;
    for (auto& c : noise) c = static_cast<char>((state = state * 1103515245u + 12345u) >> 24);
    const std::string path = temp_file("garbage.bin", noise);
    EXPECT_EQ(real_failure(path).reason, "not a media file (unrecognised data)");
    std::remove(path.c_str());
}
