#pragma once
// The most recent values of a measurement (a latency, say), for percentiles.
// Only the last `capacity` values are kept, so a run of months reports how it
// behaves now, in constant memory.
#include <cstddef>
#include <vector>

namespace ss {

class RecentSamples {
public:
    explicit RecentSamples(std::size_t capacity = 4096);

    void add(double value);
    std::size_t size() const { return values_.size(); }
    // Nearest-rank percentile of the kept values, q in [0, 1]; 0 when empty.
    double percentile(double q) const;

private:
    std::size_t capacity_;
    std::size_t next_ = 0;  // where the next value goes once full
    std::vector<double> values_;
};

}  // namespace ss
