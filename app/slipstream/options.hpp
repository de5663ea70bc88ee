#pragma once
// Settings of the streaming pipeline. Every one can come from the original
// slipstream's environment variable or a command-line flag; flags win.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "mqtt/mqtt_url.hpp"

namespace slipstream {

enum class OutputCodec { h264, h265 };

// --gpu / GPU_ID: where inputs decode and scale. `automatic` takes GPU 0 (or the
// config's gpu-id) when it is usable, else the CPU; `device` demands that GPU.
struct GpuChoice {
    enum Mode { automatic, none, device };
    Mode mode = automatic;
    int device_id = 0;
    bool given = false;  // set by --gpu or GPU_ID; otherwise the config's gpu-id picks the device
};

struct Options {
    std::vector<std::string> inputs;  // RTSPINPUT, comma-separated
    OutputCodec codec = OutputCodec::h264;
    int bitrate = 4000000;            // bits per second
    int port = 8554;
    std::string path = "/ds";
    int width = 1200, height = 600;
    int fps = 30;
    bool show_frames = true;
    std::string ip_address;           // only for the printed URI; empty = detect the LAN address
    std::string bind_address = "0.0.0.0";
    std::string config_file;          // empty = the embedded default
    std::string metadata_file;        // empty = none, "-" = stdout
    std::optional<int> interval;      // overrides the config's interval (or ss::InferConfig::interval_auto)
    int workers = 0, threads = 0;     // ssinfer's layout; 0 = its default
    int max_delay_ms = -1;            // ssinfer's wait for a frame's own detection; -1 = automatic
    int latency_budget_ms = 400;      // the automatic wait's ceiling
    double duration = 0;              // seconds to run, 0 = until stopped
    bool require_all = false;         // exit non-zero when an input fails at start
    std::string rtsp_user, rtsp_password;
    double reconnect_initial = 1.0, reconnect_max = 10.0;  // seconds
    GpuChoice gpu;
    int rtsp_latency_ms = 200;        // jitter buffer of each input (rtspsrc's default of 2 s is far too long)
    int api_port = 9000;              // HTTP API (DeepStream's REST port); 0 = no API
    bool api_port_given = false;      // set by --api-port or API_PORT: failing to listen there is fatal
    std::string api_token;            // when set, API requests need "Authorization: Bearer <token>"
    std::string mqtt_url;                     // --mqtt as given; empty = no MQTT
    std::optional<mqtt::BrokerAddress> mqtt;  // read from mqtt_url: events and counts go to this broker
    std::string mqtt_prefix = "slipstream";   // first topic level(s)
    bool mqtt_frames = false;                 // also every frame's metadata line
    int mqtt_queue = 1000;                    // messages held for a slow or absent broker, then dropped
    int webrtc_viewers = 8;           // live-view (WHEP) viewers at once; 0 = no WebRTC
    std::string stun_server, turn_server;  // for WebRTC viewers beyond the LAN; empty = host candidates only
};

struct ParseResult {
    Options options;
    bool exit_now = false;  // --help printed
    int exit_code = 0;
    std::string error;      // one line when the options are bad
};

// Reads the environment first, then argv (flags win).
ParseResult parse_options(int argc, char** argv);

void print_help(const char* program);

// The command line of every slipstream command is read by one parser, from a
// table of these: the flag, its environment variable and how it takes a value.
struct OptionSpec {
    std::string flag;                   // "--port"
    const char* env = nullptr;          // read before the flags; nullptr: none
    const char* value_name = nullptr;   // "PORT", for help and errors; nullptr: a switch without a value
    const char* help = "";
    std::function<bool(const std::string&)> apply;  // false: not a valid value
    std::string alias = {};             // a short form ("-c"), or none
    std::string missing_value = {};     // what the error calls the missing value; default "a value: VALUE_NAME"
};

// Applies the options' environment variables; the first bad value's error, or empty.
std::string read_environment(const std::vector<OptionSpec>& options);

// Applies argv[1..]: "--flag VALUE", "--flag=VALUE", switches, and "-h"/"--help"
// (which stops, setting help). Other arguments go to operands, or without
// operands are unknown options. Returns the first error, or empty.
// see_help: what an unknown option's error points to ("--help").
std::string read_arguments(const std::vector<OptionSpec>& options, int argc, char** argv, const std::string& see_help,
                           bool& help, std::vector<std::string>* operands = nullptr);

}  // namespace slipstream
