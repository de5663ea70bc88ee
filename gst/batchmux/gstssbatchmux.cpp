/**
 * SECTION:element-ssbatchmux
 *
 * Batches N live video streams into one stream of batches, one per output
 * frame period, each holding the next frame of every source (#SsBatchMeta):
 * the oldest of at most two not shown yet, so a camera as fast as the output
 * loses no frame to arrival jitter, or else the last one shown again.
 * A source that is late or gone never holds the output back: its last frame is
 * repeated, and after #SsBatchMux:no-signal-timeout it is marked no-signal.
 * Each incoming frame is scaled and converted to BGR once, on arrival, to the
 * working size inference and display need (#SsBatchMux:frame-width/-height),
 * keeping its aspect ratio. Non-live inputs (files) are paced to real time.
 *
 * Example:
 *   gst-launch-1.0 ssbatchmux name=m fps=25/1 ! ssinfer ! sstiler ! videoconvert ! autovideosink \
 *     uridecodebin uri=file:///a.mp4 ! videoconvert ! m.sink_0 \
 *     uridecodebin uri=rtsp://cam/stream ! videoconvert ! m.sink_1
 */
#include "gstssbatchmux.hpp"

#include <gst/video/video.h>

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>

#include "element_impl.hpp"
#include "meta/batch_meta.hpp"
#include "meta/device_frame_meta.hpp"
#include "meta/running_time.hpp"
#include "slipstream/frame_convert.hpp"

GST_DEBUG_CATEGORY_STATIC(ss_batch_mux_debug);
#define GST_CAT_DEFAULT ss_batch_mux_debug

namespace {

constexpr int default_fps_n = 30, default_fps_d = 1;
constexpr int default_frame_width = 640, default_frame_height = 480;
constexpr GstClockTime default_no_signal_timeout = 2 * GST_SECOND;
// Frames of a source that arrived and wait for a batch. A 30 fps camera into a
// 30 fps output sends at the ticks' own pace, and jitter puts two frames in one
// period now and then: keeping the older for the next tick shows both (the
// busy-machine test lost 18% of a 1080p30 camera's frames to a single slot).
// A camera faster than the output loses its oldest frames here, never adding
// more than one period of delay.
constexpr std::size_t max_unshown_frames = 2;

struct PadState {
    guint source_id = 0;
    GstVideoInfo info{};
    bool has_info = false;
    GstSegment segment{};
    std::shared_ptr<const SsVideoFrame> latest;  // the frame in the last batch
    std::deque<std::shared_ptr<const SsVideoFrame>> unshown;  // arrived since, oldest first
    guint64 dropped = 0;  // frames that never made it into a batch
    bool eos = false;
    bool flushing = false;
    guint64 frames = 0;
    GstClockTime last_arrival = GST_CLOCK_TIME_NONE;
    // Pacing of non-live upstreams: real time relative to the first buffer.
    bool liveness_known = false, upstream_live = true;
    GstClockTimeDiff pace_offset = 0;
    bool pace_started = false;
    GstClockID wait_id = nullptr;
};

struct Settings {
    gint fps_n = default_fps_n, fps_d = default_fps_d;
    gint frame_width = default_frame_width, frame_height = default_frame_height;
    GstClockTime no_signal_timeout = default_no_signal_timeout;
    gboolean end_on_eos = TRUE;
};

struct State {
    std::map<GstPad*, std::unique_ptr<PadState>> pads;
    bool playing = false;
    bool stopping = false;
    // The output task's own: stream-start/caps/segment sent, the running time
    // of tick 0, and the tick due next.
    bool started = false;
    GstClockTime start_time = 0;
    guint64 tick = 0;
    GstClockID tick_id = nullptr;
};

// Threads take a copy of the settings before they lock the state, never the
// other way round, so a property read waits for no streaming thread.
struct Impl {
    ssgst::Guarded<Settings> settings;
    ssgst::Guarded<State> state;
    std::condition_variable playing_changed;  // with the state lock
};

}  // namespace

struct _SsBatchMux {
    GstElement parent;
    GstPad* srcpad;
};

SS_DEFINE_ELEMENT(SsBatchMux, ss_batch_mux, Impl)

