#include "slipstream/cuda/stream_wait.hpp"

namespace ss::cuda {

StreamWait::~StreamWait() {
    if (done_) (void)cudaEventDestroy(done_);  // at shutdown the context may already be gone
}

cudaError_t StreamWait::wait(cudaStream_t stream) {
    if (!done_) {
        if (const auto made = cudaEventCreateWithFlags(&done_, cudaEventBlockingSync | cudaEventDisableTiming);
            made != cudaSuccess) {
            done_ = nullptr;
            return made;
        }
    }
    if (const auto recorded = cudaEventRecord(done_, stream); recorded != cudaSuccess) return recorded;
    return cudaEventSynchronize(done_);
}

}  // namespace ss::cuda
