/**
 * SECTION:element-sscudascale
 *
 * Scales NV12 frames in CUDA memory (as nvh264dec/nvh265dec leave them) on
 * the GPU with slipstream's own kernel and hands them on in system memory,
 * small: the full-size frame never crosses to the CPU. GStreamer 1.22's own
 * cudascale/cudaconvert cannot be used with CUDA 13 (their NVRTC probe asks
 * for compute_52, which CUDA 13 dropped).
 *
 * The output size is what downstream caps fix, else the largest size with
 * the frame's aspect ratio inside #SsCudaScale:width x #SsCudaScale:height,
 * never larger than the frame: the same size ssbatchmux fits its working
 * frames into, so given the same box it has nothing left to scale.
 *
 * With #SsCudaScale:detect-width and #SsCudaScale:detect-height set, each
 * frame is also scaled, on the GPU, to the detector's input size (inside it
 * with the aspect kept when #SsCudaScale:detect-keep-aspect, else exactly)
 * into a device buffer of a small pool this element owns
 * (#SsCudaScale:detect-buffers), attached as SsDeviceFrameMeta: a GPU
 * detection backend reads it there without a copy. When every buffer is out
 * (detection still holds them) the frame goes on without one; the picture
 * never waits for the pool.
 *
 * Example:
 *   gst-launch-1.0 filesrc location=a.mp4 ! qtdemux ! h264parse ! nvh264dec ! \
 *     sscudascale width=640 height=360 ! videoconvert ! autovideosink
 */
#include "gstsscudascale.hpp"

#define GST_USE_UNSTABLE_API  // GStreamer's CUDA library is unstable API in 1.22
#include <gst/cuda/gstcudacontext.h>
#include <gst/cuda/gstcudamemory.h>
#include <gst/video/video.h>

#include <cuda_runtime_api.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "element_impl.hpp"
#include "meta/device_frame_meta.hpp"
#include "slipstream/cuda/nv12_scaler.hpp"
#include "slipstream/frame_convert.hpp"

GST_DEBUG_CATEGORY_STATIC(ss_cuda_scale_debug);
#define GST_CAT_DEFAULT ss_cuda_scale_debug

namespace {

constexpr int default_detect_buffers = 12;

struct Settings {
    int width = 0, height = 0;  // the box frames are fitted into; 0: the frame's own
    int detect_width = 0, detect_height = 0;  // the detector's input; 0: no device copy
    bool detect_keep_aspect = false;
    int detect_buffers = default_detect_buffers;

    bool detect() const { return detect_width > 0 && detect_height > 0; }
};

// Device NV12 buffers of one size in one CUDA context, at most `capacity`.
// Frames hand them out as the owner of a DeviceFrame; the last reference
// (often on a detection thread) gives the buffer back. The pool lives until
// the element and every frame let go of it, and frees the buffers in its
// own context then.
class DeviceFramePool : public std::enable_shared_from_this<DeviceFramePool> {
public:
    DeviceFramePool(GstCudaContext* context, int width, int height, int capacity)
        : context_(static_cast<GstCudaContext*>(gst_object_ref(context))), width_(width), height_(height), capacity_(capacity) {}

    ~DeviceFramePool() {
        // Freeing with no context current would start GPU 0's primary context
        // on this thread and fail; where the push fails, leaking is better.
        if (gst_cuda_context_push(context_)) {
            free_.clear();
            gst_cuda_context_pop(nullptr);
        } else {
            for (auto& b : free_) (void)b.release();
        }
        gst_object_unref(context_);
    }

    bool fits(GstCudaContext* context, int width, int height) const {
        return context == context_ && width == width_ && height == height_;
    }

