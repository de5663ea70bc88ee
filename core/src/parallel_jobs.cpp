#include "slipstream/parallel_jobs.hpp"

#include <algorithm>

namespace ss {

ParallelJobs::ParallelJobs(int workers, bool adaptive)
    : workers_(std::max(1, workers)), adaptive_(adaptive), allowed_(workers_) {}

void ParallelJobs::finished(double cpu_seconds, double wall_seconds) {
    if (!adaptive_ || wall_seconds <= 0) return;
    cpu_ += std::max(0.0, cpu_seconds);
    wall_ += wall_seconds;
    if (++jobs_ < window) return;
    const double got = share();
    if (got < starved_share && allowed_ > 1) --allowed_;
    else if (got > ample_share && allowed_ < workers_) ++allowed_;
    jobs_ = 0;
    cpu_ = wall_ = 0;
}

}  // namespace ss