enum { PROP_0, PROP_FPS, PROP_FRAME_WIDTH, PROP_FRAME_HEIGHT, PROP_NO_SIGNAL_TIMEOUT, PROP_END_ON_EOS };

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE(
    "sink_%u", GST_PAD_SINK, GST_PAD_REQUEST,
    GST_STATIC_CAPS(GST_VIDEO_CAPS_MAKE("{ I420, YV12, NV12, BGR, BGRx, RGB, RGBx, GRAY8 }")));

static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(SS_BATCH_CAPS));

// Called with the state locked.
static PadState* pad_state(SsBatchMux* self, GstPad* pad) {
    auto& pads = impl(self).state.value.pads;
    auto it = pads.find(pad);
    return it == pads.end() ? nullptr : it->second.get();
}

static bool to_pixel_format(GstVideoFormat format, ss::PixelFormat& out) {
    switch (format) {
        case GST_VIDEO_FORMAT_I420: out = ss::PixelFormat::i420; return true;
        case GST_VIDEO_FORMAT_YV12: out = ss::PixelFormat::yv12; return true;
        case GST_VIDEO_FORMAT_NV12: out = ss::PixelFormat::nv12; return true;
        case GST_VIDEO_FORMAT_BGR: out = ss::PixelFormat::bgr; return true;
        case GST_VIDEO_FORMAT_BGRx: out = ss::PixelFormat::bgrx; return true;
        case GST_VIDEO_FORMAT_RGB: out = ss::PixelFormat::rgb; return true;
        case GST_VIDEO_FORMAT_RGBx: out = ss::PixelFormat::rgbx; return true;
        case GST_VIDEO_FORMAT_GRAY8: out = ss::PixelFormat::gray8; return true;
        default: return false;
    }
}

// Blocks a non-live upstream until its buffer is due, so files play in real time.
// Returns false when flushing or stopping.
static bool pace(SsBatchMux* self, GstPad* pad, PadState* state, GstBuffer* buffer, std::unique_lock<std::mutex>& lock) {
    if (!state->liveness_known) {
        lock.unlock();
        GstQuery* query = gst_query_new_latency();
        gboolean live = TRUE;
        if (gst_pad_peer_query(pad, query)) gst_query_parse_latency(query, &live, nullptr, nullptr);
        gst_query_unref(query);
        lock.lock();
        state = pad_state(self, pad);
        if (!state) return false;
        state->liveness_known = true;
        state->upstream_live = live;
        GST_INFO_OBJECT(pad, "upstream is %s", live ? "live" : "not live: pacing to real time");
    }
    if (state->upstream_live) return true;
    const State& st = impl(self).state.value;
    impl(self).playing_changed.wait(lock, [&] { return st.playing || st.stopping || state->flushing; });
    if (st.stopping || state->flushing) return false;

    const GstClockTime rt = gst_segment_to_running_time(&state->segment, GST_FORMAT_TIME, GST_BUFFER_PTS(buffer));
    const GstClockTime now = ss_running_time_now(GST_ELEMENT(self));
    if (!GST_CLOCK_TIME_IS_VALID(rt) || !GST_CLOCK_TIME_IS_VALID(now)) return true;
    if (!state->pace_started) {
        state->pace_offset = GST_CLOCK_DIFF(rt, now);
        state->pace_started = true;
        return true;
    }
    const GstClockTimeDiff due = static_cast<GstClockTimeDiff>(rt) + state->pace_offset;
    if (due <= static_cast<GstClockTimeDiff>(now)) return true;
    GstClock* clock = gst_element_get_clock(GST_ELEMENT(self));
    if (!clock) return true;
    state->wait_id = gst_clock_new_single_shot_id(clock, gst_element_get_base_time(GST_ELEMENT(self)) + due);
    gst_object_unref(clock);
    GstClockID id = state->wait_id;
    lock.unlock();
    gst_clock_id_wait(id, nullptr);
    lock.lock();
    state = pad_state(self, pad);
    if (state) state->wait_id = nullptr;
    gst_clock_id_unref(id);
    return state && !state->flushing && !st.stopping;
}

