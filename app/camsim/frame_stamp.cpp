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
    if (cell == kStampCells - 1) return std::bitset<32>(counter).count() % 2 == 1;  // parity cell
    return false;  // the block's padding
}

void fill_rect(GstVideoFrame& frame, int plane, int x, int y, int width, int height, uint8_t value) {
    auto* pixels = static_cast<uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&frame, plane));
    int stride = GST_VIDEO_FRAME_PLANE_STRIDE(&frame, plane);
    for (int row = y; row < y + height; ++row) std::memset(pixels + row * stride + x, value, width);
}

int columns(const StampPlacement& placement) {
    return placement.shape == StampShape::block ? kStampBlockColumns : kStampCells;
}

int rows(const StampPlacement& placement) { return placement.shape == StampShape::block ? kStampBlockRows : 1; }

}  // namespace

int stamp_cell_size(int frame_width) { return std::max(8, 2 * (frame_width / 128)); }

int stamp_block_cell_size(int frame_width) { return std::max(8, 2 * (frame_width / 40)); }

int stamp_cell(const StampPlacement& placement, int frame_width) {
    if (placement.cell > 0) return placement.cell;
    return placement.shape == StampShape::block ? stamp_block_cell_size(frame_width) : stamp_cell_size(frame_width);
}

int stamp_width(const StampPlacement& placement, int frame_width) {
    return columns(placement) * stamp_cell(placement, frame_width);
}

int stamp_height(const StampPlacement& placement, int frame_width) {
    return rows(placement) * stamp_cell(placement, frame_width);
}

void paint_frame_stamp(GstVideoFrame& frame, uint32_t counter, StampPlacement placement) {
    counter &= kStampCounterMask;
    const int frame_width = GST_VIDEO_FRAME_WIDTH(&frame);
    const int cell = stamp_cell(placement, frame_width);
    const int across = columns(placement);
    const int height = stamp_height(placement, frame_width);
    // Bottom: the last band the stamp needs, started on an even row so chroma rows line up.
    const int top = placement.bottom ? (GST_VIDEO_FRAME_HEIGHT(&frame) - height) & ~1 : 0;
    for (int k = 0; k < across * rows(placement); ++k) {
        fill_rect(frame, 0, (k % across) * cell, top + (k / across) * cell, cell, cell,
                  cell_is_white(k, counter) ? kLumaWhite : kLumaBlack);
    }
    // Cell sizes are even, so the stamp covers whole 2x2 chroma samples.
    const int chroma_width = across * cell / 2;
    fill_rect(frame, 1, 0, top / 2, chroma_width, height / 2, kChromaNeutral);
    fill_rect(frame, 2, 0, top / 2, chroma_width, height / 2, kChromaNeutral);
}

}  // namespace ss::camsim
