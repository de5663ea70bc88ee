#pragma once
#include <gst/gst.h>

// Registers the slipstream elements in-process (for the statically linked command).
gboolean ss_register_elements();
