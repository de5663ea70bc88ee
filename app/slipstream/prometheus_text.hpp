#pragma once
// Prometheus text exposition format 0.0.4, written by hand (Debian 12 has no
// client library): families with their HELP and TYPE, samples with escaped
// labels, histograms with cumulative buckets. Plain C++: what is measured and
// where it comes from is the app's business (metrics.cpp).
//
// LatencyHistogram is where the pipeline's threads record observations: one
// relaxed atomic add per bucket and for the sum, no lock, so a probe on the
// video path never waits for a scrape.
#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace slipstream::prometheus {

inline constexpr const char* content_type = "text/plain; version=0.0.4; charset=utf-8";

using Labels = std::vector<std::pair<std::string, std::string>>;

// A label value as the format wants it: backslash, double quote and newline escaped.
std::string escape_label_value(std::string_view value);
// HELP text: backslash and newline escaped.
std::string escape_help(std::string_view help);
// A sample value: integers without exponent or decimals, +Inf, -Inf, NaN, else up to 17 significant digits.
std::string format_value(double value);

// What a histogram holds at one moment: non-cumulative counts per upper bound,
// the last one for +Inf (counts.size() == bounds.size() + 1).
struct HistogramSnapshot {
    std::vector<double> bounds;
    std::vector<std::uint64_t> counts;
    double sum = 0;
};

class LatencyHistogram {
public:
    // Upper bounds in seconds, from 1 ms to 10 s: a frame's stage takes a few ms
    // on a good day and seconds when a camera's network stalls.
    static constexpr std::size_t bound_count = 13;
    static constexpr std::array<double, bound_count> bounds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                               0.25,  0.5,    1,     2.5,  5,     10};

    void observe(double seconds);
    HistogramSnapshot snapshot() const;

private:
    std::array<std::atomic<std::uint64_t>, bound_count + 1> counts_{};  // the last: over every bound (+Inf)
    std::atomic<std::uint64_t> sum_ns_{0};
};

// Builds one exposition. Families are written whole: family() then its samples.
class TextWriter {
public:
    enum class Type { counter, gauge, histogram };

    // `name` without suffixes (a counter's name ends in _total as given).
    void family(std::string_view name, Type type, std::string_view help);
    void sample(std::string_view name, const Labels& labels, double value);
    // name_bucket{...,le="..."} cumulative, name_sum, name_count (== the +Inf bucket).
    void histogram(std::string_view name, const Labels& labels, const HistogramSnapshot& histogram);

    const std::string& text() const { return text_; }

private:
    void append_labels(const Labels& labels, const std::pair<std::string, std::string>* extra = nullptr);
    std::string text_;
};

}  // namespace slipstream::prometheus
