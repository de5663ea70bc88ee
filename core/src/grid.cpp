#include "slipstream/grid.hpp"

#include <algorithm>
#include <cmath>

namespace ss {

GridShape grid_shape(int sources) {
    sources = std::max(sources, 1);
    GridShape g;
    g.rows = std::max(1, static_cast<int>(std::floor(std::sqrt(static_cast<double>(sources)))));
    g.columns = (sources + g.rows - 1) / g.rows;
    return g;
}

cv::Rect grid_cell(int index, int sources, cv::Size output) {
    const GridShape g = grid_shape(sources);
    const int row = index / g.columns, column = index % g.columns;
    // Integer edges computed from the total keep cells gap-free for any size.
    const int x0 = column * output.width / g.columns, x1 = (column + 1) * output.width / g.columns;
    const int y0 = row * output.height / g.rows, y1 = (row + 1) * output.height / g.rows;
    return {x0, y0, x1 - x0, y1 - y0};
}

cv::Rect fit_inside(cv::Size content, cv::Rect cell) {
    if (content.width <= 0 || content.height <= 0 || cell.width <= 0 || cell.height <= 0) return {cell.x, cell.y, 0, 0};
    const double scale = std::min(static_cast<double>(cell.width) / content.width, static_cast<double>(cell.height) / content.height);
    const int w = std::clamp(static_cast<int>(std::lround(content.width * scale)), 1, cell.width);
    const int h = std::clamp(static_cast<int>(std::lround(content.height * scale)), 1, cell.height);
    return {cell.x + (cell.width - w) / 2, cell.y + (cell.height - h) / 2, w, h};
}

}  // namespace ss
