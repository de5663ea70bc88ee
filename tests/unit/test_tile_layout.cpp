// ss::layout_tile and the drawing that follows it: at 1, 4, 9, 16 and 30
// cameras on the default and other common output sizes, every text stays inside
// its own tile, box labels do not cover each other or the statistics bar, and
// type stays legible where the tile has room. The drawn picture is compared
// with one drawn without text and boxes: every pixel that differs lies in a
// place the layout reported, so the layout checked is the one drawn.
//
// SS_TILE_PNG_DIR=/some/dir writes each rendered output picture there, to look at.
#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include <cstdlib>
#include <filesystem>
#include <numeric>
#include <sstream>

#include "slipstream/counts.hpp"
#include "slipstream/grid.hpp"
#include "slipstream/overlay.hpp"
#include "slipstream/tile_layout.hpp"

namespace {

ss::InferConfig coco_like_config() {
    ss::InferConfig config;
    config.labels = {"person", "bicycle", "car", "motorcycle", "stop sign"};
    config.groups.names = {"Vehicle", "Cycle", "Person", "Sign"};
    config.groups.group_of_class = {2, 1, 0, 1, 3};
    return config;
}

// Frames of OpenCV's pedestrian sample (768x576), a different moment per camera.
const std::vector<cv::Mat>& sample_frames() {
    static const std::vector<cv::Mat> frames = [] {
        std::vector<cv::Mat> out;
        cv::VideoCapture video(SS_VTEST_VIDEO);
        cv::Mat frame;
        for (int i = 0; video.isOpened() && out.size() < 30 && video.read(frame); ++i) {
            if (i % 7 == 0) out.push_back(frame.clone());
        }
        return out;
    }();
    return frames;
}

ss::Detection object(int class_id, const ss::InferConfig& config, float x, float y, float w, float h, long long track) {
    ss::Detection d;
    d.class_id = class_id;
    d.group = config.groups.group_of(class_id);
    d.confidence = 0.8f;
    d.track_id = track;
    d.box = {x, y, w, h};
    return d;
}

// A crowded scene in 768x576 frame pixels, as the sample video has them:
// three people side by side, two one behind the other, people at the left,
// right, top (under the bar) and bottom edges, a car, a carried-over bicycle.
ss::Detections crowd(int camera, const ss::InferConfig& config) {
    const float o = static_cast<float>(3 * camera);
    const long long id = 7 * camera;
    ss::Detections d = {
        object(0, config, 100 + o, 200, 38, 110, id + 1),   object(0, config, 140 + o, 205, 38, 108, id + 2),
        object(0, config, 180 + o, 198, 40, 112, id + 103), object(0, config, 400, 150 + o, 40, 110, id + 4),
        object(0, config, 410, 190 + o, 42, 115, id + 15),  object(0, config, 728, 300, 40, 110, id + 6),
        object(0, config, 300 + o, 0, 40, 90, id + 7),      object(0, config, 0, 480, 40, 96, id + 8),
        object(2, config, 500, 400 - o, 200, 120, id + 9),  object(1, config, 600 - o, 100, 60, 70, -1),
    };
    d.back().predicted = true;
    return d;
}

struct OutputCase {
    cv::Size output;
    int cameras;
};

std::string name_of(const OutputCase& c) {
    return std::to_string(c.output.width) + "x" + std::to_string(c.output.height) + "_" + std::to_string(c.cameras) + "cams";
}

// The output sizes of the issue (1200x600 default) and the ones users pick.
std::vector<OutputCase> output_cases() {
    std::vector<OutputCase> cases;
    for (cv::Size size : {cv::Size(1200, 600), cv::Size(1920, 1080), cv::Size(1280, 720), cv::Size(640, 480)}) {
        for (int n : {1, 4, 9, 16, 30}) cases.push_back({size, n});
    }
    return cases;
}

struct Scene {
    std::vector<ss::Detections> objects;
    std::vector<ss::TileContent> tiles;
};

Scene scene_of(int cameras, const ss::InferConfig& config, bool with_text_and_boxes) {
    Scene s;
    s.objects.resize(static_cast<std::size_t>(cameras));
    s.tiles.resize(static_cast<std::size_t>(cameras));
    const auto& frames = sample_frames();
    for (int i = 0; i < cameras; ++i) {
        auto& tile = s.tiles[static_cast<std::size_t>(i)];
        auto& objects = s.objects[static_cast<std::size_t>(i)];
        objects = crowd(i, config);
        tile.frame = &frames[static_cast<std::size_t>(i) % frames.size()];
        if (with_text_and_boxes) {
            tile.objects = &objects;
            // Six-digit frame numbers: a camera that has run for an hour.
            tile.stats = ss::TileStats{i, 123456u + static_cast<unsigned>(i), ss::count_groups(objects, config.groups)};
        }
    }
    return s;
}

cv::Mat render(cv::Size output, const Scene& scene, const ss::InferConfig& config) {
    cv::Mat canvas(output, CV_8UC3, cv::Scalar(24, 24, 24));
    const int n = static_cast<int>(scene.tiles.size());
    for (int i = 0; i < n; ++i) ss::draw_tile(canvas, ss::grid_cell(i, n, output), scene.tiles[static_cast<std::size_t>(i)], config);
    return canvas;
}

ss::TileLayout layout_of(cv::Size tile, const ss::TileContent& content, const ss::InferConfig& config) {
    return ss::layout_tile(tile, content.frame->size(), content.objects, content.stats, content.no_signal, content.seconds_since_frame,
                           config);
}

std::string joined(const std::vector<std::string>& words) {
    std::string out;
    for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
    return out;
}

bool inside(const cv::Rect& inner, const cv::Rect& outer) { return (inner & outer) == inner && !inner.empty(); }

class TileTextAtOutputSize : public ::testing::TestWithParam<OutputCase> {};

TEST_P(TileTextAtOutputSize, EveryTextInsideItsTileLegibleAndClear) {
    const OutputCase c = GetParam();
    ASSERT_FALSE(sample_frames().empty()) << "cannot read " << SS_VTEST_VIDEO;
    const ss::InferConfig config = coco_like_config();
    const Scene scene = scene_of(c.cameras, config, true);

    cv::Mat allowed(c.output, CV_8UC1, cv::Scalar(0));  // where drawing may change the picture
    cv::Mat stats_text(c.output, CV_8UC1, cv::Scalar(0));
    std::ostringstream summary;
    for (int i = 0; i < c.cameras; ++i) {
        SCOPED_TRACE("camera " + std::to_string(i));
        const cv::Rect cell = ss::grid_cell(i, c.cameras, c.output);
        const cv::Rect tile(0, 0, cell.width, cell.height);
        const auto& content = scene.tiles[static_cast<std::size_t>(i)];
        const ss::TileLayout layout = layout_of(cell.size(), content, config);

        // The statistics: all of them, on a bar no taller than a third of the tile, each line inside it.
        ASSERT_FALSE(layout.stats.empty());
        EXPECT_TRUE(inside(layout.bar, tile));
        EXPECT_LE(layout.bar.height, cell.height / 3);
        std::vector<std::string> lines;
        for (const auto& line : layout.stats) {
            EXPECT_TRUE(inside(line.area, layout.bar)) << line.text;
            // Tiles narrower than 150 pixels (30 cameras on 640x480) have room for two short lines only in smaller type.
            EXPECT_GE(line.scale, cell.width >= 150 ? ss::legible_text_scale : 0.33)
                << line.text << " on a " << cell.width << "x" << cell.height << " tile";
            lines.push_back(line.text);
            stats_text(line.area + cell.tl()).setTo(255);
        }
        EXPECT_EQ(joined(lines), joined(ss::stats_words(*content.stats, config.groups, layout.stats_wording)))
            << "a word of the statistics is missing";
        allowed(layout.bar + cell.tl()).setTo(255);

        // Labels: inside the tile, below the bar, clear of each other, of readable size,
        // together over no more than a quarter of the picture.
        int covered = 0;
        for (const auto& label : layout.labels) covered += label.text.area.area();
        EXPECT_LE(covered, layout.picture.area() / 4) << "labels hide the picture";
        for (std::size_t a = 0; a < layout.labels.size(); ++a) {
            const auto& label = layout.labels[a];
            EXPECT_TRUE(inside(label.text.area, tile)) << label.text.text;
            EXPECT_GE(label.text.area.y, layout.bar.br().y) << label.text.text << " under the bar";
            EXPECT_GE(label.text.scale, 0.35);
            for (std::size_t b = a + 1; b < layout.labels.size(); ++b) {
                EXPECT_EQ((label.text.area & layout.labels[b].text.area).area(), 0)
                    << label.text.text << " covers " << layout.labels[b].text.text;
            }
            allowed(label.text.area + cell.tl()).setTo(255);
        }
        // Box outlines (up to 2 pixels thick, clipped to the tile).
        for (const auto& box : layout.boxes) {
            cv::rectangle(allowed(cell), box.tl(), box.br(), cv::Scalar(255), 2 + 2, cv::LINE_8);
        }
        // Where there is room, every object keeps its label.
        if (cell.width >= 600) {
            EXPECT_EQ(layout.labels.size(), layout.boxes.size()) << "labels left out";
        }
        if (i == 0) {
            summary << name_of(c) << ": tile " << cell.width << "x" << cell.height << ", bar " << layout.stats.size() << " line(s) at "
                    << layout.stats[0].scale << ": \"" << joined(lines) << "\", " << layout.labels.size() << "/" << layout.boxes.size()
                    << " labels";
        }
    }
    std::cout << summary.str() << "\n";

    // The drawn picture: everything that differs from the bare pictures lies where the layout said.
    const cv::Mat drawn = render(c.output, scene, config);
    const cv::Mat bare = render(c.output, scene_of(c.cameras, config, false), config);
    cv::Mat diff, changed;
    cv::absdiff(drawn, bare, diff);
    cv::cvtColor(diff, changed, cv::COLOR_BGR2GRAY);
    cv::threshold(changed, changed, 0, 255, cv::THRESH_BINARY);
    cv::Mat stray;
    cv::bitwise_and(changed, ~allowed, stray);
    EXPECT_EQ(cv::countNonZero(stray), 0) << "drawn outside the layout's places";
    // Light stats text (the bar darkens the picture to a quarter: at most 64) only in the lines' areas.
    cv::Mat grey, light, bars(c.output, CV_8UC1, cv::Scalar(0));
    for (int i = 0; i < c.cameras; ++i) {
        const cv::Rect cell = ss::grid_cell(i, c.cameras, c.output);
        bars(layout_of(cell.size(), scene.tiles[static_cast<std::size_t>(i)], config).bar + cell.tl()).setTo(255);
    }
    cv::cvtColor(drawn, grey, cv::COLOR_BGR2GRAY);
    cv::threshold(grey, light, 100, 255, cv::THRESH_BINARY);
    cv::bitwise_and(light, bars, light);
    EXPECT_GT(cv::countNonZero(light), 0) << "no stats text drawn";
    cv::bitwise_and(light, ~stats_text, light);
    std::vector<cv::Point> outside_lines;
    cv::findNonZero(light, outside_lines);
    EXPECT_TRUE(outside_lines.empty()) << "stats text outside its lines' areas, first at "
                                       << (outside_lines.empty() ? cv::Point() : outside_lines[0]);

    if (const char* dir = std::getenv("SS_TILE_PNG_DIR")) {
        std::filesystem::create_directories(dir);
        cv::imwrite((std::filesystem::path(dir) / (name_of(c) + ".png")).string(), drawn);
    }
}

INSTANTIATE_TEST_SUITE_P(Outputs, TileTextAtOutputSize, ::testing::ValuesIn(output_cases()),
                         [](const ::testing::TestParamInfo<OutputCase>& info) { return name_of(info.param); });

ss::TileStats stats_of(int stream, std::uint64_t frame, const ss::Detections& objects, const ss::InferConfig& config) {
    return {stream, frame, ss::count_groups(objects, config.groups)};
}

}  // namespace

