// ssinfer under GstHarness with a real detector: OpenCV DNN running the tiny
// NanoDet-shaped model of tests/unit/make_test_models.py, whose outputs are
// known numbers. On a solid grey 64x64 picture of level g (m = g / 255) it finds
//   A: class 1, confidence 0.2 + 0.6 m, box (6, 22)-(42, 58)   (reported from m > 0.08)
//   B: class 2, confidence 0.9 - 0.6 m, box (28, 12)-(52, 36)
// so white (A 0.8, B 0.3) and black (B 0.9 only) pictures are told apart by
// their detections. Detection runs on ssinfer's worker at background priority,
// so nothing here depends on how fast it is: the tests wait (boundedly) for
// the element's detected-frames count, and a batch that left before its
// detection finished is followed by repeats of its frame until they show up.
#include <gst/check/gstharness.h>

#include <filesystem>
#include <fstream>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "gst_test_util.hpp"
#include "meta/batch_meta.hpp"

namespace fs = std::filesystem;

namespace {

using sstest::BusOf;
using sstest::live_entry;
using sstest::make_batch;
using sstest::wait_until;

const fs::path models_dir = SS_TEST_MODELS_DIR;

// A folder for one test's config files, removed afterwards.
class TempDir {
public:
    TempDir() {
        gchar* path = g_dir_make_tmp("ssinfer-test-XXXXXX", nullptr);
        path_ = path;
        g_free(path);
    }
    ~TempDir() {
        std::error_code ignored;
        fs::remove_all(path_, ignored);
    }
    std::string write(const std::string& name, const std::string& text) const {
        const fs::path file = path_ / name;
        std::ofstream(file) << text;
        return file.string();
    }

private:
    fs::path path_;
};

// An nvinfer-style config for the tiny model (or `model`), detecting every frame unless told.
std::string config_text(const std::string& model = (models_dir / "nanodet.onnx").string(), const std::string& extra = "") {
    return "[property]\nonnx-file=" + model +
           "\nnet-scale-factor=0.00392156862745098\ninfer-dims=3;64;64\nnum-detected-classes=3\n"
           "parse-bbox-func-name=nanodet\nbatch-size=1\ninterval=0\n" + extra +
           "[class-attrs-all]\npre-cluster-threshold=0.25\nnms-iou-threshold=0.5\n";
}

std::shared_ptr<const SsVideoFrame> grey_frame(guint64 number, int level) {
    auto f = std::make_shared<SsVideoFrame>();
    f->bgr = cv::Mat(64, 64, CV_8UC3, cv::Scalar::all(level));
    f->source_width = f->source_height = 64;
    f->number = number;
    return f;
}

struct Expected {
    int class_id;
    float confidence;
    float x1, y1, x2, y2;
};

// The tiny model's detections on a white or a black picture, as listed above.
std::vector<Expected> expected_for(int level) {
    if (level == 255) return {{1, 0.8f, 6, 22, 42, 58}, {2, 0.3f, 28, 12, 52, 36}};
    return {{2, 0.9f, 28, 12, 52, 36}};
}

::testing::AssertionResult same_detections(const ss::Detections& got, const std::vector<Expected>& expected) {
    if (got.size() != expected.size()) {
        return ::testing::AssertionFailure() << got.size() << " detections, expected " << expected.size();
    }
    for (const auto& e : expected) {
        bool found = false;
        for (const auto& d : got) {
            found = found || (d.class_id == e.class_id && std::abs(d.confidence - e.confidence) < 1e-3f &&
                              std::abs(d.box.left - e.x1) < 1e-2f && std::abs(d.box.top - e.y1) < 1e-2f &&
                              std::abs(d.box.right() - e.x2) < 1e-2f && std::abs(d.box.bottom() - e.y2) < 1e-2f);
        }
        if (!found) return ::testing::AssertionFailure() << "no detection of class " << e.class_id << " at " << e.x1 << "," << e.y1;
    }
    return ::testing::AssertionSuccess();
}

// A batch pulled from ssinfer; owns the buffer.
struct Output {
    GstBuffer* buffer = nullptr;
    ~Output() {
        if (buffer) gst_buffer_unref(buffer);
    }
    const SsBatchFrame& frame(guint source) const {
        for (const auto& f : *ss_buffer_get_batch_meta(buffer)->frames) {
            if (f.source_id == source) return f;
        }
        throw std::runtime_error("no frame of source " + std::to_string(source));
    }
};

// One ssinfer between two harness pads, started (its config loaded) by the harness.
class InferRig {
public:
    explicit InferRig(const std::function<void(GstElement*)>& configure) {
        element_ = gst_element_factory_make("ssinfer", nullptr);
        if (!element_) throw std::runtime_error("ssinfer is not registered");
        // One worker, one thread: the least this busy test machine can give.
        g_object_set(element_, "workers", 1, "threads", 1, nullptr);
        configure(element_);
        bus_ = std::make_unique<BusOf>(element_);
        h_ = gst_harness_new_with_element(element_, "sink", "src");
        gst_harness_set_live(h_, TRUE);
        gst_harness_set_upstream_latency(h_, 0);
        gst_harness_set_src_caps_str(h_, SS_BATCH_CAPS ", framerate=(fraction)25/1");
    }
    ~InferRig() {
        gst_harness_teardown(h_);
        gst_object_unref(element_);
    }
    InferRig(const InferRig&) = delete;
    InferRig& operator=(const InferRig&) = delete;

