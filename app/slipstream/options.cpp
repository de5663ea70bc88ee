#include "options.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>

#include "console.hpp"
#include "mqtt/topics.hpp"
#include "slipstream/config.hpp"
#include "slipstream/uri.hpp"

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

// Appliers of a value to the setting they are bound to.
auto integer(int& into, long min, long max) {
    return [&into, min, max](const std::string& v) { return parse_int(v, min, max, into); };
}
auto real(double& into, double min, double max) {
    return [&into, min, max](const std::string& v) { return parse_double(v, min, max, into); };
}
auto non_empty_text(std::string& into) {
    return [&into](const std::string& v) { return !v.empty() && (into = v, true); };
}

// The pipeline command's options, bound to `o`. inputs_replace: whether the
// next --input first drops the inputs read so far (RTSPINPUT's, once flags are read).
std::vector<OptionSpec> pipeline_options(Options& o, bool& inputs_replace) {
    return {
        {"--input", "RTSPINPUT", "URI[,URI...]", "inputs: rtsp://, file:// or any URI uridecodebin reads; repeatable",
         [&o, &inputs_replace](const std::string& v) {
             if (inputs_replace) o.inputs.clear();  // inputs given by flags replace RTSPINPUT
             inputs_replace = false;
             for (auto& i : split_inputs(v)) o.inputs.push_back(i);
             return true;
         }},
        {"--codec", "CODEC", "H264|H265", "output codec (default H264)",
         [&o](const std::string& v) {
             std::string u;
             for (char c : v) u += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
             if (u == "H264" || u == "H.264" || u == "AVC") return o.codec = OutputCodec::h264, true;
             if (u == "H265" || u == "H.265" || u == "HEVC") return o.codec = OutputCodec::h265, true;
             return false;
         }},
        {"--bitrate", "BITRATE", "BPS", "output bit rate in bits/s (default 4000000)", integer(o.bitrate, 100000, 100000000)},
        {"--port", "RTSPOUTPUTPORTNUM", "PORT", "RTSP output port (default 8554)", integer(o.port, 1, 65535)},
        {"--path", "RTSPOUTPUTPATH", "PATH", "RTSP output path (default /ds)",
         [&o](const std::string& v) {
             if (v.empty() || v[0] != '/' || v.find_first_of(" ?#") != std::string::npos) return false;
             o.path = v;
             return true;
         }},
        {"--width", "OUTPUT_WIDTH", "PIXELS", "output width (default 1200)", integer(o.width, 64, 7680)},
        {"--height", "OUTPUT_HEIGHT", "PIXELS", "output height (default 600)", integer(o.height, 64, 4320)},
        {"--fps", "OUTPUT_FPS", "N", "output frame rate (default 30)", integer(o.fps, 1, 120)},
        {"--show-frames", "SHOW_FRAMES", "yes|no", "print one line per frame per stream (default yes)",
         [&o](const std::string& v) { return parse_yes_no(v, o.show_frames); }},
        {"--ip", "IPADDR", "ADDRESS", "host address shown in the output URI (default: the LAN address)", non_empty_text(o.ip_address)},
        {"--bind", "RTSP_BIND_ADDRESS", "ADDRESS", "address the RTSP server listens on (default 0.0.0.0: all)",
         non_empty_text(o.bind_address)},
        {"--config", "INFER_CONFIG", "FILE", "nvinfer-style detector config (default: embedded NanoDet)", non_empty_text(o.config_file)},
        {"--metadata", "METADATA", "FILE|-", "write one JSON line per frame per stream (- = stdout)", non_empty_text(o.metadata_file)},
        {"--interval", "INTERVAL", "N|auto", "frames skipped between detections (overrides the config)",
         [&o](const std::string& v) {
             int n = 0;
             if (v == "auto") return o.interval = ss::InferConfig::interval_auto, true;
             if (!parse_int(v, 0, 1000, n)) return false;
             o.interval = n;
             return true;
         }},
        {"--max-delay", "MAX_DELAY", "MS|auto",
         "how long a frame waits for its own detection (default auto: as long as detection takes now, within --latency-budget)",
         [&o](const std::string& v) {
             if (v == "auto") return o.max_delay_ms = -1, true;
             return parse_int(v, 0, 5000, o.max_delay_ms);
         }},
        {"--latency-budget", "LATENCY_BUDGET_MS", "MS", "the longest the automatic --max-delay waits (default 400)",
         integer(o.latency_budget_ms, 0, 5000)},
        {"--workers", "DETECT_WORKERS", "N", "detections run side by side, one network each (default 0: one per core, at most 4)",
         integer(o.workers, 0, 64)},
        {"--threads", "DETECT_THREADS", "N", "OpenCV's thread pool, shared by the workers (default 0: 1 with a worker per core, else all cores)",
         integer(o.threads, 0, 256)},
        {"--gpu", "GPU_ID", "auto|none|N",
         "decode and scale on NVIDIA GPU N (default auto: GPU 0, or the config's gpu-id, when usable; none: the CPU)",
         [&o](const std::string& v) {
             o.gpu.given = true;
             if (v == "auto") return o.gpu.mode = GpuChoice::automatic, true;
             if (v == "none" || v == "cpu") return o.gpu.mode = GpuChoice::none, true;
             o.gpu.mode = GpuChoice::device;
             return parse_int(v, 0, 63, o.gpu.device_id);
         }},
        {"--duration", "DURATION", "SECONDS", "stop after this many seconds (default: run until stopped)", real(o.duration, 0, 1e9)},
        {"--rtsp-latency", "RTSP_LATENCY_MS", "MS", "jitter buffer per RTSP input in ms (default 200)", integer(o.rtsp_latency_ms, 0, 10000)},
        {"--reconnect-initial", "RECONNECT_INITIAL", "SECONDS", "first retry of a dropped input after (default 1)",
         real(o.reconnect_initial, 0.1, 3600)},
        {"--reconnect-max", "RECONNECT_MAX", "SECONDS", "longest wait between retries (default 10)", real(o.reconnect_max, 0.1, 3600)},
        {"--rtsp-user", "RTSP_USER", "NAME", "require this user on the RTSP output", non_empty_text(o.rtsp_user)},
        {"--rtsp-password", "RTSP_PASSWORD", "PASSWORD", "password for --rtsp-user",
         [&o](const std::string& v) { return o.rtsp_password = v, true; }},
        {"--rtsp-password-file", "RTSP_PASSWORD_FILE", "FILE", "read the password for --rtsp-user from a file",
         [&o](const std::string& v) {
             std::ifstream in(v);
             std::string line;
             if (!in || !std::getline(in, line)) return false;
             o.rtsp_password = trim(line);
             return true;
         }},
        {"--mqtt", "MQTT_URL", "URL", mqtt::broker_url_help, non_empty_text(o.mqtt_url)},
        {"--mqtt-prefix", "MQTT_PREFIX", "PREFIX", "first level(s) of every MQTT topic (default slipstream)",
         non_empty_text(o.mqtt_prefix)},
        {"--mqtt-frames", nullptr, nullptr, "also publish every frame's metadata line on <prefix>/<camera>/frames",
         [&o](const std::string&) { return o.mqtt_frames = true, true; }},
        {"--mqtt-queue", "MQTT_QUEUE", "MESSAGES", "messages held for a slow or absent broker before dropping (default 1000)",
         integer(o.mqtt_queue, 1, 1000000)},
        {"--webrtc-viewers", "WEBRTC_VIEWERS", "N",
         "browsers (WebRTC, WHEP at /api/v1/whep) watching the output at once (default 8; 0: no WebRTC)",
         integer(o.webrtc_viewers, 0, 256)},
        {"--stun-server", "STUN_SERVER", "URL", "STUN server for WebRTC viewers beyond the LAN, stun://host:port (default none)",
         non_empty_text(o.stun_server)},
        {"--turn-server", "TURN_SERVER", "URL", "TURN server for WebRTC viewers behind NAT, turn://user:password@host:port (default none)",
         non_empty_text(o.turn_server)},
        {"--api-port", "API_PORT", "PORT", "HTTP API port, on the --bind address (default 9000; 0: no API)",
         [&o](const std::string& v) { return o.api_port_given = true, parse_int(v, 0, 65535, o.api_port); }},
        {"--api-token", "API_TOKEN", "TOKEN", "API requests (all but /livez and /readyz) need 'Authorization: Bearer TOKEN'",
         non_empty_text(o.api_token)},
        {"--api-token-file", "API_TOKEN_FILE", "FILE", "read the API token from a file (its first line)",
         [&o](const std::string& v) {
             std::ifstream in(v);
             std::string line;
             if (!in || !std::getline(in, line) || trim(line).empty()) return false;
             o.api_token = trim(line);
             return true;
         }},
        {"--require-all", nullptr, nullptr, "exit non-zero when any input fails at start",
         [&o](const std::string&) { return o.require_all = true, true; }},
    };
}

