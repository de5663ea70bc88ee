// interval=auto: the interval follows the measured frame rate and detection cost.
#include <gtest/gtest.h>

#include "slipstream/auto_interval.hpp"

namespace {

// Feeds `seconds` of frames at `fps` and a detection cost, in 0.1 s steps.
void run(ss::AutoInterval& chooser, double& now, double seconds, double fps, double cost_ms, int workers = 1) {
    double owed = 0;  // fractions of a frame carried to the next step
    for (double t = 0; t < seconds; t += 0.1) {
        owed += fps / 10;
        const int frames = static_cast<int>(owed);
        owed -= frames;
        chooser.add_frames(frames, now);
        chooser.add_detection_cost(cost_ms, workers);
        now += 0.1;
        chooser.update(now);
    }
}

TEST(AutoInterval, DetectsEveryFrameWhenTheBudgetAllows) {
    ss::AutoInterval chooser(0.85, 2.0);
    double now = 0;
    run(chooser, now, 10, 10, 40);  // 10 frames/s x 40 ms = 0.4 of a core
    EXPECT_EQ(chooser.interval(), 0);
}

TEST(AutoInterval, SkipsJustEnoughFramesToStayInsideTheBudget) {
    ss::AutoInterval chooser(0.85, 2.0);
    double now = 0;
    run(chooser, now, 10, 40, 50);  // 40 frames/s x 50 ms = 2 cores: one core at 85% takes 17/s
    EXPECT_EQ(chooser.interval(), 2);  // every 3rd frame: 13.3 detections/s
    EXPECT_LE(chooser.detections_per_second() * 50 / 1000.0, 0.85);
    EXPECT_NEAR(chooser.frames_per_second(), 40, 1);
}

TEST(AutoInterval, CountsDetectorsRunningSideBySide) {
    ss::AutoInterval chooser(0.85, 2.0);
    double now = 0;
    // 40 frames/s x 50 ms on each of two workers: together they take 34/s at 85%.
    run(chooser, now, 10, 40, 50, 2);
    EXPECT_EQ(chooser.interval(), 1);  // every 2nd frame: 20 detections/s, 10 per worker
    EXPECT_LE(chooser.detections_per_second() / 2 * 50 / 1000.0, 0.85);
}

TEST(AutoInterval, LowersTheIntervalWhenLoadDrops) {
    ss::AutoInterval chooser(0.85, 2.0);
    double now = 0;
    run(chooser, now, 10, 40, 50);
    ASSERT_EQ(chooser.interval(), 2);
    run(chooser, now, 20, 10, 50);  // three cameras went away
    EXPECT_EQ(chooser.interval(), 0);
}

TEST(AutoInterval, DoesNotFlapAtTheBoundary) {
    ss::AutoInterval chooser(0.85, 2.0);
    double now = 0;
    run(chooser, now, 10, 20, 45);  // 20 x 45 ms = 0.9 of a core: interval 1 (0.45)
    ASSERT_EQ(chooser.interval(), 1);
    run(chooser, now, 10, 18, 45);  // 0.81 at interval 0: inside the budget but not clearly
    EXPECT_EQ(chooser.interval(), 1);
}

TEST(AutoInterval, WaitsForMeasurements) {
    ss::AutoInterval chooser(0.85, 2.0);
    EXPECT_FALSE(chooser.update(5.0));
    chooser.add_frames(10, 0);
    EXPECT_FALSE(chooser.update(1.0));  // less than a period
    EXPECT_FALSE(chooser.update(2.5));  // no detection cost yet
    EXPECT_EQ(chooser.interval(), 0);
}

}  // namespace
