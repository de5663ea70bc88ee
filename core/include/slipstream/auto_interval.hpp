#pragma once
// interval=auto: the largest detection rate the machine sustains. Detecting
// every (interval+1)-th new frame must keep the detectors busy at most `budget`
// of the time, from
// the measured rate of new frames and the measured cost of one detection.
// Re-evaluated every `period` seconds; it lowers the interval again only when
// the lower one stays clearly inside the budget, so it does not flap.
namespace ss {

class AutoInterval {
public:
    explicit AutoInterval(double budget = 0.85, double period_seconds = 2.0);

    // New frames seen at time `now` (seconds, any monotonic origin).
    void add_frames(int count, double now);
    // Wall time of one detected frame, in milliseconds, on one of `workers`
    // detectors that run side by side.
    void add_detection_cost(double ms_per_frame, int workers = 1);
    // Recomputes when a period has passed; returns true when the interval changed.
    bool update(double now);

    int interval() const { return interval_; }
    double frames_per_second() const { return rate_; }
    double ms_per_frame() const { return cost_ms_; }
    // Detections per second the chosen interval asks for.
    double detections_per_second() const { return rate_ / (interval_ + 1); }

private:
    double budget_, period_;
    double window_start_ = -1;
    int window_frames_ = 0;
    double rate_ = 0, cost_ms_ = 0;
    int workers_ = 1;
    int interval_ = 0;
};

}  // namespace ss