TEST(TileText, LongWordingIsTheStdoutLine) {
    const ss::InferConfig config = coco_like_config();
    const ss::Detections objects = crowd(0, config);
    const ss::TileStats stats = stats_of(3, 302, objects, config);
    EXPECT_EQ(joined(ss::stats_words(stats, config.groups, ss::StatsWording::long_words)),
              ss::frame_line(3, 302, objects, config.groups));
    EXPECT_EQ(joined(ss::stats_words(stats, config.groups, ss::StatsWording::short_words)),
              "#3 Frame:302 Obj:10 Veh:1 Cyc:1 Per:8 Sig:0");
    EXPECT_EQ(joined(ss::stats_words(stats, config.groups, ss::StatsWording::tiny_words)), "#3 F302 O10 V1 C1 P8 S0");
}

// The case: 4 cameras on 1200x600 put the whole line on each 600-pixel tile, legibly.
TEST(TileText, FourCamerasOnTheDefaultOutputKeepTheOriginalLine) {
    const ss::InferConfig config = coco_like_config();
    const ss::Detections objects = crowd(0, config);
    const auto layout = ss::layout_tile({600, 300}, {768, 576}, &objects, stats_of(0, 302, objects, config), false, 0, config);
    ASSERT_EQ(layout.stats.size(), 1u);
    EXPECT_EQ(layout.stats[0].text, ss::frame_line(0, 302, objects, config.groups));
    EXPECT_GE(layout.stats[0].scale, 0.4);
    EXPECT_LE(layout.stats[0].area.br().x, 600);
}