    GstElement* element() const { return element_; }
    GstHarness* harness() const { return h_; }
    std::string error() const { return bus_->error(); }

    guint64 detected_frames() const {
        guint64 n = 0;
        g_object_get(element_, "detected-frames", &n, nullptr);
        return n;
    }

    // Pushes a batch and takes what ssinfer lets out for it (it keeps the order).
    std::unique_ptr<Output> pass(std::vector<SsBatchFrame> frames) {
        EXPECT_EQ(gst_harness_push(h_, make_batch(std::move(frames), pts_)), GST_FLOW_OK);
        pts_ += 40 * GST_MSECOND;
        auto out = std::make_unique<Output>();
        out->buffer = gst_harness_pull(h_);  // waits up to a minute: a batch held that long is a failure
        if (!out->buffer || !ss_buffer_get_batch_meta(out->buffer)) {
            ADD_FAILURE() << "no batch came out";
            return nullptr;
        }
        return out;
    }

private:
    GstElement* element_ = nullptr;
    std::unique_ptr<BusOf> bus_;
    GstHarness* h_ = nullptr;
    GstClockTime pts_ = 0;
};

class Infer : public ::testing::Test {
protected:
    void SetUp() override {
        if (!fs::exists(models_dir / "nanodet.onnx")) GTEST_SKIP() << "test models missing in " << models_dir << " (needs python3-onnx)";
    }
    TempDir dir_;
};

}  // namespace

// Two sources, one white and one black picture: each source's detections are
// those of its own picture, put on a batch showing the very frame they were
// found in, and marked detected exactly once. A batch that left before its
// detection finished (a busy machine) is followed by repeats of the same frames.
TEST_F(Infer, DetectionsGoOnTheFrameTheyWereFoundIn) {
    const std::string config = dir_.write("config.txt", config_text());
    InferRig rig([&](GstElement* e) { g_object_set(e, "config-file", config.c_str(), "max-delay", 5000, nullptr); });
    const auto white = grey_frame(1, 255), black = grey_frame(1, 0);

    std::map<guint, int> announced;  // source -> batches that marked its detection
    bool fresh = true;
    for (int round = 0; round < 2 && (announced[0] == 0 || announced[1] == 0); ++round) {
        auto out = rig.pass({live_entry(0, white, fresh), live_entry(1, black, fresh)});
        ASSERT_TRUE(out);
        for (guint source : {0u, 1u}) {
            const SsBatchFrame& f = out->frame(source);
            if (!f.detected) continue;
            ++announced[source];
            EXPECT_EQ(f.detected_frame, 1u) << "source " << source;
            EXPECT_TRUE(same_detections(f.objects, expected_for(source == 0 ? 255 : 0))) << "source " << source;
            ASSERT_TRUE(*ss_buffer_get_batch_meta(out->buffer)->detector_config) << "the detector's config travels with the batch";
        }
        if (announced[0] && announced[1]) break;
        // Left at its deadline: once both detections are in, the repeat carries them.
        ASSERT_TRUE(wait_until([&] { return rig.detected_frames() >= 2; })) << "the two frames were never detected";
        fresh = false;
    }
    EXPECT_EQ(announced[0], 1);
    EXPECT_EQ(announced[1], 1);

    // Later batches repeating those frames keep their boxes, not marked detected again.
    auto repeat = rig.pass({live_entry(0, white, false), live_entry(1, black, false)});
    ASSERT_TRUE(repeat);
    EXPECT_FALSE(repeat->frame(0).detected);
    EXPECT_TRUE(same_detections(repeat->frame(0).objects, expected_for(255)));
    EXPECT_TRUE(same_detections(repeat->frame(1).objects, expected_for(0)));
    EXPECT_EQ(rig.error(), "");
}

