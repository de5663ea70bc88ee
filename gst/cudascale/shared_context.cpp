#include "cudascale/shared_context.hpp"

#define GST_USE_UNSTABLE_API  // GStreamer's CUDA library is unstable API in 1.22
#include <gst/cuda/gstcudacontext.h>
#include <gst/cuda/gstcudaloader.h>
#include <gst/cuda/gstcudautils.h>

namespace ssgst {

std::string share_cuda_context(GstElement* pipeline, int device) {
    if (!gst_cuda_load_library()) return "the CUDA driver library could not be loaded";
    GstCudaContext* cuda = gst_cuda_context_new(static_cast<guint>(device));
    if (!cuda) return "no CUDA context could be made on GPU " + std::to_string(device);
    GstContext* context = gst_context_new_cuda_context(cuda);
    gst_object_unref(cuda);
    // GstBin passes the contexts set on it to every element added to it later.
    gst_element_set_context(pipeline, context);
    gst_context_unref(context);
    return {};
}

}  // namespace ssgst
