/**
 * SECTION:element-sstiler
 *
 * Composites a batch into one picture: a grid of all sources (rows =
 * floor(sqrt(n)), columns = ceil(n/rows)), each tile keeping its aspect ratio,
 * with a labelled box per object (colour per class group) and a statistics bar
 * on each tile. Outputs I420 at #SsTiler:width x #SsTiler:height and the
 * batch's frame rate. Sources without a signal are shown greyed, "NO SIGNAL".
 *
 * Example:
 *   gst-launch-1.0 ssbatchmux name=m ! ssinfer ! sstiler width=1280 height=720 ! videoconvert ! autovideosink \
 *     uridecodebin uri=file:///a.mp4 ! videoconvert ! m.sink_0
 */
#include "gstsstiler.hpp"

#include <gst/video/video.h>

#include <cstring>

#include "element_impl.hpp"
#include "meta/batch_meta.hpp"
#include "slipstream/counts.hpp"
#include "slipstream/mosaic.hpp"

GST_DEBUG_CATEGORY_STATIC(ss_tiler_debug);
#define GST_CAT_DEFAULT ss_tiler_debug

namespace {

constexpr int default_width = 1200, default_height = 600;

struct Settings {
    int width = default_width, height = default_height;
    bool show_stats = true;
};

struct State {
    bool caps_sent = false;
    GstVideoInfo info{};  // the caps sent: the size every picture is drawn at
    ss::Mosaic mosaic;  // the picture, redrawn where it changed
    cv::Mat blank;      // I420 shown when drawing failed
    gint fps_n = 30, fps_d = 1;
};

// Drawing holds the state lock for a whole picture; properties only take the settings lock.
struct Impl {
    ssgst::Guarded<Settings> settings;
    ssgst::Guarded<State> state;
};

}  // namespace

struct _SsTiler {
    GstElement parent;
    GstPad* sinkpad;
    GstPad* srcpad;
};

SS_DEFINE_ELEMENT(SsTiler, ss_tiler, Impl)

enum { PROP_0, PROP_WIDTH, PROP_HEIGHT, PROP_SHOW_STATS };

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(SS_BATCH_CAPS));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE(
    "src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(GST_VIDEO_CAPS_MAKE("I420")));

static void render(const Settings& settings, cv::Size size, State& st, const SsBatchMeta* meta) {
    static const ss::InferConfig no_detector;
    const ss::InferConfig& detector = meta && *meta->detector_config ? **meta->detector_config : no_detector;
    const int n = meta ? static_cast<int>(meta->frames->size()) : 0;
    std::vector<ss::TileContent> tiles(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        const SsBatchFrame& f = (*meta->frames)[static_cast<std::size_t>(i)];
        ss::TileContent& tile = tiles[static_cast<std::size_t>(i)];
        tile.frame = f.frame ? &f.frame->bgr : nullptr;
        tile.objects = &f.objects;
        tile.no_signal = f.state == SourceState::no_signal;
        tile.seconds_since_frame = static_cast<double>(f.since_last_frame) / GST_SECOND;
        if (settings.show_stats) {
            tile.stats = ss::TileStats{static_cast<int>(f.source_id), f.frame ? f.frame->number : 0, ss::count_groups(f.objects, detector.groups)};
        }
    }
    st.mosaic.update(size, tiles, detector);
}

// Our caps follow from the settings and the batch's frame rate.
static bool send_caps(SsTiler* self) {
    const Settings settings = impl(self).settings.copy();
    GstCaps* caps;
    {
        auto& [lock, st] = impl(self).state;
        std::lock_guard guard(lock);
        gst_video_info_set_format(&st.info, GST_VIDEO_FORMAT_I420, settings.width, settings.height);
        GST_VIDEO_INFO_FPS_N(&st.info) = st.fps_n;
        GST_VIDEO_INFO_FPS_D(&st.info) = st.fps_d;
        caps = gst_video_info_to_caps(&st.info);
        st.caps_sent = true;
    }
    const bool ok = gst_pad_push_event(self->srcpad, gst_event_new_caps(caps));
    gst_caps_unref(caps);
    return ok;
}

static GstFlowReturn sink_chain(GstPad*, GstObject* parent, GstBuffer* batch) {
    auto* self = SS_TILER(parent);
    auto& [state_lock, st] = impl(self).state;
    bool caps_sent;
    {
        std::lock_guard guard(state_lock);
        caps_sent = st.caps_sent;
    }
    if (!caps_sent && !send_caps(self)) {
        gst_buffer_unref(batch);
        return GST_FLOW_NOT_NEGOTIATED;
    }
    const Settings settings = impl(self).settings.copy();
    std::unique_lock lock(state_lock);
    // Drawn at the size of the caps sent, which a property set meanwhile does
    // not change before the next caps: the picture always fits the buffer.
    const int w = GST_VIDEO_INFO_WIDTH(&st.info), h = GST_VIDEO_INFO_HEIGHT(&st.info);
    const cv::Mat* picture = nullptr;
    try {
        render(settings, cv::Size(w, h), st, ss_buffer_get_batch_meta(batch));
        picture = &st.mosaic.i420();
    } catch (const std::exception& e) {
        // Never across the GObject boundary: a blank picture keeps the output going.
        GST_WARNING_OBJECT(self, "drawing failed: %s", e.what());
        st.mosaic.invalidate();
        st.blank.create(h * 3 / 2, w, CV_8UC1);
        st.blank.rowRange(0, h).setTo(16);
        st.blank.rowRange(h, st.blank.rows).setTo(128);
        picture = &st.blank;
    }

    GstBuffer* out = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&st.info), nullptr);
    GstVideoFrame frame;
    if (!gst_video_frame_map(&frame, &st.info, out, GST_MAP_WRITE)) {
        gst_buffer_unref(out);
        gst_buffer_unref(batch);
        GST_ELEMENT_ERROR(self, RESOURCE, FAILED, ("could not map an output frame"), (nullptr));
        return GST_FLOW_ERROR;
    }
    // OpenCV's I420 is tightly packed; GStreamer's planes may be padded.
    const std::uint8_t* src = picture->ptr<std::uint8_t>();
    const int widths[3] = {w, w / 2, w / 2}, heights[3] = {h, h / 2, h / 2};
    for (int p = 0; p < 3; ++p) {
        auto* dst = static_cast<std::uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&frame, p));
        const int stride = GST_VIDEO_FRAME_PLANE_STRIDE(&frame, p);
        for (int y = 0; y < heights[p]; ++y) std::memcpy(dst + y * stride, src + y * widths[p], widths[p]);
        src += widths[p] * heights[p];
    }
    gst_video_frame_unmap(&frame);
    lock.unlock();

    gst_buffer_copy_into(out, batch, GST_BUFFER_COPY_TIMESTAMPS, 0, -1);
    gst_buffer_unref(batch);
    return gst_pad_push(self->srcpad, out);
}

