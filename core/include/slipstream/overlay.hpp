#pragma once
// On-screen display of one tile: the frame scaled into its area, a labelled
// box per object (one colour per class group) and a statistics bar on top.
#include <optional>
#include <string>

#include <opencv2/core.hpp>

#include "slipstream/config.hpp"
#include "slipstream/detection.hpp"
#include "slipstream/tile_layout.hpp"

namespace ss {

struct TileContent {
    const cv::Mat* frame = nullptr;   // BGR; null before the first frame of a source
    const Detections* objects = nullptr;  // boxes in `frame` pixels
    std::optional<TileStats> stats;   // the statistics bar; none: no bar
    bool no_signal = false;           // greys the last frame and says so
    double seconds_since_frame = 0;
};

// Draws the tile into canvas(area) where layout_tile places each part; the
// frame keeps its aspect ratio inside area.
void draw_tile(cv::Mat& canvas, cv::Rect area, const TileContent& tile, const InferConfig& config);

// The colour (BGR) objects of a group are drawn in; group -1 gets grey.
cv::Scalar group_colour(int group);

// "person 12" for a tracked object, "person 0.87" otherwise.
std::string object_label(const Detection& d, const InferConfig& config);

}  // namespace ss
