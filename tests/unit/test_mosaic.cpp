// ss::Mosaic: redrawing only the tiles that changed must give exactly the
// picture that drawing every tile and converting the whole canvas gives.
#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "slipstream/error.hpp"
#include "slipstream/grid.hpp"
#include "slipstream/mosaic.hpp"

namespace {

cv::Mat noise_frame(int width, int height, int seed) {
    cv::Mat frame(height, width, CV_8UC3);
    cv::RNG rng(static_cast<std::uint64_t>(seed));
    rng.fill(frame, cv::RNG::UNIFORM, 0, 256);
    return frame;
}

// The reference: every tile drawn on a fresh canvas, converted in one go.
cv::Mat full_render(cv::Size size, const std::vector<ss::TileContent>& tiles, const ss::InferConfig& labels) {
    cv::Mat canvas(size, CV_8UC3, cv::Scalar(24, 24, 24));
    const int n = static_cast<int>(tiles.size());
    for (int i = 0; i < n; ++i) ss::draw_tile(canvas, ss::grid_cell(i, n, size), tiles[static_cast<std::size_t>(i)], labels);
    cv::Mat i420;
    cv::cvtColor(canvas, i420, cv::COLOR_BGR2YUV_I420);
    return i420;
}

void expect_same(const cv::Mat& a, const cv::Mat& b) {
    ASSERT_EQ(a.size(), b.size());
    EXPECT_EQ(cv::norm(a, b, cv::NORM_INF), 0) << "pictures differ";
}

struct Scene {
    std::vector<cv::Mat> frames;
    std::vector<ss::Detections> objects;
    std::vector<ss::TileContent> tiles;

    explicit Scene(int n) : frames(static_cast<std::size_t>(n)), objects(static_cast<std::size_t>(n)), tiles(static_cast<std::size_t>(n)) {
        for (int i = 0; i < n; ++i) {
            frames[static_cast<std::size_t>(i)] = noise_frame(160 + 16 * i, 90 + 8 * i, i);
            ss::Detection d;
            d.class_id = 0;
            d.group = 0;
            d.confidence = 0.5f;
            d.box = {10.f + i, 12.f, 40.f, 50.f};
            objects[static_cast<std::size_t>(i)] = {d};
            point(i);
        }
    }
    void point(int i) {
        auto& t = tiles[static_cast<std::size_t>(i)];
        t.frame = &frames[static_cast<std::size_t>(i)];
        t.objects = &objects[static_cast<std::size_t>(i)];
        t.stats = ss::TileStats{i, 1, {1, {0, 0, 1, 0}}};
    }
};

}  // namespace

TEST(Mosaic, DrawsOnlyChangedTilesAndMatchesAFullRedraw) {
    const ss::InferConfig labels;
    // 5 sources in 1000x602: 3 columns and 2 rows, cell edges at odd pixels (333, 301).
    const cv::Size size(1000, 602);
    Scene scene(5);
    ss::Mosaic mosaic;
    mosaic.update(size, scene.tiles, labels);
    EXPECT_EQ(mosaic.tiles_drawn(), 5);
    expect_same(mosaic.i420(), full_render(size, scene.tiles, labels));

    mosaic.update(size, scene.tiles, labels);
    EXPECT_EQ(mosaic.tiles_drawn(), 0) << "nothing changed";

    // A new frame on tile 1, moved boxes on tile 3, new text on tile 4.
    scene.frames[1] = noise_frame(176, 98, 11);
    scene.objects[3][0].box.left += 5;
    scene.tiles[4].stats->frame = 2;
    mosaic.update(size, scene.tiles, labels);
    EXPECT_EQ(mosaic.tiles_drawn(), 3);
    expect_same(mosaic.i420(), full_render(size, scene.tiles, labels));
}

TEST(Mosaic, NoSignalRedrawsWhenTheShownSecondsChange) {
    const ss::InferConfig labels;
    const cv::Size size(640, 360);
    Scene scene(2);
    scene.tiles[0].no_signal = true;
    scene.tiles[0].seconds_since_frame = 3.2;
    ss::Mosaic mosaic;
    mosaic.update(size, scene.tiles, labels);
    scene.tiles[0].seconds_since_frame = 3.4;  // still shown as 3 s
    mosaic.update(size, scene.tiles, labels);
    EXPECT_EQ(mosaic.tiles_drawn(), 0);
    scene.tiles[0].seconds_since_frame = 3.6;  // now 4 s
    mosaic.update(size, scene.tiles, labels);
    EXPECT_EQ(mosaic.tiles_drawn(), 1);
    expect_same(mosaic.i420(), full_render(size, scene.tiles, labels));
    scene.tiles[0].no_signal = false;  // back
    mosaic.update(size, scene.tiles, labels);
    EXPECT_EQ(mosaic.tiles_drawn(), 1);
    expect_same(mosaic.i420(), full_render(size, scene.tiles, labels));
}

TEST(Mosaic, ANewLayoutRedrawsEverything) {
    const ss::InferConfig labels;
    Scene four(4);
    ss::Mosaic mosaic;
    mosaic.update({800, 400}, four.tiles, labels);
    Scene three(3);  // a source left: its cell must be cleared, not keep its picture
    mosaic.update({800, 400}, three.tiles, labels);
    EXPECT_EQ(mosaic.tiles_drawn(), 3);
    expect_same(mosaic.i420(), full_render({800, 400}, three.tiles, labels));
    mosaic.update({640, 480}, three.tiles, labels);
    EXPECT_EQ(mosaic.tiles_drawn(), 3);
    expect_same(mosaic.i420(), full_render({640, 480}, three.tiles, labels));
    // A tile without a frame yet, then its first frame.
    three.tiles[2].frame = nullptr;
    mosaic.update({640, 480}, three.tiles, labels);
    EXPECT_EQ(mosaic.tiles_drawn(), 1);
    expect_same(mosaic.i420(), full_render({640, 480}, three.tiles, labels));
    mosaic.invalidate();
    mosaic.update({640, 480}, three.tiles, labels);
    EXPECT_EQ(mosaic.tiles_drawn(), 3);
}

TEST(Mosaic, RefusesAnOddSize) {
    const ss::InferConfig labels;
    ss::Mosaic mosaic;
    EXPECT_THROW(mosaic.update({641, 480}, {}, labels), ss::Error);
}

TEST(Mosaic, OtherLabelsRedrawEverything) {
    ss::InferConfig first, second;
    first.labels = {"person"};
    second.labels = {"car"};
    Scene scene(2);
    ss::Mosaic mosaic;
    mosaic.update({640, 360}, scene.tiles, first);
    mosaic.update({640, 360}, scene.tiles, first);
    EXPECT_EQ(mosaic.tiles_drawn(), 0);
    mosaic.update({640, 360}, scene.tiles, second);
    EXPECT_EQ(mosaic.tiles_drawn(), 2);
    expect_same(mosaic.i420(), full_render({640, 360}, scene.tiles, second));
}