// A bad value as an error may quote it: without any login it carries
// ("mqtt://user:pw@host", or "user:pw@host" where the scheme was forgotten).
std::string shown_value(const std::string& value) {
    if (value.find("://") == std::string::npos && value.find('@') != std::string::npos) {
        return "***" + value.substr(value.rfind('@'));
    }
    return ss::mask_credentials_in_text(value);
}

const OptionSpec* find_option(const std::vector<OptionSpec>& options, const std::string& arg) {
    for (const auto& o : options) {
        if (arg == o.flag || (!o.alias.empty() && arg == o.alias)) return &o;
    }
    return nullptr;
}

}  // namespace

std::string read_environment(const std::vector<OptionSpec>& options) {
    for (const auto& s : options) {
        if (!s.env) continue;
        const char* value = std::getenv(s.env);
        if (!value || !*value) continue;
        if (!s.apply(value)) {
            const bool secret = std::string(s.env).find("PASSWORD") != std::string::npos || std::string(s.env) == "API_TOKEN";
            return std::string(s.env) + "=" + (secret ? "***" : shown_value(value)) + " is not valid: expected " +
                   s.value_name;
        }
    }
    return {};
}

std::string read_arguments(const std::vector<OptionSpec>& options, int argc, char** argv, const std::string& see_help,
                           bool& help, std::vector<std::string>* operands) {
    help = false;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "-h" || arg == "--help") {
            help = true;
            return {};
        }
        if (operands && (arg.size() < 2 || arg[0] != '-')) {
            operands->push_back(arg);
            continue;
        }
        std::string value;
        bool has_value = false;
        if (const auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
            value = arg.substr(eq + 1);
            arg = arg.substr(0, eq);
            has_value = true;
        }
        const OptionSpec* match = find_option(options, arg);
        if (!match || (has_value && !match->value_name)) return "unknown option '" + arg + "' (see " + see_help + ")";
        if (match->value_name && !has_value) {
            if (i + 1 >= argc) {
                return match->flag + " needs " + (match->missing_value.empty() ? std::string("a value: ") + match->value_name
                                                                                  : match->missing_value);
            }
            value = argv[++i];
        }
        if (!match->apply(value)) {
            const bool secret = (arg.find("password") != std::string::npos && arg != "--rtsp-password-file") || arg == "--api-token";
            return match->flag + " " + (secret ? "***" : "'" + shown_value(value) + "'") + " is not valid: expected " +
                   match->value_name;
        }
    }
    return {};
}

