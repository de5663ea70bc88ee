// sstiler under GstHarness, fed batch buffers built by hand. The I420 output
// is read back into BGR and checked at positions computed here from the
// documented layout (rows = floor(sqrt n), columns = ceil(n / rows), pictures
// fitted and centred in their cells), not with the element's own helpers.
#include <gst/check/gstharness.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "gst_test_util.hpp"
#include "meta/batch_meta.hpp"
#include "slipstream/overlay.hpp"

namespace {

using sstest::colour_near;
using sstest::live_entry;
using sstest::make_batch;

constexpr int letterbox_max = 40;  // the empty part of a tile is near-black (24,24,24)

// A solid picture as the mux would have made it.
std::shared_ptr<const SsVideoFrame> solid_frame(cv::Size size, const cv::Vec3b& colour, guint64 number = 1) {
    auto f = std::make_shared<SsVideoFrame>();
    f->bgr = cv::Mat(size, CV_8UC3, cv::Scalar(colour[0], colour[1], colour[2]));
    f->source_width = size.width * 2;
    f->source_height = size.height * 2;
    f->number = number;
    return f;
}

// One sstiler between two harness pads.
class TilerRig {
public:
    TilerRig(int width, int height, bool show_stats, const char* framerate = "25/1") {
        GstElement* tiler = gst_element_factory_make("sstiler", nullptr);
        if (!tiler) throw std::runtime_error("sstiler is not registered");
        g_object_set(tiler, "width", width, "height", height, "show-stats", show_stats, nullptr);
        h_ = gst_harness_new_with_element(tiler, "sink", "src");
        gst_object_unref(tiler);
        gst_harness_set_src_caps_str(h_, (std::string(SS_BATCH_CAPS ", framerate=(fraction)") + framerate).c_str());
    }
    ~TilerRig() { gst_harness_teardown(h_); }
    TilerRig(const TilerRig&) = delete;
    TilerRig& operator=(const TilerRig&) = delete;

    GstHarness* harness() const { return h_; }

    // Renders one batch and returns the output picture as BGR (luma too, if asked).
    cv::Mat render(GstBuffer* batch, cv::Mat* luma = nullptr) {
        if (gst_harness_push(h_, batch) != GST_FLOW_OK) {
            ADD_FAILURE() << "push failed";
            return {};
        }
        // The tiler renders in the pushing thread: the output is already queued.
        GstBuffer* out = gst_harness_try_pull(h_);
        if (!out) {
            ADD_FAILURE() << "no output for a batch";
            return {};
        }
        GstCaps* caps = gst_pad_get_current_caps(h_->sinkpad);
        cv::Mat bgr = caps ? sstest::i420_to_bgr(out, caps, luma) : cv::Mat();
        if (!caps) ADD_FAILURE() << "no caps on the output";
        if (caps) gst_caps_unref(caps);
        gst_buffer_unref(out);
        return bgr;
    }

private:
    GstHarness* h_ = nullptr;
};

// The documented grid, computed independently of core/grid.cpp.
cv::Rect expected_cell(int index, int n, cv::Size out) {
    const int rows = static_cast<int>(std::floor(std::sqrt(static_cast<double>(n))));
    const int cols = (n + rows - 1) / rows;
    const int r = index / cols, c = index % cols;
    const int x0 = c * out.width / cols, x1 = (c + 1) * out.width / cols;
    const int y0 = r * out.height / rows, y1 = (r + 1) * out.height / rows;
    return {x0, y0, x1 - x0, y1 - y0};
}

// Largest rectangle of `content`'s aspect centred in `cell` (within a pixel of the element's rounding).
cv::Rect expected_picture(cv::Size content, cv::Rect cell) {
    const double scale = std::min(double(cell.width) / content.width, double(cell.height) / content.height);
    const int w = static_cast<int>(std::lround(content.width * scale)), h = static_cast<int>(std::lround(content.height * scale));
    return {cell.x + (cell.width - w) / 2, cell.y + (cell.height - h) / 2, w, h};
}

// 16 colours, pairwise far apart in some channel, none near the letterbox grey.
const cv::Vec3b palette[16] = {
    {0, 0, 220},     {0, 200, 0},     {220, 0, 0},     {0, 210, 210},   {210, 0, 210},   {210, 210, 0},
    {240, 240, 240}, {130, 130, 130}, {0, 110, 230},   {110, 0, 220},   {230, 110, 0},   {0, 220, 110},
    {110, 220, 0},   {220, 0, 110},   {120, 180, 250}, {250, 160, 120},
};

// Frame sizes of several aspect ratios: 4:3, 16:9, 1:1, 9:16.
const cv::Size shapes[4] = {{160, 120}, {192, 108}, {120, 120}, {90, 160}};

bool is_dark(const cv::Vec3b& c) { return c[0] <= letterbox_max && c[1] <= letterbox_max && c[2] <= letterbox_max; }

}  // namespace

