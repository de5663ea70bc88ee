// ssbatchmux under GstHarness. The harnesses share one GstTestClock that the
// mux's output task waits on, so each batch is released by cranking that clock
// exactly once: what a batch holds depends only on what the test pushed
// before the crank, never on thread timing.
#include <gst/check/gstharness.h>
#include <gst/check/gsttestclock.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gst_test_util.hpp"
#include "meta/batch_meta.hpp"
#include "meta/device_frame_meta.hpp"

namespace {

using sstest::make_video_buffer;

// A clock time for failure messages.
std::string ts(GstClockTime t) {
    gchar* text = g_strdup_printf("%" GST_TIME_FORMAT, GST_TIME_ARGS(t));
    std::string out(text);
    g_free(text);
    return out;
}

// A batch pulled from the mux; owns the buffer.
class Batch {
public:
    Batch() = default;
    Batch(GstBuffer* buffer, GstClockTime due) : buffer_(buffer), due_(due) {}
    Batch(Batch&& other) noexcept : buffer_(other.buffer_), due_(other.due_) { other.buffer_ = nullptr; }
    Batch& operator=(Batch&& other) noexcept {
        std::swap(buffer_, other.buffer_);
        due_ = other.due_;
        return *this;
    }
    ~Batch() {
        if (buffer_) gst_buffer_unref(buffer_);
    }

    explicit operator bool() const { return buffer_ && meta(); }
    GstBuffer* buffer() const { return buffer_; }
    GstClockTime due() const { return due_; }  // the clock time the mux waited for
    SsBatchMeta* meta() const { return buffer_ ? ss_buffer_get_batch_meta(buffer_) : nullptr; }
    const std::vector<SsBatchFrame>& frames() const { return *meta()->frames; }
    const SsBatchFrame& frame(std::size_t i) const { return frames().at(i); }

private:
    GstBuffer* buffer_ = nullptr;
    GstClockTime due_ = GST_CLOCK_TIME_NONE;
};

// One ssbatchmux with one harness per requested sink pad. The first harness
// also takes the batches from the src pad; the others feed their pad only.
class MuxRig {
public:
    explicit MuxRig(const std::vector<guint>& pad_ids, const std::function<void(GstElement*)>& configure = {}) {
        mux_ = gst_element_factory_make("ssbatchmux", nullptr);
        if (!mux_) throw std::runtime_error("ssbatchmux is not registered");
        if (configure) configure(mux_);
        for (std::size_t k = 0; k < pad_ids.size(); ++k) {
            const std::string pad = "sink_" + std::to_string(pad_ids[k]);
            // The first harness sets the mux playing with its own test clock; later
            // ones find that clock on the element and share it.
            GstHarness* h = gst_harness_new_with_element(mux_, pad.c_str(), k == 0 ? "src" : nullptr);
            // A live upstream: the mux must not pace these inputs to the clock.
            gst_harness_set_live(h, TRUE);
            gst_harness_set_upstream_latency(h, 0);
            if (k == 0) out_ = h;
            inputs_[pad_ids[k]] = h;
        }
        clock_ = gst_harness_get_testclock(out_);
    }
    ~MuxRig() {
        // Inputs first (releasing their request pads), then the output harness,
        // whose teardown takes the mux to NULL and stops its task.
        for (auto& [id, h] : inputs_) {
            if (h != out_) gst_harness_teardown(h);
        }
        gst_harness_teardown(out_);
        gst_object_unref(clock_);
        gst_object_unref(mux_);
    }
    MuxRig(const MuxRig&) = delete;
    MuxRig& operator=(const MuxRig&) = delete;

    GstElement* element() const { return mux_; }
    GstHarness* output() const { return out_; }
    GstHarness* input(guint id) const { return inputs_.at(id); }
    GstTestClock* clock() const { return clock_; }

    void set_caps(guint id, GstVideoFormat format, int width, int height) {
        gst_harness_set_src_caps_str(input(id), sstest::caps_string(format, width, height).c_str());
    }

