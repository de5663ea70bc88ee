// ss::ReconnectBackoff: 1 s, then doubling up to the maximum, and back to the
// start once the camera delivered frames again.
#include <gtest/gtest.h>

#include "slipstream/reconnect_backoff.hpp"

namespace {

TEST(ReconnectBackoff, DoublesUpToTheMaximum) {
    ss::ReconnectBackoff backoff(1, 10);
    EXPECT_DOUBLE_EQ(backoff.upcoming(), 1);
    const double expected[] = {1, 2, 4, 8, 10, 10, 10};
    for (double e : expected) EXPECT_DOUBLE_EQ(backoff.next_wait(), e);
    EXPECT_DOUBLE_EQ(backoff.upcoming(), 10);
}

TEST(ReconnectBackoff, StartsOverOnceTheCameraWorkedAgain) {
    ss::ReconnectBackoff backoff(0.5, 3);
    backoff.next_wait();
    backoff.next_wait();
    EXPECT_DOUBLE_EQ(backoff.upcoming(), 2);
    backoff.reset();
    EXPECT_DOUBLE_EQ(backoff.next_wait(), 0.5);
    EXPECT_DOUBLE_EQ(backoff.next_wait(), 1);
}

TEST(ReconnectBackoff, AMaximumBelowTheFirstWaitIsTheFirstWait) {
    ss::ReconnectBackoff backoff(5, 2);
    EXPECT_DOUBLE_EQ(backoff.next_wait(), 5);
    EXPECT_DOUBLE_EQ(backoff.next_wait(), 5);
}

}  // namespace
