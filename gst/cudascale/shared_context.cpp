#include "cudascale/shared_context.hpp"

#define GST_USE_UNSTABLE_API  // GStreamer's CUDA library is unstable API in 1.22
#include <gst/cuda/gstcudacontext.h>
#include <gst/cuda/gstcudaloader.h>
#include <gst/cuda/gstcudautils.h>
#include <gst/cuda/cuda-gst.h>

#include <cuda_runtime_api.h>

namespace ssgst {

std::string share_cuda_context(GstElement* pipeline, int device) {
    if (!gst_cuda_load_library()) return "the CUDA driver library could not be loaded";
    // The decoders share the GPU's primary context, the one the CUDA runtime
    // (our kernels, the cuda inference backend) uses: device memory of one
    // context is not valid in another, and frames go from NVDEC to detection
    // without a copy. gst_cuda_context_new() would make a context of its own.
    CUcontext primary = nullptr;
    if (cudaSetDevice(device) != cudaSuccess || cudaFree(nullptr) != cudaSuccess) {
        cudaGetLastError();
        return "the CUDA runtime cannot use GPU " + std::to_string(device);
    }
    // The runtime made the primary context current on this thread: take its
    // handle, then put it back as it was.
    if (CuCtxPopCurrent(&primary) != CUDA_SUCCESS || !primary) return "no CUDA context on GPU " + std::to_string(device);
    CuCtxPushCurrent(primary);
    GstCudaContext* cuda = gst_cuda_context_new_wrapped(primary, static_cast<CUdevice>(device));
    if (!cuda) return "no CUDA context could be made on GPU " + std::to_string(device);
    GstContext* context = gst_context_new_cuda_context(cuda);
    gst_object_unref(cuda);
    // GstBin passes the contexts set on it to every element added to it later.
    gst_element_set_context(pipeline, context);
    gst_context_unref(context);
    return {};
}

}  // namespace ssgst
