#pragma once
// Real frames for programs that run where OpenCV has no videoio (the portable
// bundle on GPU servers): a file of raw 8-bit BGR frames back to back, as
// GStreamer writes them, e.g. with the bundle's own gst-launch-1.0:
//
//   gst-launch-1.0 -q filesrc location=vtest.mp4 ! decodebin ! videorate drop-only=true
//       ! video/x-raw,framerate=1/2 ! videoconvert ! video/x-raw,format=BGR
//       ! filesink location=/tmp/vtest-768x576.bgr
//
// (write_frames.sh next to this file does that and names the file after the size).
//
// The frame size is given, or read from the file name ("...-768x576.bgr").
// Rows are padded to 4 bytes as GStreamer pads them. Header only: used by
// bench-detector and the backend agreement test.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace ss::bench {

struct FrameSize {
    int width = 0, height = 0;
    explicit operator bool() const { return width > 0 && height > 0; }
};

// "768x576" -> {768, 576}; {} when the text holds no such size.
inline FrameSize parse_frame_size(const std::string& text) {
    std::smatch m;
    static const std::regex pattern("(\\d{1,5})x(\\d{1,5})");
    std::string::const_iterator begin = text.begin();
    FrameSize found;
    // The last WxH in the text: a folder name may hold another.
    while (std::regex_search(begin, text.end(), m, pattern)) {
        found = {std::stoi(m[1].str()), std::stoi(m[2].str())};
        begin = m[0].second;
    }
    return found;
}

// Reads up to `limit` frames (0: all) of a raw BGR file. Throws with a message
// naming the file when the size is unknown or the file is not whole frames.
inline std::vector<cv::Mat> read_raw_frames(const std::filesystem::path& file, FrameSize size, std::size_t limit = 0) {
    if (!size) size = parse_frame_size(file.filename().string());
    if (!size) {
        throw std::runtime_error(file.string() + ": frame size unknown (give it, or name the file ...-WIDTHxHEIGHT.bgr)");
    }
    const std::size_t stride = (static_cast<std::size_t>(size.width) * 3 + 3) & ~std::size_t{3};
    const std::size_t frame_bytes = stride * static_cast<std::size_t>(size.height);
    std::error_code ec;
    const auto bytes = std::filesystem::file_size(file, ec);
    if (ec) throw std::runtime_error(file.string() + ": cannot read (" + ec.message() + ")");
    if (bytes == 0 || bytes % frame_bytes != 0) {
        throw std::runtime_error(file.string() + ": " + std::to_string(bytes) + " bytes is not a whole number of " +
                                 std::to_string(size.width) + "x" + std::to_string(size.height) + " BGR frames");
    }
    std::size_t count = bytes / frame_bytes;
    if (limit && count > limit) count = limit;
    std::ifstream in(file, std::ios::binary);
    std::vector<cv::Mat> frames;
    std::vector<char> row(frame_bytes);
    for (std::size_t i = 0; i < count; ++i) {
        if (!in.read(row.data(), static_cast<std::streamsize>(frame_bytes))) {
            throw std::runtime_error(file.string() + ": short read");
        }
        // Wrap the padded rows, then copy into a continuous Mat of our own.
        cv::Mat wrapped(size.height, size.width, CV_8UC3, row.data(), stride);
        frames.push_back(wrapped.clone());
    }
    return frames;
}

}  // namespace ss::bench
