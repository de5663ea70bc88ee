#pragma once
#include <gst/base/gstbasetransform.h>

G_BEGIN_DECLS

#define SS_TYPE_CUDA_SCALE (ss_cuda_scale_get_type())
G_DECLARE_FINAL_TYPE(SsCudaScale, ss_cuda_scale, SS, CUDA_SCALE, GstBaseTransform)

G_END_DECLS
