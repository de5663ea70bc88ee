#pragma once
// Runs detectors on their own threads so that nothing on the way to the output
// ever waits for inference: callers hand over frames while a worker is idle
// and collect results whenever they are ready.
//
// Several workers, each with its own Detector (its own network), run jobs side
// by side. On a few cores that beats one network spread over all of them:
// OpenCV's DNN threads spin and wait on each other, so one forward on two
// threads costs ~40% more CPU than on one (bench/run.sh, floors).
//
// Workers of networks computed on the CPU run at background priority
// (thread_priority.hpp): detection only gets the CPU time the picture does not
// need. Such a worker never runs the caller's code under its locks: on_done
// only signals, because a background thread preempted while holding a lock the
// video threads wait for would stall them. Workers of a GPU network keep normal
// priority: they mostly wait for the GPU, and each moment one of them waits for
// a core is a moment the GPU has no next batch.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <opencv2/core.hpp>

#include "slipstream/detector.hpp"
#include "slipstream/parallel_jobs.hpp"

namespace ss {

struct DetectionJob {
    int source = 0;
    std::uint64_t frame_number = 0;
    cv::Mat image;  // shares the caller's pixels; never written
    // The same frame in GPU memory (the GPU path), or null. When the backend
    // accepts device frames and every frame of a job has one, the job is
    // detected from these and boxes are reported in `image`'s pixels.
    std::shared_ptr<const DeviceFrame> device = nullptr;
};

struct DetectionResult {
    std::uint64_t job = 0;  // the number submit() returned: later jobs hold newer frames
    int source = 0;
    std::uint64_t frame_number = 0;
    cv::Size image_size;
    Detections objects;
    std::chrono::steady_clock::time_point finished;  // when the job's results were stored
};

struct DetectorStats {
    std::uint64_t frames = 0;          // frames detected so far
    double busy_seconds = 0;           // time spent detecting, summed over workers
    double last_ms_per_frame = 0;      // of the latest job
    std::uint64_t device_frames = 0;   // of `frames`, detected from frames in GPU memory
    std::uint64_t device_failures = 0; // jobs whose GPU frames failed and went to the CPU pictures instead
};

// Where the workers' networks compute, which decides how they share the machine.
enum class WorkerCompute {
    cpu_pool,    // on OpenCV's thread pool: background priority
    cpu_thread,  // each on its worker's own thread: background priority, and
                 // fewer jobs at once while the CPU starves them (ParallelJobs)
    gpu,         // on a GPU: normal priority
};

class AsyncDetector {
public:
    // One worker thread per detector; all must share one config. on_done, if
    // given, is called on a worker thread after each job's results are stored;
    // for the CPU kinds keep it to a signal (that thread runs at background priority).
    explicit AsyncDetector(std::vector<std::unique_ptr<Detector>> detectors, std::function<void()> on_done = {},
                           WorkerCompute compute = WorkerCompute::cpu_pool);
    ~AsyncDetector();
    AsyncDetector(const AsyncDetector&) = delete;
    AsyncDetector& operator=(const AsyncDetector&) = delete;

    // True when as many jobs run as may run at once.
    bool busy() const;
    // Starts detecting `jobs` on an idle worker; returns the job's number
    // (1, 2, ...) or 0 when busy().
    std::uint64_t submit(std::vector<DetectionJob> jobs);
    // Whether the results of job `number` are ready (jobs may finish out of order).
    bool finished(std::uint64_t number) const;
    // Results finished since the last call, in the order they finished.
    std::vector<DetectionResult> take_results();
    DetectorStats stats() const;
    int workers() const { return static_cast<int>(detectors_.size()); }
    // Jobs allowed to run at once now (ParallelJobs).
    int parallel_jobs() const;
    // How the workers' priority was lowered: "SCHED_IDLE", "nice 19" or
    // "unchanged" (also for GPU workers, which keep normal priority).
    std::string priority() const;
    WorkerCompute compute() const { return compute_; }
    const InferConfig& config() const { return detectors_.front()->config(); }
    // Whether jobs with device frames are detected from them (the backend pre-processes GPU frames).
    bool accepts_device_frames() const { return detectors_.front()->accepts_device_frames(); }

private:
    struct Job {
        std::uint64_t number = 0;
        std::vector<DetectionJob> frames;
    };
    void run(Detector& detector);
    void stop_workers();  // waiting jobs are dropped

    std::vector<std::unique_ptr<Detector>> detectors_;
    std::function<void()> on_done_;
    WorkerCompute compute_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Job> waiting_;           // never longer than the idle workers
    std::set<std::uint64_t> unfinished_;  // submitted, results not stored yet
    std::vector<DetectionResult> results_;
    DetectorStats stats_;
    ParallelJobs parallel_;
    bool stop_ = false;
    std::uint64_t jobs_started_ = 0;
    std::string priority_;  // as the first worker reported it
    std::atomic<bool> device_failure_logged_{false};
    std::vector<std::thread> threads_;
};

}  // namespace ss
