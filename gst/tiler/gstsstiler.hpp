#pragma once
#include <gst/gst.h>

G_BEGIN_DECLS

#define SS_TYPE_TILER (ss_tiler_get_type())
G_DECLARE_FINAL_TYPE(SsTiler, ss_tiler, SS, TILER, GstElement)

G_END_DECLS