    // Pushes one frame on pad `id`: a solid picture of `colour`.
    void push_solid(guint id, GstVideoFormat format, int width, int height, cv::Scalar colour = {80, 120, 160}) {
        cv::Mat bgr(height, width, CV_8UC3, colour);
        GstClockTime now = gst_clock_get_time(GST_CLOCK(clock_));
        EXPECT_EQ(gst_harness_push(input(id), make_video_buffer(format, bgr, now)), GST_FLOW_OK) << "pad " << id;
    }

    // The time of the clock wait the output task is blocked in (bounded wait for it).
    GstClockTime pending_wait() {
        GList* pending = nullptr;
        if (!gst_test_clock_timed_wait_for_multiple_pending_ids(clock_, 1, sstest::wait_ms, &pending)) {
            g_list_free_full(pending, gst_clock_id_unref);
            return GST_CLOCK_TIME_NONE;
        }
        const GstClockTime t = gst_clock_id_get_time(static_cast<GstClockID>(pending->data));
        g_list_free_full(pending, gst_clock_id_unref);
        return t;
    }

    // Releases the next output period and returns its batch.
    Batch tick() {
        const GstClockTime due = pending_wait();
        if (!GST_CLOCK_TIME_IS_VALID(due)) {
            ADD_FAILURE() << "the mux never waited for its next period";
            return {};
        }
        // Advances the clock to the wait's time and releases it.
        if (!gst_test_clock_crank(clock_)) {
            ADD_FAILURE() << "crank failed";
            return {};
        }
        GstBuffer* buffer = gst_harness_pull(out_);  // bounded: the harness gives up after a minute
        if (!buffer) ADD_FAILURE() << "no batch after the period at " << ts(due);
        Batch batch(buffer, due);
        if (buffer && !batch.meta()) ADD_FAILURE() << "batch without SsBatchMeta";
        return batch;
    }

    // Events that reached the output so far (stream-start, caps, segment, eos...).
    std::vector<GstEventType> drain_output_events() {
        std::vector<GstEventType> types;
        while (GstEvent* e = gst_harness_try_pull_event(out_)) {
            types.push_back(GST_EVENT_TYPE(e));
            gst_event_unref(e);
        }
        return types;
    }

private:
    GstElement* mux_ = nullptr;
    GstHarness* out_ = nullptr;
    std::map<guint, GstHarness*> inputs_;
    GstTestClock* clock_ = nullptr;
};

GstClockTime period(int fps_n, int fps_d) { return gst_util_uint64_scale_int(GST_SECOND, fps_d, fps_n); }

bool contains(const std::vector<GstEventType>& v, GstEventType t) { return std::find(v.begin(), v.end(), t) != v.end(); }

const char* state_name(SourceState s) {
    switch (s) {
        case SourceState::waiting: return "waiting";
        case SourceState::live: return "live";
        case SourceState::no_signal: return "no_signal";
    }
    return "?";
}

}  // namespace

// With no input at all the batches still come, one per period at the
// configured rate, each with an entry per pad, timestamped on the period grid.
TEST(BatchMux, BatchesComeAtConfiguredRateWithoutInput) {
    MuxRig rig({0, 1}, [](GstElement* mux) { g_object_set(mux, "fps", 25, 1, nullptr); });
    rig.set_caps(0, GST_VIDEO_FORMAT_I420, 64, 48);
    rig.set_caps(1, GST_VIDEO_FORMAT_I420, 64, 48);
    const GstClockTime p = period(25, 1);
    for (guint64 k = 0; k < 10; ++k) {
        Batch b = rig.tick();
        ASSERT_TRUE(b) << "batch " << k;
        EXPECT_EQ(b.due(), k * p) << "the mux must wait for the period grid";
        EXPECT_EQ(GST_BUFFER_PTS(b.buffer()), k * p);
        EXPECT_EQ(GST_BUFFER_DURATION(b.buffer()), p);
        EXPECT_EQ(b.meta()->batch_number, k);
        ASSERT_EQ(b.frames().size(), 2u);
        for (const auto& f : b.frames()) {
            EXPECT_EQ(f.state, SourceState::waiting);
            EXPECT_FALSE(f.frame);
            EXPECT_FALSE(f.fresh);
        }
    }
    GstCaps* caps = gst_pad_get_current_caps(rig.output()->sinkpad);
    ASSERT_TRUE(caps);
    const GstStructure* s = gst_caps_get_structure(caps, 0);
    EXPECT_TRUE(gst_structure_has_name(s, SS_BATCH_CAPS));
    gint n = 0, d = 0;
    EXPECT_TRUE(gst_structure_get_fraction(s, "framerate", &n, &d));
    EXPECT_EQ(n, 25);
    EXPECT_EQ(d, 1);
    gst_caps_unref(caps);
}