static GstFlowReturn sink_chain(GstPad* pad, GstObject* parent, GstBuffer* buffer) {
    auto* self = SS_BATCH_MUX(parent);
    std::unique_lock lock(impl(self).state.lock);
    PadState* state = pad_state(self, pad);
    if (!state || !state->has_info) {
        lock.unlock();
        gst_buffer_unref(buffer);
        GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("ssbatchmux got a buffer before caps on %s", GST_PAD_NAME(pad)), (nullptr));
        return GST_FLOW_NOT_NEGOTIATED;
    }
    if (!pace(self, pad, state, buffer, lock)) {
        gst_buffer_unref(buffer);
        return GST_FLOW_FLUSHING;
    }
    state = pad_state(self, pad);
    if (!state) {
        gst_buffer_unref(buffer);
        return GST_FLOW_FLUSHING;
    }
    const GstVideoInfo info = state->info;
    const GstSegment segment = state->segment;
    const GstClockTimeDiff pace_offset = state->upstream_live ? 0 : state->pace_offset;
    lock.unlock();
    const Settings settings = impl(self).settings.copy();
    const cv::Size box(settings.frame_width, settings.frame_height);

    // Conversion runs outside the lock, in this source's own streaming thread.
    auto frame = std::make_shared<SsVideoFrame>();
    GstVideoFrame mapped;
    if (!gst_video_frame_map(&mapped, const_cast<GstVideoInfo*>(&info), buffer, GST_MAP_READ)) {
        gst_buffer_unref(buffer);
        GST_WARNING_OBJECT(pad, "could not map a frame; dropped");
        return GST_FLOW_OK;
    }
    ss::PlanarImage image;
    to_pixel_format(GST_VIDEO_INFO_FORMAT(&info), image.format);
    image.width = GST_VIDEO_INFO_WIDTH(&info);
    image.height = GST_VIDEO_INFO_HEIGHT(&info);
    for (guint p = 0; p < GST_VIDEO_FRAME_N_PLANES(&mapped) && p < 3; ++p) {
        image.planes[p] = static_cast<const std::uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&mapped, p));
        image.strides[p] = GST_VIDEO_FRAME_PLANE_STRIDE(&mapped, p);
    }
    try {
        ss::convert_scaled(image, ss::fit_size({image.width, image.height}, box), frame->bgr);
    } catch (const std::exception& e) {
        GST_WARNING_OBJECT(pad, "frame conversion failed: %s", e.what());
    }
    gst_video_frame_unmap(&mapped);
    frame->device = ss_buffer_get_device_frame(buffer);  // GPU path: the detector's copy, if sscudascale made one
    frame->source_width = image.width;
    frame->source_height = image.height;
    frame->pts = gst_segment_to_stream_time(&segment, GST_FORMAT_TIME, GST_BUFFER_PTS(buffer));
    if (!GST_CLOCK_TIME_IS_VALID(frame->pts)) frame->pts = GST_BUFFER_PTS(buffer);
    const GstClockTime running = gst_segment_to_running_time(&segment, GST_FORMAT_TIME, GST_BUFFER_PTS(buffer));
    if (GST_CLOCK_TIME_IS_VALID(running) && static_cast<GstClockTimeDiff>(running) + pace_offset >= 0) {
        frame->capture = static_cast<GstClockTime>(static_cast<GstClockTimeDiff>(running) + pace_offset);
    }
    gst_buffer_unref(buffer);
    if (frame->bgr.empty()) return GST_FLOW_OK;

    lock.lock();
    state = pad_state(self, pad);
    if (!state) return GST_FLOW_FLUSHING;
    frame->number = ++state->frames;
    frame->arrival = ss_running_time_now(GST_ELEMENT(self));
    state->last_arrival = frame->arrival;
    if (state->unshown.size() >= max_unshown_frames) {
        state->unshown.pop_front();
        GST_LOG_OBJECT(pad, "source %u: a frame was never shown (%" G_GUINT64_FORMAT " so far)", state->source_id, ++state->dropped);
    }
    state->unshown.push_back(std::move(frame));
    state->eos = false;
    return GST_FLOW_OK;
}

