#include "slipstream/tile_layout.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include <opencv2/imgproc.hpp>

#include "slipstream/grid.hpp"
#include "slipstream/overlay.hpp"

namespace ss {
namespace {

constexpr int font = cv::FONT_HERSHEY_SIMPLEX;
constexpr int margin = 4;       // between a tile's edge and the stats text
constexpr int line_gap = 2;     // between two lines of the stats bar
constexpr double floor_scale = 0.3;  // smaller Hershey type is a blur: below it words are left out instead

// Hershey text is as wide as the sum of its characters' advances times the scale, plus the thickness
// (cv::getTextSize): measuring each word once at scale 1 gives every width exactly.
int advance(const std::string& text) {
    int baseline = 0;
    return cv::getTextSize(text, font, 1.0, 1, &baseline).width - 1;
}

int pixel_width(int advance_at_1, double scale, int thickness) { return cvRound(advance_at_1 * scale + thickness); }

std::string abbreviated(const std::string& name, std::size_t letters) { return name.substr(0, std::min(letters, name.size())); }

// The area a text's pixels can reach, with a pixel to spare for anti-aliasing.
cv::Rect text_area(cv::Point origin, const cv::Size& size, int baseline) {
    return {origin.x - 1, origin.y - size.height - 1, size.width + 2, size.height + baseline + 2};
}

struct Words {
    std::vector<std::string> text;
    std::vector<int> advance;
    int space = 0;
};

Words measured(std::vector<std::string> text) {
    Words w;
    w.text = std::move(text);
    for (const auto& t : w.text) w.advance.push_back(advance(t));
    w.space = advance(" ");
    return w;
}

// Words [begin, end) on one line.
int line_advance(const Words& w, std::size_t begin, std::size_t end) {
    if (end <= begin) return 0;
    const int words = std::accumulate(w.advance.begin() + static_cast<long>(begin), w.advance.begin() + static_cast<long>(end), 0);
    return words + w.space * static_cast<int>(end - begin - 1);
}

struct LineMetrics {
    cv::Size size;  // of "Ag": every line is as tall
    int baseline = 0;
    int pitch() const { return size.height + baseline + line_gap; }
};

LineMetrics line_metrics(double scale, int thickness) {
    LineMetrics m;
    m.size = cv::getTextSize("Ag", font, scale, thickness, &m.baseline);
    return m;
}

int bar_height(double scale, int thickness, std::size_t lines) {
    return line_gap + static_cast<int>(lines) * line_metrics(scale, thickness).pitch() + 1;
}

// A way to set the words: break points are the indices where a new line starts.
using Breaks = std::vector<std::size_t>;

// Greedy: as many words on each line as fit `width` at `scale`; empty when a word alone is too wide.
Breaks greedy_breaks(const Words& w, double scale, int thickness, int width) {
    Breaks breaks{0};
    for (std::size_t i = 1; i < w.text.size(); ++i) {
        if (pixel_width(line_advance(w, breaks.back(), i + 1), scale, thickness) > width) breaks.push_back(i);
    }
    for (std::size_t b = 0; b < breaks.size(); ++b) {
        const std::size_t end = b + 1 < breaks.size() ? breaks[b + 1] : w.text.size();
        if (pixel_width(line_advance(w, breaks[b], end), scale, thickness) > width) return {};
    }
    return breaks;
}

// How a wording is set: on at most `max_lines` lines, the first one ending after `first_line`
// words (0: as many words on each line as fit).
struct Setting {
    StatsWording wording;
    std::size_t first_line;
    std::size_t max_lines;
};

// The largest scale, in steps of 0.01 from `max_scale` down to `min_scale`, at which the words
// fit the width as `setting` says and the bar fits `max_bar` rows.
struct Fit {
    double scale = 0;
    Breaks breaks;
};
std::optional<Fit> fit_words(const Words& w, const Setting& setting, double min_scale, double max_scale, int width, int max_bar) {
    const int thickness = 1;
    for (int step = static_cast<int>(std::floor(max_scale * 100 + 1e-9)); step >= static_cast<int>(std::ceil(min_scale * 100 - 1e-9));
         --step) {
        const double scale = step / 100.0;
        Breaks breaks;
        if (setting.first_line > 0) {
            breaks = w.text.size() > setting.first_line ? Breaks{0, setting.first_line} : Breaks{0};
            bool fits = true;
            for (std::size_t b = 0; b < breaks.size(); ++b) {
                const std::size_t end = b + 1 < breaks.size() ? breaks[b + 1] : w.text.size();
                fits = fits && pixel_width(line_advance(w, breaks[b], end), scale, thickness) <= width;
            }
            if (!fits) continue;
        } else {
            breaks = greedy_breaks(w, scale, thickness, width);
            if (breaks.empty()) continue;
        }
        if (breaks.size() > setting.max_lines || bar_height(scale, thickness, breaks.size()) > max_bar) continue;
        return Fit{scale, breaks};
    }
    return std::nullopt;
}

void place_stats(TileLayout& layout, cv::Size tile, const TileStats& stats, const ClassGroups& groups) {
    const int width = tile.width - 2 * margin;
    const int max_bar = tile.height / 3;  // the picture stays the larger part of the tile
    // Big tiles get bigger type, up to about 17-pixel capitals on a 1080-row tile.
    const double max_scale = std::clamp(tile.height / 1000.0, 0.5, 0.8);
    // Preferred first: the longest words, one line, lines broken between fields (after the frame,
    // after the object count), before lines filled as far as they go.
    constexpr std::size_t after_frame = 2, after_objects = 3, filled = 0;
    const Setting settings[] = {
        {StatsWording::long_words, filled, 1},         {StatsWording::long_words, after_frame, 2},
        {StatsWording::short_words, filled, 1},        {StatsWording::short_words, after_frame, 2},
        {StatsWording::short_words, after_objects, 2}, {StatsWording::short_words, filled, 2},
        {StatsWording::tiny_words, filled, 1},         {StatsWording::tiny_words, after_frame, 2},
        {StatsWording::tiny_words, after_objects, 2},  {StatsWording::tiny_words, filled, 2},
    };
    // Sized for the widest numbers a tile shows for hours (6-digit frames: over 9 hours at 30 fps;
    // 2-digit counts): every tile of a grid gets the same type and line breaks, and they stay as
    // frames count up.
    TileStats widest = stats;
    widest.stream = std::max(widest.stream, 10);
    widest.frame = std::max<std::uint64_t>(widest.frame, 100000);
    widest.counts.objects = std::max(widest.counts.objects, 10);
    widest.counts.per_group.resize(groups.names.size());
    for (int& n : widest.counts.per_group) n = std::max(n, 10);
    const Words sizing[] = {measured(stats_words(widest, groups, StatsWording::long_words)),
                            measured(stats_words(widest, groups, StatsWording::short_words)),
                            measured(stats_words(widest, groups, StatsWording::tiny_words))};
    std::optional<Fit> fit;
    StatsWording wording = StatsWording::tiny_words;
    // Legible type with the longest words that allow it; smaller type only where no wording fits.
    for (double min_scale : {legible_text_scale, floor_scale}) {
        for (const Setting& setting : settings) {
            fit = fit_words(sizing[static_cast<int>(setting.wording)], setting, min_scale, max_scale, width, max_bar);
            if (fit) {
                wording = setting.wording;
                break;
            }
        }
        if (fit) break;
    }
    // The words shown are no wider than those sized: they fit the same breaks.
    const Words shown = measured(stats_words(stats, groups, wording));
    const Words* chosen = &shown;
    Words kept;
    if (!fit) {
        // A tile too small for all words even in the tiny wording at the smallest type: the words
        // that fit, in order, on the lines that fit half the tile's height.
        kept.space = chosen->space;
        const std::size_t max_lines = static_cast<std::size_t>(
            std::max(0, (tile.height / 2 - line_gap - 1) / line_metrics(floor_scale, 1).pitch()));
        std::size_t lines = max_lines ? 1 : 0;
        int line = -1;
        for (std::size_t i = 0; i < chosen->text.size() && lines > 0; ++i) {
            const int a = chosen->advance[i];
            const int joined = line < 0 ? a : line + chosen->space + a;
            if (pixel_width(joined, floor_scale, 1) <= width) {
                line = joined;
            } else if (pixel_width(a, floor_scale, 1) <= width && lines < max_lines) {
                ++lines;
                line = a;
            } else {
                continue;
            }
            kept.text.push_back(chosen->text[i]);
            kept.advance.push_back(a);
        }
        if (kept.text.empty()) return;
        chosen = &kept;
        fit = Fit{floor_scale, greedy_breaks(kept, floor_scale, 1, width)};
        if (fit->breaks.empty()) return;
    }
    layout.stats_wording = wording;
    const LineMetrics m = line_metrics(fit->scale, 1);
    layout.bar = cv::Rect(0, 0, tile.width, std::min(tile.height, bar_height(fit->scale, 1, fit->breaks.size())));
    for (std::size_t b = 0; b < fit->breaks.size(); ++b) {
        const std::size_t end = b + 1 < fit->breaks.size() ? fit->breaks[b + 1] : chosen->text.size();
        PlacedText t;
        for (std::size_t i = fit->breaks[b]; i < end; ++i) t.text += (i > fit->breaks[b] ? " " : "") + chosen->text[i];
        t.scale = fit->scale;
        t.thickness = 1;
        t.origin = {margin, line_gap + static_cast<int>(b) * m.pitch() + m.size.height};
        int baseline = 0;
        const cv::Size size = cv::getTextSize(t.text, font, t.scale, t.thickness, &baseline);
        t.area = text_area(t.origin, size, baseline);
        layout.stats.push_back(std::move(t));
    }
}

// A label's text on its filled background: the background is its area.
PlacedText label_text(const std::string& text, double scale, cv::Point top_left) {
    PlacedText t;
    t.text = text;
    t.scale = scale;
    t.thickness = 1;
    int baseline = 0;
    const cv::Size size = cv::getTextSize(text, font, scale, 1, &baseline);
    t.origin = {top_left.x + 2, top_left.y + 1 + size.height};
    t.area = {top_left.x, top_left.y, size.width + 4, size.height + baseline + 3};
    return t;
}

bool overlaps_any(const cv::Rect& r, const std::vector<PlacedLabel>& placed) {
    return std::any_of(placed.begin(), placed.end(), [&](const PlacedLabel& p) { return (p.text.area & r).area() > 0; });
}

// The first free place for a label of `size` near `box`: above it (as the original drew labels),
// inside its top, below it, then further up or down; always inside `free`. Empty when none.
std::optional<cv::Point> free_place(cv::Size size, const cv::Rect& box, const cv::Rect& free, const std::vector<PlacedLabel>& placed) {
    if (size.width > free.width || size.height > free.height) return std::nullopt;
    auto clamped = [&](int x, int y) {
        return cv::Point(std::clamp(x, free.x, free.br().x - size.width), std::clamp(y, free.y, free.br().y - size.height));
    };
    std::vector<cv::Point> tries = {clamped(box.x, box.y - size.height), clamped(box.x, box.y + 1),
                                    clamped(box.x, box.br().y + 1)};
    // Sliding away in half-label steps, as far as the box is tall and a few labels beyond.
    const int step = std::max(1, size.height / 2);
    const int reach = box.height + 3 * size.height;
    for (int d = step; d <= reach; d += step) {
        tries.push_back(clamped(box.x, box.y - size.height - d));
        tries.push_back(clamped(box.x, box.y + 1 + d));
        tries.push_back(clamped(box.br().x - size.width, box.y - size.height - d));
        tries.push_back(clamped(box.br().x - size.width, box.y + 1 + d));
    }
    for (const cv::Point& p : tries) {
        if (!overlaps_any(cv::Rect(p, size), placed)) return p;
    }
    return std::nullopt;
}

// Short label for crowded tiles: the track id, or the confidence; the colour tells the group.
std::string compact_label(const Detection& d) {
    char text[32];
    if (d.track_id >= 0) {
        std::snprintf(text, sizeof text, "%lld", static_cast<long long>(d.track_id));
    } else {
        std::snprintf(text, sizeof text, "%.2f", d.confidence);
    }
    return text;
}

void place_labels(TileLayout& layout, cv::Size tile, const Detections& objects, const InferConfig& config) {
    const cv::Rect free(0, layout.bar.br().y, tile.width, tile.height - layout.bar.br().y);
    const double scale = std::clamp(layout.picture.width / 1000.0, 0.35, 0.55);
    // Fresh detections before carried-over boxes, then top to bottom: upper labels keep their place above their box.
    std::vector<std::size_t> order(objects.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        if (objects[a].predicted != objects[b].predicted) return !objects[a].predicted;
        const cv::Rect &ra = layout.boxes[a], &rb = layout.boxes[b];
        return ra.y != rb.y ? ra.y < rb.y : ra.x < rb.x;
    });
    // Labels together may cover a quarter of the picture: on small tiles of a
    // crowded scene the rest keep only their boxes, so the picture stays visible.
    const int label_budget = layout.picture.area() / 4;
    int covered = 0;
    for (std::size_t i : order) {
        // On small pictures full labels would hide what they name: a label may take a quarter of the width.
        std::vector<std::string> texts{object_label(objects[i], config), compact_label(objects[i])};
        if (label_text(texts[0], scale, {0, 0}).area.width > layout.picture.width / 4) texts.erase(texts.begin());
        for (const std::string& text : texts) {
            const PlacedText probe = label_text(text, scale, {0, 0});
            if (covered + probe.area.area() > label_budget) continue;
            const auto at = free_place(probe.area.size(), layout.boxes[i], free, layout.labels);
            if (at) {
                layout.labels.push_back({label_text(text, scale, *at), i});
                covered += probe.area.area();
                break;
            }
        }
    }
}

void place_notice(TileLayout& layout, cv::Size tile, double seconds_since_frame) {
    char with_seconds[64];
    std::snprintf(with_seconds, sizeof with_seconds, "NO SIGNAL %.0fs", seconds_since_frame);
    const int thickness = 2;
    const int width = tile.width - 2 * margin;
    for (const std::string& text : {std::string(with_seconds), std::string("NO SIGNAL")}) {
        const int a = advance(text);
        const double scale = std::min(std::clamp(tile.width / 500.0, 0.5, 1.2), (width - thickness) / static_cast<double>(a));
        if (scale < floor_scale) continue;
        int baseline = 0;
        const cv::Size size = cv::getTextSize(text, font, scale, thickness, &baseline);
        if (size.width > width) continue;
        PlacedText t;
        t.text = text;
        t.scale = scale;
        t.thickness = thickness;
        t.origin = {(tile.width - size.width) / 2, (tile.height + size.height) / 2};
        t.area = text_area(t.origin, size, baseline);
        if ((t.area & cv::Rect(0, 0, tile.width, tile.height)) != t.area) continue;
        layout.notice = std::move(t);
        return;
    }
}

}  // namespace

