#pragma once
// The inputs: one GstBin per camera (uridecodebin -> videoconvert -> leaky
// queue) linked to its own ssbatchmux pad. A camera that fails, ends or stalls
// is torn down alone and retried with backoff; its mux pad stays, so its tile
// keeps its place and shows NO SIGNAL, and the other cameras never notice.
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

    void start();
    // Handles bus messages that come from inside an input; returns true if it did.
    bool handle_message(GstMessage* message);
    void stop();

private:
    struct Source;
    void create_bin(Source& source);
    void remove_bin(Source& source);
    void schedule_retry(Source& source, const std::string& reason);
    void probe_reachable(Source& source);
    static gboolean retry_tick(gpointer source);
    static gboolean watchdog(gpointer self);

    GstElement* pipeline_;
    GstElement* mux_;
    Options options_;
    std::function<void(const std::string&)> on_fatal_;
    std::vector<std::unique_ptr<Source>> sources_;
    guint watchdog_id_ = 0;
    bool stopping_ = false;
};

}  // namespace slipstream
