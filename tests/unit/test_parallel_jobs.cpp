// ss::ParallelJobs: fewer detection jobs at once while the CPU starves them,
// more again once they get nearly a whole core.
#include <gtest/gtest.h>

#include "slipstream/parallel_jobs.hpp"

namespace {

using ss::ParallelJobs;

// One window of jobs, each given `share` of a core.
void window_of(ParallelJobs& p, double share) {
    for (std::size_t i = 0; i < ParallelJobs::window; ++i) p.finished(0.1 * share, 0.1);
}

TEST(ParallelJobs, AllWorkersRunWhileJobsGetTheirCores) {
    ParallelJobs p(2, true);
    EXPECT_EQ(p.allowed(), 2);
    window_of(p, 0.97);
    window_of(p, 0.75);  // between the thresholds: no change
    EXPECT_EQ(p.allowed(), 2);
}

TEST(ParallelJobs, StarvedJobsRunOneFewerAtATimeDownToOne) {
    ParallelJobs p(3, true);
    for (std::size_t i = 0; i + 1 < ParallelJobs::window; ++i) p.finished(0.03, 0.1);
    EXPECT_EQ(p.allowed(), 3) << "decides only on a whole window";
    p.finished(0.03, 0.1);
    EXPECT_EQ(p.allowed(), 2);
    window_of(p, 0.3);
    EXPECT_EQ(p.allowed(), 1);
    window_of(p, 0.3);
    EXPECT_EQ(p.allowed(), 1) << "one job always runs";
}

TEST(ParallelJobs, MoreRunAgainOnceAJobGetsNearlyAWholeCore) {
    ParallelJobs p(2, true);
    window_of(p, 0.3);
    ASSERT_EQ(p.allowed(), 1);
    window_of(p, 0.7);  // a busy machine's leftover: one job at a time stays
    EXPECT_EQ(p.allowed(), 1);
    window_of(p, 0.95);
    EXPECT_EQ(p.allowed(), 2);
    window_of(p, 0.95);
    EXPECT_EQ(p.allowed(), 2) << "never more than the workers";
}

TEST(ParallelJobs, ANonAdaptiveLimitIsTheWorkers) {
    ParallelJobs p(4, false);
    window_of(p, 0.05);
    window_of(p, 0.05);
    EXPECT_EQ(p.allowed(), 4);
    EXPECT_EQ(ParallelJobs(0, true).allowed(), 1) << "at least one worker";
}

TEST(ParallelJobs, MeasuresTheShareOverTheCurrentWindow) {
    ParallelJobs p(2, true);
    EXPECT_DOUBLE_EQ(p.share(), 0);
    p.finished(0.05, 0.1);
    p.finished(0.15, 0.1);
    EXPECT_DOUBLE_EQ(p.share(), 1.0);
    p.finished(0.1, 0);  // a job with no measurable wall time says nothing
    EXPECT_DOUBLE_EQ(p.share(), 1.0);
}

}  // namespace
