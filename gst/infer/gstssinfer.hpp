#pragma once
#include <gst/gst.h>

G_BEGIN_DECLS

#define SS_TYPE_INFER (ss_infer_get_type())
G_DECLARE_FINAL_TYPE(SsInfer, ss_infer, SS, INFER, GstElement)

G_END_DECLS
