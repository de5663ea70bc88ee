/**
 * SECTION:element-ssinfer
 *
 * Object detection on batches from ssbatchmux, configured by an nvinfer-style
 * INI file (#SsInfer:config-file). Detection runs on worker threads
 * (#SsInfer:workers, each with its own network); upstream never waits for
 * them. A batch whose frames were handed to a worker waits on this element's
 * own thread for their results, at most #SsInfer:max-delay, so boxes match
 * the frame they were found in; after that it leaves with the newest finished
 * detections, and the late ones still reach the tracker on a later batch. By
 * default the deadline follows how long detection really takes now, within
 * #SsInfer:latency-budget (core's DetectionDeadline). Workers run at
 * background priority, so detection only takes the CPU the video leaves.
 * While every worker is busy, frames are skipped for detection
 * (never for display): a free worker takes each source's newest waiting
 * frame, sources served longest ago first, batch-size frames per run, so a
 * camera with more frames per second never starves the others. `interval`
 * skips frames per source as nvinfer does.
 *
 * On the GPU path, when the config's backend pre-processes frames in GPU
 * memory (accepts_device_frames, backend=cuda) and every frame of a job
 * carries sscudascale's device copy, the job is detected from those copies
 * (no CPU pre-processing, no upload); otherwise from the CPU pictures, as
 * always. Frames let go of their device copy as soon as they can no longer be
 * picked (a newer frame of their source arrived, or their batch leaves), so
 * sscudascale's small pool is not held by batches on their way out.
 *
 * Example:
 *   gst-launch-1.0 ssbatchmux name=m ! ssinfer config-file=config.txt ! sstiler ! videoconvert ! autovideosink \
 *     uridecodebin uri=file:///a.mp4 ! videoconvert ! m.sink_0
 */
#include "gstssinfer.hpp"

#include <opencv2/core.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <vector>

#include "element_impl.hpp"
#include "meta/batch_meta.hpp"
#include "meta/running_time.hpp"
#include "slipstream/async_detector.hpp"
#include "slipstream/auto_interval.hpp"
#include "slipstream/detection_deadline.hpp"
#include "slipstream/detection_scheduler.hpp"
#include "slipstream/error.hpp"
#include "slipstream/shown_detections.hpp"

GST_DEBUG_CATEGORY_STATIC(ss_infer_debug);
#define GST_CAT_DEFAULT ss_infer_debug

namespace {

constexpr int interval_from_config = -2;
constexpr int interval_auto = ss::InferConfig::interval_auto;
static_assert(interval_auto == -1, "the interval property documents -1 as auto");

constexpr int max_delay_auto = -1;
constexpr int default_latency_budget_ms = static_cast<int>(ss::DetectionDeadline::default_budget_ms);

struct Settings {
    std::string config_file;
    std::string backend;  // used when the config file has no backend= key; empty = the config's default
    int gpu_id = -1;      // overrides the config's gpu-id; -1 = the config's
    int interval = interval_from_config;
    int threads = 0;
    int workers = 0;
    int max_delay_ms = max_delay_auto;
    int latency_budget_ms = default_latency_budget_ms;

    ss::DetectionDeadline deadline() const {
        return ss::DetectionDeadline(max_delay_ms == max_delay_auto ? std::nullopt : std::optional<double>(max_delay_ms),
                                     latency_budget_ms);
    }
};

using Clock = std::chrono::steady_clock;

// A batch or serialized event waiting for its turn downstream; order is kept.
struct Pending {
    GstMiniObject* item = nullptr;
    std::vector<std::uint64_t> awaits_jobs;  // detector jobs running on frames of this batch
    Clock::time_point arrival, deadline;
};

struct State {
    std::unique_ptr<ss::AsyncDetector> detector;
    std::shared_ptr<const ss::InferConfig> config;
    ss::DetectionScheduler scheduler;
    bool auto_interval = false;
    ss::AutoInterval chooser;
    ss::DetectionDeadline deadline;
    std::map<std::uint64_t, Clock::time_point> job_arrivals;  // jobs running: their earliest batch's arrival
    guint64 on_time = 0;  // results put on the batch where their frame is new
    std::map<guint, ss::ShownDetections> sources;  // what each source's frames show
    std::deque<Pending> queue;
    bool device_frames = false;  // the detector reads frames in GPU memory
    bool flushing = true;
    GstFlowReturn last_flow = GST_FLOW_OK;
};

struct Impl {
    ssgst::Guarded<Settings> settings;
    ssgst::Guarded<State> state;
    std::condition_variable state_changed;  // queue, results or flushing changed
};

}  // namespace