TEST(TilerPalette, ColoursAreDistinguishable) {
    for (int i = 0; i < 16; ++i) {
        for (int j = i + 1; j < 16; ++j) EXPECT_GT(sstest::colour_distance(palette[i], palette[j]), 60) << i << " vs " << j;
        EXPECT_FALSE(is_dark(palette[i]));
    }
}

// For 1..16 sources: each source's colour fills the centre of its cell, the
// picture spans the fitted rectangle, and the letterbox bars are dark.
class TilerLayout : public ::testing::TestWithParam<int> {};

TEST_P(TilerLayout, EachSourceCentredInItsCell) {
    const int n = GetParam();
    const cv::Size out(640, 480);
    TilerRig rig(out.width, out.height, /*show_stats=*/false);
    std::vector<SsBatchFrame> frames;
    for (int i = 0; i < n; ++i) frames.push_back(live_entry(i, solid_frame(shapes[i % 4], palette[i])));
    const cv::Mat img = rig.render(make_batch(std::move(frames)));
    ASSERT_EQ(img.size(), out);

    const int tolerance = 16;  // 4:2:0 round trip of saturated colours
    for (int i = 0; i < n; ++i) {
        SCOPED_TRACE("n=" + std::to_string(n) + " source " + std::to_string(i));
        const cv::Rect cell = expected_cell(i, n, out);
        const cv::Rect pic = expected_picture(shapes[i % 4], cell);
        const cv::Point centre(cell.x + cell.width / 2, cell.y + cell.height / 2);
        EXPECT_TRUE(colour_near(img, centre, palette[i], tolerance));
        // Just inside the fitted picture's corners: the picture really spans that rectangle.
        const int in = 4;
        for (cv::Point p : {cv::Point(pic.x + in, pic.y + in), cv::Point(pic.br().x - 1 - in, pic.y + in),
                            cv::Point(pic.x + in, pic.br().y - 1 - in), cv::Point(pic.br().x - 1 - in, pic.br().y - 1 - in)}) {
            EXPECT_TRUE(colour_near(img, p, palette[i], tolerance)) << "picture corner";
        }
        // Letterbox bars, sampled a few pixels inside the cell edge, where they are wide enough.
        const int out_by = 4;
        if (pic.x - cell.x >= 10) {
            EXPECT_TRUE(is_dark(img.at<cv::Vec3b>(centre.y, cell.x + out_by))) << "left bar";
            EXPECT_TRUE(is_dark(img.at<cv::Vec3b>(centre.y, cell.br().x - 1 - out_by))) << "right bar";
        }
        if (pic.y - cell.y >= 10) {
            EXPECT_TRUE(is_dark(img.at<cv::Vec3b>(cell.y + out_by, centre.x))) << "top bar";
            EXPECT_TRUE(is_dark(img.at<cv::Vec3b>(cell.br().y - 1 - out_by, centre.x))) << "bottom bar";
        }
    }
    // Cells beyond n in the last row stay empty (dark).
    const int rows = static_cast<int>(std::floor(std::sqrt(double(n)))), cols = (n + rows - 1) / rows;
    for (int i = n; i < rows * cols; ++i) {
        const cv::Rect cell = expected_cell(i, rows * cols, out);
        EXPECT_TRUE(is_dark(img.at<cv::Vec3b>(cell.y + cell.height / 2, cell.x + cell.width / 2))) << "unused cell " << i;
    }
}

