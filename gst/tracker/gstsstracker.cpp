/**
 * SECTION:element-sstracker
 *
 * Gives every object of a batch a track id that follows it from frame to
 * frame, one tracker per source (core/src/trackers, chosen by the detector
 * config's [tracker] section). On source frames where detection did not run —
 * skipped by `interval`, or because detection was busy — it emits the
 * predicted boxes of live tracks, marked predicted.
 *
 * Detections can arrive a frame or two after the frame they were found in
 * (ssinfer never holds a batch back); the tracker is brought up to that frame,
 * updated with them, then predicted forward to the frame on screen.
 *
 * Example:
 *   gst-launch-1.0 ssbatchmux name=m ! ssinfer ! sstracker ! sstiler ! videoconvert ! autovideosink \
 *     uridecodebin uri=file:///a.mp4 ! videoconvert ! m.sink_0
 */
#include "gstsstracker.hpp"

#include <algorithm>
#include <map>
#include <mutex>

#include "element_impl.hpp"
#include "meta/batch_meta.hpp"
#include "slipstream/tracker.hpp"

GST_DEBUG_CATEGORY_STATIC(ss_tracker_debug);
#define GST_CAT_DEFAULT ss_tracker_debug

namespace {

// Predicting further than this between two detections only drifts.
constexpr guint64 max_catch_up_frames = 100;

struct SourceTrack {
    std::unique_ptr<ss::Tracker> tracker;
    guint64 tracked_frame = 0;  // source frame the tracker state belongs to
    cv::Size size;              // frame size the boxes are in
    ss::Detections shown;       // objects of tracked_frame
};

struct Settings {
    std::string tracker_type;  // empty: the detector config's
};

struct State {
    std::shared_ptr<const ss::InferConfig> config;  // the settings came from this detector config
    ss::TrackerSettings settings;
    bool have_settings = false;
    std::map<guint, SourceTrack> sources;
};

struct Impl {
    ssgst::Guarded<Settings> settings;
    ssgst::Guarded<State> state;
};

}  // namespace

struct _SsTracker {
    GstElement parent;
    GstPad* sinkpad;
    GstPad* srcpad;
};

SS_DEFINE_ELEMENT(SsTracker, ss_tracker, Impl)

enum { PROP_0, PROP_TYPE };

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(SS_BATCH_CAPS));
static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(SS_BATCH_CAPS));

// Called with the state locked.
static bool load_settings(SsTracker* self, State& st, const std::shared_ptr<const ss::InferConfig>& config) {
    if (st.have_settings && st.config == config) return true;
    const std::string type_override = impl(self).settings.copy().tracker_type;
    try {
        std::vector<std::string> warnings;
        ss::TrackerSettings settings = config ? ss::parse_tracker_settings(config->tracker, &warnings) : ss::TrackerSettings{};
        for (const auto& w : warnings) GST_ELEMENT_WARNING(self, RESOURCE, SETTINGS, ("%s", w.c_str()), (nullptr));
        if (!type_override.empty()) settings.type = type_override;
        ss::make_tracker(settings);  // validates the type
        st.settings = settings;
        st.config = config;
        st.have_settings = true;
        st.sources.clear();
        GST_INFO_OBJECT(self, "tracker %s, min-hits %d, max-age %d", settings.type.c_str(), settings.min_hits, settings.max_age);
        return true;
    } catch (const std::exception& e) {
        GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("%s", e.what()), (nullptr));
        return false;
    }
}

static void track(State& st, SsBatchFrame& f) {
    SourceTrack& s = st.sources[f.source_id];
    if (!s.tracker) s.tracker = ss::make_tracker(st.settings);
    const guint64 now = f.frame->number;
    if (now < s.tracked_frame) {  // the source restarted: start over
        s = {};
        s.tracker = ss::make_tracker(st.settings);
    }
    if (f.detected) {
        if (f.detected_frame > s.tracked_frame) {
            // Bring the tracks up to the detected frame, then match.
            const guint64 gap = std::min(f.detected_frame - s.tracked_frame - 1, max_catch_up_frames);
            for (guint64 i = 0; s.tracked_frame && i < gap; ++i) s.tracker->predict();
            s.tracked_frame = f.detected_frame;
        }
        // A result for a frame the tracks were already predicted past is matched
        // where the tracks are now: a frame or two of motion, well inside the gates.
        s.shown = s.tracker->update(f.objects);
        s.size = f.frame->bgr.size();
    }
    if (s.tracked_frame == 0) {
        f.objects.clear();  // nothing detected yet
        return;
    }
    while (s.tracked_frame < now) {
        s.shown = s.tracker->predict();
        ++s.tracked_frame;
        if (now - s.tracked_frame > max_catch_up_frames) s.tracked_frame = now;
    }
    // Predicted boxes may drift past the picture's edge: keep what is inside.
    f.objects.clear();
    const float width = static_cast<float>(f.frame->bgr.cols), height = static_cast<float>(f.frame->bgr.rows);
    for (auto& d : ss::resized(s.shown, s.size, f.frame->bgr.size())) {
        d.box = ss::clipped(d.box, width, height);
        if (d.box.area() > 0) f.objects.push_back(d);
    }
}