struct _SsInfer {
    GstElement parent;
    GstPad* sinkpad;
    GstPad* srcpad;
};

SS_DEFINE_ELEMENT(SsInfer, ss_infer, Impl)

enum { PROP_0, PROP_CONFIG_FILE, PROP_BACKEND, PROP_GPU_ID, PROP_INTERVAL, PROP_THREADS, PROP_WORKERS, PROP_MAX_DELAY, PROP_LATENCY_BUDGET, PROP_DETECTED_FRAMES,
       PROP_BUSY_SECONDS, PROP_MS_PER_FRAME, PROP_DEADLINE, PROP_ON_TIME, PROP_DEVICE_FRAMES };

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(SS_BATCH_CAPS));
static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(SS_BATCH_CAPS));

// The new frames of the queued batches that may still go to a detector, oldest
// batch first; a batch past its deadline is on its way out.
static std::vector<ss::QueuedFrame> queued_frames(const State& st) {
    std::vector<ss::QueuedFrame> frames;
    const auto now = Clock::now();
    for (std::size_t i = 0; i < st.queue.size(); ++i) {
        const Pending& p = st.queue[i];
        if (!GST_IS_BUFFER(p.item) || now >= p.deadline) continue;
        const SsBatchMeta* meta = ss_buffer_get_batch_meta(GST_BUFFER_CAST(p.item));
        if (!meta) continue;
        for (const auto& f : *meta->frames) {
            if (f.is_new()) frames.push_back({static_cast<int>(f.source_id), f.frame->number, i});
        }
    }
    return frames;
}

static const SsBatchFrame* frame_of(const Pending& p, int source) {
    for (const auto& f : *ss_buffer_get_batch_meta(GST_BUFFER_CAST(p.item))->frames) {
        if (static_cast<int>(f.source_id) == source) return &f;
    }
    return nullptr;
}

// A frame that can no longer be detected lets go of its GPU copy (a buffer of
// sscudascale's small pool). The frame is shared and never written: the batch
// gets a copy without it (the picture itself is shared, not copied).
static void release_device_frame(SsBatchFrame& f) {
    if (!f.frame || !f.frame->device) return;
    auto copy = std::make_shared<SsVideoFrame>(*f.frame);
    copy->device.reset();
    f.frame = std::move(copy);
}

// A new batch arrived: only new frames are ever detected, and of each source
// only the newest, so repeats in it and older frames of its sources in the
// queue let go of their GPU copies.
static void release_superseded_device_frames(State& st, SsBatchMeta* meta) {
    std::vector<guint> fresh;
    for (auto& f : *meta->frames) {
        if (f.is_new()) {
            fresh.push_back(f.source_id);
        } else {
            release_device_frame(f);
        }
    }
    if (fresh.empty()) return;
    std::sort(fresh.begin(), fresh.end());
    for (auto& p : st.queue) {
        if (!GST_IS_BUFFER(p.item)) continue;
        SsBatchMeta* older = ss_buffer_get_batch_meta(GST_BUFFER_CAST(p.item));
        if (!older || older == meta) continue;
        for (auto& f : *older->frames) {
            if (f.frame && f.frame->device && std::binary_search(fresh.begin(), fresh.end(), f.source_id)) release_device_frame(f);
        }
    }
}

