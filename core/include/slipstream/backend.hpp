#pragma once
// Inference backends run a loaded model on an input tensor. The OpenCV DNN
// backend runs on any CPU; a GPU backend plugs in here by one registry line
// (core/src/backends/registry.cpp) and one file.
#include <array>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "slipstream/error.hpp"
#include "slipstream/log.hpp"
#include "slipstream/output_parser.hpp"

namespace ss {

struct InputTensor {
    const float* data = nullptr;
    std::vector<int> shape;  // e.g. {N, 3, H, W}
};

// Output tensors of the whole batch, in the order the model (or output-blob-names) lists them.
struct OutputTensor {
    std::string name;
    std::vector<int> shape;  // batch dimension first
    const float* data = nullptr;
    std::shared_ptr<const void> owner;  // keeps data alive without copying it
};

// A decoded picture in GPU memory, NV12, as the GPU path's decoder and scaler
// leave it: what a GPU backend pre-processes without a copy to the host.
struct DeviceFrame {
    const void* luma = nullptr;    // device pointers
    const void* chroma = nullptr;  // interleaved U,V at half resolution
    int luma_pitch = 0, chroma_pitch = 0;  // bytes
    int width = 0, height = 0;
    int device = 0;                // CUDA device ordinal
    std::shared_ptr<const void> owner;  // keeps the memory alive
};

// How a backend's model wants its input, for backends that pre-process
// themselves (forward_frames). Same meaning as the config keys of the same names.
struct InputSpec {
    int width = 0, height = 0, channels = 3;
    bool bgr = false, gray = false;  // model-color-format; rgb when both false
    float net_scale_factor = 1.f;
    std::array<float, 3> offsets{0, 0, 0};
    bool maintain_aspect_ratio = false, symmetric_padding = false;
};

// Settings of GPU backends (nvinfer's keys); CPU backends ignore them.
struct BackendOptions {
    int gpu_id = 0;
    bool fp16 = true;               // network-mode 2 (or 1 until INT8 exists); 0 = fp32
    std::size_t workspace_mb = 0;   // cap on convolution workspaces; 0 = the backend's default
    std::filesystem::path engine_cache;  // model-engine-file; empty = none
    int max_batch = 1;              // batch-size: the largest batch forward() will see
    // Prepare the batch sizes between 1 and max_batch too (a GPU backend builds
    // them in the background); false: only those two (a benchmark of one size).
    bool sizes_between = true;
    // Where the backend says things. A backend module has its own copy of
    // core's statics, so ss::log there would miss the sink the program set.
    LogSink log;
};

class InferenceBackend {
public:
    virtual ~InferenceBackend() = default;
    virtual void configure(const BackendOptions& /*options*/) {}
    // output_names: which outputs to return, in that order; empty = all, in model order.
    virtual void load(const std::filesystem::path& model, const std::vector<std::string>& output_names) = 0;
    virtual std::vector<OutputTensor> forward(const InputTensor& input) = 0;

    // GPU backends: pre-process NV12 frames already in GPU memory and run the
    // model on them as one batch; output tensors as forward()'s.
    virtual bool accepts_device_frames() const { return false; }
    virtual std::vector<OutputTensor> forward_frames(const std::vector<DeviceFrame>& /*frames*/, const InputSpec& /*spec*/) {
        throw ModelError("this inference backend cannot read frames in GPU memory");
    }
    // GPU backends that also run a parser's DeviceParsePlan where the outputs
    // are: per image, the candidates parse() would give, in its order.
    virtual bool parses_on_device() const { return false; }
    virtual std::vector<std::vector<Candidate>> forward_frames_parsed(const std::vector<DeviceFrame>& /*frames*/,
                                                                      const InputSpec& /*spec*/,
                                                                      const DeviceParsePlan& /*plan*/,
                                                                      const ParserContext& /*context*/) {
        throw ModelError("this inference backend cannot parse outputs on its device");
    }
};

// The symbol a backend module exports (the cuda backend is one: a shared object
// loaded on first use, so the binary starts where CUDA and cuDNN are missing).
extern "C" {
using CreateBackendFn = InferenceBackend* (*)();
}
inline constexpr const char* create_backend_symbol = "slipstream_create_backend";

std::unique_ptr<InferenceBackend> make_inference_backend(const std::string& name);
std::vector<std::string> inference_backend_names();

}  // namespace ss
