#include "prometheus_text.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace slipstream::prometheus {

std::string escape_label_value(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (const char c : value) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '"') {
            out += "\\\"";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

std::string escape_help(std::string_view help) {
    std::string out;
    out.reserve(help.size());
    for (const char c : help) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

std::string format_value(double value) {
    if (std::isnan(value)) return "NaN";
    if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
    char text[40];
    // Counters are whole numbers up to 2^53: write them as such, never as 1e+06.
    if (value == std::floor(value) && std::fabs(value) < 9007199254740992.0) {
        std::snprintf(text, sizeof text, "%.0f", value);
    } else {
        // The shortest of 15 or 17 digits that reads back the same: 0.1, not 0.10000000000000001.
        std::snprintf(text, sizeof text, "%.15g", value);
        if (std::strtod(text, nullptr) != value) std::snprintf(text, sizeof text, "%.17g", value);
    }
    return text;
}

void LatencyHistogram::observe(double seconds) {
    if (!(seconds >= 0)) return;  // unknown (negative or NaN): not an observation
    std::size_t slot = 0;
    while (slot < bound_count && seconds > bounds[slot]) ++slot;
    counts_[slot].fetch_add(1, std::memory_order_relaxed);
    sum_ns_.fetch_add(static_cast<std::uint64_t>(std::llround(seconds * 1e9)), std::memory_order_relaxed);
}

HistogramSnapshot LatencyHistogram::snapshot() const {
    HistogramSnapshot s;
    s.bounds.assign(bounds.begin(), bounds.end());
    s.counts.reserve(bound_count + 1);
    for (const auto& count : counts_) s.counts.push_back(count.load(std::memory_order_relaxed));
    s.sum = static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9;
    return s;
}

void TextWriter::family(std::string_view name, Type type, std::string_view help) {
    static const char* const type_names[] = {"counter", "gauge", "histogram"};
    text_ += "# HELP ";
    text_ += name;
    text_ += ' ';
    text_ += escape_help(help);
    text_ += "\n# TYPE ";
    text_ += name;
    text_ += ' ';
    text_ += type_names[static_cast<int>(type)];
    text_ += '\n';
}

void TextWriter::append_labels(const Labels& labels, const std::pair<std::string, std::string>* extra) {
    if (labels.empty() && !extra) return;
    text_ += '{';
    bool first = true;
    auto one = [&](const std::pair<std::string, std::string>& label) {
        if (!first) text_ += ',';
        first = false;
        text_ += label.first;
        text_ += "=\"";
        text_ += escape_label_value(label.second);
        text_ += '"';
    };
    for (const auto& label : labels) one(label);
    if (extra) one(*extra);
    text_ += '}';
}

void TextWriter::sample(std::string_view name, const Labels& labels, double value) {
    text_ += name;
    append_labels(labels);
    text_ += ' ';
    text_ += format_value(value);
    text_ += '\n';
}

void TextWriter::histogram(std::string_view name, const Labels& labels, const HistogramSnapshot& h) {
    // Buckets are read one by one while observations go on: the total is taken
    // from the same reads, so +Inf and _count always agree.
    std::uint64_t cumulative = 0;
    const std::string bucket = std::string(name) + "_bucket";
    for (std::size_t i = 0; i <= h.bounds.size() && i < h.counts.size(); ++i) {
        cumulative += h.counts[i];
        const std::pair<std::string, std::string> le{"le", i < h.bounds.size() ? format_value(h.bounds[i]) : "+Inf"};
        text_ += bucket;
        append_labels(labels, &le);
        text_ += ' ';
        text_ += format_value(static_cast<double>(cumulative));
        text_ += '\n';
    }
    sample(std::string(name) + "_sum", labels, h.sum);
    sample(std::string(name) + "_count", labels, static_cast<double>(cumulative));
}

}  // namespace slipstream::prometheus
