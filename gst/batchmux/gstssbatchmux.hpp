#pragma once
#include <gst/gst.h>

G_BEGIN_DECLS

#define SS_TYPE_BATCH_MUX (ss_batch_mux_get_type())
G_DECLARE_FINAL_TYPE(SsBatchMux, ss_batch_mux, SS, BATCH_MUX, GstElement)

G_END_DECLS