TEST(TileText, LabelsOfBoxesSideBySideDoNotCoverEachOther) {
    const ss::InferConfig config = coco_like_config();
    // Two people 10 pixels apart: "person 17" is far wider than that.
    const ss::Detections objects = {object(0, config, 100, 200, 40, 110, 17), object(0, config, 110, 202, 40, 110, 18)};
    const auto layout = ss::layout_tile({600, 300}, {768, 576}, &objects, std::nullopt, false, 0, config);
    ASSERT_EQ(layout.labels.size(), 2u);
    EXPECT_EQ(layout.labels[0].text.text, "person 17");
    EXPECT_EQ(layout.labels[1].text.text, "person 18");
    EXPECT_EQ((layout.labels[0].text.area & layout.labels[1].text.area).area(), 0);
    // The first stays where labels always were: on top of its box's top-left corner.
    EXPECT_EQ(layout.labels[0].text.area.br().y, layout.boxes[0].y);
    EXPECT_EQ(layout.labels[0].text.area.x, layout.boxes[0].x);
}

TEST(TileText, LabelsStayInsideTheTileAndBelowTheBar) {
    const ss::InferConfig config = coco_like_config();
    // At the right edge (the label is wider than what is left of the tile) and at the very top.
    const ss::Detections objects = {object(2, config, 740, 300, 28, 60, 123), object(0, config, 300, 0, 40, 90, 4)};
    const cv::Size tile(400, 300);
    const auto layout = ss::layout_tile(tile, {768, 576}, &objects, stats_of(1, 9, objects, config), false, 0, config);
    ASSERT_EQ(layout.labels.size(), 2u);
    for (const auto& l : layout.labels) {
        EXPECT_TRUE(inside(l.text.area, cv::Rect({0, 0}, tile))) << l.text.text;
        EXPECT_GE(l.text.area.y, layout.bar.br().y) << l.text.text;
    }
}

