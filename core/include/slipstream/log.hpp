#pragma once
// Core code logs through this sink so the GStreamer layer can route messages to
// gst_debug_log and the command line to stderr; core itself never prints.
#include <functional>
#include <string_view>

namespace ss {

enum class LogLevel { error, warning, info, debug };

using LogSink = std::function<void(LogLevel, std::string_view)>;

// Replaces the process-wide sink; the default writes warnings and errors to stderr.
void set_log_sink(LogSink sink);
void log(LogLevel level, std::string_view message);

}  // namespace ss