// The GPU path's device copy of a frame (a buffer of sscudascale's small
// pool) is let go of once the frame cannot be detected any more: here its
// batch left. A CPU backend ignores it and detects the picture as always.
TEST_F(Infer, DeviceFramesAreLetGoOfAsBatchesLeave) {
    const std::string config = dir_.write("config.txt", config_text());
    InferRig rig([&](GstElement* e) { g_object_set(e, "config-file", config.c_str(), "max-delay", 5000, nullptr); });
    auto pool_buffer = std::make_shared<int>(0);
    const std::weak_ptr<int> held = pool_buffer;
    auto frame = std::make_shared<SsVideoFrame>(*grey_frame(1, 255));
    auto device = std::make_shared<ss::DeviceFrame>();  // never read: no GPU here
    device->width = device->height = 64;
    device->owner = std::move(pool_buffer);
    frame->device = std::move(device);
    const std::uint8_t* pixels = frame->bgr.data;
    std::shared_ptr<const SsVideoFrame> shared = std::move(frame);
    auto out = rig.pass({live_entry(0, std::move(shared), true)});
    ASSERT_TRUE(out);
    const SsBatchFrame& f = out->frame(0);
    ASSERT_TRUE(f.frame);
    EXPECT_FALSE(f.frame->device) << "the batch left: its frames hold no GPU copy";
    EXPECT_EQ(f.frame->bgr.data, pixels) << "the picture is shared, not copied";
    EXPECT_EQ(f.frame->number, 1u);
    ASSERT_TRUE(wait_until([&] { return rig.detected_frames() >= 1; }));
    EXPECT_TRUE(held.expired()) << "the pool buffer is back once nothing can detect the frame";
    guint64 device_frames = 1;
    g_object_get(rig.element(), "device-frames", &device_frames, nullptr);
    EXPECT_EQ(device_frames, 0u) << "the opencv backend detects CPU pictures";
    EXPECT_EQ(rig.error(), "");
}

// interval=2 (the property overrides the config's 0): of frames 1..7 of a
// source, 1, 4 and 7 are detected. Each frame is pushed once the worker is
// idle, so no frame is skipped for being busy.
TEST_F(Infer, IntervalSkipsFrames) {
    const std::string config = dir_.write("config.txt", config_text());
    InferRig rig([&](GstElement* e) { g_object_set(e, "config-file", config.c_str(), "interval", 2, "max-delay", 5000, nullptr); });
    const std::set<guint64> want = {1, 4, 7};
    std::set<guint64> announced;
    std::shared_ptr<const SsVideoFrame> frame;
    guint64 expected_count = 0;
    for (guint64 n = 1; n <= 7; ++n) {
        frame = grey_frame(n, n % 2 ? 255 : 0);
        auto out = rig.pass({live_entry(0, frame, true)});
        ASSERT_TRUE(out);
        if (out->frame(0).detected) announced.insert(out->frame(0).detected_frame);
        if (want.count(n)) ++expected_count;
        ASSERT_TRUE(wait_until([&] { return rig.detected_frames() >= expected_count; })) << "frame " << n << " was not detected";
    }
    // The last result, if its batch left first, comes out on a repeat.
    auto out = rig.pass({live_entry(0, frame, false)});
    ASSERT_TRUE(out);
    if (out->frame(0).detected) announced.insert(out->frame(0).detected_frame);
    EXPECT_EQ(announced, want);
    EXPECT_EQ(rig.detected_frames(), 3u);
    EXPECT_TRUE(same_detections(out->frame(0).objects, expected_for(255))) << "frame 7 is white";
}

