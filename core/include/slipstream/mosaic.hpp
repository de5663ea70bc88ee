#pragma once
// The output picture: every source's tile drawn into one canvas, kept in I420
// for the encoder. A tile is drawn and converted again only when what it shows
// changed (a new frame, other boxes or text): when cameras send 10 frames/s
// into a 30 frames/s output, two pictures in three repeat every tile, and
// drawing plus colour conversion of unchanged tiles was pure waste.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "slipstream/config.hpp"
#include "slipstream/detection.hpp"
#include "slipstream/overlay.hpp"

namespace ss {

class Mosaic {
public:
    // Brings the picture up to date with `tiles` (one per source, in grid order)
    // on a canvas of `size` (even width and height).
    void update(cv::Size size, const std::vector<TileContent>& tiles, const InferConfig& detector);
    // Forgets what was drawn: the next update draws every tile.
    void invalidate();
    // The picture as packed I420: `height * 3 / 2` rows of `width` bytes.
    const cv::Mat& i420() const { return i420_; }
    // Tiles drawn by the last update (the others were unchanged).
    int tiles_drawn() const { return tiles_drawn_; }

private:
    struct Drawn {
        bool valid = false;
        cv::Mat frame;  // holds the pixels, so their address cannot be reused by a newer frame
        Detections objects;
        std::optional<TileStats> stats;
        bool no_signal = false;
        long seconds = 0;
    };
    bool unchanged(const Drawn& drawn, const TileContent& tile) const;
    void convert_area(cv::Rect area);

    cv::Size size_;
    int sources_ = -1;
    std::vector<std::string> labels_, groups_;  // of the config the tiles were drawn with
    cv::Mat canvas_;  // BGR
    cv::Mat i420_;
    std::vector<Drawn> drawn_;
    int tiles_drawn_ = 0;
};

}  // namespace ss