// Hands `picked` (frames of the queue) to an idle worker as one job, and marks
// each batch they are in to wait for it. False when every worker is busy.
static bool submit_job(SsInfer* self, State& st, const std::vector<ss::QueuedFrame>& picked, bool on_device) {
    std::vector<ss::DetectionJob> jobs;
    for (const auto& f : picked) {
        const SsVideoFrame& frame = *frame_of(st.queue[f.batch], f.source)->frame;
        jobs.push_back({f.source, f.number, frame.bgr, on_device ? frame.device : nullptr});
    }
    GST_LOG_OBJECT(self, "detecting %zu frame(s)%s, first of source %d frame %" G_GUINT64_FORMAT " (last run %.1f ms/frame)",
                   jobs.size(), on_device ? " from the GPU" : "", jobs[0].source, jobs[0].frame_number,
                   st.detector->stats().last_ms_per_frame);
    const std::uint64_t job = st.detector->submit(std::move(jobs));
    if (!job) return false;
    st.scheduler.handed_over(picked, job);
    Clock::time_point arrival = Clock::time_point::max();
    for (const auto& f : picked) {
        auto& awaits = st.queue[f.batch].awaits_jobs;
        if (awaits.empty() || awaits.back() != job) awaits.push_back(job);
        arrival = std::min(arrival, st.queue[f.batch].arrival);
    }
    st.job_arrivals[job] = arrival;
    return true;
}

// Keeps every idle worker busy with up to batch-size frames, as the scheduler
// picks them, and marks each batch to wait for the jobs on its frames.
static void schedule_detection(SsInfer* self) {
    State& st = impl(self).state.value;
    if (!st.detector || st.flushing) return;
    while (!st.detector->busy()) {
        const auto picked = st.scheduler.pick(queued_frames(st), static_cast<std::size_t>(st.config->batch_size));
        if (picked.empty()) return;
        // A job runs from GPU frames only when every frame of it has one (one
        // forward per job). Frames without one (sscudascale's buffers were all
        // in use) go in a job of their own, from their CPU pictures, so that
        // one of them never sends a whole batch the slow way. The group with
        // the source that waited longest goes first; the other, if no worker
        // is free for it, waits to be picked again.
        const auto has_copy = [&](const ss::QueuedFrame& f) {
            return st.device_frames && frame_of(st.queue[f.batch], f.source)->frame->device != nullptr;
        };
        std::vector<ss::QueuedFrame> on_gpu, from_pictures;
        for (const auto& f : picked) (has_copy(f) ? on_gpu : from_pictures).push_back(f);
        const bool gpu_first = has_copy(picked.front());
        for (const bool gpu : {gpu_first, !gpu_first}) {
            const auto& group = gpu ? on_gpu : from_pictures;
            if (!group.empty() && !submit_job(self, st, group, gpu)) return;
        }
    }
}

// Whether the oldest batch holds the frame the scheduler would detect next for
// one of its sources (whenever a worker is free for that source).
static bool head_is_picked_next(const State& st) {
    if (!st.detector) return false;
    for (const auto& f : st.scheduler.pick(queued_frames(st), SIZE_MAX)) {
        if (f.batch == 0) return true;
    }
    return false;
}

// Whether a job on frames of this batch is still running.
static bool awaiting(const State& st, const Pending& p) {
    if (!st.detector) return false;
    for (auto job : p.awaits_jobs) {
        if (!st.detector->finished(job)) return true;
    }
    return false;
}

static void warn_over_budget(SsInfer* self);

// Puts the newest finished detections on every frame of a batch about to leave.
static void annotate(SsInfer* self, SsBatchMeta* meta) {
    State& st = impl(self).state.value;
    for (auto& r : st.detector->take_results()) {
        // How long a batch had to wait for this job: what the automatic deadline follows.
        if (auto job = st.job_arrivals.find(r.job); job != st.job_arrivals.end()) {
            st.deadline.add_wait(std::chrono::duration<double, std::milli>(r.finished - job->second).count());
            st.job_arrivals.erase(job);
        }
        if (!st.scheduler.accept(r.source, r.job)) continue;
        st.sources[static_cast<guint>(r.source)].add(std::move(r));
    }
    for (auto& f : *meta->frames) {
        auto it = st.sources.find(f.source_id);
        if (it == st.sources.end() || !f.frame) continue;
        const ss::ShownFrame shown = it->second.show(f.frame->number, f.is_new());
        f.objects = ss::resized(*shown.objects, shown.size, f.frame->bgr.size());
        f.detected_frame = shown.detected_frame;
        f.detected = shown.detected;
        if (shown.on_time) ++st.on_time;
    }
    *meta->detector_config = st.config;
    if (st.deadline.take_over_budget_warning()) warn_over_budget(self);
}

