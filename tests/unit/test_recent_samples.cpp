// Percentiles of the most recent latency samples (the per-stage latency line).
#include <gtest/gtest.h>

#include "slipstream/recent_samples.hpp"

TEST(RecentSamples, NearestRankPercentiles) {
    ss::RecentSamples s(100);
    EXPECT_EQ(s.percentile(0.5), 0);  // empty
    for (int v = 100; v >= 1; --v) s.add(v);  // order must not matter
    EXPECT_EQ(s.size(), 100u);
    EXPECT_EQ(s.percentile(0.5), 50);
    EXPECT_EQ(s.percentile(0.99), 99);
    EXPECT_EQ(s.percentile(1.0), 100);
    EXPECT_EQ(s.percentile(0.0), 1);
    EXPECT_EQ(s.percentile(0.001), 1);
    EXPECT_EQ(s.percentile(0.07), 7);  // 0.07 * 100 is 7.000000000000001 in doubles
}

TEST(RecentSamples, KeepsOnlyTheLatestValues) {
    ss::RecentSamples s(4);
    for (int v : {1000, 1000, 1000, 1000, 1, 2, 3}) s.add(v);
    EXPECT_EQ(s.size(), 4u);
    // Kept: 1000, 1, 2, 3 — one old value left.
    EXPECT_EQ(s.percentile(0.75), 3);
    EXPECT_EQ(s.percentile(1.0), 1000);
    s.add(4);
    EXPECT_EQ(s.percentile(1.0), 4);
    EXPECT_EQ(s.percentile(0.25), 1);
}
