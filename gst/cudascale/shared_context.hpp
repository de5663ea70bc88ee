#pragma once
// One CUDA context for a whole pipeline: every NVIDIA decoder (and so every
// sscudascale after it) works in it, instead of one context per camera, each
// with its own device memory and scheduling.
#include <gst/gst.h>

#include <string>

namespace ssgst {

// Makes the context for GPU `device` and sets it on `pipeline`; elements
// added later (inputs added at run time too) get it from their bin. Returns
// an empty string, or why it failed (the decoders then make their own).
std::string share_cuda_context(GstElement* pipeline, int device);

}  // namespace ssgst
