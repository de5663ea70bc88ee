#include "slipstream/overlay.hpp"

#include <algorithm>
#include <cstdio>

#include <opencv2/imgproc.hpp>

namespace ss {
namespace {

constexpr int font = cv::FONT_HERSHEY_SIMPLEX;

void put_text(cv::Mat& cell, const PlacedText& t, const cv::Scalar& colour) {
    cv::putText(cell, t.text, t.origin, font, t.scale, colour, t.thickness, cv::LINE_AA);
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

    const bool has_frame = tile.frame && !tile.frame->empty();
    const TileLayout layout = layout_tile(area.size(), has_frame ? tile.frame->size() : cv::Size(), tile.objects, tile.stats,
                                          tile.no_signal, tile.seconds_since_frame, config);
    if (!layout.picture.empty()) {
        cv::Mat target = cell(layout.picture);
        cv::resize(*tile.frame, target, layout.picture.size(), 0, 0, cv::INTER_LINEAR);
        if (tile.no_signal) {
            cv::Mat grey;
            cv::cvtColor(target, grey, cv::COLOR_BGR2GRAY);
            cv::cvtColor(grey, target, cv::COLOR_GRAY2BGR);
            target.convertTo(target, -1, 0.5, 20);
        }
    }

    // Every box first, then the labels: no box line crosses a label.
    for (std::size_t i = 0; i < layout.boxes.size(); ++i) {
        const Detection& d = (*tile.objects)[i];
        cv::rectangle(cell, layout.boxes[i].tl(), layout.boxes[i].br(), group_colour(d.group), d.predicted ? 1 : 2, cv::LINE_8);
    }
    for (const PlacedLabel& label : layout.labels) {
        cv::rectangle(cell, label.text.area, group_colour((*tile.objects)[label.object].group), cv::FILLED);
        put_text(cell, label.text, {0, 0, 0});
    }

    if (layout.notice) put_text(cell, *layout.notice, {255, 255, 255});

    if (!layout.bar.empty()) {
        cv::Mat bar = cell(layout.bar);
        bar.convertTo(bar, -1, 0.25, 0);  // darken, so light text stays legible over any picture
        for (const PlacedText& line : layout.stats) put_text(cell, line, {240, 240, 240});
    }
}

}  // namespace ss
