#include "slipstream/overlay.hpp"

#include <algorithm>
#include <cstdio>

#include <opencv2/imgproc.hpp>

#include "slipstream/grid.hpp"

namespace ss {
namespace {

constexpr int font = cv::FONT_HERSHEY_SIMPLEX;

// Splits the stats text in two lines at the space nearest the middle when one line would be too small to read.
std::vector<std::string> stats_lines(const std::string& text, int width, double& scale, int& thickness) {
    int baseline = 0;
    const double min_scale = 0.38, max_scale = 0.6;
    const int one_line = cv::getTextSize(text, font, 1.0, 1, &baseline).width;
    scale = std::min(max_scale, (width - 8) / static_cast<double>(std::max(one_line, 1)));
    std::vector<std::string> lines{text};
    if (scale < min_scale) {
        const auto objects = text.find(" Objects=");
        const auto split = objects != std::string::npos ? objects : text.rfind(' ', text.size() / 2);
        if (split != std::string::npos) lines = {text.substr(0, split), text.substr(split + 1)};
        int widest = 0;
        for (const auto& l : lines) widest = std::max(widest, cv::getTextSize(l, font, 1.0, 1, &baseline).width);
        scale = std::clamp((width - 8) / static_cast<double>(std::max(widest, 1)), 0.3, max_scale);
    }
    thickness = 1;
    return lines;
}

}  // namespace

cv::Scalar group_colour(int group) {
    static const cv::Scalar palette[] = {
        {60, 200, 255},   // amber: first group (Vehicle in the default config)
        {255, 160, 60},   // blue
        {90, 230, 90},    // green
        {80, 80, 255},    // red
        {230, 90, 230},   // magenta
        {230, 230, 80},   // cyan
    };
    if (group < 0) return {200, 200, 200};
    return palette[group % (sizeof palette / sizeof palette[0])];
}

std::string object_label(const Detection& d, const InferConfig& config) {
    char suffix[32];
    if (d.track_id >= 0) {
        std::snprintf(suffix, sizeof suffix, " %lld", static_cast<long long>(d.track_id));
    } else {
        std::snprintf(suffix, sizeof suffix, " %.2f", d.confidence);
    }
    return config.label(d.class_id) + suffix;
}

void draw_tile(cv::Mat& canvas, cv::Rect area, const TileContent& tile, const InferConfig& config) {
    area &= cv::Rect(0, 0, canvas.cols, canvas.rows);
    if (area.empty()) return;
    cv::Mat cell = canvas(area);
    cell.setTo(cv::Scalar(24, 24, 24));

    cv::Rect picture{};
    if (tile.frame && !tile.frame->empty()) {
        picture = fit_inside(tile.frame->size(), cv::Rect(0, 0, area.width, area.height));
        cv::Mat target = cell(picture);
        cv::resize(*tile.frame, target, picture.size(), 0, 0, cv::INTER_LINEAR);
        if (tile.no_signal) {
            cv::Mat grey;
            cv::cvtColor(target, grey, cv::COLOR_BGR2GRAY);
            cv::cvtColor(grey, target, cv::COLOR_GRAY2BGR);
            target.convertTo(target, -1, 0.5, 20);
        }
    }

    if (tile.objects && !tile.no_signal && !picture.empty()) {
        const double sx = static_cast<double>(picture.width) / tile.frame->cols;
        const double sy = static_cast<double>(picture.height) / tile.frame->rows;
        const double label_scale = std::clamp(picture.width / 1000.0, 0.35, 0.55);
        for (const auto& d : *tile.objects) {
            const cv::Scalar colour = group_colour(d.group);
            const cv::Point p1(picture.x + static_cast<int>(d.box.left * sx), picture.y + static_cast<int>(d.box.top * sy));
            const cv::Point p2(picture.x + static_cast<int>(d.box.right() * sx), picture.y + static_cast<int>(d.box.bottom() * sy));
            cv::rectangle(cell, p1, p2, colour, d.predicted ? 1 : 2, cv::LINE_8);
            const std::string text = object_label(d, config);
            int baseline = 0;
            const cv::Size size = cv::getTextSize(text, font, label_scale, 1, &baseline);
            const cv::Point corner(p1.x, std::max(p1.y, size.height + 4));
            cv::rectangle(cell, cv::Rect(corner.x, corner.y - size.height - 4, size.width + 4, size.height + 4) & cv::Rect(0, 0, cell.cols, cell.rows),
                          colour, cv::FILLED);
            cv::putText(cell, text, {corner.x + 2, corner.y - 3}, font, label_scale, {0, 0, 0}, 1, cv::LINE_AA);
        }
    }

    if (tile.no_signal) {
        char text[64];
        std::snprintf(text, sizeof text, "NO SIGNAL %.0fs", tile.seconds_since_frame);
        const double scale = std::clamp(area.width / 500.0, 0.5, 1.2);
        int baseline = 0;
        const cv::Size size = cv::getTextSize(text, font, scale, 2, &baseline);
        const cv::Point at((area.width - size.width) / 2, (area.height + size.height) / 2);
        cv::putText(cell, text, at, font, scale, {255, 255, 255}, 2, cv::LINE_AA);
    }

    if (!tile.stats.empty()) {
        double scale = 0.5;
        int thickness = 1;
        const auto lines = stats_lines(tile.stats, area.width, scale, thickness);
        int baseline = 0;
        const int line_height = cv::getTextSize("Ag", font, scale, thickness, &baseline).height + baseline + 4;
        const int bar_height = line_height * static_cast<int>(lines.size()) + 4;
        cv::Mat bar = cell.rowRange(0, std::min(bar_height, cell.rows));
        bar.convertTo(bar, -1, 0.25, 0);  // darken, so light text stays legible over any picture
        for (std::size_t i = 0; i < lines.size(); ++i) {
            cv::putText(cell, lines[i], {4, static_cast<int>(i + 1) * line_height - baseline}, font, scale, {240, 240, 240},
                        thickness, cv::LINE_AA);
        }
    }
}

}  // namespace ss
