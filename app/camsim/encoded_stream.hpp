#pragma once
// A video file encoded once into H.264/H.265 access units held in memory, so
// serving it costs no encoding. Encoded streams are cached on disk; the cache
// file's bytes are the in-memory form, so loading is a single read.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "frame_stamp.hpp"
#include "options.hpp"

namespace ss::camsim {

struct StreamRequest {
    std::string file;
    Codec codec = Codec::h264;
    int width = 0;   // 0: the file's
    int height = 0;  // 0: the file's
    int fps = 0;     // 0: the file's
    int bitrate_bps = 0;
    bool stamp = false;
    int stamp_cell = 0;         // 0: default for the width
    bool stamp_bottom = false;
    StampShape stamp_shape = StampShape::row;
    double duration_s = 0;  // 0: whole file

    // Everything that changes the encoded bytes except the file's contents,
    // which are represented by its size and modification time.
    std::string identity() const;
};

struct AccessUnit {
    size_t offset = 0;  // into EncodedStream::bytes
    uint32_t size = 0;
    bool keyframe = false;
};

struct EncodedStream {
    Codec codec = Codec::h264;
    int width = 0;
    int height = 0;
    int fps = 0;
    std::vector<uint8_t> bytes;
    std::vector<AccessUnit> units;      // one per frame, in order; units[0] is a key frame
    std::vector<size_t> keyframe_units;  // indices into units, ascending

    const uint8_t* data(const AccessUnit& unit) const { return bytes.data() + unit.offset; }
    // The key frame a decoder joining at `unit` would have to start from.
    size_t keyframe_at_or_before(size_t unit) const;
};

// ${SLIPSTREAM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/slipstream}/camsim
std::filesystem::path default_cache_dir();

// Throws InputError when `file` is missing, not a regular file or unreadable.
void check_input_file(const std::string& file);

// Returns the cached stream for `request`, encoding (and caching) it first if
// needed. Returns nullptr if `stop_requested` turned true while encoding.
// Throws InputError when the file is not usable video.
std::shared_ptr<const EncodedStream> load_or_encode(const StreamRequest& request,
                                                    const std::filesystem::path& cache_dir,
                                                    const std::function<bool()>& stop_requested);

}  // namespace ss::camsim
