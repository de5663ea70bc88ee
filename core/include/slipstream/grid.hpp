#pragma once
// Tiling of n streams into one output picture, as the original slipstream:
// rows = floor(sqrt(n)), columns = ceil(n / rows); each stream is fitted into
// its cell keeping its aspect ratio and centred.
#include <opencv2/core.hpp>

namespace ss {

struct GridShape {
    int rows = 1, columns = 1;
};

GridShape grid_shape(int sources);

// The cell of source `index` in an output of `output` size.
cv::Rect grid_cell(int index, int sources, cv::Size output);

// The largest rectangle of `content`'s aspect ratio centred inside `cell`.
cv::Rect fit_inside(cv::Size content, cv::Rect cell);

}  // namespace ss