    // A free buffer, allocated while fewer than capacity exist (call with the
    // pool's context current), or null when all are out. Throws ss::cuda::Error.
    std::shared_ptr<const ss::cuda::DeviceNv12Buffer> acquire() {
        std::unique_ptr<ss::cuda::DeviceNv12Buffer> buffer;
        {
            std::lock_guard lock(mutex_);
            if (!free_.empty()) {
                buffer = std::move(free_.back());
                free_.pop_back();
            } else if (allocated_ >= capacity_) {
                return nullptr;
            }
        }
        if (!buffer) {
            buffer = std::make_unique<ss::cuda::DeviceNv12Buffer>(width_, height_);
            std::lock_guard lock(mutex_);
            ++allocated_;
        }
        return {buffer.release(), [pool = shared_from_this()](const ss::cuda::DeviceNv12Buffer* b) {
                    std::lock_guard lock(pool->mutex_);
                    pool->free_.emplace_back(const_cast<ss::cuda::DeviceNv12Buffer*>(b));
                }};
    }

private:
    GstCudaContext* context_;
    const int width_, height_, capacity_;
    std::mutex mutex_;
    std::vector<std::unique_ptr<ss::cuda::DeviceNv12Buffer>> free_;
    int allocated_ = 0;
};

struct State {
    GstVideoInfo in{}, out{};
    std::unique_ptr<ss::cuda::Nv12Scaler> scaler;  // made on the streaming thread at the first frame
    GstCudaContext* context = nullptr;              // the scaler's (the decoder's): it is made and freed there
    std::shared_ptr<DeviceFramePool> pool;          // the detector's copies; frames may outlive our reference
    int device = 0;                                 // CUDA ordinal of `context`
    std::atomic<guint64> without_device_frame{0};   // frames sent on without one (read without the lock)
    bool device_failed = false;                     // a device copy failed (said once)
};

// Frees the scaler in its own context (freeing with none current would make
// CUDA start GPU 0's primary context on this thread).
static void drop_scaler(State& state) {
    if (state.scaler && state.context && gst_cuda_context_push(state.context)) {
        state.scaler.reset();
        gst_cuda_context_pop(nullptr);
    }
    state.scaler.reset();
    state.pool.reset();  // the pool frees its buffers in its own context, once its frames are gone too
    if (state.context) gst_object_unref(state.context);
    state.context = nullptr;
}

struct Impl {
    ssgst::Guarded<Settings> settings;
    ssgst::Guarded<State> state;
};

enum { PROP_0, PROP_WIDTH, PROP_HEIGHT, PROP_DETECT_WIDTH, PROP_DETECT_HEIGHT, PROP_DETECT_KEEP_ASPECT, PROP_DETECT_BUFFERS,
       PROP_WITHOUT_DEVICE_FRAME };

GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE(
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS(GST_VIDEO_CAPS_MAKE_WITH_FEATURES(GST_CAPS_FEATURE_MEMORY_CUDA_MEMORY, "NV12")));
GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(GST_VIDEO_CAPS_MAKE("NV12")));

}  // namespace

struct _SsCudaScale {
    GstBaseTransform parent;
};

SS_DEFINE_ELEMENT_WITH_PARENT(SsCudaScale, ss_cuda_scale, Impl, GST_TYPE_BASE_TRANSFORM)

// Either side's caps from the other's: the memory changes, the size is free.
static GstCaps* transform_caps(GstBaseTransform* base, GstPadDirection direction, GstCaps* caps, GstCaps* filter) {
    GstCaps* out = gst_caps_new_empty();
    const char* feature = direction == GST_PAD_SINK ? GST_CAPS_FEATURE_MEMORY_SYSTEM_MEMORY : GST_CAPS_FEATURE_MEMORY_CUDA_MEMORY;
    for (guint i = 0; i < gst_caps_get_size(caps); ++i) {
        GstStructure* s = gst_structure_copy(gst_caps_get_structure(caps, i));
        gst_structure_set(s, "width", GST_TYPE_INT_RANGE, 2, G_MAXINT, "height", GST_TYPE_INT_RANGE, 2, G_MAXINT, nullptr);
        gst_structure_remove_field(s, "pixel-aspect-ratio");
        gst_caps_append_structure_full(out, s, gst_caps_features_new(feature, nullptr));
    }
    if (filter) {
        GstCaps* both = gst_caps_intersect_full(filter, out, GST_CAPS_INTERSECT_FIRST);
        gst_caps_unref(out);
        out = both;
    }
    return out;
}