// Input timing does not move the output: bursts and gaps alike give exactly one
// batch per period. Each carries the oldest of at most two frames not shown yet
// (a burst loses its older frames), `fresh` while there was one, else the last
// frame shown again.
TEST(BatchMux, CarriesTheNextUnshownFrameAndFreshFlagRegardlessOfInputTiming) {
    MuxRig rig({0}, [](GstElement* mux) { g_object_set(mux, "fps", 10, 1, nullptr); });
    rig.set_caps(0, GST_VIDEO_FORMAT_I420, 64, 48);
    const int pushes_per_period[] = {3, 0, 0, 1, 5, 0, 2, 0};
    // Frames are numbered 1, 2, ... as they arrive.
    const guint64 shown[] = {2, 3, 3, 4, 8, 9, 10, 11};
    const bool fresh[] = {true, true, false, true, true, true, true, true};
    const GstClockTime p = period(10, 1);
    std::shared_ptr<const SsVideoFrame> previous;
    for (std::size_t k = 0; k < std::size(pushes_per_period); ++k) {
        for (int i = 0; i < pushes_per_period[k]; ++i) rig.push_solid(0, GST_VIDEO_FORMAT_I420, 64, 48);
        Batch b = rig.tick();
        ASSERT_TRUE(b);
        EXPECT_EQ(b.due(), k * p);
        ASSERT_EQ(b.frames().size(), 1u);
        const SsBatchFrame& f = b.frame(0);
        EXPECT_EQ(f.fresh, fresh[k]) << "period " << k;
        ASSERT_TRUE(f.frame);
        EXPECT_EQ(f.frame->number, shown[k]) << "period " << k;
        EXPECT_EQ(f.state, SourceState::live);
        if (!fresh[k]) { EXPECT_EQ(f.frame, previous) << "a repeated frame is shared, not copied"; }
        previous = f.frame;
    }
}

// A camera at the output's rate whose frames arrive with jitter, two in one
// period and none in the next: every frame is shown, in order, none repeated.
TEST(BatchMux, JitterAtTheOutputRateLosesNoFrame) {
    MuxRig rig({0}, [](GstElement* mux) { g_object_set(mux, "fps", 30, 1, nullptr); });
    rig.set_caps(0, GST_VIDEO_FORMAT_I420, 64, 48);
    const int pushes_per_period[] = {1, 2, 0, 1, 2, 0, 2, 0, 1, 1, 2, 0};
    guint64 expected = 0;
    for (std::size_t k = 0; k < std::size(pushes_per_period); ++k) {
        for (int i = 0; i < pushes_per_period[k]; ++i) rig.push_solid(0, GST_VIDEO_FORMAT_I420, 64, 48);
        Batch b = rig.tick();
        ASSERT_TRUE(b);
        const SsBatchFrame& f = b.frame(0);
        ASSERT_TRUE(f.frame);
        EXPECT_TRUE(f.fresh) << "period " << k;
        EXPECT_EQ(f.frame->number, ++expected) << "period " << k;
    }
}

// Entries are in source-id order whatever order the pads were requested in.
TEST(BatchMux, OneEntryPerPadInSourceOrder) {
    MuxRig rig({2, 0, 1});
    for (guint id : {0u, 1u, 2u}) rig.set_caps(id, GST_VIDEO_FORMAT_I420, 64 + 16 * id, 48);
    for (guint id : {2u, 0u, 1u}) rig.push_solid(id, GST_VIDEO_FORMAT_I420, 64 + 16 * id, 48);
    for (int k = 0; k < 3; ++k) {
        Batch b = rig.tick();
        ASSERT_TRUE(b);
        ASSERT_EQ(b.frames().size(), 3u);
        for (guint i = 0; i < 3; ++i) {
            const SsBatchFrame& f = b.frame(i);
            EXPECT_EQ(f.source_id, i);
            ASSERT_TRUE(f.frame);
            EXPECT_EQ(f.frame->source_width, static_cast<int>(64 + 16 * i)) << "entry " << i << " holds another pad's frame";
            EXPECT_EQ(f.fresh, k == 0);
        }
    }
}

