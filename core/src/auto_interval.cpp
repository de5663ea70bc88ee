#include "slipstream/auto_interval.hpp"

#include <algorithm>
#include <cmath>

namespace ss {

namespace {
constexpr int max_interval = 1000;
constexpr double smoothing = 0.5;  // weight of the newest measurement
}  // namespace

AutoInterval::AutoInterval(double budget, double period_seconds) : budget_(budget), period_(period_seconds) {}

void AutoInterval::add_frames(int count, double now) {
    if (window_start_ < 0) window_start_ = now;
    window_frames_ += count;
}

void AutoInterval::add_detection_cost(double ms_per_frame, int workers) {
    if (ms_per_frame <= 0) return;
    workers_ = std::max(workers, 1);
    cost_ms_ = cost_ms_ > 0 ? smoothing * ms_per_frame + (1 - smoothing) * cost_ms_ : ms_per_frame;
}

bool AutoInterval::update(double now) {
    if (window_start_ < 0 || now - window_start_ < period_) return false;
    const double measured = window_frames_ / (now - window_start_);
    rate_ = rate_ > 0 ? smoothing * measured + (1 - smoothing) * rate_ : measured;
    window_start_ = now;
    window_frames_ = 0;
    if (cost_ms_ <= 0 || rate_ <= 0) return false;

    // Detections per second the detectors can give within the budget.
    const double capacity = budget_ * workers_ * 1000.0 / cost_ms_;
    const int needed = std::clamp(static_cast<int>(std::ceil(rate_ / capacity)) - 1, 0, max_interval);
    int next = interval_;
    if (needed > interval_) {
        next = needed;
    } else if (needed < interval_) {
        // Lower only if the lower interval leaves a fifth of the budget spare.
        const double load = rate_ / (needed + 1) / capacity;
        if (load <= 0.8) next = needed;
    }
    const bool changed = next != interval_;
    interval_ = next;
    return changed;
}

}  // namespace ss
