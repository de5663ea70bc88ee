#pragma once
// Command-line options of slipstream-camsim and the per-camera settings they
// expand to. Per-camera flags take comma lists that cycle over the cameras.
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "frame_stamp.hpp"

namespace ss::camsim {

enum class Codec { h264, h265 };

const char* codec_name(Codec codec);
// The coded stream between the encoder, the cache and the RTSP server: Annex B, one access unit per buffer.
const char* stream_caps(Codec codec);

// Bad user input: the message names the offending thing and what to do.
// main() prints it and exits with status 2.
struct InputError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct Options {
    int port = 8555;  // 0 picks a free port; the chosen one is printed
    std::string address = "127.0.0.1";
    std::vector<Codec> codecs{Codec::h264};
    std::vector<int> widths;   // empty: keep the file's size
    std::vector<int> heights;  // empty: keep the file's size
    std::vector<int> fps;      // empty: keep the file's rate
    std::vector<int> bitrates{2'000'000};
    std::optional<int> count;  // default: one camera per file
    double duration_s = 0;     // 0: loop the whole file
    bool stamp = false;
    int stamp_cell = 0;         // 0: the default size for the frame width
    bool stamp_bottom = false;  // stamp along the bottom edge
    StampShape stamp_shape = StampShape::row;
    std::string send_log_path;
    std::string auth_user, auth_password;  // --auth: clients must log in (basic or digest)
    std::vector<std::string> files;
    bool show_help = false;
};

// What one camera serves. 0 in width/height/fps means "take it from the file".
struct CameraSettings {
    int index = 0;
    std::string file;
    Codec codec = Codec::h264;
    int width = 0;
    int height = 0;
    int fps = 0;
    int bitrate_bps = 0;
};

// Throws InputError on anything it cannot use.
Options parse_options(int argc, char** argv);

std::vector<CameraSettings> expand_cameras(const Options& options);

std::string usage_text();

}  // namespace ss::camsim
