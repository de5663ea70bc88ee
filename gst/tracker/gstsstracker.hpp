#pragma once
#include <gst/gst.h>

G_BEGIN_DECLS

#define SS_TYPE_TRACKER (ss_tracker_get_type())
G_DECLARE_FINAL_TYPE(SsTracker, ss_tracker, SS, TRACKER, GstElement)

G_END_DECLS
