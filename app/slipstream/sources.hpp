#pragma once
// The inputs of the pipeline: the collection of Inputs (input.hpp), each a
// camera or file with its own ssbatchmux pad and lifecycle. Sources creates
// them (at start, or later while the pipeline plays), routes the bus messages
// of each to it, tells them when the pipeline plays, and ticks their watchdog.
#include <gst/gst.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "input.hpp"
#include "options.hpp"

namespace slipstream {

class Sources {
public:
    // on_fatal: called (in the main loop) when --require-all is set and an input failed at start.
    // stats: where each input's frames are counted (may be null); sampled by the watchdog.
    Sources(GstElement* pipeline, GstElement* mux, const Options& options, const DecodePath& decode,
            std::function<void(const std::string&)> on_fatal, CameraStats* stats = nullptr);
    ~Sources();
    Sources(const Sources&) = delete;
    Sources& operator=(const Sources&) = delete;

    // Starts the inputs of the options; they run once the pipeline reaches PLAYING.
    void start();
    // Adds an input, also while the pipeline plays; returns its index (its mux pad is sink_<index>).
    // camera_id: the API's name for it (empty: the index); the caller keeps ids unique.
    int add(const std::string& uri, const std::string& camera_id = {}, const std::string& name = {});
    // The index of the input with this camera id, or -1.
    int find(const std::string& camera_id) const;
    // Every input's status, in the order they were added.
    std::vector<InputStatus> statuses() const;
    std::size_t size() const { return inputs_.size(); }
    // Stops an input, disposes of its bin and gives its mux pad back, also while
    // the pipeline plays. False when there is no such input.
    bool remove(int index);
    // Told (on the main loop) when add() brought a camera in (joined) and when
    // remove() took one out: its index (the mux source id) and camera id.
    void on_camera_change(std::function<void(int index, const std::string& camera_id, bool joined)> callback) {
        on_camera_change_ = std::move(callback);
    }
    // Handles bus messages that come from inside an input (returns true), and
    // watches the pipeline's own state to start the inputs (returns false).
    bool handle_message(GstMessage* message);
    // Cancels pending retries and probes and stops every input; bounded in time.
    void stop();

private:
    std::shared_ptr<Input> make_input(const std::string& uri, const std::string& camera_id = {}, const std::string& name = {});
    static gboolean watchdog(gpointer self);

    Options options_;  // outlives the inputs, which read it
    DecodePath decode_;
    Input::Host host_;
    std::vector<std::shared_ptr<Input>> inputs_;
    int next_index_ = 0;
    guint watchdog_id_ = 0;
    bool playing_ = false;   // the pipeline reached PLAYING: inputs run
    bool stopping_ = false;
    std::function<void(int, const std::string&, bool)> on_camera_change_;
};

}  // namespace slipstream