static gboolean sink_event(GstPad* pad, GstObject* parent, GstEvent* event) {
    auto* self = SS_TILER(parent);
    if (GST_EVENT_TYPE(event) == GST_EVENT_CAPS) {
        GstCaps* caps = nullptr;
        gst_event_parse_caps(event, &caps);
        const GstStructure* s = gst_caps_get_structure(caps, 0);
        {
            auto& [lock, st] = impl(self).state;
            std::lock_guard guard(lock);
            if (!gst_structure_get_fraction(s, "framerate", &st.fps_n, &st.fps_d)) st.fps_n = 30, st.fps_d = 1;
        }
        gst_event_unref(event);
        return send_caps(self);
    }
    return gst_pad_event_default(pad, parent, event);
}

static gboolean src_query(GstPad* pad, GstObject* parent, GstQuery* query) {
    auto* self = SS_TILER(parent);
    if (GST_QUERY_TYPE(query) == GST_QUERY_CAPS) {
        const Settings settings = impl(self).settings.copy();
        ssgst::answer_caps_query(query, gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, "I420", "width", G_TYPE_INT,
                                                            settings.width, "height", G_TYPE_INT, settings.height, nullptr));
        return TRUE;
    }
    return gst_pad_query_default(pad, parent, query);
}

static void set_property(GObject* object, guint id, const GValue* value, GParamSpec* pspec) {
    auto* self = SS_TILER(object);
    {
        auto& [lock, settings] = impl(self).settings;
        std::lock_guard guard(lock);
        switch (id) {
            case PROP_WIDTH: settings.width = g_value_get_int(value) & ~1; break;
            case PROP_HEIGHT: settings.height = g_value_get_int(value) & ~1; break;
            case PROP_SHOW_STATS: settings.show_stats = g_value_get_boolean(value); break;
            default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec); return;
        }
    }
    // After the settings changed: caps sent before this point are sent again.
    auto& [lock, st] = impl(self).state;
    std::lock_guard guard(lock);
    st.caps_sent = false;
}

static void get_property(GObject* object, guint id, GValue* value, GParamSpec* pspec) {
    const Settings settings = impl(SS_TILER(object)).settings.copy();
    switch (id) {
        case PROP_WIDTH: g_value_set_int(value, settings.width); break;
        case PROP_HEIGHT: g_value_set_int(value, settings.height); break;
        case PROP_SHOW_STATS: g_value_set_boolean(value, settings.show_stats); break;
        default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
    }
}

static void ss_tiler_class_init(SsTilerClass* klass) {
    init_class(klass, {
        .long_name = "slipstream tiler",
        .classification = "Filter/Editor/Video",
        .description = "Tiles a batch into one annotated picture",
        .pad_templates = {&sink_template, &src_template},
        .properties = {
            g_param_spec_int("width", "Width", "Output width", 16, 8192, default_width, ssgst::read_write_in_ready),
            g_param_spec_int("height", "Height", "Output height", 16, 8192, default_height, ssgst::read_write_in_ready),
            g_param_spec_boolean("show-stats", "Show statistics", "Draw the statistics bar on each tile", TRUE,
                                 ssgst::read_write_in_ready),
        },
        .set_property = set_property,
        .get_property = get_property,
        .debug = &ss_tiler_debug,
        .debug_name = "sstiler",
    });
}

static void ss_tiler_init(SsTiler* self) {
    construct_impl(self);
    self->sinkpad = ssgst::add_pad(GST_ELEMENT(self), &sink_template, {.chain = sink_chain, .event = sink_event});
    self->srcpad = ssgst::add_pad(GST_ELEMENT(self), &src_template, {.query = src_query});
}
