// Boxes and layout: IoU, NMS, the tiling grid, fitting content into cells.
#include <cmath>

#include <gtest/gtest.h>

#include "slipstream/detection.hpp"
#include "slipstream/frame_convert.hpp"
#include "slipstream/grid.hpp"
#include "slipstream/nms.hpp"

namespace {

ss::Detection det(int class_id, float confidence, float left, float top, float width, float height) {
    ss::Detection d;
    d.class_id = class_id;
    d.confidence = confidence;
    d.box = {left, top, width, height};
    return d;
}

auto iou_of(float threshold) {
    return [threshold](int) { return threshold; };
}
auto topk_all = [](int) { return -1; };

}  // namespace

TEST(Iou, KnownOverlaps) {
    const ss::Box a{0, 0, 10, 10};
    EXPECT_FLOAT_EQ(ss::intersection_over_union(a, a), 1.f);
    EXPECT_FLOAT_EQ(ss::intersection_over_union(a, {5, 0, 10, 10}), 50.f / 150.f);
    EXPECT_FLOAT_EQ(ss::intersection_over_union(a, {2, 2, 5, 5}), 25.f / 100.f);  // contained
    EXPECT_FLOAT_EQ(ss::intersection_over_union(a, {10, 0, 10, 10}), 0.f);        // touching edges
    EXPECT_FLOAT_EQ(ss::intersection_over_union(a, {20, 20, 5, 5}), 0.f);
    EXPECT_FLOAT_EQ(ss::intersection_over_union({0, 0, 0, 0}, {0, 0, 0, 0}), 0.f);  // empty boxes
}

TEST(Nms, KeepsTheMostConfidentOfOverlappingSameClassBoxes) {
    const ss::Detections in = {
        det(0, 0.6f, 0, 0, 10, 10),
        det(0, 0.9f, 1, 0, 10, 10),    // IoU with the first 90/110 = 0.82
        det(0, 0.5f, 5, 0, 10, 10),    // IoU 0.43 with the 0.9 box: kept at 0.5
        det(1, 0.7f, 0, 0, 10, 10),    // another class is never suppressed by class 0
        det(0, 0.8f, 100, 100, 10, 10),
    };
    const auto out = ss::non_maximum_suppression(in, iou_of(0.5f), topk_all);
    ASSERT_EQ(out.size(), 4u);
    EXPECT_FLOAT_EQ(out[0].confidence, 0.9f);
    EXPECT_FLOAT_EQ(out[1].confidence, 0.8f);
    EXPECT_FLOAT_EQ(out[2].confidence, 0.7f);
    EXPECT_EQ(out[2].class_id, 1);
    EXPECT_FLOAT_EQ(out[3].confidence, 0.5f);

    // A stricter threshold drops the 0.5 box too; threshold 1 (no clustering) keeps everything.
    EXPECT_EQ(ss::non_maximum_suppression(in, iou_of(0.4f), topk_all).size(), 3u);
    EXPECT_EQ(ss::non_maximum_suppression(in, iou_of(1.f), topk_all).size(), 5u);
}

TEST(Nms, PerClassThresholdAndTopK) {
    ss::Detections in;
    for (int i = 0; i < 5; ++i) in.push_back(det(0, 0.9f - 0.1f * i, 20.f * i, 0, 10, 10));  // disjoint
    for (int i = 0; i < 3; ++i) in.push_back(det(1, 0.95f - 0.1f * i, 0, 50, 10, 10));     // identical
    const auto out = ss::non_maximum_suppression(
        in, [](int c) { return c == 1 ? 1.f : 0.5f; }, [](int c) { return c == 0 ? 2 : -1; });
    int per_class[2] = {0, 0};
    for (const auto& d : out) ++per_class[d.class_id];
    EXPECT_EQ(per_class[0], 2);  // topk 2 of 5 disjoint boxes: the two best
    EXPECT_EQ(per_class[1], 3);  // IoU 1 is not above threshold 1
    for (std::size_t i = 1; i < out.size(); ++i) EXPECT_GE(out[i - 1].confidence, out[i].confidence);
    EXPECT_FLOAT_EQ(out[0].confidence, 0.95f);
    EXPECT_TRUE(ss::non_maximum_suppression({}, iou_of(0.5f), topk_all).empty());
}

TEST(Nms, EqualConfidencesKeepInputOrder) {
    const ss::Detections in = {det(0, 0.5f, 0, 0, 10, 10), det(0, 0.5f, 1, 1, 10, 10), det(2, 0.5f, 0, 0, 4, 4)};
    const auto out = ss::non_maximum_suppression(in, iou_of(0.5f), topk_all);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_FLOAT_EQ(out[0].box.left, 0.f);
    EXPECT_EQ(out[1].class_id, 2);
}

TEST(Grid, ShapeForOneToSixteenSources) {
    for (int n = 1; n <= 16; ++n) {
        const auto g = ss::grid_shape(n);
        const int rows = static_cast<int>(std::floor(std::sqrt(n)));
        EXPECT_EQ(g.rows, rows) << n;
        EXPECT_EQ(g.columns, (n + rows - 1) / rows) << n;
        EXPECT_GE(g.rows * g.columns, n);
    }
    EXPECT_EQ(ss::grid_shape(0).rows, 1);
    EXPECT_EQ(ss::grid_shape(0).columns, 1);
    EXPECT_EQ(ss::grid_shape(3).columns, 3);   // 1 row of 3
    EXPECT_EQ(ss::grid_shape(5).columns, 3);   // 2 rows of 3
    EXPECT_EQ(ss::grid_shape(10).rows, 3);     // 3 rows of 4
    EXPECT_EQ(ss::grid_shape(10).columns, 4);
}