// Once, when even the latency budget is too short for detection as it runs
// now: the application says so with what to change.
static void warn_over_budget(SsInfer* self) {
    const State& st = impl(self).state.value;
    const double per_frame = st.detector->stats().last_ms_per_frame;
    GST_WARNING_OBJECT(self, "detection needs %.0f ms per batch, over the %.0f ms latency budget", st.deadline.needed_ms(),
                       st.deadline.budget_ms());
    GstStructure* s = gst_structure_new("slipstream-deadline", "needed-ms", G_TYPE_DOUBLE, st.deadline.needed_ms(),
                                        "measured-ms", G_TYPE_DOUBLE, st.deadline.measured_ms(), "budget-ms", G_TYPE_DOUBLE,
                                        st.deadline.budget_ms(), "ms-per-frame", G_TYPE_DOUBLE, per_frame, nullptr);
    gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self), s));
}

static void src_loop(gpointer data);

// interval=auto: follow the measured frame rate and detection cost, and tell
// the application (an element message "slipstream-interval") when it changes.
static void choose_interval(SsInfer* self, const SsBatchMeta* meta) {
    State& st = impl(self).state.value;
    int fresh = 0;
    for (const auto& f : *meta->frames) fresh += f.is_new();
    const double now = static_cast<double>(g_get_monotonic_time()) / G_USEC_PER_SEC;
    st.chooser.add_frames(fresh, now);
    st.chooser.add_detection_cost(st.detector->stats().last_ms_per_frame, st.detector->parallel_jobs());
    if (!st.chooser.update(now)) return;
    st.scheduler.set_interval(st.chooser.interval());
    GST_INFO_OBJECT(self, "interval %d: %.1f new frames/s, %.1f ms per detection", st.chooser.interval(),
                    st.chooser.frames_per_second(), st.chooser.ms_per_frame());
    GstStructure* s = gst_structure_new("slipstream-interval", "interval", G_TYPE_INT, st.chooser.interval(), "frames-per-second",
                                        G_TYPE_DOUBLE, st.chooser.frames_per_second(), "ms-per-detection", G_TYPE_DOUBLE,
                                        st.chooser.ms_per_frame(), "detections-per-second", G_TYPE_DOUBLE,
                                        st.chooser.detections_per_second(), nullptr);
    gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self), s));
}

static GstFlowReturn sink_chain(GstPad*, GstObject* parent, GstBuffer* buffer) {
    auto* self = SS_INFER(parent);
    if (ss_buffer_get_batch_meta(buffer)) buffer = gst_buffer_make_writable(buffer);
    auto& [state_lock, st] = impl(self).state;
    std::lock_guard lock(state_lock);
    if (st.flushing || !st.detector) {
        gst_buffer_unref(buffer);
        return GST_FLOW_FLUSHING;
    }
    Pending p;
    p.item = GST_MINI_OBJECT_CAST(buffer);
    if (SsBatchMeta* meta = ss_buffer_get_batch_meta(buffer)) {
        release_superseded_device_frames(st, meta);
        if (st.auto_interval) choose_interval(self, meta);
        for (const auto& f : *meta->frames) {
            // A restarted source shows nothing until its first new detection.
            if (f.is_new() && st.scheduler.arrived(static_cast<int>(f.source_id), f.frame->number)) st.sources.erase(f.source_id);
        }
    }
    p.arrival = Clock::now();
    p.deadline = p.arrival + std::chrono::duration_cast<Clock::duration>(
                                 std::chrono::duration<double, std::milli>(st.deadline.deadline_ms()));
    st.queue.push_back(p);
    schedule_detection(self);
    impl(self).state_changed.notify_all();
    return st.last_flow;
}

static void clear_queue(State& st) {
    for (auto& p : st.queue) gst_mini_object_unref(p.item);
    st.queue.clear();
}

