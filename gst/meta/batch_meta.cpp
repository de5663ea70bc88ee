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
    m->labels = new std::shared_ptr<const ss::InferConfig>();
    return TRUE;
}

static void batch_meta_free(GstMeta* meta, GstBuffer*) {
    auto* m = reinterpret_cast<SsBatchMeta*>(meta);
    delete m->frames;
    m->frames = nullptr;
    delete m->labels;
    m->labels = nullptr;
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
    *to->labels = *from->labels;
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

ss::Detections ss_objects_resized(const ss::Detections& objects, cv::Size from, cv::Size to) {
    if (from == to || from.width <= 0 || from.height <= 0) return objects;
    return ss::scaled(objects, static_cast<float>(to.width) / from.width, static_cast<float>(to.height) / from.height);
}

ss::Box ss_box_in_source(const ss::Box& box, const SsVideoFrame& frame) {
    if (frame.bgr.empty() || frame.source_width <= 0) return box;
    const float sx = static_cast<float>(frame.source_width) / frame.bgr.cols;
    const float sy = static_cast<float>(frame.source_height) / frame.bgr.rows;
    return {box.left * sx, box.top * sy, box.width * sx, box.height * sy};
}
