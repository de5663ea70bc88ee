#include "device_frame_meta.hpp"

#include <gst/video/video.h>

GType ss_device_frame_meta_api_get_type() {
    static GType type = 0;
    // Tagged "video" only: video filters (videoconvert, also in passthrough)
    // keep it, as the scene stays the same. Not "memory": the frame lives in
    // its own pool, not in the buffer's memory.
    static const gchar* tags[] = {GST_META_TAG_VIDEO_STR, nullptr};
    if (g_once_init_enter(&type)) {
        GType t = gst_meta_api_type_register("SsDeviceFrameMetaAPI", tags);
        g_once_init_leave(&type, t);
    }
    return type;
}

static gboolean device_frame_meta_init(GstMeta* meta, gpointer, GstBuffer*) {
    reinterpret_cast<SsDeviceFrameMeta*>(meta)->frame = new std::shared_ptr<const ss::DeviceFrame>();
    return TRUE;
}

static void device_frame_meta_free(GstMeta* meta, GstBuffer*) {
    auto* m = reinterpret_cast<SsDeviceFrameMeta*>(meta);
    delete m->frame;
    m->frame = nullptr;
}

static gboolean device_frame_meta_transform(GstBuffer* dest, GstMeta* meta, GstBuffer*, GQuark type, gpointer) {
    // Copies share the frame (it is never written); other transforms drop it.
    if (!GST_META_TRANSFORM_IS_COPY(type)) return FALSE;
    ss_buffer_add_device_frame_meta(dest, *reinterpret_cast<SsDeviceFrameMeta*>(meta)->frame);
    return TRUE;
}

const GstMetaInfo* ss_device_frame_meta_get_info() {
    static const GstMetaInfo* info = nullptr;
    if (g_once_init_enter(&info)) {
        const GstMetaInfo* i =
            gst_meta_register(ss_device_frame_meta_api_get_type(), "SsDeviceFrameMeta", sizeof(SsDeviceFrameMeta),
                              device_frame_meta_init, device_frame_meta_free, device_frame_meta_transform);
        g_once_init_leave(&info, i);
    }
    return info;
}

SsDeviceFrameMeta* ss_buffer_add_device_frame_meta(GstBuffer* buffer, std::shared_ptr<const ss::DeviceFrame> frame) {
    auto* m = reinterpret_cast<SsDeviceFrameMeta*>(gst_buffer_add_meta(buffer, ss_device_frame_meta_get_info(), nullptr));
    if (m) *m->frame = std::move(frame);
    return m;
}

SsDeviceFrameMeta* ss_buffer_get_device_frame_meta(GstBuffer* buffer) {
    return reinterpret_cast<SsDeviceFrameMeta*>(gst_buffer_get_meta(buffer, ss_device_frame_meta_api_get_type()));
}

std::shared_ptr<const ss::DeviceFrame> ss_buffer_get_device_frame(GstBuffer* buffer) {
    const SsDeviceFrameMeta* m = ss_buffer_get_device_frame_meta(buffer);
    return m && m->frame ? *m->frame : nullptr;
}