INSTANTIATE_TEST_SUITE_P(Tiler, TilerLayout, ::testing::Range(1, 17),
                         [](const ::testing::TestParamInfo<int>& info) { return "n" + std::to_string(info.param); });

// When a source goes away the cell it leaves empty is cleared, not left showing
// its last picture (the tiler reuses its canvas from frame to frame).
TEST(Tiler, CellLeftBySourceIsCleared) {
    const cv::Size out(600, 400);  // 5 or 6 sources: 2 rows of 3
    TilerRig rig(out.width, out.height, /*show_stats=*/false);
    std::vector<SsBatchFrame> six, five;
    for (guint i = 0; i < 6; ++i) six.push_back(live_entry(i, solid_frame({200, 200}, palette[i])));
    five.assign(six.begin(), six.begin() + 5);
    const cv::Point last_centre(500, 300);
    const cv::Mat before = rig.render(make_batch(std::move(six)));
    ASSERT_FALSE(before.empty());
    EXPECT_TRUE(colour_near(before, last_centre, palette[5], 16));
    const cv::Mat after = rig.render(make_batch(std::move(five)));
    ASSERT_FALSE(after.empty());
    EXPECT_TRUE(is_dark(after.at<cv::Vec3b>(last_centre))) << sstest::describe(after.at<cv::Vec3b>(last_centre));
    EXPECT_TRUE(colour_near(after, {300, 300}, palette[4], 16)) << "the other cells are unchanged";
}

// Output caps: I420 at the configured size, frame rate taken from the batch caps;
// buffers keep the batch timestamps.
TEST(Tiler, OutputCapsFromSettingsAndBatchRate) {
    TilerRig rig(320, 240, true, "15/2");
    GstBuffer* batch = make_batch({live_entry(0, solid_frame({64, 48}, palette[0]))}, 3 * GST_SECOND, 133 * GST_MSECOND);
    ASSERT_EQ(gst_harness_push(rig.harness(), batch), GST_FLOW_OK);
    GstBuffer* out = gst_harness_try_pull(rig.harness());
    ASSERT_TRUE(out);
    EXPECT_EQ(GST_BUFFER_PTS(out), 3 * GST_SECOND);
    EXPECT_EQ(GST_BUFFER_DURATION(out), 133 * GST_MSECOND);

    GstCaps* caps = gst_pad_get_current_caps(rig.harness()->sinkpad);
    ASSERT_TRUE(caps);
    GstVideoInfo info;
    ASSERT_TRUE(gst_video_info_from_caps(&info, caps));
    EXPECT_EQ(GST_VIDEO_INFO_FORMAT(&info), GST_VIDEO_FORMAT_I420);
    EXPECT_EQ(GST_VIDEO_INFO_WIDTH(&info), 320);
    EXPECT_EQ(GST_VIDEO_INFO_HEIGHT(&info), 240);
    EXPECT_EQ(GST_VIDEO_INFO_FPS_N(&info), 15);
    EXPECT_EQ(GST_VIDEO_INFO_FPS_D(&info), 2);
    EXPECT_GE(gst_buffer_get_size(out), GST_VIDEO_INFO_SIZE(&info));
    gst_caps_unref(caps);
    gst_buffer_unref(out);
}