void print_help(const char* program) {
    Options unused;
    bool replace = false;
    std::string text = std::string("usage: ") + program + " [options]\n" +
                       "       " + program + " detect [--config FILE] IMAGE...\n\n"
                       "Detects objects in live camera streams, prints per-frame counts, and serves all\n"
                       "streams tiled and annotated as one RTSP stream at rtsp://<host>:<port><path>.\n\n"
                       "Options (each also read from the environment variable shown; flags win):\n";
    char line[512];
    for (const auto& s : pipeline_options(unused, replace)) {
        const std::string left = s.value_name ? s.flag + " " + s.value_name : s.flag;
        std::snprintf(line, sizeof line, "  %-34s %s%s%s%s\n", left.c_str(), s.help, s.env ? " [" : "", s.env ? s.env : "",
                      s.env ? "]" : "");
        text += line;
    }
    std::snprintf(line, sizeof line, "  %-34s %s\n", "-h, --help", "show this help");
    text += line;
    text += std::string("\nExample:\n  RTSPINPUT=rtsp://cam1/stream,rtsp://cam2/stream ") + program;
    console::say(text);
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
    bool inputs_replace = false;
    const auto options = pipeline_options(o, inputs_replace);
    if (std::string error = read_environment(options); !error.empty()) return fail(error);
    inputs_replace = true;
    bool help = false;
    if (std::string error = read_arguments(options, argc, argv, "--help", help); !error.empty()) return fail(error);
    if (help) {
        print_help(argv[0]);
        result.exit_now = true;
        return result;
    }
    // With the API on, cameras can come later (POST /api/v1/stream/add).
    if (o.inputs.empty() && o.api_port == 0) {
        return fail("no inputs: set RTSPINPUT=rtsp://camera/stream[,...] or pass --input URI, or turn the HTTP API on (--api-port N) to add cameras later");
    }
    if (!o.mqtt_url.empty()) {
        std::string why;
        o.mqtt = mqtt::parse_broker_url(o.mqtt_url, &why);
        if (!o.mqtt) {
            return fail("--mqtt/MQTT_URL '" + shown_value(o.mqtt_url) + "' is not valid (" + why + "): expected " +
                        mqtt::broker_url_shape);
        }
    }
    if (std::string why; !mqtt::valid_prefix(o.mqtt_prefix, &why)) {
        return fail("--mqtt-prefix/MQTT_PREFIX '" + o.mqtt_prefix + "' is not valid (" + why +
                    "): expected topic levels such as site1/slipstream");
    }
    if (!o.rtsp_user.empty() && o.rtsp_password.empty()) {
        return fail("--rtsp-user needs a password: --rtsp-password, --rtsp-password-file or RTSP_PASSWORD");
    }
    o.width &= ~1;
    o.height &= ~1;
    return result;
}

}  // namespace slipstream
