#pragma once
// Runs one plan (one batch size) on one GPU: its activations in one arena,
// each step a cuDNN fused convolution or one of our kernels, the whole
// sequence captured once as a CUDA graph and replayed.
#include <cuda_runtime_api.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "slipstream/cudnn/fused_conv.hpp"
#include "slipstream/engine/plan.hpp"

namespace ss::cuda_backend {

// Device memory that frees itself.
struct DeviceBuffer {
    void* data = nullptr;
    std::size_t bytes = 0;
    DeviceBuffer() = default;
    explicit DeviceBuffer(std::size_t size);
    ~DeviceBuffer();
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;
};

// What the executors of one model on one GPU share: the constants as uploaded
// (by name and form), the tuning choices. Used by one thread at a time: the
// one building an executor.
struct ModelContext {
    int device = 0;
    std::size_t workspace_limit = 0;
    // conv key -> chosen engine, read from and written to model-engine-file.
    // The key names the batch; `any_batch` the same layer at any batch, whose
    // engine is tried first when this batch has none yet (it usually fits).
    std::function<std::string(const std::string& key, const std::string& any_batch)> cached_choice;
    std::function<void(const std::string& key, const std::string& any_batch, const std::string& choice)> remember_choice;
    std::map<std::string, std::shared_ptr<DeviceBuffer>> constants;  // "name/form" -> device copy
    // Set when building is to stop (the backend is going away): checked between layers.
    const std::atomic<bool>* cancelled = nullptr;
};

class Executor {
public:
    // Builds (tunes) every layer on `build_stream`, with a cuDNN handle of its
    // own: an executor built on one thread can run on another while a third is built.
    Executor(engine::Plan plan, ModelContext& context, cudaStream_t build_stream);
    ~Executor();
    Executor(const Executor&) = delete;
    Executor& operator=(const Executor&) = delete;

    const engine::Plan& plan() const { return plan_; }
    // The plan's input tensor (activation dtype, NHWC) — pre-processing writes here.
    void* input() const;
    // An f32 NCHW staging buffer for the whole batch, converted into input() by run_from_staging().
    void* staging() const { return staging_->data; }
    void* output(std::size_t index) const;  // f32 row major, in plan.outputs order

    // Runs the steps on `stream`: the first call captures them into a CUDA
    // graph, later calls replay it (steps are launched one by one where capture
    // fails; describe() says why). from_staging: convert staging() into input()
    // first (the host path); else input() was written by the caller.
    void run(cudaStream_t stream, bool from_staging);
    bool graph_captured() const { return graph_exec_ != nullptr; }
    std::string describe() const;  // one line: steps, fused convs, arena, graph

    // Where a forward's time goes: each step launched alone between two
    // events, `runs` times on `stream`, from input() as it is; one line, time
    // by kind of step and the slowest steps. For SLIPSTREAM_CUDA_PROFILE. Call
    // it before run(): input() is left as it was, the outputs are not.
    std::string profile(cudaStream_t stream, int runs);

private:
    void launch_steps(cudaStream_t stream);
    void launch_step(std::size_t index, cudaStream_t stream);
    const void* constant(int tensor, const std::string& form);
    void* address(int tensor) const;

    engine::Plan plan_;
    ModelContext& context_;
    std::unique_ptr<DeviceBuffer> arena_, staging_, workspace_;
    std::unique_ptr<cudnn::Handle> handle_;                 // outlives convs_, which use it
    std::vector<std::unique_ptr<cudnn::FusedConv>> convs_;  // per step, null where not a conv
    std::vector<const void*> step_constants_;              // resolved constant pointers per step (a/b or w/bias)
    std::vector<const void*> step_constants_b_;
    cudaGraph_t graph_ = nullptr;
    cudaGraphExec_t graph_exec_ = nullptr;
    bool capture_failed_ = false;
    std::string capture_failure_;
};

// Throws std::runtime_error naming what failed.
void check_cuda(cudaError_t status, const char* what);

}  // namespace ss::cuda_backend
