#include "slipstream/cuda/box_decode.hpp"

#include <string>

#include "slipstream/cuda/nv12_scaler.hpp"  // ss::cuda::Error

namespace ss::cuda {
namespace {

constexpr int kThreads = 128;

// A thread per (image, anchor): most anchors stop after reading their scores.
__global__ void decode_gfl_kernel(GflLevel level, int level_index, int classes, float threshold, GflCandidate* out,
                                  unsigned* count, unsigned capacity) {
    const int anchor = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
    const int image = static_cast<int>(blockIdx.y);
    if (anchor >= level.anchors) return;
    const float* scores = level.scores + (static_cast<std::size_t>(image) * level.anchors + anchor) * classes;
    // The first of equal maxima, as std::max_element; a NaN first stays best and fails the threshold.
    int best = 0;
    for (int c = 1; c < classes; ++c) {
        if (scores[best] < scores[c]) best = c;
    }
    const float confidence = scores[best];
    if (!(confidence >= threshold)) return;

    const int bins = level.bins;
    const float* logits = level.boxes + (static_cast<std::size_t>(image) * level.anchors + anchor) * 4 * bins;
    float distance[4];
    for (int side = 0; side < 4; ++side) {
        const float* l = logits + side * bins;
        float top = l[0];
        for (int b = 1; b < bins; ++b) top = top < l[b] ? l[b] : top;
        float sum = 0.f, expectation = 0.f;
        for (int b = 0; b < bins; ++b) {
            const float e = expf(l[b] - top);
            sum += e;
            expectation += e * static_cast<float>(b);
        }
        distance[side] = expectation / sum * static_cast<float>(level.stride);
    }
    const float cx = (static_cast<float>(anchor % level.grid_width) + 0.5f) * static_cast<float>(level.stride);
    const float cy = (static_cast<float>(anchor / level.grid_width) + 0.5f) * static_cast<float>(level.stride);
    const unsigned slot = atomicAdd(count, 1u);
    if (slot >= capacity) return;
    out[slot] = {image, level_index, anchor, best, confidence, cx - distance[0], cy - distance[1],
                 cx + distance[2], cy + distance[3]};
}

}  // namespace

void decode_gfl(const GflLevel* levels, int level_count, int images, int classes, float threshold,
                GflCandidate* out, unsigned* count, std::size_t capacity, cudaStream_t stream) {
    if (images <= 0 || classes <= 0) return;
    const unsigned cap = capacity > 0xffffffffu ? 0xffffffffu : static_cast<unsigned>(capacity);
    for (int i = 0; i < level_count; ++i) {
        const GflLevel& level = levels[i];
        if (level.anchors <= 0 || level.bins <= 0) continue;
        const dim3 grid(static_cast<unsigned>((level.anchors + kThreads - 1) / kThreads), static_cast<unsigned>(images));
        decode_gfl_kernel<<<grid, kThreads, 0, stream>>>(level, i, classes, threshold, out, count, cap);
        if (const auto status = cudaGetLastError(); status != cudaSuccess) {
            throw Error(std::string("decoding boxes on the GPU: ") + cudaGetErrorString(status));
        }
    }
}

}  // namespace ss::cuda
