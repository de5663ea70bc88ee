#pragma once
// Host NV12 pictures for the CUDA library's tests: pitched planes whose bytes
// past the width hold a known filler, so a test can see that they are neither
// read into a result nor written.
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include "slipstream/cuda/nv12_scaler.hpp"

namespace ss::cuda::test {

struct HostNv12 {
    int width = 0;
    int height = 0;
    std::size_t y_pitch = 0;
    std::size_t uv_pitch = 0;
    std::vector<std::uint8_t> y, uv;

    // `padding` bytes past the width on every row, all set to `filler`.
    HostNv12(int w, int h, std::size_t padding = 0, std::uint8_t filler = 0)
        : width(w), height(h), y_pitch(static_cast<std::size_t>(w) + padding),
          uv_pitch(static_cast<std::size_t>(w) + padding),
          y(y_pitch * static_cast<std::size_t>(h), filler),
          uv(uv_pitch * static_cast<std::size_t>(h / 2), filler) {}

    Nv12Frame frame() {
        Nv12Frame f;
        f.y = y.data();
        f.uv = uv.data();
        f.width = width;
        f.height = height;
        f.y_pitch = y_pitch;
        f.uv_pitch = uv_pitch;
        return f;
    }

    std::uint8_t& luma(int x, int yy) { return y[static_cast<std::size_t>(yy) * y_pitch + x]; }
    // Channel c (0 = U, 1 = V) of chroma pair (x, yy), at half resolution.
    std::uint8_t& chroma(int x, int yy, int c) {
        return uv[static_cast<std::size_t>(yy) * uv_pitch + 2 * static_cast<std::size_t>(x) + c];
    }

    // Sets only the picture, not the padding.
    template <class Luma, class Chroma>
    void fill(Luma luma_of, Chroma chroma_of) {
        for (int yy = 0; yy < height; ++yy)
            for (int x = 0; x < width; ++x) luma(x, yy) = luma_of(x, yy);
        for (int yy = 0; yy < height / 2; ++yy)
            for (int x = 0; x < width / 2; ++x)
                for (int c = 0; c < 2; ++c) chroma(x, yy, c) = chroma_of(x, yy, c);
    }

    void fill_random(unsigned seed) {
        std::mt19937 rng(seed);
        std::uniform_int_distribution<int> byte(0, 255);
        fill([&](int, int) { return static_cast<std::uint8_t>(byte(rng)); },
             [&](int, int, int) { return static_cast<std::uint8_t>(byte(rng)); });
    }

    // True when every padding byte still holds `filler`.
    bool padding_is(std::uint8_t filler) const {
        const auto w = static_cast<std::size_t>(width);
        for (std::size_t r = 0; r < y.size() / y_pitch; ++r)
            for (std::size_t i = w; i < y_pitch; ++i)
                if (y[r * y_pitch + i] != filler) return false;
        for (std::size_t r = 0; r < uv.size() / uv_pitch; ++r)
            for (std::size_t i = w; i < uv_pitch; ++i)
                if (uv[r * uv_pitch + i] != filler) return false;
        return true;
    }
};

// How many picture bytes (padding excluded) differ, Y and UV together.
inline std::size_t count_differences(const HostNv12& a, const HostNv12& b) {
    std::size_t n = 0;
    for (int r = 0; r < a.height; ++r)
        for (int x = 0; x < a.width; ++x)
            n += a.y[r * a.y_pitch + x] != b.y[r * b.y_pitch + x];
    for (int r = 0; r < a.height / 2; ++r)
        for (int x = 0; x < a.width; ++x)
            n += a.uv[r * a.uv_pitch + x] != b.uv[r * b.uv_pitch + x];
    return n;
}

}  // namespace ss::cuda::test
