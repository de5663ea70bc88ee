#pragma once
// Runs a Detector on its own thread so that nothing on the way to the output
// ever waits for inference: callers hand over frames when the worker is idle
// and collect results whenever they are ready.
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <opencv2/core.hpp>

#include "slipstream/detector.hpp"

namespace ss {

struct DetectionJob {
    int source = 0;
    std::uint64_t frame_number = 0;
    cv::Mat image;  // shares the caller's pixels; never written
};

struct DetectionResult {
    int source = 0;
    std::uint64_t frame_number = 0;
    cv::Size image_size;
    Detections objects;
};

struct DetectorStats {
    std::uint64_t frames = 0;          // frames detected so far
    double busy_seconds = 0;           // time spent detecting
    double last_ms_per_frame = 0;      // of the latest job
};

class AsyncDetector {
public:
    // on_done, if given, is called on the worker thread after each job's results are stored.
    explicit AsyncDetector(std::unique_ptr<Detector> detector, std::function<void()> on_done = {});
    ~AsyncDetector();
    AsyncDetector(const AsyncDetector&) = delete;
    AsyncDetector& operator=(const AsyncDetector&) = delete;

    bool busy() const;
    // Starts detecting `jobs` unless a job is still running; returns the job's
    // number (1, 2, ...) or 0 when it did not start.
    std::uint64_t submit(std::vector<DetectionJob> jobs);
    // Number of the last job whose results are ready.
    std::uint64_t jobs_done() const;
    // Results finished since the last call.
    std::vector<DetectionResult> take_results();
    DetectorStats stats() const;
    const InferConfig& config() const { return detector_->config(); }

private:
    void run();

    std::unique_ptr<Detector> detector_;
    std::function<void()> on_done_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::vector<DetectionJob> jobs_;
    std::vector<DetectionResult> results_;
    DetectorStats stats_;
    bool busy_ = false, stop_ = false;
    std::uint64_t jobs_started_ = 0, jobs_done_ = 0;
    std::thread thread_;
};

}  // namespace ss
