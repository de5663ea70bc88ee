#pragma once
// Frame counter painted into every frame by `slipstream-camsim --stamp`, so a
// receiver can tell which sent frame it is looking at (glass-to-glass latency).
//
// The stamp is 29 square B x B cells, each white or black:
//     cells 0..3   start marker: white, black, white, black
//     cells 4..27  the 24-bit counter, most significant bit first
//     cell  28     parity: white if the counter has an odd number of 1 bits
//                  (so the 24 data cells + parity hold an even number of whites)
//   white = 1 = luma 235, black = 0 = luma 16 (video range), chroma neutral.
//
// Two shapes (--stamp-shape), for a frame W x H pixels:
//   row    (default) one row of 29 cells, left to right, starting at pixel
//          (0, 0), or at (0, T) with --stamp-position bottom, T = (H - B)
//          rounded down to even.
//          B = max(8, 2 * floor(W / 128)) (1920 -> 30, 768 -> 12, 640 -> 10)
//   block  8 columns x 4 rows of cells, row by row, left to right (cell k at
//          column k % 8, row k / 8); cells 29..31 are black padding. The block
//          starts at pixel (0, 0), or at (0, T) with --stamp-position bottom,
//          T = (H - 4B) rounded down to even.
//          B = max(8, 2 * floor(W / 40)) (1920 -> 96, 1280 -> 64, 640 -> 32)
//          Large cells in a compact corner: a 1080p camera shown as a 107 x 60
//          tile (a 10 x 10 grid in 1200 x 600) keeps cells of 5 pixels, and
//          4 rows stay under the statistics bar slipstream draws over the top
//          of such a tile. The price is the corner it covers (768 x 384 of a
//          1920 x 1080 frame).
//   --stamp-cell gives B (even) for either shape.
// To decode: sample the luma at the centre of each cell (cell k of the row at
// x = (k + 0.5) * B, y = B / 2 or T + B / 2; cell k of the block at
// x = (k % 8 + 0.5) * B, y = (k / 8 + 0.5) * B, or T + that), threshold
// halfway between the marker's white and black, check the marker and parity.
// If the frame was rescaled, B and T scale with it.
//
// The counter is the frame's index in the encoded loop, modulo 2^24. It starts
// again at 0 each time the file loops (the send log has the same numbers), so
// match a received frame to the most recent send-log line with its counter.
#include <cstdint>

#include <gst/video/video-frame.h>

namespace ss::camsim {

constexpr int kStampCounterBits = 24;
constexpr int kStampCells = 4 + kStampCounterBits + 1;
constexpr uint32_t kStampCounterMask = (1u << kStampCounterBits) - 1;
constexpr int kStampBlockColumns = 8;
constexpr int kStampBlockRows = 4;
static_assert(kStampBlockColumns * kStampBlockRows >= kStampCells);

enum class StampShape { row, block };

// The default cell size of each shape for a frame this wide.
int stamp_cell_size(int frame_width);
int stamp_block_cell_size(int frame_width);

// Smallest frame width that holds the whole strip of default-sized cells.
constexpr int kStampMinWidth = kStampCells * 8;

// Where the stamp goes and how it looks. A larger cell, the block shape or the
// bottom edge keep the counter readable after a receiver shrinks the picture
// or draws over its top rows (slipstream's tiles carry a statistics bar there).
struct StampPlacement {
    int cell = 0;         // cell size in pixels, even; 0: the shape's default for the width
    bool bottom = false;  // along the bottom edge instead of the top
    StampShape shape = StampShape::row;
};

// The cell size in force for a frame this wide.
int stamp_cell(const StampPlacement& placement, int frame_width);
// The painted area, in pixels: cells across times cell size, cells down times cell size.
int stamp_width(const StampPlacement& placement, int frame_width);
int stamp_height(const StampPlacement& placement, int frame_width);

// Paints the stamp into an I420 frame mapped for writing; the frame must hold
// stamp_width x stamp_height pixels.
void paint_frame_stamp(GstVideoFrame& frame, uint32_t counter, StampPlacement placement = {});

}  // namespace ss::camsim
