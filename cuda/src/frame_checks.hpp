#pragma once
// Argument checks shared by the GPU scaler and the CPU reference, so both
// reject the same frames with the same words.
#include "slipstream/cuda/nv12_scaler.hpp"

namespace ss::cuda::detail {

// Throws Error("<who>: <what is wrong>") unless both frames are usable NV12
// pictures: pointers set, sizes positive, even and at most kMaxSide, pitches
// at least the width.
void check_frames(const char* who, const Nv12Frame& source, const Nv12Frame& destination);

}  // namespace ss::cuda::detail
