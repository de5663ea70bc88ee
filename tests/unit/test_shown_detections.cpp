// What a source's frames show of its detections as batches leave ssinfer:
// each result on the batch that shows its own frame, announced once.
#include <gtest/gtest.h>

#include "slipstream/shown_detections.hpp"

namespace {

// A result of job `job` for frame `frame`, with `objects` boxes of class `frame`.
ss::DetectionResult result(std::uint64_t job, std::uint64_t frame, int objects = 1) {
    ss::DetectionResult r;
    r.job = job;
    r.frame_number = frame;
    r.image_size = cv::Size(640, 360);
    for (int i = 0; i < objects; ++i) {
        ss::Detection d;
        d.class_id = static_cast<int>(frame);
        r.objects.push_back(d);
    }
    return r;
}

int class_shown(const ss::ShownFrame& shown) {
    return shown.objects->empty() ? -1 : shown.objects->front().class_id;
}

}  // namespace

TEST(ShownDetections, NothingBeforeTheFirstResult) {
    ss::ShownDetections s;
    const auto shown = s.show(1, true);
    EXPECT_TRUE(shown.objects->empty());
    EXPECT_EQ(shown.detected_frame, 0u);
    EXPECT_FALSE(shown.detected);
    EXPECT_FALSE(shown.on_time);
}

TEST(ShownDetections, AResultGoesOnItsOwnFrameOnce) {
    ss::ShownDetections s;
    s.add(result(1, 5));
    const auto own = s.show(5, true);
    EXPECT_EQ(class_shown(own), 5);
    EXPECT_EQ(own.size, cv::Size(640, 360));
    EXPECT_TRUE(own.detected);
    EXPECT_TRUE(own.on_time);
    // The next frames keep showing it (for drawing), without announcing it again.
    const auto next = s.show(6, true);
    EXPECT_EQ(class_shown(next), 5);
    EXPECT_EQ(next.detected_frame, 5u);
    EXPECT_FALSE(next.detected);
}

TEST(ShownDetections, ALaterFramesResultWaitsForItsOwnBatch) {
    // The GPU detected frame 6 (the next batch) before the batch showing
    // frame 5 left: frame 5 gets its own result, frame 6 its own.
    ss::ShownDetections s;
    s.add(result(1, 5));
    s.add(result(2, 6));
    const auto five = s.show(5, true);
    EXPECT_EQ(class_shown(five), 5);
    EXPECT_TRUE(five.on_time);
    EXPECT_EQ(s.waiting(), 1u);
    const auto six = s.show(6, true);
    EXPECT_EQ(class_shown(six), 6);
    EXPECT_TRUE(six.detected);
    EXPECT_TRUE(six.on_time);
    EXPECT_EQ(s.waiting(), 0u);
}

TEST(ShownDetections, AResultWhoseFrameLeftGoesOnTheNextFrameShown) {
    ss::ShownDetections s;
    EXPECT_FALSE(s.show(5, true).detected);  // frame 5 left at its deadline
    s.add(result(1, 5));
    const auto late = s.show(6, true);
    EXPECT_EQ(class_shown(late), 5);
    EXPECT_TRUE(late.detected) << "announced, so the tracker still gets it";
    EXPECT_FALSE(late.on_time);
    EXPECT_EQ(late.detected_frame, 5u);
}

TEST(ShownDetections, OfSeveralLateResultsOnlyTheNewestIsShown) {
    ss::ShownDetections s;
    s.add(result(1, 5));
    s.add(result(2, 6));
    s.add(result(3, 8));
    const auto shown = s.show(7, true);
    EXPECT_EQ(class_shown(shown), 6);
    EXPECT_TRUE(shown.detected);
    EXPECT_FALSE(shown.on_time);
    EXPECT_EQ(s.waiting(), 1u) << "frame 8's result waits for frame 8";
}

TEST(ShownDetections, ARepeatedFrameIsNeverOnTime) {
    // A batch repeating a frame already shown (the camera sent nothing new).
    ss::ShownDetections s;
    s.add(result(1, 5));
    const auto repeat = s.show(5, false);
    EXPECT_TRUE(repeat.detected);
    EXPECT_FALSE(repeat.on_time);
}
