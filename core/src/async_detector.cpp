#include "slipstream/async_detector.hpp"

#include <chrono>

#include "slipstream/log.hpp"

namespace ss {

AsyncDetector::AsyncDetector(std::unique_ptr<Detector> detector, std::function<void()> on_done)
    : detector_(std::move(detector)), on_done_(std::move(on_done)), thread_([this] { run(); }) {}

AsyncDetector::~AsyncDetector() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
}

bool AsyncDetector::busy() const {
    std::lock_guard lock(mutex_);
    return busy_;
}

std::uint64_t AsyncDetector::submit(std::vector<DetectionJob> jobs) {
    std::uint64_t number;
    {
        std::lock_guard lock(mutex_);
        if (busy_ || stop_ || jobs.empty()) return 0;
        jobs_ = std::move(jobs);
        busy_ = true;
        number = ++jobs_started_;
    }
    wake_.notify_all();
    return number;
}

std::uint64_t AsyncDetector::jobs_done() const {
    std::lock_guard lock(mutex_);
    return jobs_done_;
}

std::vector<DetectionResult> AsyncDetector::take_results() {
    std::lock_guard lock(mutex_);
    return std::exchange(results_, {});
}

DetectorStats AsyncDetector::stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
}

void AsyncDetector::run() {
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
        if (stop_) return;
        std::vector<DetectionJob> jobs = std::move(jobs_);
        jobs_.clear();
        lock.unlock();

        const auto start = std::chrono::steady_clock::now();
        std::vector<cv::Mat> images;
        for (const auto& job : jobs) images.push_back(job.image);
        std::vector<Detections> found;
        try {
            found = detector_->detect(images);
        } catch (const std::exception& e) {
            // One bad frame must not stop detection for every camera.
            log(LogLevel::warning, std::string("detection failed: ") + e.what());
            found.assign(jobs.size(), {});
        }
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

        lock.lock();
        for (std::size_t i = 0; i < jobs.size(); ++i) {
            results_.push_back({jobs[i].source, jobs[i].frame_number, jobs[i].image.size(), std::move(found[i])});
        }
        stats_.frames += jobs.size();
        stats_.busy_seconds += seconds;
        stats_.last_ms_per_frame = 1000.0 * seconds / static_cast<double>(jobs.size());
        busy_ = false;
        ++jobs_done_;
        if (on_done_) {
            lock.unlock();
            on_done_();
            lock.lock();
        }
    }
}

}  // namespace ss
