#pragma once
// The inputs: one GstBin per camera (uridecodebin -> videoconvert -> leaky
// queue) linked to its own ssbatchmux pad. A camera that fails, ends or stalls
// is torn down alone and retried with backoff; its mux pad stays, so its tile
// keeps its place and shows NO SIGNAL, and the other cameras never notice.
//
// The bins' states are locked: the pipeline's own state changes never touch
// them, so an input that cannot even open (a missing file) never fails the
// pipeline. Sources starts each bin once the pipeline is playing and stops it
// itself, on a retry and on stop().
#include <gst/gst.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "options.hpp"

namespace slipstream {

class Sources {
public:
    // on_fatal: called (in the main loop) when --require-all is set and an input failed at start.
    Sources(GstElement* pipeline, GstElement* mux, const Options& options, std::function<void(const std::string&)> on_fatal);
    ~Sources();

    // Creates the inputs; they start when the pipeline reaches PLAYING.
    void start();
    // Handles bus messages that come from inside an input (returns true), and
    // watches the pipeline's own state to start the inputs (returns false).
    bool handle_message(GstMessage* message);
    // Cancels pending retries and probes and stops every input; bounded in time.
    void stop();

    // Public only so that the helpers in sources.cpp can name them.
    struct Failure;
    struct Source;

private:
    void create_bin(Source& source);
    void play_bin(Source& source);
    void remove_bin(Source& source);
    void fail(Source& source, guint generation, const Failure& failure);
    void schedule_retry(Source& source, const Failure& failure);
    void retry_now(Source& source);
    bool probe_reachable(Source& source);
    void diagnose(Source& source, const Failure& failure);
    static void fail_later(const std::shared_ptr<Source>& source, guint generation, const Failure& failure);
    static gboolean retry_tick(gpointer source);
    static gboolean watchdog(gpointer self);

    GstElement* pipeline_;
    GstElement* mux_;
    Options options_;
    std::function<void(const std::string&)> on_fatal_;
    std::vector<std::shared_ptr<Source>> sources_;
    guint watchdog_id_ = 0;
    bool playing_ = false;   // the pipeline reached PLAYING: inputs run
    bool stopping_ = false;
};

}  // namespace slipstream
