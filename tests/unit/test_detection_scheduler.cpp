// Which frames go to the detectors when they cannot take them all (ssinfer).
#include <gtest/gtest.h>

#include <map>

#include "slipstream/detection_scheduler.hpp"

namespace {

std::vector<ss::QueuedFrame> frames(std::initializer_list<ss::QueuedFrame> list) { return list; }

}  // namespace

TEST(DetectionScheduler, IntervalSkipsFramesAfterEachHandOver) {
    ss::DetectionScheduler s(2);
    EXPECT_TRUE(s.due(0, 1));
    s.handed_over(frames({{0, 1, 0}}), 1);
    EXPECT_FALSE(s.due(0, 1));
    EXPECT_FALSE(s.due(0, 3));
    EXPECT_TRUE(s.due(0, 4));
    EXPECT_TRUE(s.due(1, 2));  // another source is not held back
    s.set_interval(0);
    EXPECT_TRUE(s.due(0, 2));
}

TEST(DetectionScheduler, NewestDueFrameOfEachSource) {
    ss::DetectionScheduler s;
    const auto picked = s.pick(frames({{0, 5, 0}, {1, 9, 0}, {0, 6, 1}, {0, 7, 2}}), 10);
    ASSERT_EQ(picked.size(), 2u);
    EXPECT_EQ(picked[0].source, 0);
    EXPECT_EQ(picked[0].number, 7u);
    EXPECT_EQ(picked[0].batch, 2u);
    EXPECT_EQ(picked[1].source, 1);
    EXPECT_EQ(picked[1].number, 9u);
}

TEST(DetectionScheduler, SourceServedLongestAgoFirst) {
    ss::DetectionScheduler s;
    s.handed_over(frames({{0, 1, 0}}), 1);
    s.handed_over(frames({{2, 1, 0}}), 2);
    s.handed_over(frames({{1, 1, 0}}), 3);
    const auto queued = frames({{0, 2, 0}, {1, 2, 0}, {2, 2, 0}, {3, 2, 0}});
    const auto picked = s.pick(queued, 3);
    ASSERT_EQ(picked.size(), 3u);
    EXPECT_EQ(picked[0].source, 3);  // never served
    EXPECT_EQ(picked[1].source, 0);
    EXPECT_EQ(picked[2].source, 2);
    EXPECT_EQ(s.pick(queued, 1).front().source, 3);
}

// A saturated detector with sources at different frame rates: each source gets
// an equal share, where serving the oldest queued frame first would hand the
// fast source most of the detections.
TEST(DetectionScheduler, SlowSourcesAreNotStarvedByAFastOne) {
    ss::DetectionScheduler s(2);
    const std::map<int, int> period_ms = {{0, 100}, {1, 66}, {2, 100}, {3, 100}};  // 10, 15, 10, 10 fps
    std::map<int, std::uint64_t> number;
    std::vector<ss::QueuedFrame> queue;  // the last 100 ms of frames
    std::vector<std::pair<int, ss::QueuedFrame>> arrivals;  // (time ms, frame)
    std::map<int, int> detected;
    std::uint64_t job = 0;
    for (int t = 0; t < 20000; ++t) {
        for (const auto& [source, period] : period_ms) {
            if ((t + 7 * source) % period) continue;
            ss::QueuedFrame f{source, ++number[source], 0};
            s.arrived(source, f.number);
            arrivals.push_back({t, f});
        }
        while (!arrivals.empty() && arrivals.front().first < t - 100) arrivals.erase(arrivals.begin());
        if (t % 80) continue;  // one detection every 80 ms: 12.5/s against 15.8/s wanted
        queue.clear();
        for (const auto& a : arrivals) queue.push_back(a.second);
        const auto picked = s.pick(queue, 1);
        if (picked.empty()) continue;
        s.handed_over(picked, ++job);
        ++detected[picked[0].source];
    }
    const int total = detected[0] + detected[1] + detected[2] + detected[3];
    EXPECT_GE(total, 240);
    for (const auto& [source, n] : detected) EXPECT_NEAR(n, total / 4, total / 20) << "source " << source;
}

TEST(DetectionScheduler, RestartForgetsTheSourceAndRefusesItsOldResults) {
    ss::DetectionScheduler s(5);
    EXPECT_FALSE(s.arrived(0, 100));
    s.handed_over(frames({{0, 100, 0}}), 7);
    EXPECT_FALSE(s.arrived(0, 101));
    EXPECT_FALSE(s.due(0, 102));
    EXPECT_TRUE(s.arrived(0, 1));  // counting from 1 again: the camera restarted
    EXPECT_TRUE(s.due(0, 1));
    EXPECT_FALSE(s.accept(0, 7));  // its frame belongs to the stream before the restart
    s.handed_over(frames({{0, 1, 0}}), 8);
    EXPECT_TRUE(s.accept(0, 8));
}

TEST(DetectionScheduler, ResultsFinishingOutOfOrderAreStale) {
    ss::DetectionScheduler s;
    s.handed_over(frames({{0, 1, 0}}), 1);
    s.handed_over(frames({{0, 2, 0}, {1, 2, 0}}), 2);
    EXPECT_TRUE(s.accept(0, 2));
    EXPECT_FALSE(s.accept(0, 1));  // older than what the source shows already
    EXPECT_TRUE(s.accept(1, 2));
}