// A 5 fps source next to a 30 fps one at a 30 fps output: the slow one is fresh
// every sixth batch and its frame is repeated (shared) in between, still live.
TEST(BatchMux, SourcesAtDifferentFrameRates) {
    MuxRig rig({0, 1}, [](GstElement* mux) { g_object_set(mux, "fps", 30, 1, nullptr); });
    rig.set_caps(0, GST_VIDEO_FORMAT_I420, 64, 48);
    rig.set_caps(1, GST_VIDEO_FORMAT_NV12, 32, 24);
    std::shared_ptr<const SsVideoFrame> slow_previous;
    for (guint64 k = 0; k < 30; ++k) {
        rig.push_solid(0, GST_VIDEO_FORMAT_I420, 64, 48);
        if (k % 6 == 0) rig.push_solid(1, GST_VIDEO_FORMAT_NV12, 32, 24);
        Batch b = rig.tick();
        ASSERT_TRUE(b);
        EXPECT_EQ(b.due(), k * period(30, 1));
        ASSERT_EQ(b.frames().size(), 2u);
        const SsBatchFrame& fast = b.frame(0);
        const SsBatchFrame& slow = b.frame(1);
        EXPECT_TRUE(fast.fresh);
        ASSERT_TRUE(fast.frame);
        EXPECT_EQ(fast.frame->number, k + 1);
        EXPECT_EQ(fast.state, SourceState::live);
        EXPECT_EQ(slow.fresh, k % 6 == 0) << "batch " << k;
        ASSERT_TRUE(slow.frame);
        EXPECT_EQ(slow.frame->number, k / 6 + 1);
        EXPECT_EQ(slow.state, SourceState::live) << "5 fps is far inside the no-signal timeout";
        if (k % 6 != 0) { EXPECT_EQ(slow.frame, slow_previous); }
        slow_previous = slow.frame;
    }
}

// A source that never sends stays `waiting` and never holds the others back.
TEST(BatchMux, SilentSourceStaysWaitingWithoutBlocking) {
    MuxRig rig({0, 1}, [](GstElement* mux) {
        g_object_set(mux, "no-signal-timeout", static_cast<guint64>(50 * GST_MSECOND), nullptr);
    });
    rig.set_caps(0, GST_VIDEO_FORMAT_I420, 64, 48);
    rig.set_caps(1, GST_VIDEO_FORMAT_I420, 64, 48);
    for (guint64 k = 0; k < 12; ++k) {
        rig.push_solid(0, GST_VIDEO_FORMAT_I420, 64, 48);
        Batch b = rig.tick();
        ASSERT_TRUE(b);
        ASSERT_EQ(b.frames().size(), 2u);
        EXPECT_EQ(b.frame(0).state, SourceState::live);
        EXPECT_EQ(b.frame(0).frame->number, k + 1);
        // Waiting, never no_signal: there is no last frame to time out from.
        EXPECT_EQ(b.frame(1).state, SourceState::waiting) << state_name(b.frame(1).state) << " in batch " << k;
        EXPECT_FALSE(b.frame(1).frame);
        EXPECT_FALSE(b.frame(1).fresh);
    }
}