TEST(Grid, CellsCoverTheOutputWithoutOverlap) {
    for (const cv::Size output : {cv::Size(1280, 720), cv::Size(1919, 1081), cv::Size(641, 359)}) {
        for (int n = 1; n <= 16; ++n) {
            SCOPED_TRACE(std::to_string(n) + " sources in " + std::to_string(output.width) + "x" + std::to_string(output.height));
            const auto g = ss::grid_shape(n);
            // Every pixel belongs to exactly one cell of the full rows x columns grid.
            cv::Mat owners(output, CV_8UC1, cv::Scalar(0));
            for (int i = 0; i < g.rows * g.columns; ++i) {
                const cv::Rect cell = ss::grid_cell(i, n, output);
                ASSERT_GT(cell.area(), 0);
                ASSERT_EQ(cell & cv::Rect({0, 0}, output), cell) << "cell " << i << " leaves the output";
                owners(cell) += 1;
            }
            double lo = 0, hi = 0;
            cv::minMaxLoc(owners, &lo, &hi);
            EXPECT_EQ(lo, 1);
            EXPECT_EQ(hi, 1);
            // Sources fill row by row.
            if (n > 1) {
                EXPECT_EQ(ss::grid_cell(1, n, output).y, 0);
                EXPECT_GT(ss::grid_cell(1, n, output).x, 0);
            }
        }
    }
}

TEST(Grid, FitInsideKeepsAspectAndCentres) {
    // 16:9 into a square cell: full width, centred vertically.
    cv::Rect r = ss::fit_inside({1920, 1080}, {100, 200, 400, 400});
    EXPECT_EQ(r, cv::Rect(100, 200 + (400 - 225) / 2, 400, 225));
    // 4:3 into a wide cell: full height, centred horizontally.
    r = ss::fit_inside({640, 480}, {0, 0, 1000, 300});
    EXPECT_EQ(r, cv::Rect((1000 - 400) / 2, 0, 400, 300));
    // Small content is scaled up to the cell.
    r = ss::fit_inside({32, 32}, {10, 10, 64, 128});
    EXPECT_EQ(r, cv::Rect(10, 10 + 32, 64, 64));
    // Degenerate sizes give an empty rectangle at the cell's corner, never a crash.
    EXPECT_EQ(ss::fit_inside({0, 10}, {5, 6, 100, 100}), cv::Rect(5, 6, 0, 0));
    EXPECT_EQ(ss::fit_inside({10, 10}, {5, 6, 0, 100}), cv::Rect(5, 6, 0, 0));
    // Always inside the cell.
    for (int w = 1; w < 300; w += 37) {
        for (int h = 1; h < 300; h += 41) {
            const cv::Rect cell{7, 9, 123, 77};
            const cv::Rect fit = ss::fit_inside({w, h}, cell);
            EXPECT_EQ(fit & cell, fit);
            EXPECT_TRUE(fit.width == cell.width || fit.height == cell.height);
        }
    }
}

TEST(FrameSize, FitSizeIsEvenAndNeverUpscales) {
    EXPECT_EQ(ss::fit_size({1920, 1080}, {640, 640}), cv::Size(640, 360));
    EXPECT_EQ(ss::fit_size({640, 480}, {1280, 1280}), cv::Size(640, 480));  // no upscaling
    EXPECT_EQ(ss::fit_size({1001, 999}, {500, 500}), cv::Size(500, 498));   // even
    EXPECT_EQ(ss::fit_size({0, 10}, {100, 100}), cv::Size(0, 0));
}

TEST(Resized, MovesBoxesBetweenSizesOfOneScene) {
    const ss::Box b = ss::resized(ss::Box{10, 20, 30, 40}, {416, 234}, {1920, 1080});
    EXPECT_FLOAT_EQ(b.left, 10.f * 1920 / 416);
    EXPECT_FLOAT_EQ(b.top, 20.f * 1080 / 234);
    EXPECT_FLOAT_EQ(b.width, 30.f * 1920 / 416);
    EXPECT_FLOAT_EQ(b.height, 40.f * 1080 / 234);
    const auto objects = ss::resized(ss::Detections{det(2, 0.5f, 100, 50, 20, 10)}, {200, 100}, {100, 50});
    ASSERT_EQ(objects.size(), 1u);
    EXPECT_FLOAT_EQ(objects[0].box.left, 50);
    EXPECT_FLOAT_EQ(objects[0].box.height, 5);
    EXPECT_EQ(objects[0].class_id, 2);
    EXPECT_FLOAT_EQ(objects[0].confidence, 0.5f);
}

TEST(Resized, UnchangedWhenTheSizesMatchOrOneIsUnknown) {
    const ss::Box b{1, 2, 3, 4};
    for (auto [from, to] : {std::pair<cv::Size, cv::Size>{{64, 48}, {64, 48}}, {{0, 0}, {64, 48}}, {{64, 48}, {0, 0}}}) {
        const ss::Box r = ss::resized(b, from, to);
        EXPECT_FLOAT_EQ(r.left, 1);
        EXPECT_FLOAT_EQ(r.height, 4);
    }
}