// A fixed max-delay reads back, is the deadline in force, and is the latency
// ssinfer adds; automatic (-1), the deadline starts at the latency budget.
TEST_F(Infer, MaxDelayAndDeadlineReadBack) {
    const std::string config = dir_.write("config.txt", config_text());
    {
        InferRig rig([&](GstElement* e) { g_object_set(e, "config-file", config.c_str(), "max-delay", 250, nullptr); });
        gint max_delay = 0;
        gdouble deadline = 0;
        g_object_get(rig.element(), "max-delay", &max_delay, "deadline", &deadline, nullptr);
        EXPECT_EQ(max_delay, 250);
        EXPECT_DOUBLE_EQ(deadline, 250.0);
        EXPECT_EQ(gst_harness_query_latency(rig.harness()), 250 * GST_MSECOND);
    }
    {
        InferRig rig([&](GstElement* e) { g_object_set(e, "config-file", config.c_str(), "latency-budget", 300, nullptr); });
        gint max_delay = 0, budget = 0;
        gdouble deadline = 0;
        g_object_get(rig.element(), "max-delay", &max_delay, "latency-budget", &budget, "deadline", &deadline, nullptr);
        EXPECT_EQ(max_delay, -1);
        EXPECT_EQ(budget, 300);
        EXPECT_DOUBLE_EQ(deadline, 300.0) << "before enough detections are measured, the budget applies";
        EXPECT_EQ(gst_harness_query_latency(rig.harness()), 300 * GST_MSECOND);
    }
}

// Starting with a config or a model that cannot be used fails the state
// change with a GST_ELEMENT_ERROR that names the file.
class InferStartFails : public Infer {
protected:
    std::string start_error(const std::string& config_file, GQuark* domain, gint* code) {
        GstElement* element = gst_element_factory_make("ssinfer", nullptr);
        g_object_set(element, "config-file", config_file.c_str(), "workers", 1, nullptr);
        BusOf bus(element);
        EXPECT_EQ(gst_element_set_state(element, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
        gst_element_set_state(element, GST_STATE_NULL);
        std::string error = bus.error(domain, code);
        gst_object_unref(element);
        return error;
    }
};

TEST_F(InferStartFails, MissingConfig) {
    const std::string missing = (fs::temp_directory_path() / "ssinfer-no-such-dir" / "config.txt").string();
    GQuark domain = 0;
    gint code = 0;
    const std::string error = start_error(missing, &domain, &code);
    EXPECT_NE(error.find(missing), std::string::npos) << error;
    EXPECT_EQ(domain, GST_RESOURCE_ERROR);
    EXPECT_EQ(code, GST_RESOURCE_ERROR_SETTINGS);
}

TEST_F(InferStartFails, CorruptModel) {
    const std::string model = dir_.write("corrupt.onnx", "this is not an ONNX model");
    GQuark domain = 0;
    gint code = 0;
    const std::string error = start_error(dir_.write("config.txt", config_text(model)), &domain, &code);
    EXPECT_NE(error.find(model), std::string::npos) << error;
    EXPECT_EQ(domain, GST_RESOURCE_ERROR);
}

TEST_F(InferStartFails, BadConfigValue) {
    const std::string config = dir_.write("config.txt", config_text((models_dir / "nanodet.onnx").string(), "parse-bbox-func-name=no-such-parser\n"));
    GQuark domain = 0;
    gint code = 0;
    const std::string error = start_error(config, &domain, &code);
    EXPECT_NE(error.find("no-such-parser"), std::string::npos) << error;
    EXPECT_EQ(domain, GST_RESOURCE_ERROR);
}
