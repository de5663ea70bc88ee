#include "options.hpp"

#include <charconv>
#include <cmath>
#include <string_view>

namespace ss::camsim {
namespace {

constexpr int kMaxCameras = 64;

std::vector<std::string> split_commas(std::string_view text) {
    std::vector<std::string> parts;
    size_t start = 0;
    while (true) {
        size_t comma = text.find(',', start);
        parts.emplace_back(text.substr(start, comma - start));
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    return parts;
}

std::optional<long long> to_integer(std::string_view text) {
    long long value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value;
}

[[noreturn]] void bad_value(std::string_view flag, std::string_view value, std::string_view expected) {
    throw InputError("bad value '" + std::string(value) + "' for " + std::string(flag) + ": expected " +
                     std::string(expected));
}

int parse_ranged(std::string_view flag, std::string_view text, long long low, long long high,
                 std::string_view expected) {
    auto value = to_integer(text);
    if (!value || *value < low || *value > high) bad_value(flag, text, expected);
    return static_cast<int>(*value);
}

// Accepts 4000000, 4000k or 4M (decimal multipliers, as bitrates are usually quoted).
int parse_bitrate(std::string_view flag, std::string_view text) {
    constexpr std::string_view expected = "bits per second from 50000 to 100000000, e.g. 4000000, 4000k or 4M";
    std::string_view digits = text;
    double multiplier = 1;
    if (!digits.empty() && (digits.back() == 'k' || digits.back() == 'K')) multiplier = 1e3;
    if (!digits.empty() && digits.back() == 'M') multiplier = 1e6;
    if (multiplier != 1) digits.remove_suffix(1);
    double value = 0;
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (digits.empty() || error != std::errc{} || end != digits.data() + digits.size()) bad_value(flag, text, expected);
    double bps = std::round(value * multiplier);
    if (!(bps >= 50'000 && bps <= 100'000'000)) bad_value(flag, text, expected);
    return static_cast<int>(bps);
}

// Sizes must be even because the encoders work on 4:2:0 frames.
int parse_dimension(std::string_view flag, std::string_view text) {
    constexpr std::string_view expected = "an even number of pixels from 16 to 8192";
    int value = parse_ranged(flag, text, 16, 8192, expected);
    if (value % 2 != 0) bad_value(flag, text, expected);
    return value;
}

template <typename T, typename ParseOne>
std::vector<T> parse_list(std::string_view flag, std::string_view text, ParseOne parse_one) {
    std::vector<T> values;
    for (const std::string& part : split_commas(text)) values.push_back(parse_one(flag, part));
    return values;
}

Codec parse_codec(std::string_view flag, std::string_view text) {
    if (text == "h264") return Codec::h264;
    if (text == "h265") return Codec::h265;
    bad_value(flag, text, "h264 or h265");
}

}  // namespace

const char* codec_name(Codec codec) { return codec == Codec::h264 ? "h264" : "h265"; }

const char* stream_caps(Codec codec) {
    return codec == Codec::h264 ? "video/x-h264,stream-format=byte-stream,alignment=au"
                                : "video/x-h265,stream-format=byte-stream,alignment=au";
}

std::string usage_text() {
    return R"(Usage: slipstream-camsim [--port 8555] [--address 127.0.0.1] [--count N]
         [--codec h264|h265] [--width W] [--height H] [--fps F] [--bitrate BPS]
         [--duration SECONDS] [--stamp] [--stamp-cell PIXELS]
         [--stamp-position top|bottom] [--stamp-shape row|block]
         [--send-log FILE]
         [--auth USER:PASS] FILE...

Serves video files as simulated live IP cameras over RTSP:
  rtsp://ADDRESS:PORT/cam0, /cam1, ... (cameras cycle over the FILEs)
Each stream loops forever at real-time pace. Every distinct (file, codec,
size, rate, bitrate) is encoded once up front and cached on disk, so later
runs start at once and serving costs almost no CPU.

Options:
  --port N            TCP port of the RTSP server (default 8555; 0 picks a
                      free port, shown in the printed URLs)
  --address ADDR      address to listen on (default 127.0.0.1)
  --count N           number of cameras (default: one per FILE)
  --codec LIST        h264 or h265 (default h264)
  --width LIST        frame width in pixels, even (default: the file's)
  --height LIST       frame height in pixels, even (default: the file's; if
                      only one of width/height is given the other keeps the
                      file's aspect ratio; a different aspect ratio is
                      filled with black borders, not stretched)
  --fps LIST          frames per second, whole number (default: the file's,
                      rounded; 30 if the file does not say)
  --bitrate LIST      bits per second, e.g. 4000000, 4000k or 4M (default 2M)
  --duration SECONDS  loop only the first SECONDS of each file (default:
                      the whole file); shortens the first-run encode
  --stamp             paint a machine-readable frame counter into the
                      top-left corner of every frame (layout documented in
                      app/camsim/frame_stamp.hpp)
  --stamp-cell PIXELS cell size of the stamp, even, 8 to 256 (default:
                      2 * floor(width / 128) for a row, 2 * floor(width / 40)
                      for a block, at least 8); implies --stamp
  --stamp-position P  top or bottom edge of the frame (default top);
                      implies --stamp
  --stamp-shape S     row: one row of 29 cells (default); block: the same
                      cells as 8 x 4 larger ones in the corner, readable in a
                      picture shrunk 16 times or more; implies --stamp
  --send-log FILE     append "cam<i> <counter> <CLOCK_REALTIME ns>" to FILE
                      for every access unit sent (counter as in --stamp)
  --auth USER:PASS    require this login (basic or digest) from every client,
                      like a real camera; others get 401 Unauthorized
  -h, --help          show this help

LIST is one value or a comma list that cycles over the cameras, e.g.
  --codec h264,h265 --width 768,640 --height 576,360 --fps 10,15

Key frames come every second and there are no B-frames, so clients can join
quickly and decode without reordering delay. Encoded streams are cached in
${SLIPSTREAM_CACHE:-${XDG_CACHE_HOME:-~/.cache}/slipstream}/camsim/ keyed by
the settings and the file's size and modification time.

Output: one line per camera,
  cam<i> rtsp://ADDRESS:PORT/cam<i> <codec> <W>x<H>@<fps> from <FILE>
then "ready" once all cameras are served. SIGINT/SIGTERM stop it (exit 0).
Exit status 2 means bad input (options or files); the message says which.
)";
}

Options parse_options(int argc, char** argv) {
    Options options;
    bool options_ended = false;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (options_ended || arg.empty() || arg[0] != '-' || arg == "-") {
            options.files.emplace_back(arg);
            continue;
        }
        if (arg == "--") {
            options_ended = true;
            continue;
        }
        if (arg == "-h" || arg == "--help") {
            options.show_help = true;
            continue;
        }
        if (arg == "--stamp") {
            options.stamp = true;
            continue;
        }

        // Every other option takes a value, as "--flag value" or "--flag=value".
        std::string flag(arg);
        std::string value;
        if (size_t equals = flag.find('='); equals != std::string::npos) {
            value = flag.substr(equals + 1);
            flag.resize(equals);
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            throw InputError("missing value for " + flag + "; see --help");
        }

        if (flag == "--port") {
            options.port = parse_ranged(flag, value, 0, 65535, "a TCP port from 0 to 65535");
        } else if (flag == "--address") {
            if (value.empty()) bad_value(flag, value, "an IP address such as 127.0.0.1");
            options.address = value;
        } else if (flag == "--count") {
            options.count = parse_ranged(flag, value, 1, kMaxCameras, "a camera count from 1 to 64");
        } else if (flag == "--codec") {
            options.codecs = parse_list<Codec>(flag, value, parse_codec);
        } else if (flag == "--width") {
            options.widths = parse_list<int>(flag, value, parse_dimension);
        } else if (flag == "--height") {
            options.heights = parse_list<int>(flag, value, parse_dimension);
        } else if (flag == "--fps") {
            options.fps = parse_list<int>(flag, value, [](std::string_view f, std::string_view v) {
                return parse_ranged(f, v, 1, 240, "a whole number of frames per second from 1 to 240");
            });
        } else if (flag == "--bitrate") {
            options.bitrates = parse_list<int>(flag, value, parse_bitrate);
        } else if (flag == "--duration") {
            double seconds = 0;
            auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), seconds);
            if (value.empty() || error != std::errc{} || end != value.data() + value.size() || !(seconds > 0) ||
                seconds > 86400)
                bad_value(flag, value, "a positive number of seconds");
            options.duration_s = seconds;
        } else if (flag == "--stamp-cell") {
            options.stamp_cell = parse_ranged(flag, value, 8, 256, "an even number of pixels from 8 to 256");
            if (options.stamp_cell % 2 != 0) bad_value(flag, value, "an even number of pixels from 8 to 256");
            options.stamp = true;
        } else if (flag == "--stamp-position") {
            if (value != "top" && value != "bottom") bad_value(flag, value, "top or bottom");
            options.stamp_bottom = value == "bottom";
            options.stamp = true;
        } else if (flag == "--stamp-shape") {
            if (value != "row" && value != "block") bad_value(flag, value, "row or block");
            options.stamp_shape = value == "block" ? StampShape::block : StampShape::row;
            options.stamp = true;
        } else if (flag == "--auth") {
            const size_t colon = value.find(':');
            if (colon == std::string::npos || colon == 0 || colon + 1 == value.size())
                throw InputError("bad value for --auth: expected USER:PASS, both non-empty");
            options.auth_user = value.substr(0, colon);
            options.auth_password = value.substr(colon + 1);
        } else if (flag == "--send-log") {
            if (value.empty()) bad_value(flag, value, "a file name");
            options.send_log_path = value;
        } else {
            throw InputError("unknown option " + flag + "; see --help");
        }
    }
    if (!options.show_help && options.files.empty())
        throw InputError("no video FILE given; pass at least one, e.g. slipstream-camsim video.mp4 (see --help)");
    return options;
}

std::vector<CameraSettings> expand_cameras(const Options& options) {
    int count = options.count.value_or(static_cast<int>(options.files.size()));
    auto cycle = [](const auto& list, int i, auto fallback) {
        return list.empty() ? fallback : list[static_cast<size_t>(i) % list.size()];
    };
    std::vector<CameraSettings> cameras;
    for (int i = 0; i < count; ++i) {
        CameraSettings camera;
        camera.index = i;
        camera.file = cycle(options.files, i, std::string());
        camera.codec = cycle(options.codecs, i, Codec::h264);
        camera.width = cycle(options.widths, i, 0);
        camera.height = cycle(options.heights, i, 0);
        camera.fps = cycle(options.fps, i, 0);
        camera.bitrate_bps = cycle(options.bitrates, i, 2'000'000);
        cameras.push_back(std::move(camera));
    }
    return cameras;
}

}  // namespace ss::camsim
