// ss::AsyncDetector: jobs run on worker threads, each with its own detector, on
// the tiny NanoDet model of make_test_models.py; results must be exactly what a
// detector called directly returns, whatever order the workers finish in.
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>

#include <sched.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <opencv2/core.hpp>

#include "slipstream/async_detector.hpp"
#include "slipstream/config.hpp"
#include "slipstream/thread_priority.hpp"
#include "test_util.hpp"

using namespace sstest;

namespace {

const fs::path models_dir = SS_TEST_MODELS_DIR;

cv::Mat grey(int level) { return cv::Mat(64, 64, CV_8UC3, cv::Scalar::all(level)); }

// What a worker's on_done (which runs on the worker thread itself) saw: that
// thread's scheduling policy, and when it was called.
struct PolicyProbe {
    int policy = -1;
    std::chrono::steady_clock::time_point called;
};

class AsyncDetectorTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (!fs::exists(models_dir / "nanodet.onnx")) GTEST_SKIP() << "test models missing in " << models_dir;
        config_ = ss::load_infer_config(dir_.write(
            "config.txt", "[property]\nonnx-file=" + (models_dir / "nanodet.onnx").string() +
                              "\nnet-scale-factor=0.00392156862745098\ninfer-dims=3;64;64\nnum-detected-classes=3\n"
                              "parse-bbox-func-name=nanodet\nbatch-size=2\n"
                              "[class-attrs-all]\npre-cluster-threshold=0.25\nnms-iou-threshold=0.5\n"));
    }

    std::unique_ptr<ss::AsyncDetector> make(int workers) {
        std::vector<std::unique_ptr<ss::Detector>> detectors;
        for (int i = 0; i < workers; ++i) detectors.push_back(std::make_unique<ss::Detector>(config_));
        return std::make_unique<ss::AsyncDetector>(std::move(detectors), [this] {
            std::lock_guard lock(mutex_);
            ++done_calls_;
            changed_.notify_all();
        });
    }

    std::unique_ptr<ss::AsyncDetector> make_probed(PolicyProbe& probe, ss::WorkerCompute compute) {
        std::vector<std::unique_ptr<ss::Detector>> detectors;
        detectors.push_back(std::make_unique<ss::Detector>(config_));
        return std::make_unique<ss::AsyncDetector>(
            std::move(detectors),
            [this, &probe] {
                std::lock_guard lock(mutex_);
                probe.policy = sched_getscheduler(0);
                probe.called = std::chrono::steady_clock::now();
                changed_.notify_all();
            },
            compute);
    }

    // Runs one job and waits (at most 10 s each) for it and for on_done.
    void run_one_job(ss::AsyncDetector& detector, const PolicyProbe& probe) {
        const auto job = detector.submit({{0, 1, grey(100)}});
        ASSERT_NE(job, 0u);
        wait_for(detector, job);
        std::unique_lock lock(mutex_);
        ASSERT_TRUE(changed_.wait_for(lock, std::chrono::seconds(10), [&] { return probe.policy != -1; }));
    }

    // Waits (at most 10 s) until job `number` is finished.
    void wait_for(const ss::AsyncDetector& detector, std::uint64_t number) {
        std::unique_lock lock(mutex_);
        ASSERT_TRUE(changed_.wait_for(lock, std::chrono::seconds(10), [&] { return detector.finished(number); }))
            << "job " << number << " did not finish";
    }

    TempDir dir_;
    ss::InferConfig config_;
    std::mutex mutex_;
    std::condition_variable changed_;
    int done_calls_ = 0;
};

}  // namespace

TEST_F(AsyncDetectorTest, NeedsADetector) {
    EXPECT_THROW(ss::AsyncDetector(std::vector<std::unique_ptr<ss::Detector>>{}), ss::Error);
}

TEST_F(AsyncDetectorTest, TakesNoMoreJobsThanWorkersAndNumbersThemInOrder) {
    auto detector = make(2);
    EXPECT_EQ(detector->workers(), 2);
    EXPECT_FALSE(detector->finished(1)) << "a job never submitted is not finished";
    EXPECT_EQ(detector->submit({}), 0u) << "an empty job is refused";
    std::vector<std::uint64_t> accepted;
    // Submitting as fast as possible: refused while two jobs are in flight.
    for (int attempt = 0; accepted.size() < 6 && attempt < 1000000; ++attempt) {
        const std::uint64_t number = detector->submit({{static_cast<int>(accepted.size()), 1, grey(100)}});
        if (!number) {  // both workers busy (one may have finished since: not checked, it would race)
            std::this_thread::yield();
            continue;
        }
        EXPECT_EQ(number, accepted.size() + 1);
        accepted.push_back(number);
    }
    ASSERT_EQ(accepted.size(), 6u);
    for (auto n : accepted) wait_for(*detector, n);
    EXPECT_FALSE(detector->busy());
    EXPECT_FALSE(detector->finished(7));
    const auto results = detector->take_results();
    ASSERT_EQ(results.size(), 6u);
    std::map<std::uint64_t, int> source_of_job;
    for (const auto& r : results) source_of_job[r.job] = r.source;
    ASSERT_EQ(source_of_job.size(), 6u);
    for (std::uint64_t n = 1; n <= 6; ++n) EXPECT_EQ(source_of_job[n], static_cast<int>(n - 1)) << "job " << n;
    EXPECT_EQ(detector->stats().frames, 6u);
    EXPECT_TRUE(detector->take_results().empty()) << "results are handed out once";
    // The callback runs just after a job is marked finished, outside the detector's
    // lock, so the last one may still be on its way: wait for it, then check none extra.
    std::unique_lock lock(mutex_);
    EXPECT_TRUE(changed_.wait_for(lock, std::chrono::seconds(10), [&] { return done_calls_ >= 6; }));
    EXPECT_EQ(done_calls_, 6);
}

