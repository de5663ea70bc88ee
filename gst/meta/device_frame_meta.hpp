#pragma once
// SsDeviceFrameMeta: the same frame in GPU memory, at the detector's input
// size, beside the small system-memory picture a buffer carries. sscudascale
// attaches it (GPU path with detect-width/-height set); ssbatchmux moves it
// into SsVideoFrame::device so a GPU backend pre-processes it without a copy.
// The DeviceFrame's owner returns the memory to its pool when the last
// reference goes, from whatever thread that happens on.
#include <gst/gst.h>

#include <memory>

#include "slipstream/backend.hpp"

struct SsDeviceFrameMeta {
    GstMeta meta;
    std::shared_ptr<const ss::DeviceFrame>* frame;
};

GType ss_device_frame_meta_api_get_type();
const GstMetaInfo* ss_device_frame_meta_get_info();

// Adds the meta holding `frame` to a (writable) buffer.
SsDeviceFrameMeta* ss_buffer_add_device_frame_meta(GstBuffer* buffer, std::shared_ptr<const ss::DeviceFrame> frame);
SsDeviceFrameMeta* ss_buffer_get_device_frame_meta(GstBuffer* buffer);
// The frame a buffer carries, or null.
std::shared_ptr<const ss::DeviceFrame> ss_buffer_get_device_frame(GstBuffer* buffer);