static gboolean sink_event(GstPad* pad, GstObject* parent, GstEvent* event) {
    auto* self = SS_INFER(parent);
    auto& [state_lock, st] = impl(self).state;
    switch (GST_EVENT_TYPE(event)) {
        case GST_EVENT_FLUSH_START: {
            {
                std::lock_guard lock(state_lock);
                st.flushing = true;
                impl(self).state_changed.notify_all();
            }
            const gboolean ok = gst_pad_push_event(self->srcpad, event);
            gst_pad_pause_task(self->srcpad);
            return ok;
        }
        case GST_EVENT_FLUSH_STOP: {
            {
                std::lock_guard lock(state_lock);
                clear_queue(st);
                st.flushing = false;
                st.last_flow = GST_FLOW_OK;
            }
            const gboolean ok = gst_pad_push_event(self->srcpad, event);
            gst_pad_start_task(self->srcpad, src_loop, self, nullptr);
            return ok;
        }
        default:
            if (GST_EVENT_IS_SERIALIZED(event)) {
                // Kept in order with the batches around it.
                std::lock_guard lock(state_lock);
                Pending p;
                p.item = GST_MINI_OBJECT_CAST(event);
                st.queue.push_back(p);
                impl(self).state_changed.notify_all();
                return TRUE;
            }
            return gst_pad_event_default(pad, parent, event);
    }
}

// The element's own thread: releases queued items in order, a batch as soon as
// its detections are in or its deadline passed.
static void src_loop(gpointer data) {
    auto* self = SS_INFER(data);
    auto& [state_lock, st] = impl(self).state;
    std::unique_lock lock(state_lock);
    for (;;) {
        if (st.flushing) {
            lock.unlock();
            gst_pad_pause_task(self->srcpad);
            return;
        }
        schedule_detection(self);  // a worker may have finished: give it the next frames
        if (st.queue.empty()) {
            impl(self).state_changed.wait(lock);
            continue;
        }
        // A batch waits, until its deadline, for detections of its own new frames:
        // those running now, or one the scheduler gives the next free worker.
        if (st.detector && Clock::now() < st.queue.front().deadline) {
            if (awaiting(st, st.queue.front()) || head_is_picked_next(st)) {
                impl(self).state_changed.wait_until(lock, st.queue.front().deadline);
                continue;
            }
        }
        break;
    }
    Pending head = st.queue.front();
    st.queue.pop_front();
    if (awaiting(st, head)) GST_DEBUG_OBJECT(self, "batch leaves at its deadline without all its detections");
    if (GST_IS_BUFFER(head.item)) {
        GstBuffer* buffer = GST_BUFFER_CAST(head.item);
        if (SsBatchMeta* meta = ss_buffer_get_batch_meta(buffer)) {
            for (auto& f : *meta->frames) release_device_frame(f);  // past detection: the GPU copy goes back
            if (st.detector) annotate(self, meta);
            meta->detection_done = ss_running_time_now(GST_ELEMENT(self));
        }
        lock.unlock();
        const GstFlowReturn flow = gst_pad_push(self->srcpad, buffer);
        lock.lock();
        st.last_flow = flow;
        if (flow != GST_FLOW_OK && flow != GST_FLOW_FLUSHING) {
            if (flow == GST_FLOW_NOT_LINKED || flow < GST_FLOW_EOS) GST_ELEMENT_FLOW_ERROR(self, flow);
        }
    } else {
        GstEvent* event = GST_EVENT_CAST(head.item);
        const bool eos = GST_EVENT_TYPE(event) == GST_EVENT_EOS;
        lock.unlock();
        gst_pad_push_event(self->srcpad, event);
        lock.lock();
        if (eos) st.last_flow = GST_FLOW_EOS;
    }
}

static gboolean src_query(GstPad* pad, GstObject* parent, GstQuery* query) {
    auto* self = SS_INFER(parent);
    if (GST_QUERY_TYPE(query) == GST_QUERY_LATENCY) {
        if (!gst_pad_peer_query(self->sinkpad, query)) return FALSE;
        gboolean live = FALSE;
        GstClockTime min = 0, max = GST_CLOCK_TIME_NONE;
        gst_query_parse_latency(query, &live, &min, &max);
        // The most a batch may be held: the fixed deadline, or the budget the automatic one stays within.
        const auto delay = static_cast<GstClockTime>(impl(self).settings.copy().deadline().longest_ms() * GST_MSECOND);
        gst_query_set_latency(query, live, min + delay, GST_CLOCK_TIME_IS_VALID(max) ? max + delay : max);
        return TRUE;
    }
    return gst_pad_query_default(pad, parent, query);
}

