#pragma once
// How long a batch waits for the detections of its own frames before it
// leaves without them (ssinfer's max-delay).
//
// Automatic by default: about as long as detection really takes now, measured
// as the wall time from a batch's arrival to its job's results (waiting for a
// free worker included), at a high percentile of recent jobs plus a margin,
// never longer than the latency budget. On a slow or busy machine the boxes
// still land on the frame they were found in; on a fast one the wait, and so
// the latency, stays short. A fixed deadline is used as given.
#include <cstddef>
#include <optional>

#include "slipstream/recent_samples.hpp"

namespace ss {

class DetectionDeadline {
public:
    static constexpr double default_budget_ms = 400;
    // The recent jobs the percentile is taken over: a few seconds of detection,
    // so the deadline follows a machine that gets busier or quieter.
    static constexpr std::size_t window = 48;
    static constexpr double percentile = 0.9;
    // Headroom over the measured wait: results cluster just above the percentile.
    static constexpr double margin_factor = 1.2, margin_ms = 10;
    // Fewer measured jobs than this, and the budget applies (the first forwards
    // of a network are slow and say little).
    static constexpr std::size_t min_samples = 8;

    // fixed_ms: a fixed deadline, or none for automatic; budget_ms caps the automatic one.
    explicit DetectionDeadline(std::optional<double> fixed_ms = std::nullopt, double budget_ms = default_budget_ms);

    // A job's results came `ms` after the arrival of the earliest batch holding one of its frames.
    void add_wait(double ms);

    bool automatic() const { return !fixed_; }
    double budget_ms() const { return budget_; }
    // The deadline in force, in milliseconds.
    double deadline_ms() const;
    // The longest it can ever be: the fixed deadline, or the budget (for latency queries).
    double longest_ms() const { return fixed_ ? *fixed_ : budget_; }
    // What the automatic deadline would need to be, uncapped; 0 before enough jobs.
    double needed_ms() const;
    // The measured wait at the percentile; 0 before enough jobs.
    double measured_ms() const;
    // True once each time the needed wait rises above the budget (for one
    // warning); it re-arms only after the need falls back below 80% of it.
    bool take_over_budget_warning();

private:
    std::optional<double> fixed_;
    double budget_;
    RecentSamples waits_{window};
    bool warned_ = false;
};

}  // namespace ss