static GstCaps* fixate_caps(GstBaseTransform* base, GstPadDirection direction, GstCaps* caps, GstCaps* othercaps) {
    othercaps = gst_caps_truncate(gst_caps_make_writable(othercaps));
    GstStructure* out = gst_caps_get_structure(othercaps, 0);
    const GstStructure* in = gst_caps_get_structure(caps, 0);
    int width = 0, height = 0;
    gst_structure_get_int(in, "width", &width);
    gst_structure_get_int(in, "height", &height);
    if (direction == GST_PAD_SINK) {
        const Settings settings = impl(SS_CUDA_SCALE(base)).settings.copy();
        const cv::Size size = ss::fit_size({width, height}, {settings.width > 0 ? settings.width : width,
                                                              settings.height > 0 ? settings.height : height});
        // Downstream's fixed size wins; otherwise the fitted size, as near as allowed.
        gst_structure_fixate_field_nearest_int(out, "width", size.width);
        gst_structure_fixate_field_nearest_int(out, "height", size.height);
        int out_w = size.width, out_h = size.height;
        gst_structure_get_int(out, "width", &out_w);
        gst_structure_get_int(out, "height", &out_h);
        // Square pixels out when the picture keeps its shape; else what makes it look the same.
        gint par_n = 1, par_d = 1;
        gst_structure_get_fraction(in, "pixel-aspect-ratio", &par_n, &par_d);
        gint n = 1, d = 1;
        if (out_w > 0 && out_h > 0) {
            gst_util_fraction_multiply(width * par_n, height * par_d, out_h, out_w, &n, &d);
        }
        gst_structure_set(out, "pixel-aspect-ratio", GST_TYPE_FRACTION, n, d, nullptr);
    } else {
        gst_structure_fixate_field_nearest_int(out, "width", width);
        gst_structure_fixate_field_nearest_int(out, "height", height);
    }
    return gst_caps_fixate(othercaps);
}

static gboolean set_caps(GstBaseTransform* base, GstCaps* incaps, GstCaps* outcaps) {
    auto& state = impl(SS_CUDA_SCALE(base)).state;
    std::lock_guard lock(state.lock);
    if (!gst_video_info_from_caps(&state.value.in, incaps) || !gst_video_info_from_caps(&state.value.out, outcaps)) {
        return FALSE;
    }
    GST_DEBUG_OBJECT(base, "%dx%d -> %dx%d", GST_VIDEO_INFO_WIDTH(&state.value.in), GST_VIDEO_INFO_HEIGHT(&state.value.in),
                     GST_VIDEO_INFO_WIDTH(&state.value.out), GST_VIDEO_INFO_HEIGHT(&state.value.out));
    return TRUE;
}

// The decoder allocates CUDA memory from its own pool; nothing to offer it.
static gboolean propose_allocation(GstBaseTransform*, GstQuery*, GstQuery*) { return TRUE; }

// Output buffers hold the small frame (without this GstBaseTransform sizes
// them like the input, a full frame's worth, when downstream offers no pool).
static gboolean transform_size(GstBaseTransform* base, GstPadDirection direction, GstCaps*, gsize, GstCaps* othercaps,
                               gsize* othersize) {
    GstVideoInfo info;
    if (direction != GST_PAD_SINK || !gst_video_info_from_caps(&info, othercaps)) return FALSE;
    *othersize = GST_VIDEO_INFO_SIZE(&info);
    return TRUE;
}

// Scales the frame into a pool buffer at the detector's size (queued on the
// scaler's stream: the scale() that follows waits for it) and returns it as a
// DeviceFrame, or null when the pool is empty or the copy failed: the picture
// goes on either way. Called with the decoder's context current.
static std::shared_ptr<const ss::DeviceFrame> device_copy(GstBaseTransform* base, State& state, const Settings& settings,
                                                         GstCudaContext* context, const ss::cuda::Nv12Frame& source) {
    const cv::Size size = ss::detector_frame_size({source.width, source.height},
                                                  {settings.detect_width, settings.detect_height}, settings.detect_keep_aspect);
    const int width = size.width, height = size.height;
    try {
        if (!state.pool || !state.pool->fits(context, width, height)) {
            state.pool = std::make_shared<DeviceFramePool>(context, width, height, std::max(1, settings.detect_buffers));
            if (cudaGetDevice(&state.device) != cudaSuccess) {
                (void)cudaGetLastError();
                state.device = 0;
            }
            GST_INFO_OBJECT(base, "detector frames %dx%d on GPU %d, up to %d buffers", width, height, state.device,
                            settings.detect_buffers);
        }
        auto buffer = state.pool->acquire();
        if (!buffer) {
            // Detection still holds every buffer: this frame is detected from
            // its CPU picture, if at all. Said once; the count is a property.
            if (state.without_device_frame++ == 0)
                GST_WARNING_OBJECT(base, "all %d detector frame buffers in use: frames go on without one (counted in "
                                   "without-device-frame)", settings.detect_buffers);
            return nullptr;
        }
        state.scaler->scale_to_device(source, buffer->frame(), false);
        auto frame = std::make_shared<ss::DeviceFrame>();
        const ss::cuda::Nv12Frame& f = buffer->frame();
        frame->luma = f.y;
        frame->chroma = f.uv;
        frame->luma_pitch = static_cast<int>(f.y_pitch);
        frame->chroma_pitch = static_cast<int>(f.uv_pitch);
        frame->width = f.width;
        frame->height = f.height;
        frame->device = state.device;
        frame->owner = std::move(buffer);
        return frame;
    } catch (const std::exception& e) {
        if (!state.device_failed) GST_WARNING_OBJECT(base, "no detector frame on the GPU: %s", e.what());
        state.device_failed = true;
        return nullptr;
    }
}