// Workers, and the size of OpenCV's thread pool, which is one for the whole
// process and shared by all workers. By default one single-threaded network
// per core (at most 4): on 2 cores a forward costs ~43 ms of CPU on one
// thread against ~60 ms spread over two, so side by side wins (bench/run.sh).
// With fewer workers than cores, the pool gets every core.
static std::pair<int, int> worker_layout(int workers, int threads) {
    const int cores = std::max(1, static_cast<int>(g_get_num_processors()));
    if (workers <= 0) workers = std::min(cores, 4);
    if (threads <= 0) threads = workers >= cores ? 1 : cores;
    return {workers, threads};
}

static bool start(SsInfer* self) {
    const Settings settings = impl(self).settings.copy();
    const std::string file = settings.config_file.empty() ? ss::default_config_path().string() : settings.config_file;
    try {
        auto config = ss::load_infer_config(file);
        for (const auto& warning : config.warnings) GST_ELEMENT_WARNING(self, RESOURCE, SETTINGS, ("%s", warning.c_str()), (nullptr));
        if (settings.gpu_id >= 0) config.gpu_id = settings.gpu_id;
        std::vector<std::unique_ptr<ss::Detector>> detectors;
        if (!config.backend_given && !settings.backend.empty() && settings.backend != config.backend) {
            // A backend chosen for the config (e.g. cuda with --gpu): where it cannot
            // run, detection falls back to the config's default instead of failing.
            ss::InferConfig preferred = config;
            preferred.backend = settings.backend;
            // A GPU runs a batch of 64 in about the time of a few single images;
            // batches are rounded up to powers of two, so few cameras cost little.
            if (settings.backend == "cuda") preferred.batch_size = std::max(preferred.batch_size, 64);
            try {
                detectors.push_back(std::make_unique<ss::Detector>(preferred));
                config = preferred;
            } catch (const ss::Error& e) {
                GST_ELEMENT_WARNING(self, RESOURCE, SETTINGS,
                                    ("backend %s is not available, detecting with %s: %s", settings.backend.c_str(),
                                     config.backend.c_str(), e.what()),
                                    (nullptr));
            }
        }
        // A GPU backend keeps the GPU busy with two workers (one runs while the
        // other copies and parses); more would only repeat its memory and tuning.
        const bool gpu_backend = config.backend == "cuda";
        const auto [workers, threads] = worker_layout(settings.workers > 0 || !gpu_backend ? settings.workers : 2, settings.threads);
        cv::setNumThreads(threads);  // also used by scaling and drawing elsewhere in the process
        auto shared = std::make_shared<const ss::InferConfig>(config);
        while (static_cast<int>(detectors.size()) < workers) detectors.push_back(std::make_unique<ss::Detector>(config));
        // CPU networks: on_done runs on a worker at background priority and only
        // wakes this element's thread, which hands out the next frames. Taking
        // the lock orders the wake-up after a waiter's check of the results, so
        // none is lost. GPU workers run at normal priority and hand themselves
        // the next frames at once: the element's thread may be pushing a batch
        // downstream, and every moment without a job is a moment the GPU idles.
        // CPU networks computed on the worker's own thread run fewer at a time
        // while the CPU starves them (core's ParallelJobs).
        const auto compute = gpu_backend   ? ss::WorkerCompute::gpu
                             : threads == 1 ? ss::WorkerCompute::cpu_thread
                                            : ss::WorkerCompute::cpu_pool;
        auto detector = std::make_unique<ss::AsyncDetector>(
            std::move(detectors),
            [self, gpu_backend] {
                {
                    std::lock_guard lock(impl(self).state.lock);
                    if (gpu_backend) schedule_detection(self);
                }
                impl(self).state_changed.notify_all();
            },
            compute);
        auto& [state_lock, st] = impl(self).state;
        std::lock_guard lock(state_lock);
        st.config = shared;
        const int interval = settings.interval == interval_from_config ? shared->interval : settings.interval;
        st.auto_interval = interval == interval_auto;
        st.scheduler = ss::DetectionScheduler(interval);
        st.chooser = ss::AutoInterval();
        st.device_frames = detector->accepts_device_frames();
        st.detector = std::move(detector);
        st.sources.clear();
        st.deadline = settings.deadline();
        st.job_arrivals.clear();
        st.on_time = 0;
        st.flushing = false;
        st.last_flow = GST_FLOW_OK;
        GST_INFO_OBJECT(self, "loaded %s: %s, backend %s%s, parser %s, %dx%d, interval %d", file.c_str(), shared->onnx_file.c_str(),
                        shared->backend.c_str(), st.device_frames ? " (reads frames in GPU memory)" : "", shared->parser.c_str(),
                        shared->input_width, shared->input_height, interval);
        return true;
    } catch (const std::exception& e) {
        GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("%s", e.what()), ("while loading detector config %s", file.c_str()));
        return false;
    }
}