static GstFlowReturn sink_chain(GstPad*, GstObject* parent, GstBuffer* buffer) {
    auto* self = SS_TRACKER(parent);
    if (!ss_buffer_get_batch_meta(buffer)) return gst_pad_push(self->srcpad, buffer);
    buffer = gst_buffer_make_writable(buffer);
    SsBatchMeta* meta = ss_buffer_get_batch_meta(buffer);
    {
        auto& [lock, st] = impl(self).state;
        std::lock_guard guard(lock);
        if (!load_settings(self, st, *meta->detector_config)) {
            gst_buffer_unref(buffer);
            return GST_FLOW_ERROR;
        }
        try {
            for (auto& f : *meta->frames) {
                if (f.frame) track(st, f);
            }
            // Every source the mux has is in every batch: one missing was removed
            // (a camera taken out at run time), and its tracks go with it.
            for (auto it = st.sources.begin(); it != st.sources.end();) {
                const guint id = it->first;
                const bool present = std::any_of(meta->frames->begin(), meta->frames->end(),
                                                 [id](const SsBatchFrame& f) { return f.source_id == id; });
                it = present ? std::next(it) : st.sources.erase(it);
            }
        } catch (const std::exception& e) {
            // Never across the GObject boundary: the batch goes on without tracks.
            GST_WARNING_OBJECT(self, "tracking failed: %s", e.what());
        }
    }
    return gst_pad_push(self->srcpad, buffer);
}

static GstStateChangeReturn change_state(GstElement* element, GstStateChange transition) {
    auto* self = SS_TRACKER(element);
    const GstStateChangeReturn result = GST_ELEMENT_CLASS(ss_tracker_parent_class)->change_state(element, transition);
    if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) {
        auto& [lock, st] = impl(self).state;
        std::lock_guard guard(lock);
        st = State{};
    }
    return result;
}

static void set_property(GObject* object, guint id, const GValue* value, GParamSpec* pspec) {
    auto* self = SS_TRACKER(object);
    if (id != PROP_TYPE) {
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
        return;
    }
    {
        auto& [lock, settings] = impl(self).settings;
        std::lock_guard guard(lock);
        const gchar* type = g_value_get_string(value);
        settings.tracker_type = type ? type : "";
    }
    // After the settings changed: the next batch loads them.
    auto& [lock, st] = impl(self).state;
    std::lock_guard guard(lock);
    st.have_settings = false;
}

static void get_property(GObject* object, guint id, GValue* value, GParamSpec* pspec) {
    if (id != PROP_TYPE) {
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
        return;
    }
    g_value_set_string(value, impl(SS_TRACKER(object)).settings.copy().tracker_type.c_str());
}

static void ss_tracker_class_init(SsTrackerClass* klass) {
    init_class(klass, {
        .long_name = "slipstream tracker",
        .classification = "Filter/Analyzer/Video",
        .description = "Assigns track ids and predicts boxes between detections",
        .pad_templates = {&sink_template, &src_template},
        .properties = {
            g_param_spec_string("tracker", "Tracker", "Tracker type (empty: the config's [tracker] type, default bytetrack)", "",
                                ssgst::read_write),
        },
        .set_property = set_property,
        .get_property = get_property,
        .change_state = change_state,
        .debug = &ss_tracker_debug,
        .debug_name = "sstracker",
    });
}

static void ss_tracker_init(SsTracker* self) {
    construct_impl(self);
    self->sinkpad = ssgst::add_pad(GST_ELEMENT(self), &sink_template, {.chain = sink_chain, .proxy_caps = true});
    self->srcpad = ssgst::add_pad(GST_ELEMENT(self), &src_template, {.proxy_caps = true});
}