static gboolean sink_event(GstPad* pad, GstObject* parent, GstEvent* event) {
    auto* self = SS_BATCH_MUX(parent);
    std::unique_lock lock(impl(self).state.lock);
    PadState* state = pad_state(self, pad);
    gboolean ok = TRUE;
    if (state) {
        switch (GST_EVENT_TYPE(event)) {
            case GST_EVENT_CAPS: {
                GstCaps* caps = nullptr;
                gst_event_parse_caps(event, &caps);
                GstVideoInfo info;
                ss::PixelFormat format;
                ok = gst_video_info_from_caps(&info, caps) && to_pixel_format(GST_VIDEO_INFO_FORMAT(&info), format);
                if (ok) {
                    state->info = info;
                    state->has_info = true;
                    GST_INFO_OBJECT(pad, "source %u: %s %dx%d", state->source_id,
                                    gst_video_format_to_string(GST_VIDEO_INFO_FORMAT(&info)), GST_VIDEO_INFO_WIDTH(&info),
                                    GST_VIDEO_INFO_HEIGHT(&info));
                }
                break;
            }
            case GST_EVENT_SEGMENT: {
                const GstSegment* segment = nullptr;
                gst_event_parse_segment(event, &segment);
                if (segment->format == GST_FORMAT_TIME) {
                    gst_segment_copy_into(segment, &state->segment);
                } else {
                    gst_segment_init(&state->segment, GST_FORMAT_TIME);
                }
                state->pace_started = false;
                break;
            }
            case GST_EVENT_STREAM_START:
                state->eos = false;
                state->liveness_known = false;
                state->pace_started = false;
                break;
            case GST_EVENT_EOS:
                GST_INFO_OBJECT(pad, "source %u ended", state->source_id);
                state->eos = true;
                break;
            case GST_EVENT_FLUSH_START:
                state->flushing = true;
                if (state->wait_id) gst_clock_id_unschedule(state->wait_id);
                impl(self).playing_changed.notify_all();
                break;
            case GST_EVENT_FLUSH_STOP:
                state->flushing = false;
                gst_segment_init(&state->segment, GST_FORMAT_TIME);
                state->pace_started = false;
                break;
            default:
                break;
        }
    }
    lock.unlock();
    // Events of single sources end here: the batch stream has its own.
    gst_event_unref(event);
    return ok;
}

static gboolean sink_query(GstPad* pad, GstObject* parent, GstQuery* query) {
    if (GST_QUERY_TYPE(query) == GST_QUERY_CAPS) {
        ssgst::answer_caps_query(query, gst_pad_get_pad_template_caps(pad));
        return TRUE;
    }
    if (GST_QUERY_TYPE(query) == GST_QUERY_ACCEPT_CAPS) {
        GstCaps* caps = nullptr;
        gst_query_parse_accept_caps(query, &caps);
        GstCaps* templ = gst_pad_get_pad_template_caps(pad);
        gst_query_set_accept_caps_result(query, gst_caps_can_intersect(caps, templ));
        gst_caps_unref(templ);
        return TRUE;
    }
    // Queries about one source end here; the batch stream downstream is another matter.
    if (GST_QUERY_TYPE(query) == GST_QUERY_ALLOCATION) return FALSE;
    return gst_pad_query_default(pad, parent, query);
}

static GstPad* request_new_pad(GstElement* element, GstPadTemplate* templ, const gchar* name, const GstCaps*) {
    auto* self = SS_BATCH_MUX(element);
    guint id = 0;
    auto& [mutex, st] = impl(self).state;
    std::unique_lock lock(mutex);
    if (name && sscanf(name, "sink_%u", &id) == 1) {
        for (auto& [p, s] : st.pads) {
            if (s->source_id == id) {
                GST_WARNING_OBJECT(self, "pad %s already exists", name);
                return nullptr;
            }
        }
    } else {
        for (auto& [p, s] : st.pads) id = std::max(id, s->source_id + 1);
    }
    gchar* pad_name = g_strdup_printf("sink_%u", id);
    GstPad* pad = gst_pad_new_from_template(templ, pad_name);
    g_free(pad_name);
    auto state = std::make_unique<PadState>();
    state->source_id = id;
    gst_segment_init(&state->segment, GST_FORMAT_TIME);
    st.pads[pad] = std::move(state);
    lock.unlock();
    gst_pad_set_chain_function(pad, sink_chain);
    gst_pad_set_event_function(pad, sink_event);
    gst_pad_set_query_function(pad, sink_query);
    gst_pad_set_active(pad, TRUE);
    gst_element_add_pad(element, pad);
    return pad;
}