// A tile smaller than any sensible output gives: what fits is shown, nothing spills.
TEST(TileText, TinyTileKeepsTextInside) {
    const ss::InferConfig config = coco_like_config();
    const ss::Detections objects = crowd(2, config);
    for (cv::Size tile : {cv::Size(60, 40), cv::Size(30, 20), cv::Size(8, 8)}) {
        const auto layout = ss::layout_tile(tile, {768, 576}, &objects, stats_of(29, 1234567, objects, config), true, 12, config);
        for (const auto& line : layout.stats) EXPECT_TRUE(inside(line.area, cv::Rect({0, 0}, tile))) << line.text;
        if (layout.notice) {
            EXPECT_TRUE(inside(layout.notice->area, cv::Rect({0, 0}, tile)));
        }
        EXPECT_TRUE(layout.labels.empty()) << "no labels without signal";
    }
}

TEST(TileText, NoSignalNoticeFitsSmallTiles) {
    const ss::InferConfig config;
    for (cv::Size tile : {cv::Size(1200, 600), cv::Size(200, 120), cv::Size(106, 96)}) {
        const auto layout = ss::layout_tile(tile, {768, 576}, nullptr, std::nullopt, true, 125, config);
        ASSERT_TRUE(layout.notice) << tile;
        EXPECT_TRUE(inside(layout.notice->area, cv::Rect({0, 0}, tile))) << tile;
        EXPECT_EQ(layout.notice->text.rfind("NO SIGNAL", 0), 0u);
    }
}
