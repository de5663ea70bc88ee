// sstracker under GstHarness, fed batches built by hand as ssinfer would let
// them out: each source frame with the detections found in it and marked
// detected, or with none on frames where detection did not run. The tracker
// settings come from the detector config the batch carries ([tracker] keys),
// as in the pipeline. The tracker works in the pushing thread, so each pushed
// batch is already out when the push returns: nothing here waits on a thread.
#include <gst/check/gstharness.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gst_test_util.hpp"
#include "meta/batch_meta.hpp"

namespace {

using sstest::BusOf;
using sstest::make_batch;

const cv::Size frame_size(320, 240);

ss::Detection object(int class_id, float left, float top, float width = 40, float height = 40) {
    ss::Detection d;
    d.class_id = class_id;
    d.confidence = 0.9f;
    d.box = {left, top, width, height};
    return d;
}

std::shared_ptr<const ss::InferConfig> config_with(std::map<std::string, std::string> tracker) {
    auto config = std::make_shared<ss::InferConfig>();
    config->tracker = std::move(tracker);
    return config;
}

// One sstracker between two harness pads.
class TrackerRig {
public:
    // `type`: the element's tracker property; nullptr leaves it unset.
    TrackerRig(std::shared_ptr<const ss::InferConfig> config, const char* type = nullptr) : config_(std::move(config)) {
        element_ = gst_element_factory_make("sstracker", nullptr);
        if (!element_) throw std::runtime_error("sstracker is not registered");
        if (type) g_object_set(element_, "tracker", type, nullptr);
        bus_ = std::make_unique<BusOf>(element_);
        h_ = gst_harness_new_with_element(element_, "sink", "src");
        gst_harness_set_src_caps_str(h_, SS_BATCH_CAPS ", framerate=(fraction)25/1");
    }
    ~TrackerRig() {
        gst_harness_teardown(h_);
        gst_object_unref(element_);
    }
    TrackerRig(const TrackerRig&) = delete;
    TrackerRig& operator=(const TrackerRig&) = delete;

    GstElement* element() const { return element_; }
    std::string error() const { return bus_->error(); }

    // Source 0's next frame, with `objects` detected on it, or (nullopt) not detected.
    GstFlowReturn push(const std::optional<ss::Detections>& objects) {
        auto frame = std::make_shared<SsVideoFrame>();
        frame->bgr = cv::Mat(frame_size, CV_8UC3, cv::Scalar::all(60));
        frame->number = ++number_;
        SsBatchFrame f;
        f.source_id = 0;
        f.state = SourceState::live;
        f.frame = frame;
        f.fresh = true;
        if (objects) {
            f.objects = *objects;
            f.detected = true;
            f.detected_frame = number_;
        }
        GstBuffer* batch = make_batch({f}, number_ * 40 * GST_MSECOND);
        *ss_buffer_get_batch_meta(batch)->detector_config = config_;
        return gst_harness_push(h_, batch);
    }

    // The objects sstracker put on source 0's frame of the next batch out.
    ss::Detections pull() {
        GstBuffer* out = gst_harness_try_pull(h_);
        if (!out) {
            ADD_FAILURE() << "no batch came out";
            return {};
        }
        ss::Detections objects = ss_buffer_get_batch_meta(out)->frames->at(0).objects;
        gst_buffer_unref(out);
        return objects;
    }

    ss::Detections pass(const std::optional<ss::Detections>& objects) {
        EXPECT_EQ(push(objects), GST_FLOW_OK);
        return pull();
    }

private:
    std::shared_ptr<const ss::InferConfig> config_;
    GstElement* element_ = nullptr;
    std::unique_ptr<BusOf> bus_;
    GstHarness* h_ = nullptr;
    guint64 number_ = 0;
};

// The track id of the object of `class_id` among `objects`; -2 when absent.
std::int64_t id_of(const ss::Detections& objects, int class_id) {
    for (const auto& d : objects) {
        if (d.class_id == class_id) return d.track_id;
    }
    return -2;
}

class Tracker : public ::testing::TestWithParam<const char*> {};

}  // namespace