static void release_pad(GstElement* element, GstPad* pad) {
    auto* self = SS_BATCH_MUX(element);
    auto& [mutex, st] = impl(self).state;
    {
        std::lock_guard lock(mutex);
        if (PadState* state = pad_state(self, pad)) {
            state->flushing = true;
            if (state->wait_id) gst_clock_id_unschedule(state->wait_id);
        }
        impl(self).playing_changed.notify_all();
    }
    gst_pad_set_active(pad, FALSE);
    {
        std::lock_guard lock(mutex);
        st.pads.erase(pad);
    }
    gst_element_remove_pad(element, pad);
}

// One batch per output period: the next frame of each source, in source order.
// Called with the state locked.
static GstBuffer* build_batch(State& st, const Settings& settings, GstClockTime now) {
    GstBuffer* batch = gst_buffer_new();
    SsBatchMeta* meta = ss_buffer_add_batch_meta(batch);
    meta->batch_number = st.tick;
    meta->built = now;
    std::map<guint, SsBatchFrame> ordered;
    for (auto& [pad, state] : st.pads) {
        SsBatchFrame f;
        f.source_id = state->source_id;
        f.fresh = !state->unshown.empty();
        if (f.fresh) {
            state->latest = std::move(state->unshown.front());
            state->unshown.pop_front();
        }
        f.frame = state->latest;
        const bool timed_out = GST_CLOCK_TIME_IS_VALID(state->last_arrival) && GST_CLOCK_TIME_IS_VALID(now) &&
                               now > state->last_arrival + settings.no_signal_timeout;
        f.since_last_frame = GST_CLOCK_TIME_IS_VALID(state->last_arrival) && now > state->last_arrival ? now - state->last_arrival : 0;
        f.state = !f.frame ? SourceState::waiting : (state->eos || timed_out) ? SourceState::no_signal : SourceState::live;
        ordered[f.source_id] = std::move(f);
    }
    for (auto& [id, f] : ordered) meta->frames->push_back(std::move(f));
    return batch;
}

static void push_stream_headers(SsBatchMux* self, const Settings& settings) {
    // gst_pad_create_stream_id() refuses elements with several sink pads: make our own.
    gchar* stream_id = g_strdup_printf("ssbatchmux-%08x%08x", g_random_int(), g_random_int());
    gst_pad_push_event(self->srcpad, gst_event_new_stream_start(stream_id));
    g_free(stream_id);
    GstCaps* caps = gst_caps_new_simple(SS_BATCH_CAPS, "framerate", GST_TYPE_FRACTION, settings.fps_n, settings.fps_d, nullptr);
    gst_pad_push_event(self->srcpad, gst_event_new_caps(caps));
    gst_caps_unref(caps);
    GstSegment segment;
    gst_segment_init(&segment, GST_FORMAT_TIME);
    gst_pad_push_event(self->srcpad, gst_event_new_segment(&segment));
}

