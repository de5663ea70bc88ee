#pragma once
// One input, a camera or a file, from start to removal:
//
//   start -> (frames) -> fail -> retry after a backoff (or as soon as a probe
//   reaches the camera again) -> back -> ... -> remove
//
// Each attempt is its own GstBin (uridecodebin -> [sscudascale when NVDEC
// decodes] -> videoconvert -> leaky queue)
// linked to the input's ssbatchmux pad. A failed attempt is torn down alone;
// the mux pad stays, so the tile keeps its place and shows NO SIGNAL, and the
// other inputs never notice. The pad is given back when the Input goes, which
// may happen while the pipeline plays.
//
// The bins' states are locked: the pipeline's own state changes never touch
// them, so an input that cannot even open (a missing file) never fails the
// pipeline. An Input starts its bin once the pipeline plays and stops it
// itself, on a retry and on stop(). Everything here runs on the main loop,
// except the pad probes, which only record and queue.
#include <gst/gst.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "camera_stats.hpp"
#include "connect_probe.hpp"
#include "decode_path.hpp"
#include "input_address.hpp"
#include "input_failure.hpp"
#include "options.hpp"
#include "slipstream/reconnect_backoff.hpp"

namespace slipstream {

// Where an input stands, for the API and metrics (credentials masked).
struct InputStatus {
    int index = 0;               // its mux pad, and "stream" in the metadata
    std::string camera_id, name;
    std::string masked_url;
    // connecting: an attempt runs, no frame yet; playing: frames arrive;
    // reconnecting: it had video, dropped, waits to retry; failed: never had
    // video, waits to retry. `reason` and `next_retry_s` go with the last two.
    std::string state;
    std::string reason;
    double next_retry_s = -1;
    std::string codec;           // empty until the decoder is known
    int width = 0, height = 0;   // as decoded
    double nominal_fps = 0;      // as the stream says
    std::shared_ptr<const CameraCounters> counters;  // null without CameraStats
};

class Input : public std::enable_shared_from_this<Input> {
public:
    // What every input joins; outlives them all.
    struct Host {
        GstElement* pipeline;
        GstElement* mux;
        const Options* options;
        const DecodePath* decode;  // where its frames decode (the GPU path, or the CPU)
        std::function<void(const std::string&)> on_fatal;  // --require-all and an input failed at start
        CameraStats* stats = nullptr;  // counts each input's frames; may be null
    };

    // Requests the input's mux pad ("sink_<index>"). camera_id: how the API names
    // it (empty: its index); name: for people (empty: none).
    static std::shared_ptr<Input> create(int index, const std::string& uri, const Host& host, const std::string& camera_id = {},
                                         const std::string& name = {});
    ~Input();  // stop(), and the mux pad given back

    // Says which input this is and makes its first attempt, which runs once the pipeline plays.
    void start();
    // The pipeline plays: so does the current attempt, and every later one at once.
    void pipeline_playing();
    // Handles a bus message from inside the current attempt (true); false for any other.
    bool handle_message(GstMessage* message);
    // Called twice a second: notices an input that is back, stalled or never showed video.
    void watch(gint64 now_us);
    // Cancels a pending retry or probe and stops the attempt; bounded in time. Final.
    void stop();

    int index() const { return index_; }
    const std::string& camera_id() const { return camera_id_; }
    InputStatus status(gint64 now_us) const;

private:
    struct BinContext;

    Input(int index, const std::string& uri, const Host& host, const std::string& camera_id, const std::string& name);
    std::string who() const { return "input " + std::to_string(index_) + " (" + address_.masked + ")"; }
    FailureContext failure_context() const { return {address_.network(), address_.has_login, address_.where()}; }

    void create_bin();
    void play_bin();
    void remove_bin();
    void fail(guint generation, const InputFailure& failure);
    void fail_later(guint generation, const InputFailure& failure);  // from any thread
    void diagnose(const InputFailure& failure);
    void schedule_retry(const InputFailure& failure);
    void retry_now();
    bool probe_reachable();
    static gboolean retry_tick(gpointer self);
    void show_format(const GstCaps* caps);  // streaming thread

    Host host_;
    int index_;
    std::string camera_id_, name_;
    InputAddress address_;
    std::shared_ptr<CameraCounters> counters_;  // from host_.stats, or null
    GstPad* mux_pad_ = nullptr;
    GstElement* bin_ = nullptr;       // the current attempt; none while waiting to retry
    guint generation_ = 0;            // of the current attempt: late news of an older one is ignored
    bool playing_ = false;            // the pipeline plays
    bool stopped_ = false;

    ss::ReconnectBackoff backoff_;
    guint retry_timer_ = 0;
    gint64 retry_at_us_ = 0;          // when the next full retry is due
    gint64 probes_from_us_ = 0;       // probes may cut the wait short from then on
    bool probe_ends_wait_ = false;    // the failure was about reachability: a probe may end the wait
    ConnectProbe probe_;

    bool ever_had_frame_ = false;
    bool failed_at_start_ = false;
    gint64 dropped_at_us_ = 0;        // when it was last seen failing (for the "back after" line)
    gint64 started_at_us_ = 0;        // when the current attempt started
    std::string last_warning_;        // of the current attempt: may explain a following end of stream
    std::string last_failure_;        // why the last attempt ended (masked), for the status
    std::atomic<gint64> last_frame_us_{0};
    std::atomic<bool> got_frame_since_start_{false};
    mutable std::mutex codec_mutex_;
    std::string codec_;               // from the decoder's input caps
    int width_ = 0, height_ = 0;      // decoded, from the decoder's output caps
    double nominal_fps_ = 0;
};

}  // namespace slipstream