static void stop(SsInfer* self) {
    auto& [state_lock, st] = impl(self).state;
    {
        std::lock_guard lock(state_lock);
        st.flushing = true;
        impl(self).state_changed.notify_all();
    }
    gst_pad_stop_task(self->srcpad);
    std::unique_ptr<ss::AsyncDetector> detector;
    {
        std::lock_guard lock(state_lock);
        clear_queue(st);
        detector = std::move(st.detector);
        st.sources.clear();
    }
    detector.reset();  // joins the worker outside the lock
}

static GstStateChangeReturn change_state(GstElement* element, GstStateChange transition) {
    auto* self = SS_INFER(element);
    if (transition == GST_STATE_CHANGE_READY_TO_PAUSED) {
        if (!start(self)) return GST_STATE_CHANGE_FAILURE;
        gst_pad_start_task(self->srcpad, src_loop, self, nullptr);
    }
    if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) stop(self);
    return GST_ELEMENT_CLASS(ss_infer_parent_class)->change_state(element, transition);
}

static void set_property(GObject* object, guint id, const GValue* value, GParamSpec* pspec) {
    auto& [lock, settings] = impl(SS_INFER(object)).settings;
    std::lock_guard guard(lock);
    switch (id) {
        case PROP_CONFIG_FILE: {
            const gchar* s = g_value_get_string(value);
            settings.config_file = s ? s : "";
            break;
        }
        case PROP_BACKEND: {
            const gchar* s = g_value_get_string(value);
            settings.backend = s ? s : "";
            break;
        }
        case PROP_GPU_ID: settings.gpu_id = g_value_get_int(value); break;
        case PROP_INTERVAL: settings.interval = g_value_get_int(value); break;
        case PROP_THREADS: settings.threads = g_value_get_int(value); break;
        case PROP_WORKERS: settings.workers = g_value_get_int(value); break;
        case PROP_MAX_DELAY: settings.max_delay_ms = g_value_get_int(value); break;
        case PROP_LATENCY_BUDGET: settings.latency_budget_ms = g_value_get_int(value); break;
        default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
    }
}

static void get_property(GObject* object, guint id, GValue* value, GParamSpec* pspec) {
    Impl& d = impl(SS_INFER(object));
    ss::DetectorStats stats;
    double deadline_ms = 0;
    guint64 on_time = 0;
    if (id == PROP_DETECTED_FRAMES || id == PROP_BUSY_SECONDS || id == PROP_MS_PER_FRAME || id == PROP_DEADLINE ||
        id == PROP_ON_TIME || id == PROP_DEVICE_FRAMES) {
        std::lock_guard lock(d.state.lock);
        if (d.state.value.detector) stats = d.state.value.detector->stats();
        deadline_ms = d.state.value.deadline.deadline_ms();
        on_time = d.state.value.on_time;
    }
    const Settings settings = d.settings.copy();
    switch (id) {
        case PROP_CONFIG_FILE: g_value_set_string(value, settings.config_file.c_str()); break;
        case PROP_BACKEND: g_value_set_string(value, settings.backend.c_str()); break;
        case PROP_GPU_ID: g_value_set_int(value, settings.gpu_id); break;
        case PROP_INTERVAL: g_value_set_int(value, settings.interval); break;
        case PROP_THREADS: g_value_set_int(value, settings.threads); break;
        case PROP_WORKERS: g_value_set_int(value, settings.workers); break;
        case PROP_MAX_DELAY: g_value_set_int(value, settings.max_delay_ms); break;
        case PROP_DETECTED_FRAMES: g_value_set_uint64(value, stats.frames); break;
        case PROP_BUSY_SECONDS: g_value_set_double(value, stats.busy_seconds); break;
        case PROP_MS_PER_FRAME: g_value_set_double(value, stats.last_ms_per_frame); break;
        case PROP_LATENCY_BUDGET: g_value_set_int(value, settings.latency_budget_ms); break;
        case PROP_DEADLINE: g_value_set_double(value, deadline_ms); break;
        case PROP_ON_TIME: g_value_set_uint64(value, on_time); break;
        case PROP_DEVICE_FRAMES: g_value_set_uint64(value, stats.device_frames); break;
        default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
    }
}

