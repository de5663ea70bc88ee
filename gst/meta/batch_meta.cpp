#include "batch_meta.hpp"

GType ss_batch_meta_api_get_type() {
    static GType type = 0;
    static const gchar* tags[] = {nullptr};
    if (g_once_init_enter(&type)) {
        GType t = gst_meta_api_type_register("SsBatchMetaAPI", tags);
        g_once_init_leave(&type, t);
    }
    return type;
}

static gboolean batch_meta_init(GstMeta* meta, gpointer, GstBuffer*) {
    auto* m = reinterpret_cast<SsBatchMeta*>(meta);
    m->frames = new std::vector<SsBatchFrame>();
    m->batch_number = 0;
    m->built = GST_CLOCK_TIME_NONE;
    m->detection_done = GST_CLOCK_TIME_NONE;
    m->detector_config = new std::shared_ptr<const ss::InferConfig>();
    return TRUE;
}

static void batch_meta_free(GstMeta* meta, GstBuffer*) {
    auto* m = reinterpret_cast<SsBatchMeta*>(meta);
    delete m->frames;
    m->frames = nullptr;
    delete m->detector_config;
    m->detector_config = nullptr;
}

static gboolean batch_meta_transform(GstBuffer* dest, GstMeta* meta, GstBuffer*, GQuark type, gpointer) {
    // Copies carry everything: frames are shared pointers, objects are small.
    if (!GST_META_TRANSFORM_IS_COPY(type)) return FALSE;
    const auto* from = reinterpret_cast<SsBatchMeta*>(meta);
    SsBatchMeta* to = ss_buffer_add_batch_meta(dest);
    *to->frames = *from->frames;
    to->batch_number = from->batch_number;
    to->built = from->built;
    to->detection_done = from->detection_done;
    *to->detector_config = *from->detector_config;
    return TRUE;
}

const GstMetaInfo* ss_batch_meta_get_info() {
    static const GstMetaInfo* info = nullptr;
    if (g_once_init_enter(&info)) {
        const GstMetaInfo* i = gst_meta_register(ss_batch_meta_api_get_type(), "SsBatchMeta", sizeof(SsBatchMeta),
                                                 batch_meta_init, batch_meta_free, batch_meta_transform);
        g_once_init_leave(&info, i);
    }
    return info;
}

SsBatchMeta* ss_buffer_add_batch_meta(GstBuffer* buffer) {
    return reinterpret_cast<SsBatchMeta*>(gst_buffer_add_meta(buffer, ss_batch_meta_get_info(), nullptr));
}

SsBatchMeta* ss_buffer_get_batch_meta(GstBuffer* buffer) {
    return reinterpret_cast<SsBatchMeta*>(gst_buffer_get_meta(buffer, ss_batch_meta_api_get_type()));
}