TEST_F(AsyncDetectorTest, ResultsMatchTheDetectorCalledDirectly) {
    ss::Detector direct(config_);
    const std::vector<int> levels = {0, 85, 170, 255, 40};
    auto detector = make(2);
    // Two jobs side by side: frames 0-2 as one batch (split 2 + 1 by batch-size), 3-4 as another.
    std::vector<ss::DetectionJob> first, second;
    for (std::size_t i = 0; i < levels.size(); ++i) {
        ss::DetectionJob job{static_cast<int>(i), 10 + i, grey(levels[i])};
        (i < 3 ? first : second).push_back(job);
    }
    const auto a = detector->submit(first);
    const auto b = detector->submit(second);
    ASSERT_TRUE(a && b);
    wait_for(*detector, a);
    wait_for(*detector, b);
    const auto results = detector->take_results();
    ASSERT_EQ(results.size(), levels.size());
    for (const auto& r : results) {
        SCOPED_TRACE("source " + std::to_string(r.source));
        const auto expected = direct.detect(grey(levels[static_cast<std::size_t>(r.source)]));
        EXPECT_EQ(r.frame_number, 10u + static_cast<std::uint64_t>(r.source));
        EXPECT_EQ(r.job, r.source < 3 ? a : b);
        EXPECT_EQ(r.image_size, cv::Size(64, 64));
        ASSERT_EQ(r.objects.size(), expected.size());
        ASSERT_FALSE(expected.empty());
        for (std::size_t k = 0; k < expected.size(); ++k) {
            EXPECT_EQ(r.objects[k].class_id, expected[k].class_id);
            EXPECT_FLOAT_EQ(r.objects[k].confidence, expected[k].confidence);
            EXPECT_FLOAT_EQ(r.objects[k].box.left, expected[k].box.left);
            EXPECT_FLOAT_EQ(r.objects[k].box.bottom(), expected[k].box.bottom());
        }
    }
}

TEST_F(AsyncDetectorTest, AFailingJobFinishesEmptyAndTheWorkerGoesOn) {
    LogCapture logs;
    auto detector = make(1);
    const auto bad = detector->submit({{0, 1, cv::Mat()}});
    ASSERT_NE(bad, 0u);
    wait_for(*detector, bad);
    auto results = detector->take_results();
    ASSERT_EQ(results.size(), 1u);
    EXPECT_TRUE(results[0].objects.empty());
    ASSERT_FALSE(logs.messages.empty());
    EXPECT_NE(logs.messages[0].find("detection failed"), std::string::npos) << logs.messages[0];
    const auto good = detector->submit({{0, 2, grey(255)}});
    ASSERT_NE(good, 0u);
    wait_for(*detector, good);
    results = detector->take_results();
    ASSERT_EQ(results.size(), 1u);
    EXPECT_FALSE(results[0].objects.empty());
}

TEST_F(AsyncDetectorTest, WorkersRunAtBackgroundPriority) {
    PolicyProbe probe;
    auto detector = make_probed(probe, ss::WorkerCompute::cpu_pool);
    const auto before = std::chrono::steady_clock::now();
    run_one_job(*detector, probe);
    EXPECT_EQ(detector->priority(), "SCHED_IDLE");
    EXPECT_EQ(probe.policy, SCHED_IDLE) << "the worker thread's scheduling policy";
    const auto results = detector->take_results();
    ASSERT_EQ(results.size(), 1u);
    EXPECT_GE(results[0].finished, before) << "the results say when they were stored";
    EXPECT_LE(results[0].finished, probe.called);
    EXPECT_EQ(sched_getscheduler(0), SCHED_OTHER) << "the caller's thread keeps its priority";
}

TEST_F(AsyncDetectorTest, GpuWorkersKeepNormalPriority) {
    // They mostly wait for the GPU; at background priority a busy machine would
    // keep the next batch from it.
    PolicyProbe probe;
    auto detector = make_probed(probe, ss::WorkerCompute::gpu);
    run_one_job(*detector, probe);
    EXPECT_EQ(detector->priority(), "unchanged");
    EXPECT_EQ(probe.policy, SCHED_OTHER) << "the worker thread's scheduling policy";
    EXPECT_EQ(detector->compute(), ss::WorkerCompute::gpu);
}

TEST(ThreadPriority, AStoppingWorkerGetsNormalPriorityBackWhereAllowed) {
    std::mutex m;
    std::condition_variable cv;
    bool lowered = false, restored = false;
    int policy_after = -1;
    std::thread worker([&] {
        ss::lower_current_thread_priority();
        std::unique_lock lock(m);
        lowered = true;
        cv.notify_all();
        cv.wait(lock, [&] { return restored; });
        policy_after = sched_getscheduler(0);
    });
    {
        std::unique_lock lock(m);
        cv.wait(lock, [&] { return lowered; });
    }
    const bool ok = ss::restore_normal_priority(worker);
    {
        std::lock_guard lock(m);
        restored = true;
    }
    cv.notify_all();
    worker.join();
    if (geteuid() != 0) GTEST_SKIP() << "leaving SCHED_IDLE needs privileges (root or CAP_SYS_NICE)";
    EXPECT_TRUE(ok);
    EXPECT_EQ(policy_after, SCHED_OTHER);
}