static void src_loop(gpointer user_data) {
    auto* self = SS_BATCH_MUX(user_data);
    GstClock* clock = gst_element_get_clock(GST_ELEMENT(self));
    if (!clock) {
        gst_pad_pause_task(self->srcpad);
        return;
    }
    const GstClockTime base = gst_element_get_base_time(GST_ELEMENT(self));
    const Settings settings = impl(self).settings.copy();
    const GstClockTime period = gst_util_uint64_scale_int(GST_SECOND, settings.fps_d, settings.fps_n);
    auto& [mutex, st] = impl(self).state;
    {
        std::lock_guard lock(mutex);
        if (!st.started) {
            st.start_time = ss_running_time_now(GST_ELEMENT(self));
            st.tick = 0;
        }
    }
    if (!st.started) {
        push_stream_headers(self, settings);
        st.started = true;
    }

    // Wait for the tick; when the machine fell behind, skip the missed ticks
    // rather than bursting, so the output rate stays steady.
    GstClockTime due = st.start_time + st.tick * period;
    const GstClockTime now_before = ss_running_time_now(GST_ELEMENT(self));
    if (GST_CLOCK_TIME_IS_VALID(now_before) && now_before > due + period) {
        const guint64 behind = (now_before - due) / period;
        GST_DEBUG_OBJECT(self, "late by %" G_GUINT64_FORMAT " periods; skipping them", behind);
        st.tick += behind;
        due = st.start_time + st.tick * period;
    }
    {
        std::lock_guard lock(mutex);
        // Not playing any more (a pause began after unblock_all ran): a new wait
        // would not be unscheduled, and gst_pad_pause_task() would wait on it.
        if (st.stopping || !st.playing) {
            gst_object_unref(clock);
            return;
        }
        st.tick_id = gst_clock_new_single_shot_id(clock, base + due);
    }
    gst_object_unref(clock);
    const GstClockReturn waited = gst_clock_id_wait(st.tick_id, nullptr);
    GstBuffer* batch = nullptr;
    bool all_ended = false;
    {
        std::lock_guard lock(mutex);
        gst_clock_id_unref(st.tick_id);
        st.tick_id = nullptr;
        if (waited == GST_CLOCK_UNSCHEDULED || st.stopping || !st.playing) return;
        batch = build_batch(st, settings, ss_running_time_now(GST_ELEMENT(self)));
        all_ended = settings.end_on_eos && !st.pads.empty();
        for (auto& [pad, state] : st.pads) all_ended = all_ended && state->eos;
    }
    GST_BUFFER_PTS(batch) = due;
    GST_BUFFER_DURATION(batch) = period;
    ++st.tick;

    const GstFlowReturn flow = gst_pad_push(self->srcpad, batch);
    if (all_ended) {
        GST_INFO_OBJECT(self, "all sources ended");
        gst_pad_push_event(self->srcpad, gst_event_new_eos());
        gst_pad_pause_task(self->srcpad);
    } else if (flow == GST_FLOW_FLUSHING) {
        gst_pad_pause_task(self->srcpad);
    } else if (flow != GST_FLOW_OK) {
        if (flow == GST_FLOW_NOT_LINKED || flow < GST_FLOW_EOS) GST_ELEMENT_FLOW_ERROR(self, flow);
        gst_pad_push_event(self->srcpad, gst_event_new_eos());
        gst_pad_pause_task(self->srcpad);
    }
}

static void unblock_all(SsBatchMux* self) {
    auto& [mutex, st] = impl(self).state;
    std::lock_guard lock(mutex);
    if (st.tick_id) gst_clock_id_unschedule(st.tick_id);
    for (auto& [pad, state] : st.pads) {
        if (state->wait_id) gst_clock_id_unschedule(state->wait_id);
    }
    impl(self).playing_changed.notify_all();
}

static GstStateChangeReturn change_state(GstElement* element, GstStateChange transition) {
    auto* self = SS_BATCH_MUX(element);
    auto& [mutex, st] = impl(self).state;
    switch (transition) {
        case GST_STATE_CHANGE_READY_TO_PAUSED: {
            std::lock_guard lock(mutex);
            st.stopping = false;
            st.started = false;
            st.playing = false;
            break;
        }
        case GST_STATE_CHANGE_PAUSED_TO_READY: {
            {
                std::lock_guard lock(mutex);
                st.stopping = true;
                st.playing = false;
            }
            unblock_all(self);
            gst_pad_stop_task(self->srcpad);
            break;
        }
        case GST_STATE_CHANGE_PLAYING_TO_PAUSED: {
            {
                std::lock_guard lock(mutex);
                st.playing = false;
            }
            unblock_all(self);
            gst_pad_pause_task(self->srcpad);
            break;
        }
        default:
            break;
    }
    GstStateChangeReturn result = GST_ELEMENT_CLASS(ss_batch_mux_parent_class)->change_state(element, transition);
    if (result == GST_STATE_CHANGE_FAILURE) return result;
    switch (transition) {
        case GST_STATE_CHANGE_READY_TO_PAUSED:
        case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
            return GST_STATE_CHANGE_NO_PREROLL;  // a live source: nothing to preroll
        case GST_STATE_CHANGE_PAUSED_TO_PLAYING: {
            {
                std::lock_guard lock(mutex);
                st.playing = true;
                st.started = false;  // restart the tick clock from now
                impl(self).playing_changed.notify_all();
            }
            gst_pad_start_task(self->srcpad, src_loop, self, nullptr);
            break;
        }
        default:
            break;
    }
    return result;
}