// A source silent for longer than no-signal-timeout turns no_signal (keeping
// its last frame) and is live again, fresh, as soon as a frame comes. A source
// that starts late is waiting until its first frame.
TEST(BatchMux, LateSourceTurnsNoSignalAndRecovers) {
    const GstClockTime timeout = 100 * GST_MSECOND;
    MuxRig rig({0, 1, 2}, [&](GstElement* mux) {
        g_object_set(mux, "fps", 30, 1, "no-signal-timeout", static_cast<guint64>(timeout), nullptr);
    });
    for (guint id : {0u, 1u, 2u}) rig.set_caps(id, GST_VIDEO_FORMAT_I420, 64, 48);
    bool saw_no_signal = false;
    GstClockTime last_arrival = GST_CLOCK_TIME_NONE;
    for (guint64 k = 0; k < 14; ++k) {
        rig.push_solid(0, GST_VIDEO_FORMAT_I420, 64, 48);
        const bool source1_sends = k == 0 || k >= 9;  // a gap from period 1 to 8
        if (source1_sends) {
            last_arrival = gst_clock_get_time(GST_CLOCK(rig.clock()));
            rig.push_solid(1, GST_VIDEO_FORMAT_I420, 64, 48);
        }
        if (k >= 5) rig.push_solid(2, GST_VIDEO_FORMAT_I420, 64, 48);
        Batch b = rig.tick();
        ASSERT_TRUE(b);
        ASSERT_EQ(b.frames().size(), 3u);
        EXPECT_EQ(b.frame(0).state, SourceState::live) << "batch " << k;

        const SsBatchFrame& late = b.frame(1);
        ASSERT_TRUE(late.frame);
        EXPECT_EQ(late.fresh, source1_sends) << "batch " << k;
        EXPECT_EQ(late.frame->arrival, last_arrival);
        EXPECT_EQ(late.since_last_frame, b.due() - last_arrival) << "batch " << k;
        const SourceState expected = b.due() - last_arrival > timeout ? SourceState::no_signal : SourceState::live;
        EXPECT_EQ(late.state, expected) << "batch " << k << " at " << ts(b.due()) << ": got "
                                        << state_name(late.state);
        saw_no_signal = saw_no_signal || late.state == SourceState::no_signal;
        if (k >= 9) { EXPECT_EQ(late.state, SourceState::live) << "recovered with frames resuming"; }

        const SsBatchFrame& starter = b.frame(2);
        EXPECT_EQ(starter.state, k < 5 ? SourceState::waiting : SourceState::live) << "batch " << k;
        EXPECT_EQ(static_cast<bool>(starter.frame), k >= 5);
    }
    EXPECT_TRUE(saw_no_signal) << "the gap was longer than the timeout";
}

// EOS on one pad: that source turns no_signal with its last frame kept, the
// others stay live and batches continue without an EOS downstream.
TEST(BatchMux, EosOnOnePadMarksItNoSignalOthersContinue) {
    MuxRig rig({0, 1});
    rig.set_caps(0, GST_VIDEO_FORMAT_I420, 64, 48);
    rig.set_caps(1, GST_VIDEO_FORMAT_I420, 64, 48);
    for (guint64 k = 0; k < 10; ++k) {
        if (k < 3) rig.push_solid(0, GST_VIDEO_FORMAT_I420, 64, 48);
        if (k == 3) { ASSERT_TRUE(gst_harness_push_event(rig.input(0), gst_event_new_eos())); }
        rig.push_solid(1, GST_VIDEO_FORMAT_I420, 64, 48);
        Batch b = rig.tick();
        ASSERT_TRUE(b);
        ASSERT_EQ(b.frames().size(), 2u);
        EXPECT_EQ(b.frame(0).state, k < 3 ? SourceState::live : SourceState::no_signal) << "batch " << k;
        ASSERT_TRUE(b.frame(0).frame);
        EXPECT_EQ(b.frame(0).frame->number, std::min<guint64>(k + 1, 3));
        EXPECT_EQ(b.frame(1).state, SourceState::live);
        EXPECT_EQ(b.frame(1).frame->number, k + 1);
    }
    EXPECT_FALSE(contains(rig.drain_output_events(), GST_EVENT_EOS));
}

