#include "slipstream/mosaic.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include <opencv2/imgproc.hpp>

#include "slipstream/error.hpp"
#include "slipstream/grid.hpp"

namespace ss {
namespace {

const cv::Scalar empty_cell(24, 24, 24);

bool same_objects(const Detections& a, const Detections& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const Detection &x = a[i], &y = b[i];
        if (x.class_id != y.class_id || x.group != y.group || x.confidence != y.confidence || x.track_id != y.track_id ||
            x.predicted != y.predicted || x.box.left != y.box.left || x.box.top != y.box.top ||
            x.box.width != y.box.width || x.box.height != y.box.height) {
            return false;
        }
    }
    return true;
}

// As the NO SIGNAL text ("%.0f") shows it: printf rounds in the current mode, as nearbyint does.
long shown_seconds(const TileContent& tile) {
    return tile.no_signal ? static_cast<long>(std::nearbyint(tile.seconds_since_frame)) : 0;
}

// A pipeline may run without cameras (they come later, through the API): say so.
void draw_no_cameras(cv::Mat& canvas) {
    const std::string lines[] = {"No cameras", "add one: POST /api/v1/stream/add"};
    const double scale = std::max(0.5, canvas.cols / 1200.0);
    int y = canvas.rows / 2 - static_cast<int>(30 * scale);
    for (const std::string& line : lines) {
        int baseline = 0;
        const cv::Size size = cv::getTextSize(line, cv::FONT_HERSHEY_SIMPLEX, scale, 2, &baseline);
        cv::putText(canvas, line, {(canvas.cols - size.width) / 2, y}, cv::FONT_HERSHEY_SIMPLEX, scale, cv::Scalar(200, 200, 200), 2,
                    cv::LINE_AA);
        y += size.height + static_cast<int>(30 * scale);
    }
}

}  // namespace

void Mosaic::invalidate() { sources_ = -1; }

bool Mosaic::unchanged(const Drawn& drawn, const TileContent& tile) const {
    if (!drawn.valid) return false;
    const cv::Mat* frame = tile.frame && !tile.frame->empty() ? tile.frame : nullptr;
    if (!frame) {
        if (!drawn.frame.empty()) return false;
    } else if (drawn.frame.data != frame->data || drawn.frame.size() != frame->size()) {
        return false;
    }
    if (drawn.no_signal != tile.no_signal || drawn.seconds != shown_seconds(tile) || drawn.stats != tile.stats) return false;
    static const Detections none;
    return same_objects(drawn.objects, tile.objects ? *tile.objects : none);
}

void Mosaic::update(cv::Size size, const std::vector<TileContent>& tiles, const InferConfig& detector) {
    if (size.width <= 0 || size.height <= 0 || size.width % 2 || size.height % 2) {
        throw Error("Mosaic: the picture needs an even width and height");
    }
    const int n = static_cast<int>(tiles.size());
    tiles_drawn_ = 0;
    // Labels name every box, groups every count: another detector config redraws everything.
    if (size != size_ || n != sources_ || detector.labels != labels_ || detector.groups.names != groups_) {
        size_ = size;
        sources_ = n;
        labels_ = detector.labels;
        groups_ = detector.groups.names;
        canvas_.create(size, CV_8UC3);
        i420_.create(size.height * 3 / 2, size.width, CV_8UC1);
        // Cells past the last source are drawn by no tile.
        canvas_.setTo(empty_cell);
        if (n == 0) draw_no_cameras(canvas_);
        drawn_.assign(static_cast<std::size_t>(n), Drawn{});
        convert_area(cv::Rect(0, 0, size.width, size.height));
    }
    for (int i = 0; i < n; ++i) {
        const TileContent& tile = tiles[static_cast<std::size_t>(i)];
        Drawn& drawn = drawn_[static_cast<std::size_t>(i)];
        if (unchanged(drawn, tile)) continue;
        const cv::Rect cell = grid_cell(i, n, size);
        try {
            draw_tile(canvas_, cell, tile, detector);
        } catch (...) {
            invalidate();  // the canvas may be half drawn
            throw;
        }
        convert_area(cell);
        drawn.valid = true;
        drawn.frame = tile.frame ? *tile.frame : cv::Mat();
        drawn.objects = tile.objects ? *tile.objects : Detections{};
        drawn.stats = tile.stats;
        drawn.no_signal = tile.no_signal;
        drawn.seconds = shown_seconds(tile);
        ++tiles_drawn_;
    }
}

// Converts canvas(area), widened to even edges so each 2x2 chroma block is
// whole, into the same place of the I420 picture.
void Mosaic::convert_area(cv::Rect area) {
    const int x0 = area.x & ~1, y0 = area.y & ~1;
    const int x1 = std::min((area.x + area.width + 1) & ~1, size_.width);
    const int y1 = std::min((area.y + area.height + 1) & ~1, size_.height);
    if (x1 <= x0 || y1 <= y0) return;
    const int w = x1 - x0, h = y1 - y0, W = size_.width, H = size_.height;
    cv::Mat yuv;
    cv::cvtColor(canvas_(cv::Rect(x0, y0, w, h)), yuv, cv::COLOR_BGR2YUV_I420);
    // Packed I420 of a w x h picture: Y (h rows of w), then U and V (each h/2 rows of w/2).
    std::uint8_t* base = i420_.data;
    const cv::Mat y_in(h, w, CV_8UC1, yuv.data);
    const cv::Mat u_in(h / 2, w / 2, CV_8UC1, yuv.data + w * h);
    const cv::Mat v_in(h / 2, w / 2, CV_8UC1, yuv.data + w * h + (w / 2) * (h / 2));
    cv::Mat y_out(H, W, CV_8UC1, base);
    cv::Mat u_out(H / 2, W / 2, CV_8UC1, base + W * H);
    cv::Mat v_out(H / 2, W / 2, CV_8UC1, base + W * H + (W / 2) * (H / 2));
    y_in.copyTo(y_out(cv::Rect(x0, y0, w, h)));
    u_in.copyTo(u_out(cv::Rect(x0 / 2, y0 / 2, w / 2, h / 2)));
    v_in.copyTo(v_out(cv::Rect(x0 / 2, y0 / 2, w / 2, h / 2)));
}

}  // namespace ss
