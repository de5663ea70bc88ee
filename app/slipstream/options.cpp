#include "options.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>

#include "slipstream/config.hpp"

namespace slipstream {
namespace {

std::string trim(const std::string& s) {
    const auto first = s.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) return {};
    return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

std::vector<std::string> split_inputs(const std::string& value) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= value.size()) {
        const auto comma = value.find(',', start);
        const std::string item = trim(value.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
        if (!item.empty()) out.push_back(item);
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return out;
}

bool parse_int(const std::string& text, long min, long max, int& out) {
    char* end = nullptr;
    const long v = std::strtol(text.c_str(), &end, 10);
    if (text.empty() || *end || v < min || v > max) return false;
    out = static_cast<int>(v);
    return true;
}

bool parse_double(const std::string& text, double min, double max, double& out) {
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (text.empty() || *end || !(v >= min && v <= max)) return false;
    out = v;
    return true;
}

bool parse_yes_no(std::string text, bool& out) {
    for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (text == "yes" || text == "1" || text == "true" || text == "on") return out = true, true;
    if (text == "no" || text == "0" || text == "false" || text == "off") return out = false, true;
    return false;
}

// One setting: its flag, its environment variable (if any) and how to apply a value.
struct Setting {
    const char* flag;
    const char* env;
    const char* value_name;
    const char* help;
    std::function<bool(Options&, const std::string&)> apply;
};

const std::vector<Setting>& settings() {
    static const std::vector<Setting> all = {
        {"--input", "RTSPINPUT", "URI[,URI...]", "inputs: rtsp://, file:// or any URI uridecodebin reads; repeatable",
         [](Options& o, const std::string& v) {
             for (auto& i : split_inputs(v)) o.inputs.push_back(i);
             return true;
         }},
        {"--codec", "CODEC", "H264|H265", "output codec (default H264)",
         [](Options& o, const std::string& v) {
             std::string u;
             for (char c : v) u += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
             if (u == "H264" || u == "H.264" || u == "AVC") return o.codec = OutputCodec::h264, true;
             if (u == "H265" || u == "H.265" || u == "HEVC") return o.codec = OutputCodec::h265, true;
             return false;
         }},
        {"--bitrate", "BITRATE", "BPS", "output bit rate in bits/s (default 4000000)",
         [](Options& o, const std::string& v) { return parse_int(v, 100000, 100000000, o.bitrate); }},
        {"--port", "RTSPOUTPUTPORTNUM", "PORT", "RTSP output port (default 8554)",
         [](Options& o, const std::string& v) { return parse_int(v, 1, 65535, o.port); }},
        {"--path", "RTSPOUTPUTPATH", "PATH", "RTSP output path (default /ds)",
         [](Options& o, const std::string& v) {
             if (v.empty() || v[0] != '/' || v.find_first_of(" ?#") != std::string::npos) return false;
             o.path = v;
             return true;
         }},
        {"--width", "OUTPUT_WIDTH", "PIXELS", "output width (default 1200)",
         [](Options& o, const std::string& v) { return parse_int(v, 64, 7680, o.width); }},
        {"--height", "OUTPUT_HEIGHT", "PIXELS", "output height (default 600)",
         [](Options& o, const std::string& v) { return parse_int(v, 64, 4320, o.height); }},
        {"--fps", "OUTPUT_FPS", "N", "output frame rate (default 30)",
         [](Options& o, const std::string& v) { return parse_int(v, 1, 120, o.fps); }},
        {"--show-frames", "SHOW_FRAMES", "yes|no", "print one line per frame per stream (default yes)",
         [](Options& o, const std::string& v) { return parse_yes_no(v, o.show_frames); }},
        {"--ip", "IPADDR", "ADDRESS", "host address shown in the output URI (default: the LAN address)",
         [](Options& o, const std::string& v) { return !v.empty() && (o.ip_address = v, true); }},
        {"--bind", "RTSP_BIND_ADDRESS", "ADDRESS", "address the RTSP server listens on (default 0.0.0.0: all)",
         [](Options& o, const std::string& v) { return !v.empty() && (o.bind_address = v, true); }},
        {"--config", "INFER_CONFIG", "FILE", "nvinfer-style detector config (default: embedded NanoDet)",
         [](Options& o, const std::string& v) { return !v.empty() && (o.config_file = v, true); }},
        {"--metadata", "METADATA", "FILE|-", "write one JSON line per frame per stream (- = stdout)",
         [](Options& o, const std::string& v) { return !v.empty() && (o.metadata_file = v, true); }},
        {"--interval", "INTERVAL", "N|auto", "frames skipped between detections (overrides the config)",
         [](Options& o, const std::string& v) {
             int n = 0;
             if (v == "auto") return o.interval = ss::InferConfig::interval_auto, true;
             if (!parse_int(v, 0, 1000, n)) return false;
             o.interval = n;
             return true;
         }},
        {"--max-delay", "MAX_DELAY", "MS|auto",
         "how long a frame waits for its own detection (default auto: as long as detection takes now, within --latency-budget)",
         [](Options& o, const std::string& v) {
             if (v == "auto") return o.max_delay_ms = -1, true;
             return parse_int(v, 0, 5000, o.max_delay_ms);
         }},
        {"--latency-budget", "LATENCY_BUDGET_MS", "MS", "the longest the automatic --max-delay waits (default 400)",
         [](Options& o, const std::string& v) { return parse_int(v, 0, 5000, o.latency_budget_ms); }},
        {"--workers", "DETECT_WORKERS", "N", "detections run side by side, one network each (default 0: one per core, at most 4)",
         [](Options& o, const std::string& v) { return parse_int(v, 0, 64, o.workers); }},
        {"--threads", "DETECT_THREADS", "N", "OpenCV's thread pool, shared by the workers (default 0: 1 with a worker per core, else all cores)",
         [](Options& o, const std::string& v) { return parse_int(v, 0, 256, o.threads); }},
        {"--duration", "DURATION", "SECONDS", "stop after this many seconds (default: run until stopped)",
         [](Options& o, const std::string& v) { return parse_double(v, 0, 1e9, o.duration); }},
        {"--rtsp-latency", "RTSP_LATENCY_MS", "MS", "jitter buffer per RTSP input in ms (default 200)",
         [](Options& o, const std::string& v) { return parse_int(v, 0, 10000, o.rtsp_latency_ms); }},
        {"--reconnect-initial", "RECONNECT_INITIAL", "SECONDS", "first retry of a dropped input after (default 1)",
         [](Options& o, const std::string& v) { return parse_double(v, 0.1, 3600, o.reconnect_initial); }},
        {"--reconnect-max", "RECONNECT_MAX", "SECONDS", "longest wait between retries (default 10)",
         [](Options& o, const std::string& v) { return parse_double(v, 0.1, 3600, o.reconnect_max); }},
        {"--rtsp-user", "RTSP_USER", "NAME", "require this user on the RTSP output",
         [](Options& o, const std::string& v) { return !v.empty() && (o.rtsp_user = v, true); }},
        {"--rtsp-password", "RTSP_PASSWORD", "PASSWORD", "password for --rtsp-user",
         [](Options& o, const std::string& v) { return o.rtsp_password = v, true; }},
        {"--rtsp-password-file", "RTSP_PASSWORD_FILE", "FILE", "read the password for --rtsp-user from a file",
         [](Options& o, const std::string& v) {
             std::ifstream in(v);
             std::string line;
             if (!in || !std::getline(in, line)) return false;
             o.rtsp_password = trim(line);
             return true;
         }},
    };
    return all;
}

}  // namespace

void print_help(const char* program) {
    std::printf(
        "usage: %s [options]\n"
        "       %s detect [--config FILE] IMAGE...\n\n"
        "Detects objects in live camera streams, prints per-frame counts, and serves all\n"
        "streams tiled and annotated as one RTSP stream at rtsp://<host>:<port><path>.\n\n"
        "Options (each also read from the environment variable shown; flags win):\n",
        program, program);
    for (const auto& s : settings()) {
        std::string left = std::string(s.flag) + " " + s.value_name;
        std::printf("  %-34s %s%s%s%s\n", left.c_str(), s.help, s.env ? " [" : "", s.env ? s.env : "", s.env ? "]" : "");
    }
    std::printf("  %-34s %s\n", "--require-all", "exit non-zero when any input fails at start");
    std::printf("  %-34s %s\n", "-h, --help", "show this help");
    std::printf("\nExample:\n  RTSPINPUT=rtsp://cam1/stream,rtsp://cam2/stream %s\n", program);
}

ParseResult parse_options(int argc, char** argv) {
    ParseResult result;
    Options& o = result.options;
    auto fail = [&](const std::string& message) {
        result.error = message;
        result.exit_now = true;
        result.exit_code = 2;
        return result;
    };

    for (const auto& s : settings()) {
        if (!s.env) continue;
        const char* value = std::getenv(s.env);
        if (!value || !*value) continue;
        if (!s.apply(o, value)) {
            const bool secret = std::string(s.env).find("PASSWORD") != std::string::npos;
            return fail(std::string(s.env) + "=" + (secret ? "***" : value) + " is not valid: expected " + s.value_name);
        }
    }

    bool inputs_from_flags = false;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "-h" || arg == "--help") {
            print_help(argv[0]);
            result.exit_now = true;
            return result;
        }
        if (arg == "--require-all") {
            o.require_all = true;
            continue;
        }
        std::string value;
        bool has_value = false;
        if (const auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
            value = arg.substr(eq + 1);
            arg = arg.substr(0, eq);
            has_value = true;
        }
        const Setting* match = nullptr;
        for (const auto& s : settings()) {
            if (arg == s.flag) match = &s;
        }
        if (!match) return fail("unknown option '" + arg + "' (see --help)");
        if (!has_value) {
            if (i + 1 >= argc) return fail(arg + " needs a value: " + match->value_name);
            value = argv[++i];
        }
        if (match == &settings().front() && !inputs_from_flags) {
            o.inputs.clear();  // inputs given by flags replace RTSPINPUT
            inputs_from_flags = true;
        }
        if (!match->apply(o, value)) {
            const bool secret = arg.find("password") != std::string::npos && arg != "--rtsp-password-file";
            return fail(arg + " " + (secret ? "***" : "'" + value + "'") + " is not valid: expected " + match->value_name);
        }
    }
    if (o.inputs.empty()) return fail("no inputs: set RTSPINPUT=rtsp://camera/stream[,...] or pass --input URI");
    if (!o.rtsp_user.empty() && o.rtsp_password.empty()) {
        return fail("--rtsp-user needs a password: --rtsp-password, --rtsp-password-file or RTSP_PASSWORD");
    }
    o.width &= ~1;
    o.height &= ~1;
    return result;
}

}  // namespace slipstream
