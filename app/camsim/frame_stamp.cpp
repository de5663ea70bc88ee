#include "frame_stamp.hpp"

#include <algorithm>
#include <bitset>
#include <cstring>

namespace ss::camsim {
namespace {

constexpr uint8_t kLumaWhite = 235;
constexpr uint8_t kLumaBlack = 16;
constexpr uint8_t kChromaNeutral = 128;

bool cell_is_white(int cell, uint32_t counter) {
    if (cell < 4) return cell % 2 == 0;  // start marker 1010
    if (cell < 4 + kStampCounterBits) {
        int bit = kStampCounterBits - 1 - (cell - 4);
        return (counter >> bit) & 1u;
    }
    return std::bitset<32>(counter).count() % 2 == 1;  // parity cell
}

void fill_rect(GstVideoFrame& frame, int plane, int x, int y, int width, int height, uint8_t value) {
    auto* pixels = static_cast<uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&frame, plane));
    int stride = GST_VIDEO_FRAME_PLANE_STRIDE(&frame, plane);
    for (int row = y; row < y + height; ++row) std::memset(pixels + row * stride + x, value, width);
}

}  // namespace

int stamp_cell_size(int frame_width) { return std::max(8, 2 * (frame_width / 128)); }

void paint_frame_stamp(GstVideoFrame& frame, uint32_t counter, StampPlacement placement) {
    counter &= kStampCounterMask;
    int cell = placement.cell > 0 ? placement.cell : stamp_cell_size(GST_VIDEO_FRAME_WIDTH(&frame));
    // Bottom: the last cell-high band, started on an even row so chroma rows line up.
    int top = placement.bottom ? (GST_VIDEO_FRAME_HEIGHT(&frame) - cell) & ~1 : 0;
    for (int k = 0; k < kStampCells; ++k) {
        fill_rect(frame, 0, k * cell, top, cell, cell, cell_is_white(k, counter) ? kLumaWhite : kLumaBlack);
    }
    // Cell sizes are even, so the strip covers whole 2x2 chroma samples.
    int chroma_width = kStampCells * cell / 2;
    fill_rect(frame, 1, 0, top / 2, chroma_width, cell / 2, kChromaNeutral);
    fill_rect(frame, 2, 0, top / 2, chroma_width, cell / 2, kChromaNeutral);
}

}  // namespace ss::camsim
