#include "slipstream/reconnect_backoff.hpp"

#include <algorithm>

namespace ss {

ReconnectBackoff::ReconnectBackoff(double initial_seconds, double max_seconds)
    : initial_(std::max(0.0, initial_seconds)), max_(std::max(initial_, max_seconds)), wait_(initial_) {}

double ReconnectBackoff::next_wait() {
    const double wait = wait_;
    wait_ = std::min(wait_ * 2, max_);
    return wait;
}

}  // namespace ss
