#pragma once
// How many detection jobs may run side by side.
//
// Workers on a CPU that has cycles to spare run side by side for throughput.
// On a saturated machine (another program, or the video itself, takes the
// cores) they only share the same few cycles: two jobs at once each take twice
// as long and the detections arrive after their frames have left, with no more
// of them per second. So the workers measure how much of a core each job
// really got (its thread's CPU time against its wall time): while jobs get
// little, one fewer runs at a time; once they get nearly a whole core again,
// one more may.
//
// Only for networks computed on the worker's own thread (a CPU backend with
// one thread per worker); a GPU job's thread mostly waits and says nothing
// about the CPU.
#include <cstddef>

namespace ss {

class ParallelJobs {
public:
    // Jobs measured between two decisions: a few seconds of detection.
    static constexpr std::size_t window = 8;
    // Share of a core below which jobs are starved, and above which one more fits.
    static constexpr double starved_share = 0.6, ample_share = 0.9;

    // `workers`: the most jobs that can run; `adaptive`: whether to follow the CPU.
    ParallelJobs(int workers, bool adaptive);

    // The jobs allowed to run at once now (1..workers).
    int allowed() const { return allowed_; }
    // A job finished: its thread ran `cpu_seconds` of CPU in `wall_seconds`.
    void finished(double cpu_seconds, double wall_seconds);
    // The measured share of a core per job over the current window; 0 before any job.
    double share() const { return wall_ > 0 ? cpu_ / wall_ : 0; }

private:
    int workers_;
    bool adaptive_;
    int allowed_;
    std::size_t jobs_ = 0;
    double cpu_ = 0, wall_ = 0;
};

}  // namespace ss
