#pragma once
// The running time of an element now: its clock's time less its base time,
// the timeline buffer timestamps live on. NONE while it has no clock, 0
// before its base time.
#include <gst/gst.h>

GstClockTime ss_running_time_now(GstElement* element);
