#include "slipstream/recent_samples.hpp"

#include <algorithm>
#include <cmath>

namespace ss {

RecentSamples::RecentSamples(std::size_t capacity) : capacity_(std::max<std::size_t>(1, capacity)) {
    values_.reserve(capacity_);
}

void RecentSamples::add(double value) {
    if (values_.size() < capacity_) {
        values_.push_back(value);
        return;
    }
    values_[next_] = value;
    next_ = (next_ + 1) % capacity_;
}

double RecentSamples::percentile(double q) const {
    if (values_.empty()) return 0;
    std::vector<double> sorted = values_;
    const double clamped = std::clamp(q, 0.0, 1.0);
    // Nearest rank: the smallest value with at least q of the values at or below it.
    // (The epsilon keeps 0.07 * 100 = 7.000000000000001 at rank 7.)
    const auto rank = static_cast<std::size_t>(std::ceil(clamped * static_cast<double>(sorted.size()) - 1e-9));
    const std::size_t index = rank == 0 ? 0 : rank - 1;
    std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(index), sorted.end());
    return sorted[index];
}

}  // namespace ss