// EOS on every pad with end-on-eos=true: one last batch, then EOS, and the
// task stops waiting for further periods.
TEST(BatchMux, EosOnAllPadsEndsStream) {
    MuxRig rig({0, 1}, [](GstElement* mux) { g_object_set(mux, "end-on-eos", TRUE, nullptr); });
    rig.set_caps(0, GST_VIDEO_FORMAT_I420, 64, 48);
    rig.set_caps(1, GST_VIDEO_FORMAT_I420, 64, 48);
    rig.push_solid(0, GST_VIDEO_FORMAT_I420, 64, 48);
    rig.push_solid(1, GST_VIDEO_FORMAT_I420, 64, 48);
    Batch first = rig.tick();
    ASSERT_TRUE(first);
    ASSERT_TRUE(gst_harness_push_event(rig.input(0), gst_event_new_eos()));
    Batch second = rig.tick();
    ASSERT_TRUE(second);
    EXPECT_EQ(second.frame(0).state, SourceState::no_signal);
    EXPECT_EQ(second.frame(1).state, SourceState::live);
    EXPECT_FALSE(contains(rig.drain_output_events(), GST_EVENT_EOS)) << "one source is still running";

    ASSERT_TRUE(gst_harness_push_event(rig.input(1), gst_event_new_eos()));
    Batch last = rig.tick();
    ASSERT_TRUE(last);
    EXPECT_EQ(last.frame(0).state, SourceState::no_signal);
    EXPECT_EQ(last.frame(1).state, SourceState::no_signal);
    // The EOS follows the last batch; pull_event waits for it (bounded by the harness).
    bool eos = false;
    for (int i = 0; i < 8 && !eos; ++i) {
        GstEvent* e = gst_harness_pull_event(rig.output());
        if (!e) break;
        eos = GST_EVENT_TYPE(e) == GST_EVENT_EOS;
        gst_event_unref(e);
    }
    EXPECT_TRUE(eos);
    // Pushed right after the EOS nothing else: no further period is awaited and no batch follows.
    EXPECT_EQ(gst_test_clock_peek_id_count(rig.clock()), 0u);
    EXPECT_EQ(gst_harness_buffers_in_queue(rig.output()), 0u);
}

// With end-on-eos=false the batches go on after every source has ended.
TEST(BatchMux, EosOnAllPadsWithoutEndOnEosKeepsBatching) {
    MuxRig rig({0, 1}, [](GstElement* mux) { g_object_set(mux, "end-on-eos", FALSE, nullptr); });
    rig.set_caps(0, GST_VIDEO_FORMAT_I420, 64, 48);
    rig.set_caps(1, GST_VIDEO_FORMAT_I420, 64, 48);
    rig.push_solid(0, GST_VIDEO_FORMAT_I420, 64, 48);
    rig.push_solid(1, GST_VIDEO_FORMAT_I420, 64, 48);
    ASSERT_TRUE(rig.tick());
    ASSERT_TRUE(gst_harness_push_event(rig.input(0), gst_event_new_eos()));
    ASSERT_TRUE(gst_harness_push_event(rig.input(1), gst_event_new_eos()));
    for (int k = 0; k < 4; ++k) {
        Batch b = rig.tick();
        ASSERT_TRUE(b);
        EXPECT_EQ(b.frame(0).state, SourceState::no_signal);
        EXPECT_EQ(b.frame(1).state, SourceState::no_signal);
    }
    EXPECT_FALSE(contains(rig.drain_output_events(), GST_EVENT_EOS));
}

// Frames are scaled down (never up) to fit frame-width x frame-height with
// their aspect ratio kept; the camera size is recorded.
TEST(BatchMux, ScalesFramesToFitKeepingAspect) {
    MuxRig rig({0, 1, 2}, [](GstElement* mux) { g_object_set(mux, "frame-width", 320, "frame-height", 240, nullptr); });
    struct Case {
        GstVideoFormat format;
        int width, height;
        int expected_width, expected_height;
    };
    const Case cases[] = {
        {GST_VIDEO_FORMAT_I420, 640, 360, 320, 180},  // wide: width-bound
        {GST_VIDEO_FORMAT_BGR, 200, 800, 60, 240},    // tall: height-bound
        {GST_VIDEO_FORMAT_NV12, 160, 120, 160, 120},  // smaller than the box: kept
    };
    for (guint i = 0; i < 3; ++i) {
        rig.set_caps(i, cases[i].format, cases[i].width, cases[i].height);
        rig.push_solid(i, cases[i].format, cases[i].width, cases[i].height);
    }
    Batch b = rig.tick();
    ASSERT_TRUE(b);
    for (guint i = 0; i < 3; ++i) {
        const SsBatchFrame& f = b.frame(i);
        ASSERT_TRUE(f.frame) << "source " << i;
        EXPECT_EQ(f.frame->bgr.type(), CV_8UC3);
        EXPECT_EQ(f.frame->bgr.cols, cases[i].expected_width) << "source " << i;
        EXPECT_EQ(f.frame->bgr.rows, cases[i].expected_height) << "source " << i;
        EXPECT_EQ(f.frame->source_width, cases[i].width);
        EXPECT_EQ(f.frame->source_height, cases[i].height);
    }
}

