#pragma once
// Waits for a CUDA stream without spinning. With fewer contexts than cores the
// runtime's own wait (cudaStreamSynchronize) keeps a core busy polling until
// the GPU is done; a pipeline waits thousands of times a second, on many
// threads, and the cores it would burn are the ones that receive and batch the
// video. Waiting on an event made with cudaEventBlockingSync sleeps instead.
#include <cuda_runtime_api.h>

namespace ss::cuda {

class StreamWait {
public:
    StreamWait() = default;  // no CUDA call until the first wait
    ~StreamWait();
    StreamWait(const StreamWait&) = delete;
    StreamWait& operator=(const StreamWait&) = delete;

    // Returns once all work queued on `stream` so far is done: the first
    // error of the work or of the wait itself, or cudaSuccess. Call it with
    // the stream's device current.
    cudaError_t wait(cudaStream_t stream);

private:
    cudaEvent_t done_ = nullptr;
};

}  // namespace ss::cuda
