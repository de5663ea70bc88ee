#pragma once
// Where everything on a tile goes and how big its text is: the picture, each
// object's box and label, the statistics bar and the NO SIGNAL notice. Pure
// geometry, so a unit test checks exactly what draw_tile draws: every text
// inside its tile, labels clear of each other and of the bar, type no smaller
// than legible where the tile has room.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "slipstream/config.hpp"
#include "slipstream/counts.hpp"
#include "slipstream/detection.hpp"

namespace ss {

// What a tile's statistics bar says: the fields of the stdout line.
struct TileStats {
    int stream = 0;
    std::uint64_t frame = 0;
    GroupCounts counts;

    bool operator==(const TileStats& o) const {
        return stream == o.stream && frame == o.frame && counts.objects == o.counts.objects && counts.per_group == o.counts.per_group;
    }
    bool operator!=(const TileStats& o) const { return !(*this == o); }
};

// The stats bar's words from longest to shortest; each entry is one word
// (a field), lines break only between words.
//   long:  Stream=0 Frame=302 Objects=5 Vehicles=0 Cycles=0 Persons=5 Signs=0  (the stdout line)
//   short: #0 Frame:302 Obj:5 Veh:0 Cyc:0 Per:5 Sig:0
//   tiny:  #0 F302 O5 V0 C0 P5 S0
enum class StatsWording { long_words, short_words, tiny_words };
std::vector<std::string> stats_words(const TileStats& stats, const ClassGroups& groups, StatsWording wording);

// One text as drawn: cv::putText(tile, text, origin, FONT_HERSHEY_SIMPLEX, scale, colour, thickness).
struct PlacedText {
    std::string text;
    cv::Point origin;  // left end of the baseline, tile pixels
    double scale = 0;
    int thickness = 1;
    cv::Rect area;  // every pixel the text (and a label's background) can touch, tile pixels
};

struct PlacedLabel {
    PlacedText text;
    std::size_t object = 0;  // index into the tile's detections
};

struct TileLayout {
    cv::Rect picture;                 // where the frame is drawn (empty: no frame)
    std::vector<cv::Rect> boxes;      // one per detection, tile pixels (empty when none are drawn)
    std::vector<PlacedLabel> labels;  // objects whose label found no free place have none
    cv::Rect bar;                     // darkened strip behind the statistics (empty: none)
    std::vector<PlacedText> stats;    // one per line
    StatsWording stats_wording = StatsWording::long_words;
    std::optional<PlacedText> notice;  // NO SIGNAL
};

// Type below this scale (capitals about 9 pixels high) is hard to read after
// encoding; the layout goes smaller only where a tile has no room otherwise.
constexpr double legible_text_scale = 0.4;

// The layout of one tile of `tile` size. `objects` are in `frame` pixels;
// `stats` absent: no bar. Boxes and labels are left out for a tile without signal.
TileLayout layout_tile(cv::Size tile, cv::Size frame, const Detections* objects, const std::optional<TileStats>& stats,
                       bool no_signal, double seconds_since_frame, const InferConfig& config);

}  // namespace ss
