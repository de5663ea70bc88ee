// The CPU reference of the NV12 scaler and the argument checks both sides use.
#include <string>

#include "frame_checks.hpp"
#include "scale_math.hpp"
#include "slipstream/cuda/nv12_scaler.hpp"

namespace ss::cuda {
namespace detail {
namespace {

void check_frame(const std::string& who, const char* role, const Nv12Frame& f) {
    const std::string what = who + ": " + role;
    if (f.y == nullptr) throw Error(what + " Y plane pointer is null");
    if (f.uv == nullptr) throw Error(what + " UV plane pointer is null");
    const std::string size = std::to_string(f.width) + "x" + std::to_string(f.height);
    if (f.width <= 0 || f.height <= 0) throw Error(what + " size " + size + " is not positive");
    if (f.width % 2 != 0 || f.height % 2 != 0)
        throw Error(what + " size " + size + " is odd (NV12 needs even width and height)");
    if (f.width > kMaxSide || f.height > kMaxSide)
        throw Error(what + " size " + size + " is larger than " + std::to_string(kMaxSide) +
                    " on a side");
    const auto width = static_cast<std::size_t>(f.width);
    if (f.y_pitch < width)
        throw Error(what + " Y pitch " + std::to_string(f.y_pitch) + " is smaller than the width " +
                    std::to_string(f.width));
    if (f.uv_pitch < width)
        throw Error(what + " UV pitch " + std::to_string(f.uv_pitch) +
                    " is smaller than the width " + std::to_string(f.width));
}

template <int C>
void scale_plane(const std::uint8_t* source, std::size_t source_pitch, int source_width,
                 int source_height, std::uint8_t* destination, std::size_t destination_pitch,
                 int width, int height) {
    const Axis ax = make_axis(source_width, width);
    const Axis ay = make_axis(source_height, height);
    for (int y = 0; y < height; ++y) {
        std::uint8_t* row = destination + static_cast<std::size_t>(y) * destination_pitch;
        for (int x = 0; x < width; ++x)
            scale_pixel<C>(source, source_pitch, ax, ay, x, y, row + static_cast<std::size_t>(x) * C);
    }
}

}  // namespace

void check_frames(const char* who, const Nv12Frame& source, const Nv12Frame& destination) {
    check_frame(who, "source", source);
    check_frame(who, "destination", destination);
}

}  // namespace detail

void scale_nv12_reference(const Nv12Frame& src, const Nv12Frame& dst) {
    detail::check_frames("scale_nv12_reference", src, dst);
    detail::scale_plane<1>(src.y, src.y_pitch, src.width, src.height, dst.y, dst.y_pitch,
                           dst.width, dst.height);
    // UV: half the width and height in pairs, each pair two bytes.
    detail::scale_plane<2>(src.uv, src.uv_pitch, src.width / 2, src.height / 2, dst.uv,
                           dst.uv_pitch, dst.width / 2, dst.height / 2);
}

}  // namespace ss::cuda