static gboolean src_query(GstPad* pad, GstObject* parent, GstQuery* query) {
    auto* self = SS_BATCH_MUX(parent);
    switch (GST_QUERY_TYPE(query)) {
        case GST_QUERY_LATENCY: {
            // Batches are made from frames that already arrived: a live source adding no latency.
            gst_query_set_latency(query, TRUE, 0, GST_CLOCK_TIME_NONE);
            return TRUE;
        }
        case GST_QUERY_CAPS: {
            const Settings settings = impl(self).settings.copy();
            GstCaps* caps = gst_caps_new_simple(SS_BATCH_CAPS, "framerate", GST_TYPE_FRACTION, settings.fps_n, settings.fps_d, nullptr);
            gst_query_set_caps_result(query, caps);
            gst_caps_unref(caps);
            return TRUE;
        }
        default:
            return gst_pad_query_default(pad, parent, query);
    }
}

static void set_property(GObject* object, guint id, const GValue* value, GParamSpec* pspec) {
    auto& [lock, s] = impl(SS_BATCH_MUX(object)).settings;
    std::lock_guard guard(lock);
    switch (id) {
        case PROP_FPS:
            s.fps_n = gst_value_get_fraction_numerator(value);
            s.fps_d = gst_value_get_fraction_denominator(value);
            if (s.fps_n <= 0 || s.fps_d <= 0) s.fps_n = default_fps_n, s.fps_d = default_fps_d;
            break;
        case PROP_FRAME_WIDTH: s.frame_width = g_value_get_int(value); break;
        case PROP_FRAME_HEIGHT: s.frame_height = g_value_get_int(value); break;
        case PROP_NO_SIGNAL_TIMEOUT: s.no_signal_timeout = g_value_get_uint64(value); break;
        case PROP_END_ON_EOS: s.end_on_eos = g_value_get_boolean(value); break;
        default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
    }
}

static void get_property(GObject* object, guint id, GValue* value, GParamSpec* pspec) {
    const Settings s = impl(SS_BATCH_MUX(object)).settings.copy();
    switch (id) {
        case PROP_FPS: gst_value_set_fraction(value, s.fps_n, s.fps_d); break;
        case PROP_FRAME_WIDTH: g_value_set_int(value, s.frame_width); break;
        case PROP_FRAME_HEIGHT: g_value_set_int(value, s.frame_height); break;
        case PROP_NO_SIGNAL_TIMEOUT: g_value_set_uint64(value, s.no_signal_timeout); break;
        case PROP_END_ON_EOS: g_value_set_boolean(value, s.end_on_eos); break;
        default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
    }
}

static void ss_batch_mux_class_init(SsBatchMuxClass* klass) {
    const auto flags = ssgst::read_write;
    init_class(klass, {
        .long_name = "slipstream batch mux",
        .classification = "Video/Muxer",
        .description = "Batches the next frame of each live source once per output frame period",
        .pad_templates = {&sink_template, &src_template},
        // In the order of the PROP_ enum.
        .properties = {
            gst_param_spec_fraction("fps", "Output frame rate", "Batches per second", 1, 1, 240, 1, default_fps_n, default_fps_d,
                                    flags),
            g_param_spec_int("frame-width", "Frame width", "Largest working-frame width (aspect kept)", 16, 8192,
                             default_frame_width, flags),
            g_param_spec_int("frame-height", "Frame height", "Largest working-frame height (aspect kept)", 16, 8192,
                             default_frame_height, flags),
            g_param_spec_uint64("no-signal-timeout", "No-signal timeout",
                                "Nanoseconds without a frame before a source is shown as NO SIGNAL", 0, G_MAXUINT64,
                                default_no_signal_timeout, flags),
            g_param_spec_boolean("end-on-eos", "End on EOS", "Send EOS when every source has ended", TRUE, flags),
        },
        .set_property = set_property,
        .get_property = get_property,
        .change_state = change_state,
        .debug = &ss_batch_mux_debug,
        .debug_name = "ssbatchmux",
    });
    GST_ELEMENT_CLASS(klass)->request_new_pad = request_new_pad;
    GST_ELEMENT_CLASS(klass)->release_pad = release_pad;
}

static void ss_batch_mux_init(SsBatchMux* self) {
    construct_impl(self);
    self->srcpad = ssgst::add_pad(GST_ELEMENT(self), &src_template, {.query = src_query, .fixed_caps = true});
}
