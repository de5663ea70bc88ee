#pragma once
// Decodes a GFL head's outputs (NanoDet) where they are, on the GPU: per
// anchor, the best class score against a threshold, and for the anchors that
// pass, each side's distance as the expectation of a softmax over its bins.
// Only those anchors come back: a few KB per batch instead of the outputs'
// megabytes. The arithmetic is core's nanodet parser's
// (core/src/parsers/nanodet.cpp); candidates carry (level, anchor) so the
// caller can put them in that parser's order.
#include <cuda_runtime_api.h>

#include <cstddef>

namespace ss::cuda {

// One stride of the head, for every image of the batch. Tensors are f32 row
// major in device memory: scores [images][anchors][classes], boxes
// [images][anchors][4 * bins] (left, top, right, bottom).
struct GflLevel {
    const float* scores = nullptr;
    const float* boxes = nullptr;
    int anchors = 0, bins = 0, stride = 0, grid_width = 0;
};

// A decoded anchor. Corners in network-input pixels.
struct GflCandidate {
    int image, level, anchor, class_id;
    float confidence, x1, y1, x2, y2;
};

// Appends every anchor of `images` images whose best score is >= threshold
// (NaN never is) to `out` (device memory for `capacity` entries, in no
// particular order) and counts them in *count (device memory; the caller
// zeroes it first). Past `capacity` entries are counted but not written. No
// allocation and no synchronisation: the launches go on `stream`.
void decode_gfl(const GflLevel* levels, int level_count, int images, int classes, float threshold,
                GflCandidate* out, unsigned* count, std::size_t capacity, cudaStream_t stream);

}  // namespace ss::cuda
