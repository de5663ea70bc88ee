#include "slipstream/log.hpp"

#include <cstdio>
#include <mutex>
#include <string>

namespace ss {
namespace {

std::mutex sink_mutex;

void default_sink(LogLevel level, std::string_view message) {
    if (level == LogLevel::error || level == LogLevel::warning) {
        std::fprintf(stderr, "%s: %.*s\n", level == LogLevel::error ? "error" : "warning",
                     static_cast<int>(message.size()), message.data());
    }
}

LogSink& current_sink() {
    static LogSink sink = default_sink;
    return sink;
}

}  // namespace

void set_log_sink(LogSink sink) {
    std::lock_guard lock(sink_mutex);
    current_sink() = sink ? std::move(sink) : LogSink(default_sink);
}

void log(LogLevel level, std::string_view message) {
    LogSink sink;
    {
        std::lock_guard lock(sink_mutex);
        sink = current_sink();
    }
    sink(level, message);
}

}  // namespace ss
