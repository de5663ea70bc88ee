// Inputs join and leave a pipeline that plays: a real ssbatchmux, real
// uridecodebin inputs reading a small H.264 file made here.
#include <gst/gst.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <thread>

#include "options.hpp"
#include "sources.hpp"

namespace {

// A 10 s, 160x120, 30 fps H.264 file: long enough that no input reaches its end during a test.
std::string make_video_file() {
    const std::string path = std::string(g_get_tmp_dir()) + "/slipstream-app-test-" + std::to_string(getpid()) + ".mkv";
    const std::string launch = "videotestsrc num-buffers=300 ! video/x-raw,width=160,height=120,framerate=30/1 ! "
                               "x264enc speed-preset=ultrafast key-int-max=30 ! h264parse ! matroskamux ! filesink location=" + path;
    GError* error = nullptr;
    GstElement* writer = gst_parse_launch(launch.c_str(), &error);
    if (!writer) {
        ADD_FAILURE() << "cannot make the test video: " << (error ? error->message : "?");
        g_clear_error(&error);
        return {};
    }
    gst_element_set_state(writer, GST_STATE_PLAYING);
    GstBus* bus = gst_element_get_bus(writer);
    GstMessage* done = gst_bus_timed_pop_filtered(bus, 60 * GST_SECOND, static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
    EXPECT_TRUE(done && GST_MESSAGE_TYPE(done) == GST_MESSAGE_EOS) << "writing the test video failed";
    if (done) gst_message_unref(done);
    gst_object_unref(bus);
    gst_element_set_state(writer, GST_STATE_NULL);
    gst_object_unref(writer);
    return path;
}

// Counts the buffers that pass a pad.
struct BufferCount {
    std::atomic<int> n{0};
    void attach(GstPad* pad) {
        gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, +[](GstPad*, GstPadProbeInfo*, gpointer data) {
            ++static_cast<BufferCount*>(data)->n;
            return GST_PAD_PROBE_OK;
        }, this, nullptr);
    }
};

// Runs the default main context (bus watch, retries, watchdog) until `done` or the timeout.
bool run_until(const std::function<bool()>& done, double seconds) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (!done()) {
        if (std::chrono::steady_clock::now() > until) return false;
        while (g_main_context_iteration(nullptr, FALSE)) {
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
}

class InputsWhilePlaying : public ::testing::Test {
protected:
    void SetUp() override {
        video_ = make_video_file();
        ASSERT_FALSE(video_.empty());
        pipeline_ = gst_pipeline_new("test");
        mux_ = gst_element_factory_make("ssbatchmux", "mux");
        GstElement* sink = gst_element_factory_make("fakesink", nullptr);
        ASSERT_TRUE(mux_ && sink);
        g_object_set(mux_, "frame-width", 160, "frame-height", 120, "end-on-eos", FALSE, nullptr);
        gst_util_set_object_arg(G_OBJECT(mux_), "fps", "30/1");
        g_object_set(sink, "sync", FALSE, nullptr);
        gst_bin_add_many(GST_BIN(pipeline_), mux_, sink, nullptr);
        ASSERT_TRUE(gst_element_link(mux_, sink));
        GstPad* out = gst_element_get_static_pad(mux_, "src");
        batches_.attach(out);
        gst_object_unref(out);
        bus_ = gst_pipeline_get_bus(GST_PIPELINE(pipeline_));
    }

    void TearDown() override {
        if (sources_) sources_->stop();
        if (pipeline_) gst_element_set_state(pipeline_, GST_STATE_NULL);
        sources_.reset();
        if (bus_) gst_object_unref(bus_);
        if (pipeline_) gst_object_unref(pipeline_);
        if (!video_.empty()) std::remove(video_.c_str());
    }

    // The app's bus handling, in short: inputs first, any other error fails the test.
    void pump_bus() {
        while (GstMessage* message = gst_bus_pop(bus_)) {
            if (!sources_->handle_message(message) && GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR &&
                gst_object_has_as_ancestor(GST_MESSAGE_SRC(message), GST_OBJECT(pipeline_))) {
                ADD_FAILURE() << "pipeline error from " << GST_OBJECT_NAME(GST_MESSAGE_SRC(message));
            }
            gst_message_unref(message);
        }
    }

    bool run_until(const std::function<bool()>& done, double seconds) {
        return ::run_until([&] {
            pump_bus();
            return done();
        }, seconds);
    }

    int frames_into(const char* pad_name, BufferCount& count) {
        GstPad* pad = gst_element_get_static_pad(mux_, pad_name);
        if (!pad) return -1;
        count.attach(pad);
        gst_object_unref(pad);
        return 0;
    }

    bool has_pad(const char* name) {
        GstPad* pad = gst_element_get_static_pad(mux_, name);
        if (pad) gst_object_unref(pad);
        return pad != nullptr;
    }

    std::string video_;
    GstElement* pipeline_ = nullptr;
    GstElement* mux_ = nullptr;
    GstBus* bus_ = nullptr;
    BufferCount batches_;
    std::unique_ptr<slipstream::Sources> sources_;
};

}  // namespace

TEST_F(InputsWhilePlaying, AnInputAddedAndRemovedWhilePlaying) {
    slipstream::Options options;
    options.inputs = {video_};
    bool fatal = false;
    sources_ = std::make_unique<slipstream::Sources>(pipeline_, mux_, options, slipstream::DecodePath{}, [&](const std::string&) { fatal = true; });
    BufferCount first, second;
    ASSERT_EQ(frames_into("sink_0", first), 0);
    sources_->start();
    ASSERT_NE(gst_element_set_state(pipeline_, GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
    ASSERT_TRUE(run_until([&] { return first.n >= 10; }, 20)) << "the first input shows no frames";

    // A camera joins the running pipeline.
    const int added = sources_->add(video_);
    EXPECT_EQ(added, 1);
    ASSERT_EQ(frames_into("sink_1", second), 0) << "no mux pad for the added input";
    ASSERT_TRUE(run_until([&] { return second.n >= 10; }, 20)) << "the added input shows no frames";

    // And leaves it: its bin is gone, its mux pad given back, and the rest plays on.
    ASSERT_TRUE(sources_->remove(added));
    EXPECT_FALSE(has_pad("sink_1"));
    EXPECT_FALSE(sources_->remove(added));
    GstElement* leftover = gst_bin_get_by_name(GST_BIN(pipeline_), "input1-1");
    EXPECT_EQ(leftover, nullptr) << "the removed input's bin is still in the pipeline";
    if (leftover) gst_object_unref(leftover);
    const int first_then = first.n, batches_then = batches_.n, second_then = second.n;
    ASSERT_TRUE(run_until([&] { return first.n >= first_then + 15 && batches_.n >= batches_then + 15; }, 20))
        << "the pipeline stopped after an input left";
    EXPECT_EQ(second.n, second_then) << "frames from an input that was removed";
    GstState state = GST_STATE_NULL;
    gst_element_get_state(pipeline_, &state, nullptr, 0);
    EXPECT_EQ(state, GST_STATE_PLAYING);
    EXPECT_FALSE(fatal);

    // Its index is not reused: a new input gets its own pad.
    EXPECT_EQ(sources_->add(video_), 2);
    EXPECT_TRUE(has_pad("sink_2"));
}