// A box in the metadata is drawn, in its group's colour, where the metadata
// says once scaled and offset into the tile — and nowhere else.
TEST(Tiler, DetectionBoxDrawnWhereMetadataSays) {
    const cv::Size out(1280, 960);  // 2x2 grid of 640x480 cells
    TilerRig rig(out.width, out.height, /*show_stats=*/false);
    const cv::Vec3b background(90, 30, 30);  // dark: far from the box colour in brightness
    const cv::Vec3b box_colour = sstest::vec(ss::group_colour(0));

    std::vector<SsBatchFrame> frames;
    for (guint i = 0; i < 3; ++i) frames.push_back(live_entry(i, solid_frame({320, 240}, background)));
    // Source 3 is 16:9 in a 4:3 cell: scaled by 2 and shifted down by the 60-pixel top bar.
    frames.push_back(live_entry(3, solid_frame({320, 180}, background)));
    ss::Detection d;
    d.class_id = 0;
    d.group = 0;
    d.confidence = 0.9f;
    d.box = {40, 50, 100, 60};
    frames[3].objects.push_back(d);
    frames[3].detected = true;

    cv::Mat luma;
    const cv::Mat img = rig.render(make_batch(std::move(frames)), &luma);
    ASSERT_EQ(img.size(), out);

    // Box-coloured: the box colour's brightness, red well above blue. Brightness is
    // exact in I420; the hue test survives chroma shared with a neighbouring pixel.
    cv::Mat one(2, 2, CV_8UC3, cv::Scalar(box_colour[0], box_colour[1], box_colour[2])), yuv;
    cv::cvtColor(one, yuv, cv::COLOR_BGR2YUV_I420);
    const int box_luma = yuv.at<std::uint8_t>(0, 0);
    auto box_coloured = [&](int x, int y) {
        const cv::Vec3b c = img.at<cv::Vec3b>(y, x);
        return std::abs(int(luma.at<std::uint8_t>(y, x)) - box_luma) <= 20 && int(c[2]) - int(c[0]) >= 40;
    };
    ASSERT_FALSE(box_coloured(10, 10)) << "the background must not pass for the box";

    // Expected outline in output pixels: cell (640,480), picture offset (0,60), scale 2.
    const cv::Rect tile(640, 480, 640, 480);
    const int left = 640 + 2 * 40, top = 480 + 60 + 2 * 50, right = 640 + 2 * 140, bottom = 480 + 60 + 2 * 110;
    auto on_edge = [&](int x, int y, bool vertical) {
        for (int o = -2; o <= 2; ++o) {
            if (vertical ? box_coloured(x + o, y) : box_coloured(x, y + o)) return true;
        }
        return false;
    };
    const int mid_y = (top + bottom) / 2;
    EXPECT_TRUE(on_edge(left, mid_y, true)) << "left edge";
    EXPECT_TRUE(on_edge(right, mid_y, true)) << "right edge";
    EXPECT_TRUE(on_edge(right - 10, top, false)) << "top edge (right end: the label sits at the left)";
    EXPECT_TRUE(on_edge((left + right) / 2, bottom, false)) << "bottom edge";

    // Nowhere else in the tile: outside a 3-pixel band around the outline, box
    // colour is only allowed in the label, which sits on the box's top-left corner.
    const int band = 3;
    const cv::Rect outer(left - band, top - band, right - left + 2 * band + 1, bottom - top + 2 * band + 1);
    const cv::Rect inner(left + band, top + band, right - left - 2 * band + 1, bottom - top - 2 * band + 1);
    const cv::Rect label(left - band, top - 40, 250, 40 + band);
    int stray = 0;
    cv::Point first_stray(-1, -1);
    for (int y = 0; y < out.height; ++y) {
        for (int x = 0; x < out.width; ++x) {
            const cv::Point p(x, y);
            const bool allowed = tile.contains(p) && ((outer.contains(p) && !inner.contains(p)) || label.contains(p));
            if (!allowed && box_coloured(x, y)) {
                if (stray++ == 0) first_stray = p;
            }
        }
    }
    EXPECT_EQ(stray, 0) << "box colour outside the box, first at (" << first_stray.x << "," << first_stray.y << ")";
    // The box is an outline: its inside still shows the picture.
    EXPECT_TRUE(colour_near(img, {(left + right) / 2, mid_y}, background, 16));
}