static GstFlowReturn transform(GstBaseTransform* base, GstBuffer* inbuf, GstBuffer* outbuf) {
    const Settings settings = impl(SS_CUDA_SCALE(base)).settings.copy();
    auto& state_guard = impl(SS_CUDA_SCALE(base)).state;
    std::lock_guard lock(state_guard.lock);
    State& state = state_guard.value;
    GstMemory* memory = gst_buffer_n_memory(inbuf) ? gst_buffer_peek_memory(inbuf, 0) : nullptr;
    if (!memory || !gst_is_cuda_memory(memory)) {
        GST_ELEMENT_ERROR(base, STREAM, FORMAT, ("sscudascale got a frame that is not in CUDA memory"),
                          ("link it after an NVIDIA decoder (nvh264dec, nvh265dec)"));
        return GST_FLOW_ERROR;
    }
    GstCudaContext* context = GST_CUDA_MEMORY_CAST(memory)->context;
    GstVideoFrame in, out;
    if (!gst_video_frame_map(&in, &state.in, inbuf, static_cast<GstMapFlags>(GST_MAP_READ | GST_MAP_CUDA))) {
        GST_ELEMENT_ERROR(base, RESOURCE, READ, ("sscudascale could not map a CUDA frame"), (nullptr));
        return GST_FLOW_ERROR;
    }
    if (!gst_video_frame_map(&out, &state.out, outbuf, GST_MAP_WRITE)) {
        gst_video_frame_unmap(&in);
        GST_ELEMENT_ERROR(base, RESOURCE, WRITE, ("sscudascale could not map its output frame"), (nullptr));
        return GST_FLOW_ERROR;
    }
    auto plane = [](GstVideoFrame& f, int i) { return static_cast<std::uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&f, i)); };
    auto stride = [](GstVideoFrame& f, int i) { return static_cast<std::size_t>(GST_VIDEO_FRAME_PLANE_STRIDE(&f, i)); };
    const ss::cuda::Nv12Frame source{plane(in, 0), plane(in, 1), GST_VIDEO_FRAME_WIDTH(&in), GST_VIDEO_FRAME_HEIGHT(&in),
                                     stride(in, 0), stride(in, 1)};
    const ss::cuda::Nv12Frame target{plane(out, 0), plane(out, 1), GST_VIDEO_FRAME_WIDTH(&out), GST_VIDEO_FRAME_HEIGHT(&out),
                                     stride(out, 0), stride(out, 1)};
    std::optional<std::string> failure;
    std::shared_ptr<const ss::DeviceFrame> device_frame;
    // Our kernels run in the decoder's context, where its frames live.
    if (!gst_cuda_context_push(context)) {
        failure = "could not make the decoder's CUDA context current";
    } else {
        try {
            if (state.context != context) {  // a new decoder context: the old scaler goes with the old one
                gst_cuda_context_pop(nullptr);
                drop_scaler(state);
                gst_cuda_context_push(context);
                state.context = static_cast<GstCudaContext*>(gst_object_ref(context));
            }
            if (!state.scaler) state.scaler = std::make_unique<ss::cuda::Nv12Scaler>();
            if (settings.detect()) device_frame = device_copy(base, state, settings, context, source);
            // Also waits for the device copy's kernels (same stream).
            state.scaler->scale(source, target);
        } catch (const std::exception& e) {
            failure = e.what();
        }
        gst_cuda_context_pop(nullptr);
    }
    gst_video_frame_unmap(&out);
    gst_video_frame_unmap(&in);
    if (failure) {
        GST_ELEMENT_ERROR(base, LIBRARY, FAILED, ("sscudascale: %s", failure->c_str()), (nullptr));
        return GST_FLOW_ERROR;
    }
    if (device_frame) ss_buffer_add_device_frame_meta(outbuf, std::move(device_frame));
    return GST_FLOW_OK;
}

static gboolean stop(GstBaseTransform* base) {
    auto& state_guard = impl(SS_CUDA_SCALE(base)).state;
    std::lock_guard lock(state_guard.lock);
    // The scaler's buffers belong to the decoder's context: free them there, while it still exists.
    drop_scaler(state_guard.value);
    return TRUE;
}

