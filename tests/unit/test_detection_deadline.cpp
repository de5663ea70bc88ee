// ss::DetectionDeadline: the automatic wait follows the measured detection
// time at its high percentile plus a margin, within the latency budget.
#include <gtest/gtest.h>

#include "slipstream/detection_deadline.hpp"

namespace {

using ss::DetectionDeadline;

void add(DetectionDeadline& d, double ms, std::size_t times) {
    for (std::size_t i = 0; i < times; ++i) d.add_wait(ms);
}

TEST(DetectionDeadline, AFixedDeadlineIsUsedAsGiven) {
    DetectionDeadline fixed(100.0, 400);
    EXPECT_FALSE(fixed.automatic());
    EXPECT_DOUBLE_EQ(fixed.deadline_ms(), 100);
    add(fixed, 900, 50);
    EXPECT_DOUBLE_EQ(fixed.deadline_ms(), 100) << "measurements do not move a fixed deadline";
    EXPECT_FALSE(fixed.take_over_budget_warning());
    EXPECT_DOUBLE_EQ(DetectionDeadline(0.0, 400).deadline_ms(), 0) << "0: never wait";
}

TEST(DetectionDeadline, TheBudgetAppliesUntilEnoughJobsWereMeasured) {
    DetectionDeadline d(std::nullopt, 400);
    EXPECT_TRUE(d.automatic());
    EXPECT_DOUBLE_EQ(d.deadline_ms(), 400);
    add(d, 50, DetectionDeadline::min_samples - 1);
    EXPECT_DOUBLE_EQ(d.deadline_ms(), 400);
    EXPECT_DOUBLE_EQ(d.needed_ms(), 0);
    d.add_wait(50);
    EXPECT_DOUBLE_EQ(d.deadline_ms(), 50 * DetectionDeadline::margin_factor + DetectionDeadline::margin_ms);
}

TEST(DetectionDeadline, FollowsTheHighPercentileOfRecentWaits) {
    DetectionDeadline d(std::nullopt, 400);
    // One job in five slow: the percentile is the slow one, not the typical one.
    for (int i = 0; i < 48; ++i) d.add_wait(i % 5 == 4 ? 150 : 60);
    EXPECT_DOUBLE_EQ(d.measured_ms(), 150);
    // One in twenty-four slow: a rare stall does not set the deadline.
    for (int i = 0; i < 48; ++i) d.add_wait(i % 24 == 23 ? 150 : 60);
    EXPECT_DOUBLE_EQ(d.measured_ms(), 60);
    // A machine that gets slower: the deadline rises with it...
    add(d, 200, DetectionDeadline::window);
    EXPECT_DOUBLE_EQ(d.measured_ms(), 200);
    EXPECT_DOUBLE_EQ(d.deadline_ms(), 200 * DetectionDeadline::margin_factor + DetectionDeadline::margin_ms);
    // ...and falls again once it is quiet, within one window of jobs.
    add(d, 40, DetectionDeadline::window);
    EXPECT_DOUBLE_EQ(d.deadline_ms(), 40 * DetectionDeadline::margin_factor + DetectionDeadline::margin_ms);
}

TEST(DetectionDeadline, NeverLongerThanTheBudgetAndWarnsOnceWhenItIsNotEnough) {
    DetectionDeadline d(std::nullopt, 300);
    add(d, 100, DetectionDeadline::window);
    EXPECT_FALSE(d.take_over_budget_warning());
    add(d, 500, DetectionDeadline::window);
    EXPECT_DOUBLE_EQ(d.deadline_ms(), 300);
    EXPECT_GT(d.needed_ms(), 300);
    EXPECT_TRUE(d.take_over_budget_warning());
    EXPECT_FALSE(d.take_over_budget_warning()) << "one warning, not one per batch";
    add(d, 260, DetectionDeadline::window);  // needs 322: still over
    EXPECT_FALSE(d.take_over_budget_warning());
    add(d, 100, DetectionDeadline::window);  // well under again: re-armed
    EXPECT_FALSE(d.take_over_budget_warning());
    add(d, 500, DetectionDeadline::window);
    EXPECT_TRUE(d.take_over_budget_warning());
}

TEST(DetectionDeadline, IgnoresNegativeWaits) {
    DetectionDeadline d;
    add(d, -5, 100);
    EXPECT_DOUBLE_EQ(d.deadline_ms(), DetectionDeadline::default_budget_ms);
}

}  // namespace
