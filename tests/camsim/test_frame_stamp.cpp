// The frame stamp's layout (app/camsim/frame_stamp.hpp), read back from a
// painted I420 frame the way a receiver would: luma at each cell's centre.
// Both shapes, both edges, the default and a given cell size, and the
// options that choose them.
#include <gst/gst.h>
#include <gst/video/video.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "frame_stamp.hpp"
#include "options.hpp"

namespace ss::camsim {
namespace {

// A mid-grey I420 frame, mapped for writing for the test's life.
class Frame {
  public:
    Frame(int width, int height) {
        gst_video_info_set_format(&info_, GST_VIDEO_FORMAT_I420, width, height);
        buffer_ = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&info_), nullptr);
        gst_buffer_memset(buffer_, 0, 128, GST_VIDEO_INFO_SIZE(&info_));
        EXPECT_TRUE(gst_video_frame_map(&frame_, &info_, buffer_, GST_MAP_READWRITE));
    }
    ~Frame() {
        gst_video_frame_unmap(&frame_);
        gst_buffer_unref(buffer_);
    }
    GstVideoFrame& frame() { return frame_; }
    int luma(int x, int y) const {
        const auto* pixels = static_cast<const uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&frame_, 0));
        return pixels[y * GST_VIDEO_FRAME_PLANE_STRIDE(&frame_, 0) + x];
    }
    int chroma(int plane, int x, int y) const {
        const auto* pixels = static_cast<const uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&frame_, plane));
        return pixels[(y / 2) * GST_VIDEO_FRAME_PLANE_STRIDE(&frame_, plane) + x / 2];
    }

  private:
    GstVideoInfo info_{};
    GstBuffer* buffer_ = nullptr;
    GstVideoFrame frame_{};
};

struct Layout {
    int cell, columns, rows, top;
};

// Where the header says the cells are.
Layout layout_of(StampShape shape, int cell, bool bottom, int width, int height) {
    Layout l{};
    l.cell = cell > 0 ? cell : shape == StampShape::block ? std::max(8, 2 * (width / 40)) : std::max(8, 2 * (width / 128));
    l.columns = shape == StampShape::block ? 8 : 29;
    l.rows = shape == StampShape::block ? 4 : 1;
    l.top = bottom ? (height - l.rows * l.cell) & ~1 : 0;
    return l;
}

// Decodes as the header describes; nullopt when the marker or parity is wrong.
std::optional<uint32_t> read_stamp(const Frame& frame, const Layout& l) {
    std::vector<int> bits;
    for (int k = 0; k < kStampCells; ++k) {
        const int x = (k % l.columns) * l.cell + l.cell / 2;
        const int y = l.top + (k / l.columns) * l.cell + l.cell / 2;
        bits.push_back(frame.luma(x, y) >= 128 ? 1 : 0);
    }
    if (bits[0] != 1 || bits[1] != 0 || bits[2] != 1 || bits[3] != 0) return std::nullopt;
    int ones = 0;
    uint32_t counter = 0;
    for (int k = 4; k < kStampCells; ++k) ones += bits[k];
    if (ones % 2) return std::nullopt;
    for (int k = 4; k < 4 + kStampCounterBits; ++k) counter = counter * 2 + bits[k];
    return counter;
}

struct Case {
    StampShape shape;
    int cell;
    bool bottom;
    int width, height;
};

std::string name_of(const Case& c) {
    return std::string(c.shape == StampShape::block ? "block" : "row") + (c.bottom ? "_bottom_" : "_top_") +
           (c.cell ? "cell" + std::to_string(c.cell) + "_" : "") + std::to_string(c.width) + "x" +
           std::to_string(c.height);
}

void PrintTo(const Case& c, std::ostream* out) { *out << name_of(c); }

class StampLayout : public ::testing::TestWithParam<Case> {};

