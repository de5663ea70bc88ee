#include "slipstream/detection_deadline.hpp"

#include <algorithm>

namespace ss {

DetectionDeadline::DetectionDeadline(std::optional<double> fixed_ms, double budget_ms)
    : fixed_(fixed_ms), budget_(std::max(0.0, budget_ms)) {
    if (fixed_) fixed_ = std::max(0.0, *fixed_);
}

void DetectionDeadline::add_wait(double ms) {
    if (ms >= 0) waits_.add(ms);
}

double DetectionDeadline::measured_ms() const {
    return waits_.size() < min_samples ? 0 : waits_.percentile(percentile);
}

double DetectionDeadline::needed_ms() const {
    const double measured = measured_ms();
    return measured > 0 ? measured * margin_factor + margin_ms : 0;
}

double DetectionDeadline::deadline_ms() const {
    if (fixed_) return *fixed_;
    const double needed = needed_ms();
    return needed > 0 ? std::min(needed, budget_) : budget_;
}

bool DetectionDeadline::take_over_budget_warning() {
    if (fixed_) return false;
    const double needed = needed_ms();
    if (warned_) {
        if (needed > 0 && needed < 0.8 * budget_) warned_ = false;
        return false;
    }
    if (needed <= budget_) return false;
    warned_ = true;
    return true;
}

}  // namespace ss
