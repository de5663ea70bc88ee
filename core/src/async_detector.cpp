#include "slipstream/async_detector.hpp"

#include <chrono>
#include <string>

#include <pthread.h>
#include <time.h>

#include "slipstream/error.hpp"
#include "slipstream/log.hpp"
#include "slipstream/thread_priority.hpp"

namespace ss {

namespace {

// CPU time the calling thread has run, in seconds.
double thread_cpu_seconds() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

}  // namespace

AsyncDetector::AsyncDetector(std::vector<std::unique_ptr<Detector>> detectors, std::function<void()> on_done,
                             WorkerCompute compute)
    : detectors_(std::move(detectors)),
      on_done_(std::move(on_done)),
      compute_(compute),
      parallel_(static_cast<int>(detectors_.size()), compute == WorkerCompute::cpu_thread) {
    if (detectors_.empty()) throw Error("AsyncDetector: no detector");
    try {
        for (auto& d : detectors_) {
            const std::string name = "ss-detect" + std::to_string(threads_.size());
            threads_.emplace_back([this, &d, name] {
#ifdef __linux__
                // Named so that top -H and the benchmark can tell detection CPU apart.
                pthread_setname_np(pthread_self(), name.c_str());
#endif
                const std::string priority =
                    compute_ == WorkerCompute::gpu ? std::string("unchanged") : lower_current_thread_priority();
                {
                    std::lock_guard lock(mutex_);
                    if (priority_.empty()) priority_ = priority;
                }
                run(*d);
            });
        }
    } catch (...) {
        stop_workers();  // no destructor runs for a half-built object
        throw;
    }
}

AsyncDetector::~AsyncDetector() { stop_workers(); }

void AsyncDetector::stop_workers() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    wake_.notify_all();
    // A worker in the middle of a forward at background priority may get no CPU
    // at all on a saturated machine: give it normal priority to finish, where allowed.
    for (auto& t : threads_) restore_normal_priority(t);
    for (auto& t : threads_) t.join();
}

bool AsyncDetector::busy() const {
    std::lock_guard lock(mutex_);
    return unfinished_.size() >= static_cast<std::size_t>(parallel_.allowed());
}

int AsyncDetector::parallel_jobs() const {
    std::lock_guard lock(mutex_);
    return parallel_.allowed();
}

std::uint64_t AsyncDetector::submit(std::vector<DetectionJob> jobs) {
    std::uint64_t number;
    {
        std::lock_guard lock(mutex_);
        if (unfinished_.size() >= static_cast<std::size_t>(parallel_.allowed()) || stop_ || jobs.empty()) return 0;
        number = ++jobs_started_;
        unfinished_.insert(number);
        waiting_.push_back({number, std::move(jobs)});
    }
    wake_.notify_one();
    return number;
}

bool AsyncDetector::finished(std::uint64_t number) const {
    std::lock_guard lock(mutex_);
    return number <= jobs_started_ && !unfinished_.count(number);
}

std::vector<DetectionResult> AsyncDetector::take_results() {
    std::lock_guard lock(mutex_);
    return std::exchange(results_, {});
}

std::string AsyncDetector::priority() const {
    std::lock_guard lock(mutex_);
    return priority_;
}

DetectorStats AsyncDetector::stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
}

void AsyncDetector::run(Detector& detector) {
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait(lock, [this] { return stop_ || !waiting_.empty(); });
        if (stop_) return;
        Job job = std::move(waiting_.front());
        waiting_.pop_front();
        lock.unlock();

        const auto start = std::chrono::steady_clock::now();
        const double cpu_start = thread_cpu_seconds();
        std::vector<cv::Mat> images;
        for (const auto& frame : job.frames) images.push_back(frame.image);
        std::vector<Detections> found;
        bool on_device = detector.accepts_device_frames();
        for (const auto& frame : job.frames) on_device = on_device && frame.device;
        bool device_failed = false;
        if (on_device) {
            std::vector<DeviceFrame> frames;
            std::vector<cv::Size> sizes;
            for (const auto& frame : job.frames) {
                frames.push_back(*frame.device);
                sizes.push_back(frame.image.size());
            }
            try {
                found = detector.detect_frames(frames, sizes);
            } catch (const std::exception& e) {
                // The CPU pictures are still there: detect those instead. Said
                // once, then counted (a broken GPU would fail every job).
                if (!device_failure_logged_.exchange(true)) {
                    log(LogLevel::warning, std::string("detection on GPU frames failed, detecting the CPU pictures instead: ") + e.what());
                }
                on_device = false;
                device_failed = true;
            }
        }
        if (!on_device) {
            try {
                found = detector.detect(images);
            } catch (const std::exception& e) {
                // One bad frame must not stop detection for every camera.
                log(LogLevel::warning, std::string("detection failed: ") + e.what());
                found.assign(job.frames.size(), {});
            }
        }
        const auto finished = std::chrono::steady_clock::now();
        const double seconds = std::chrono::duration<double>(finished - start).count();
        const double cpu_seconds = thread_cpu_seconds() - cpu_start;

        lock.lock();
        for (std::size_t i = 0; i < job.frames.size(); ++i) {
            const DetectionJob& f = job.frames[i];
            results_.push_back({job.number, f.source, f.frame_number, f.image.size(), std::move(found[i]), finished});
        }
        stats_.frames += job.frames.size();
        if (on_device) stats_.device_frames += job.frames.size();
        if (device_failed) ++stats_.device_failures;
        stats_.busy_seconds += seconds;
        stats_.last_ms_per_frame = 1000.0 * seconds / static_cast<double>(job.frames.size());
        parallel_.finished(cpu_seconds, seconds);
        unfinished_.erase(job.number);
        if (on_done_) {
            lock.unlock();
            on_done_();
            lock.lock();
        }
    }
}

}  // namespace ss