TEST_P(StampLayout, CountersReadBackFromTheDocumentedCells) {
    const Case c = GetParam();
    const Layout l = layout_of(c.shape, c.cell, c.bottom, c.width, c.height);
    const StampPlacement placement{c.cell, c.bottom, c.shape};
    EXPECT_EQ(stamp_cell(placement, c.width), l.cell);
    EXPECT_EQ(stamp_width(placement, c.width), l.columns * l.cell);
    EXPECT_EQ(stamp_height(placement, c.width), l.rows * l.cell);
    for (uint32_t counter : {0u, 1u, 0x5a5a5au, 12345u, kStampCounterMask, kStampCounterMask + 7u}) {
        Frame frame(c.width, c.height);
        paint_frame_stamp(frame.frame(), counter, placement);
        const auto read = read_stamp(frame, l);
        ASSERT_TRUE(read.has_value()) << "counter " << counter;
        EXPECT_EQ(*read, counter & kStampCounterMask);
        // Every cell is a flat square of pure white or black, up to its edges.
        for (int k = 0; k < l.columns * l.rows; ++k) {
            const int x0 = (k % l.columns) * l.cell, y0 = l.top + (k / l.columns) * l.cell;
            const int value = frame.luma(x0 + l.cell / 2, y0 + l.cell / 2);
            EXPECT_TRUE(value == 235 || value == 16) << "cell " << k;
            EXPECT_EQ(frame.luma(x0, y0), value) << "cell " << k;
            EXPECT_EQ(frame.luma(x0 + l.cell - 1, y0 + l.cell - 1), value) << "cell " << k;
            if (k >= kStampCells) {
                EXPECT_EQ(value, 16) << "padding cell " << k << " is black";
            }
        }
        // Chroma neutral over the stamp; the picture around it untouched.
        EXPECT_EQ(frame.chroma(1, 0, l.top), 128);
        EXPECT_EQ(frame.chroma(2, l.columns * l.cell - 1, l.top + l.rows * l.cell - 1), 128);
        if (l.columns * l.cell < c.width) {
            EXPECT_EQ(frame.luma(l.columns * l.cell, l.top), 128);
        }
        const int outside_y = c.bottom ? l.top - 1 : l.rows * l.cell;
        EXPECT_EQ(frame.luma(0, outside_y), 128);
    }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, StampLayout,
    ::testing::Values(Case{StampShape::row, 0, false, 768, 576}, Case{StampShape::row, 24, true, 768, 576},
                      Case{StampShape::block, 0, false, 1920, 1080}, Case{StampShape::block, 0, true, 1920, 1080},
                      Case{StampShape::block, 64, true, 1280, 720}, Case{StampShape::block, 0, true, 640, 361}),
    [](const ::testing::TestParamInfo<Case>& info) { return name_of(info.param); });

TEST(StampLayout, BlockDefaultCellIsLargeAndFitsOnTheBottomOf1080p) {
    EXPECT_EQ(stamp_block_cell_size(1920), 96);
    EXPECT_EQ(stamp_block_cell_size(1280), 64);
    EXPECT_EQ(stamp_block_cell_size(640), 32);
    EXPECT_EQ(stamp_block_cell_size(100), 8);
    const StampPlacement block{0, true, StampShape::block};
    EXPECT_EQ(stamp_width(block, 1920), 768);
    EXPECT_EQ(stamp_height(block, 1920), 384);
    // Shrunk to a 107 x 60 tile (a 10 x 10 grid in 1200 x 600), a cell keeps 5 pixels.
    EXPECT_GE(96 * 60 / 1080.0, 5.0);
}

std::vector<char*> argv_of(std::vector<std::string>& args) {
    std::vector<char*> out;
    for (auto& a : args) out.push_back(a.data());
    return out;
}

TEST(StampOptions, ShapeIsParsedAndImpliesStamp) {
    std::vector<std::string> args{"camsim", "--stamp-shape", "block", "video.mp4"};
    auto argv = argv_of(args);
    Options o = parse_options(static_cast<int>(argv.size()), argv.data());
    EXPECT_TRUE(o.stamp);
    EXPECT_EQ(o.stamp_shape, StampShape::block);

    std::vector<std::string> row{"camsim", "--stamp-shape=row", "video.mp4"};
    auto row_argv = argv_of(row);
    o = parse_options(static_cast<int>(row_argv.size()), row_argv.data());
    EXPECT_TRUE(o.stamp);
    EXPECT_EQ(o.stamp_shape, StampShape::row);

    std::vector<std::string> plain{"camsim", "--stamp", "video.mp4"};
    auto plain_argv = argv_of(plain);
    EXPECT_EQ(parse_options(static_cast<int>(plain_argv.size()), plain_argv.data()).stamp_shape, StampShape::row);

    std::vector<std::string> bad{"camsim", "--stamp-shape", "square", "video.mp4"};
    auto bad_argv = argv_of(bad);
    try {
        parse_options(static_cast<int>(bad_argv.size()), bad_argv.data());
        FAIL() << "--stamp-shape square was accepted";
    } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find("--stamp-shape"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace ss::camsim

int main(int argc, char** argv) {
    gst_init(&argc, &argv);
    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