// Each input format arrives as the right BGR colours: a two-colour picture
// whose width leaves padded rows in every format's default layout.
class BatchMuxFormat : public ::testing::TestWithParam<GstVideoFormat> {};

TEST_P(BatchMuxFormat, ConvertsColoursToBgr) {
    const GstVideoFormat format = GetParam();
    const int width = 102, height = 60;
    const cv::Vec3b left(40, 90, 200), right(200, 120, 30);  // BGR: orange, blue
    cv::Mat picture(height, width, CV_8UC3, cv::Scalar(left[0], left[1], left[2]));
    picture.colRange(width / 2, width).setTo(cv::Scalar(right[0], right[1], right[2]));

    MuxRig rig({0});
    rig.set_caps(0, format, width, height);
    ASSERT_EQ(gst_harness_push(rig.input(0), make_video_buffer(format, picture, 0)), GST_FLOW_OK);
    Batch b = rig.tick();
    ASSERT_TRUE(b);
    ASSERT_TRUE(b.frame(0).frame);
    const cv::Mat& bgr = b.frame(0).frame->bgr;
    ASSERT_EQ(bgr.size(), cv::Size(width, height)) << "fits the default 640x480: no scaling";
    const bool yuv = format == GST_VIDEO_FORMAT_I420 || format == GST_VIDEO_FORMAT_NV12;
    const int tolerance = yuv ? 6 : 0;  // 8-bit YUV round trip vs. an exact copy
    for (int y : {2, height / 2, height - 3}) {
        EXPECT_TRUE(sstest::colour_near(bgr, {width / 4, y}, left, tolerance)) << gst_video_format_to_string(format);
        EXPECT_TRUE(sstest::colour_near(bgr, {3 * width / 4, y}, right, tolerance)) << gst_video_format_to_string(format);
        EXPECT_TRUE(sstest::colour_near(bgr, {1, y}, left, tolerance)) << "first column";
        EXPECT_TRUE(sstest::colour_near(bgr, {width - 2, y}, right, tolerance)) << "last columns, next to row padding";
    }
}

INSTANTIATE_TEST_SUITE_P(Mux, BatchMuxFormat,
                         ::testing::Values(GST_VIDEO_FORMAT_I420, GST_VIDEO_FORMAT_NV12, GST_VIDEO_FORMAT_BGR,
                                           GST_VIDEO_FORMAT_RGB),
                         [](const ::testing::TestParamInfo<GstVideoFormat>& info) {
                             return std::string(gst_video_format_to_string(info.param));
                         });

// The GPU path: a buffer carrying sscudascale's device copy (SsDeviceFrameMeta)
// hands it to its SsVideoFrame, for ssinfer; one without carries none.
TEST(BatchMux, CarriesTheDeviceFrameOfItsBuffer) {
    MuxRig rig({0, 1});
    rig.set_caps(0, GST_VIDEO_FORMAT_NV12, 64, 48);
    rig.set_caps(1, GST_VIDEO_FORMAT_NV12, 64, 48);
    auto device = std::make_shared<ss::DeviceFrame>();  // never read: no GPU here
    device->width = 32;
    device->height = 24;
    const cv::Mat bgr(48, 64, CV_8UC3, cv::Scalar(80, 120, 160));
    GstBuffer* buffer = make_video_buffer(GST_VIDEO_FORMAT_NV12, bgr, gst_clock_get_time(GST_CLOCK(rig.clock())));
    ss_buffer_add_device_frame_meta(buffer, device);
    EXPECT_EQ(gst_harness_push(rig.input(0), buffer), GST_FLOW_OK);
    rig.push_solid(1, GST_VIDEO_FORMAT_NV12, 64, 48);
    Batch b = rig.tick();
    ASSERT_TRUE(b);
    ASSERT_TRUE(b.frame(0).frame && b.frame(1).frame);
    EXPECT_EQ(b.frame(0).frame->device, device);
    EXPECT_FALSE(b.frame(1).frame->device);
}
