#pragma once
// Where the inputs decode: on an NVIDIA GPU (NVDEC, frames scaled there by
// sscudascale, only small ones copied down) or on the CPU. Chosen once at
// start from --gpu / GPU_ID / the config's gpu-id and what this machine has.
#include <gst/gst.h>

#include <optional>
#include <string>

#include "options.hpp"
#include "slipstream/config.hpp"

namespace slipstream {

struct DecodePath {
    bool gpu = false;
    int device = 0;
    std::string h264_decoder, h265_decoder;  // NVDEC elements of that GPU (nvh264dec, nvh264device1dec, ...)
    std::string summary;                     // the one line that says which path runs and why
    int frame_width = 0, frame_height = 0;   // GPU frames are fitted into this box (ssbatchmux's) before they come down
    // The detector's copy that stays on the GPU (sscudascale's detect-*): the
    // network's input size, fitted inside keeping the aspect when the model
    // letterboxes. 0: no copy (the backend pre-processes CPU pictures).
    int detect_width = 0, detect_height = 0;
    bool detect_keep_aspect = false;

    // The GPU decoder for these (parser) caps, or empty: the CPU decodes them.
    std::string gpu_decoder_for(const GstCaps* caps) const;
};

struct DecodePathChoice {
    DecodePath path;
    std::string error;  // --gpu N asked for a GPU that cannot be used: one line, the app exits
};

// Needs GStreamer initialised and slipstream's elements registered.
DecodePathChoice choose_decode_path(const GpuChoice& choice, std::optional<int> config_gpu_id);

// Whether the detector's backend reads frames in GPU memory, so the GPU path
// keeps a copy of each frame there at the network's size: backend=cuda.
// Decided from the backend's name, so that the app need not load the backend
// module to ask accepts_device_frames(); the app sets backend=cuda for the GPU
// path first when the config names none.
bool wants_device_frames(const ss::InferConfig& config);

// Sets the detector's GPU copy from the config (GPU path and wants_device_frames only).
void set_device_frames(DecodePath& path, const ss::InferConfig& config);

// Whether a decoder factory is one of NVIDIA's (nvcodec's), which the CPU
// path must not pick by rank (avdec_h264 and nvh264dec share PRIMARY).
bool is_gpu_decoder(GstElementFactory* factory);

}  // namespace slipstream