std::vector<std::string> stats_words(const TileStats& stats, const ClassGroups& groups, StatsWording wording) {
    const auto count = [&](std::size_t g) { return std::to_string(g < stats.counts.per_group.size() ? stats.counts.per_group[g] : 0); };
    std::vector<std::string> words;
    switch (wording) {
        case StatsWording::long_words:
            words = {"Stream=" + std::to_string(stats.stream), "Frame=" + std::to_string(stats.frame),
                     "Objects=" + std::to_string(stats.counts.objects)};
            for (std::size_t g = 0; g < groups.names.size(); ++g) words.push_back(plural(groups.names[g]) + "=" + count(g));
            break;
        case StatsWording::short_words:
            // ':' is less than half as wide as '=' in this font: 200-pixel tiles (30 cameras on 1200x600) get these words.
            words = {"#" + std::to_string(stats.stream), "Frame:" + std::to_string(stats.frame),
                     "Obj:" + std::to_string(stats.counts.objects)};
            for (std::size_t g = 0; g < groups.names.size(); ++g) words.push_back(abbreviated(groups.names[g], 3) + ":" + count(g));
            break;
        case StatsWording::tiny_words:
            words = {"#" + std::to_string(stats.stream), "F" + std::to_string(stats.frame), "O" + std::to_string(stats.counts.objects)};
            for (std::size_t g = 0; g < groups.names.size(); ++g) words.push_back(abbreviated(groups.names[g], 1) + count(g));
            break;
    }
    return words;
}

