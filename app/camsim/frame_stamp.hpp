#pragma once
// Frame counter painted into every frame by `slipstream-camsim --stamp`, so a
// receiver can tell which sent frame it is looking at (glass-to-glass latency).
//
// Layout, for a frame W x H pixels:
//   cell size  B = max(8, 2 * floor(W / 128)) pixels (1920 -> 30, 768 -> 12, 640 -> 10),
//              or the even size given with --stamp-cell
//   one row of 29 square B x B cells starting at pixel (0, 0) -- or at (0, H - B)
//   with --stamp-position bottom -- left to right:
//     cells 0..3   start marker: white, black, white, black
//     cells 4..27  the 24-bit counter, most significant bit first
//     cell  28     parity: white if the counter has an odd number of 1 bits
//                  (so the 24 data cells + parity hold an even number of whites)
//   white = 1 = luma 235, black = 0 = luma 16 (video range), chroma neutral.
// To decode: sample the luma at the centre of each cell (x = (k + 0.5) * B,
// y = B / 2, or H - B / 2 at the bottom), threshold at 128, check the marker
// and parity. If the frame was
// rescaled, B scales with it; the marker's black/white edges give the new B.
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

// The default cell size for a frame this wide.
int stamp_cell_size(int frame_width);

// Smallest frame width that holds the whole strip of default-sized cells.
constexpr int kStampMinWidth = kStampCells * 8;

// Where the strip goes. A larger cell or the bottom edge keeps the counter
// readable after a receiver shrinks the picture or draws over its top rows
// (slipstream's tiles carry a statistics bar there).
struct StampPlacement {
    int cell = 0;         // cell size in pixels, even; 0: stamp_cell_size(width)
    bool bottom = false;  // along the bottom edge instead of the top
};

// Paints the strip into an I420 frame mapped for writing; the frame must be
// at least kStampCells cells wide and one cell high.
void paint_frame_stamp(GstVideoFrame& frame, uint32_t counter, StampPlacement placement = {});

}  // namespace ss::camsim