// Two objects moving a little each frame keep one id each, distinct, from
// their first frame (min-hits=1) to the last.
TEST_P(Tracker, IdsStayWithTheirObjects) {
    TrackerRig rig(config_with({{"type", GetParam()}, {"min-hits", "1"}}));
    std::int64_t car = -1, person = -1;
    for (int i = 0; i < 8; ++i) {
        SCOPED_TRACE("frame " + std::to_string(i + 1));
        const auto out = rig.pass(ss::Detections{object(2, 20.f + 4 * i, 50), object(0, 200, 150.f - 3 * i)});
        ASSERT_EQ(out.size(), 2u);
        if (i == 0) {
            car = id_of(out, 2);
            person = id_of(out, 0);
            EXPECT_GE(car, 1);
            EXPECT_GE(person, 1);
            EXPECT_NE(car, person);
        }
        EXPECT_EQ(id_of(out, 2), car);
        EXPECT_EQ(id_of(out, 0), person);
    }
    EXPECT_EQ(rig.error(), "");
}

// An object missed for a frame is found again under its id; one missed for
// longer than max-age has expired, and comes back under a new id.
TEST_P(Tracker, LostObjectExpires) {
    TrackerRig rig(config_with({{"type", GetParam()}, {"min-hits", "1"}, {"max-age", "3"}}));
    const ss::Detections seen{object(2, 100, 100)}, gone{};
    std::int64_t first = -1;
    for (int i = 0; i < 3; ++i) first = id_of(rig.pass(seen), 2);
    ASSERT_GE(first, 1);

    EXPECT_TRUE(rig.pass(gone).empty()) << "a lost track is not shown";
    EXPECT_EQ(id_of(rig.pass(seen), 2), first) << "found again within max-age";

    for (int i = 0; i < 10; ++i) EXPECT_TRUE(rig.pass(gone).empty());
    const std::int64_t again = id_of(rig.pass(seen), 2);
    EXPECT_GE(again, 1);
    EXPECT_NE(again, first) << "an expired track's id is never reused";
    EXPECT_EQ(rig.error(), "");
}

INSTANTIATE_TEST_SUITE_P(Types, Tracker, ::testing::Values("iou", "bytetrack"));

// On a frame without detection, iou shows the last box where it was, while
// bytetrack's motion model moves it on. The property overrides the config's type.
TEST(TrackerType, PropertyChoosesTheMotionModel) {
    std::map<std::string, float> predicted_left;
    for (const char* type : {"iou", "bytetrack"}) {
        SCOPED_TRACE(type);
        const char* other = std::string(type) == "iou" ? "bytetrack" : "iou";
        TrackerRig rig(config_with({{"type", other}, {"min-hits", "1"}}), type);
        for (int i = 0; i < 8; ++i) ASSERT_EQ(rig.pass(ss::Detections{object(2, 20.f + 10 * i, 80)}).size(), 1u);
        const auto predicted = rig.pass(std::nullopt);
        ASSERT_EQ(predicted.size(), 1u);
        EXPECT_TRUE(predicted[0].predicted);
        predicted_left[type] = predicted[0].box.left;
        gchar* read_back = nullptr;
        g_object_get(rig.element(), "tracker", &read_back, nullptr);
        EXPECT_STREQ(read_back, type);
        g_free(read_back);
    }
    EXPECT_FLOAT_EQ(predicted_left["iou"], 90.f) << "iou keeps the last box (left 90)";
    EXPECT_GT(predicted_left["bytetrack"], 95.f) << "bytetrack moves it on at about 10 px per frame";
}

// An unknown tracker type stops the stream with an error naming it and the known ones.
TEST(TrackerType, UnknownTypeIsAnError) {
    TrackerRig rig(config_with({}), "no-such-tracker");
    EXPECT_EQ(rig.push(ss::Detections{object(2, 20, 80)}), GST_FLOW_ERROR);
    const std::string error = rig.error();
    EXPECT_NE(error.find("no-such-tracker"), std::string::npos) << error;
    EXPECT_NE(error.find("bytetrack"), std::string::npos) << error;
    EXPECT_NE(error.find("iou"), std::string::npos) << error;
}
