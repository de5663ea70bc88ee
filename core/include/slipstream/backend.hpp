#pragma once
// Inference backends run a loaded model on an input tensor. The OpenCV DNN
// backend runs on any CPU; a GPU backend plugs in here by one registry line
// (core/src/backends/registry.cpp) and one file.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

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

class InferenceBackend {
public:
    virtual ~InferenceBackend() = default;
    // output_names: which outputs to return, in that order; empty = all, in model order.
    virtual void load(const std::filesystem::path& model, const std::vector<std::string>& output_names) = 0;
    virtual std::vector<OutputTensor> forward(const InputTensor& input) = 0;
};

std::unique_ptr<InferenceBackend> make_inference_backend(const std::string& name);
std::vector<std::string> inference_backend_names();

}  // namespace ss