static void ss_infer_class_init(SsInferClass* klass) {
    const auto rw = ssgst::read_write_in_ready;
    const auto ro = ssgst::readable;
    init_class(klass, {
        .long_name = "slipstream inference",
        .classification = "Filter/Analyzer/Video",
        .description = "Detects objects in batched frames without holding the stream back",
        .pad_templates = {&sink_template, &src_template},
        // In the order of the PROP_ enum.
        .properties = {
            g_param_spec_string("config-file", "Config file", "nvinfer-style detector config (empty: the embedded default)", "", rw),
            g_param_spec_string("backend", "Backend",
                                "Inference backend to use when the config has no backend= key, falling back to the config's "
                                "default where it cannot run (empty: the config's)",
                                "", rw),
            g_param_spec_int("gpu-id", "GPU", "GPU of GPU backends (-1: the config's gpu-id)", -1, 63, -1, rw),
            g_param_spec_int("interval", "Interval",
                             "Frames skipped per source between detections (-2: from the config, -1: auto, the most the CPU sustains)",
                             -2, 1000, interval_from_config, rw),
            g_param_spec_int("threads", "Threads",
                             "OpenCV's thread pool, one for the whole process, shared by the workers (0: 1 with a worker per core, else every core)",
                             0, 256, 0, rw),
            g_param_spec_int("workers", "Workers", "Detections run side by side, each with its own network (0: one per core, at most 4)",
                             0, 64, 0, rw),
            g_param_spec_int("max-delay", "Maximum delay",
                             "Milliseconds a batch may wait for the detection of its own frames (-1: automatic, as long as detection "
                             "takes now within latency-budget; 0: never wait)",
                             -1, 5000, max_delay_auto, rw),
            g_param_spec_int("latency-budget", "Latency budget", "Milliseconds the automatic max-delay never exceeds", 0, 5000,
                             default_latency_budget_ms, rw),
            g_param_spec_uint64("detected-frames", "Detected frames", "Frames detected so far", 0, G_MAXUINT64, 0, ro),
            g_param_spec_double("busy-seconds", "Busy seconds",
                                "Time spent detecting so far, summed over workers (can exceed the time run)", 0, G_MAXDOUBLE, 0, ro),
            g_param_spec_double("ms-per-frame", "Milliseconds per frame", "Detection time per frame of the latest run", 0, G_MAXDOUBLE,
                                0, ro),
            g_param_spec_double("deadline", "Deadline",
                                "Milliseconds a batch waits for its detections now (max-delay, or the automatic choice)", 0,
                                G_MAXDOUBLE, 0, ro),
            g_param_spec_uint64("on-time-frames", "On-time frames",
                                "Detected frames whose boxes went out on the very batch that brought the frame", 0, G_MAXUINT64, 0, ro),
            g_param_spec_uint64("device-frames", "Device frames",
                                "Of detected-frames, those detected from their copy in GPU memory (GPU path, backend=cuda)", 0,
                                G_MAXUINT64, 0, ro),
        },
        .set_property = set_property,
        .get_property = get_property,
        .change_state = change_state,  // the detector's threads end on PAUSED->READY, before finalize
        .debug = &ss_infer_debug,
        .debug_name = "ssinfer",
    });
}

static void ss_infer_init(SsInfer* self) {
    construct_impl(self);
    self->sinkpad = ssgst::add_pad(GST_ELEMENT(self), &sink_template, {.chain = sink_chain, .event = sink_event, .proxy_caps = true});
    self->srcpad = ssgst::add_pad(GST_ELEMENT(self), &src_template, {.query = src_query, .proxy_caps = true});
}