static void set_property(GObject* object, guint id, const GValue* value, GParamSpec* pspec) {
    auto& settings = impl(SS_CUDA_SCALE(object)).settings;
    std::lock_guard lock(settings.lock);
    switch (id) {
        case PROP_WIDTH: settings.value.width = g_value_get_int(value); break;
        case PROP_HEIGHT: settings.value.height = g_value_get_int(value); break;
        case PROP_DETECT_WIDTH: settings.value.detect_width = g_value_get_int(value); break;
        case PROP_DETECT_HEIGHT: settings.value.detect_height = g_value_get_int(value); break;
        case PROP_DETECT_KEEP_ASPECT: settings.value.detect_keep_aspect = g_value_get_boolean(value); break;
        case PROP_DETECT_BUFFERS: settings.value.detect_buffers = g_value_get_int(value); break;
        default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
    }
}

static void get_property(GObject* object, guint id, GValue* value, GParamSpec* pspec) {
    const Settings settings = impl(SS_CUDA_SCALE(object)).settings.copy();
    switch (id) {
        case PROP_WIDTH: g_value_set_int(value, settings.width); break;
        case PROP_HEIGHT: g_value_set_int(value, settings.height); break;
        case PROP_DETECT_WIDTH: g_value_set_int(value, settings.detect_width); break;
        case PROP_DETECT_HEIGHT: g_value_set_int(value, settings.detect_height); break;
        case PROP_DETECT_KEEP_ASPECT: g_value_set_boolean(value, settings.detect_keep_aspect); break;
        case PROP_DETECT_BUFFERS: g_value_set_int(value, settings.detect_buffers); break;
        case PROP_WITHOUT_DEVICE_FRAME:
            // Atomic: a property read never waits for a frame being scaled.
            g_value_set_uint64(value, impl(SS_CUDA_SCALE(object)).state.value.without_device_frame.load());
            break;
        default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
    }
}

static void ss_cuda_scale_class_init(SsCudaScaleClass* klass) {
    init_class(klass, {
        .long_name = "slipstream CUDA scaler",
        .classification = "Filter/Converter/Video/Scaler/Hardware",
        .description = "Scales NV12 frames in CUDA memory on the GPU and outputs them, small, in system memory",
        .pad_templates = {&sink_template, &src_template},
        .properties = {
            g_param_spec_int("width", "Width", "Largest output width, aspect kept (0: the frame's)", 0, 16384, 0,
                             ssgst::read_write_in_ready),
            g_param_spec_int("height", "Height", "Largest output height, aspect kept (0: the frame's)", 0, 16384, 0,
                             ssgst::read_write_in_ready),
            g_param_spec_int("detect-width", "Detector width",
                             "Also keep a copy of each frame on the GPU at this width for the detector (0: no copy)", 0, 16384,
                             0, ssgst::read_write_in_ready),
            g_param_spec_int("detect-height", "Detector height",
                             "Height of the detector's copy on the GPU (0: no copy)", 0, 16384, 0, ssgst::read_write_in_ready),
            g_param_spec_boolean("detect-keep-aspect", "Detector copy keeps aspect",
                                 "The detector's copy fits inside detect-width x detect-height keeping the frame's aspect "
                                 "(else it is exactly that size)",
                                 FALSE, ssgst::read_write_in_ready),
            g_param_spec_int("detect-buffers", "Detector buffers",
                             "Device buffers for the detector's copies; with all in use frames go on without one", 1, 256,
                             default_detect_buffers, ssgst::read_write_in_ready),
            g_param_spec_uint64("without-device-frame", "Frames without device frame",
                                "Frames sent on without a detector copy because every buffer was in use", 0, G_MAXUINT64, 0,
                                ssgst::readable),
        },
        .set_property = set_property,
        .get_property = get_property,
        .debug = &ss_cuda_scale_debug,
        .debug_name = "sscudascale",
    });
    auto* base = GST_BASE_TRANSFORM_CLASS(klass);
    base->transform_caps = transform_caps;
    base->fixate_caps = fixate_caps;
    base->set_caps = set_caps;
    base->propose_allocation = propose_allocation;
    base->transform_size = transform_size;
    base->transform = transform;
    base->stop = stop;
    base->passthrough_on_same_caps = FALSE;
}

static void ss_cuda_scale_init(SsCudaScale* self) { construct_impl(self); }
