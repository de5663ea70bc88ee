// The shipped default config and model on a real frame: the people walking in
// OpenCV's sample video are found. Skipped when the model is not downloaded.
#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/videoio.hpp>

#include "slipstream/config.hpp"
#include "slipstream/detector.hpp"
#include "test_util.hpp"

using namespace sstest;

namespace {

// Frame 250 shows eight people found with confidence >= 0.4; the threshold of
// five leaves room for small numeric differences between OpenCV builds.
constexpr int frame_index = 250;

cv::Mat video_frame(int index) {
    cv::VideoCapture video(SS_VTEST_VIDEO);
    if (!video.isOpened()) return {};
    // Decoding up to the frame is exact, seeking in an AVI need not be (and takes ~0.2 s).
    cv::Mat frame;
    for (int i = 0; i <= index; ++i) {
        if (!video.read(frame)) return {};
    }
    return frame;
}

}  // namespace

TEST(Golden, DefaultModelFindsPeopleInVtest) {
    ss::InferConfig config;
    try {
        config = ss::load_infer_config(ss::default_config_path());
    } catch (const ss::ConfigError& e) {
        if (contains(e.what(), "onnx-file")) GTEST_SKIP() << "default model not downloaded: " << e.what();
        throw;
    }
    const cv::Mat frame = video_frame(frame_index);
    ASSERT_FALSE(frame.empty()) << "cannot read frame " << frame_index << " of " << SS_VTEST_VIDEO;

    ss::Detector detector(config);
    const auto found = detector.detect(frame);
    int persons = 0;
    for (const auto& d : found) {
        EXPECT_GE(d.box.left, 0.f);
        EXPECT_LE(d.box.right(), static_cast<float>(frame.cols));
        if (config.label(d.class_id) == "person" && d.confidence >= 0.4f) ++persons;
    }
    EXPECT_GE(persons, 5) << found.size() << " objects";
    // Persons count in the Person group of the default config.
    for (const auto& d : found) {
        if (d.class_id == 0) {
            EXPECT_EQ(config.group_name(d.group), "Person");
        }
    }
}
