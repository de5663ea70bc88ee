#pragma once
// When to try a failed camera again: the first wait is `initial` seconds, each
// further failure doubles it up to `max`, and a camera that delivered frames
// again starts over at `initial` (it worked until now: retry soon).
namespace ss {

class ReconnectBackoff {
public:
    ReconnectBackoff(double initial_seconds, double max_seconds);

    // The wait before the next attempt; the one after it is twice as long (at most max).
    double next_wait();
    // The wait next_wait() will give, for messages.
    double upcoming() const { return wait_; }
    // The camera delivered frames: the next failure waits `initial` again.
    void reset() { wait_ = initial_; }

private:
    double initial_, max_, wait_;
};

}  // namespace ss