TileLayout layout_tile(cv::Size tile, cv::Size frame, const Detections* objects, const std::optional<TileStats>& stats,
                       bool no_signal, double seconds_since_frame, const InferConfig& config) {
    TileLayout layout;
    if (tile.width <= 0 || tile.height <= 0) return layout;
    if (frame.width > 0 && frame.height > 0) layout.picture = fit_inside(frame, cv::Rect(0, 0, tile.width, tile.height));
    if (stats) place_stats(layout, tile, *stats, config.groups);
    if (objects && !no_signal && !layout.picture.empty()) {
        const double sx = static_cast<double>(layout.picture.width) / frame.width;
        const double sy = static_cast<double>(layout.picture.height) / frame.height;
        for (const auto& d : *objects) {
            const cv::Point p1(layout.picture.x + static_cast<int>(d.box.left * sx), layout.picture.y + static_cast<int>(d.box.top * sy));
            const cv::Point p2(layout.picture.x + static_cast<int>(d.box.right() * sx),
                               layout.picture.y + static_cast<int>(d.box.bottom() * sy));
            layout.boxes.emplace_back(p1, p2);
        }
        place_labels(layout, tile, *objects, config);
    }
    if (no_signal) place_notice(layout, tile, seconds_since_frame);
    return layout;
}

}  // namespace ss