// A no-signal source is shown greyed with its notice and without boxes; a
// source still waiting for its first frame gets an empty (dark) tile.
TEST(Tiler, NoSignalTileIsGreyed) {
    const cv::Size out(960, 320);  // 3 sources: one row of three 320x320 cells
    TilerRig rig(out.width, out.height, /*show_stats=*/false);
    const cv::Vec3b red(30, 40, 210);

    std::vector<SsBatchFrame> frames;
    frames.push_back(live_entry(0, solid_frame({320, 320}, red)));
    SsBatchFrame lost = live_entry(1, solid_frame({320, 320}, red));
    lost.state = SourceState::no_signal;
    lost.fresh = false;
    lost.since_last_frame = 5 * GST_SECOND;
    ss::Detection d;
    d.group = 0;
    d.confidence = 0.8f;
    d.box = {40, 40, 200, 200};
    lost.objects.push_back(d);
    frames.push_back(lost);
    SsBatchFrame waiting;
    waiting.source_id = 2;
    waiting.state = SourceState::waiting;
    frames.push_back(waiting);

    const cv::Mat img = rig.render(make_batch(std::move(frames)));
    ASSERT_EQ(img.size(), out);

    // Expected grey: half the picture's brightness plus 20, as the tile display dims it.
    cv::Mat px(1, 1, CV_8UC3, cv::Scalar(red[0], red[1], red[2])), grey;
    cv::cvtColor(px, grey, cv::COLOR_BGR2GRAY);
    const int level = static_cast<int>(std::lround(grey.at<std::uint8_t>(0, 0) * 0.5 + 20));
    const cv::Vec3b dimmed(level, level, level);

    // Away from the centred notice: a quarter into each tile.
    for (cv::Point at : {cv::Point(80, 80), cv::Point(240, 250)}) {
        EXPECT_TRUE(colour_near(img, at, red, 16)) << "live tile keeps its colour";
        EXPECT_TRUE(colour_near(img, at + cv::Point(320, 0), dimmed, 10)) << "no-signal tile is grey";
    }
    const cv::Mat lost_tile = img(cv::Rect(320, 0, 320, 320));
    int bright = 0, saturated = 0;
    for (int y = 0; y < lost_tile.rows; ++y) {
        for (int x = 0; x < lost_tile.cols; ++x) {
            const cv::Vec3b c = lost_tile.at<cv::Vec3b>(y, x);
            if (c[0] > 200 && c[1] > 200 && c[2] > 200) ++bright;
            if (std::max({c[0], c[1], c[2]}) - std::min({c[0], c[1], c[2]}) > 40) ++saturated;
        }
    }
    EXPECT_GT(bright, 100) << "the NO SIGNAL notice is drawn";
    EXPECT_EQ(saturated, 0) << "nothing coloured on a no-signal tile: no boxes, no colour";

    const cv::Mat waiting_tile = img(cv::Rect(640, 0, 320, 320));
    double min_v = 0, max_v = 0;
    cv::minMaxLoc(waiting_tile.reshape(1), &min_v, &max_v);
    EXPECT_LE(max_v, letterbox_max) << "a waiting source shows an empty tile";
}

// With show-stats the top of each tile carries a darkened bar with light text;
// the picture below it is untouched.
TEST(Tiler, StatsBarOnTopOfEachTile) {
    const cv::Size out(640, 240);  // 2 sources side by side, 320x240 cells
    TilerRig rig(out.width, out.height, /*show_stats=*/true);
    const cv::Vec3b light(200, 200, 200);
    std::vector<SsBatchFrame> frames;
    for (guint i = 0; i < 2; ++i) frames.push_back(live_entry(i, solid_frame({320, 240}, light, 7)));
    const cv::Mat img = rig.render(make_batch(std::move(frames)));
    ASSERT_EQ(img.size(), out);
    for (int i = 0; i < 2; ++i) {
        const int x0 = 320 * i;
        EXPECT_TRUE(colour_near(img, {x0 + 316, 1}, {50, 50, 50}, 12)) << "bar darkens the picture to a quarter";
        EXPECT_TRUE(colour_near(img, {x0 + 160, 160}, light, 8)) << "picture below the bar";
        int text = 0;
        for (int y = 0; y < 20; ++y) {
            for (int x = x0; x < x0 + 200; ++x) text += img.at<cv::Vec3b>(y, x)[1] > 150;
        }
        EXPECT_GT(text, 20) << "text in the bar of tile " << i;
    }
}
