#include "sources.hpp"

#include <algorithm>

namespace slipstream {

namespace {
constexpr guint watch_every_ms = 500;
}  // namespace

Sources::Sources(GstElement* pipeline, GstElement* mux, const Options& options, const DecodePath& decode,
                 std::function<void(const std::string&)> on_fatal, CameraStats* stats)
    : options_(options), decode_(decode), host_{pipeline, mux, &options_, &decode_, std::move(on_fatal), stats} {
    // The mux pads of the configured inputs exist before the pipeline starts.
    for (const auto& uri : options_.inputs) inputs_.push_back(make_input(uri));
}

Sources::~Sources() {
    stop();
    inputs_.clear();  // gives the mux pads back
}

std::shared_ptr<Input> Sources::make_input(const std::string& uri, const std::string& camera_id, const std::string& name) {
    return Input::create(next_index_++, uri, host_, camera_id, name);
}

void Sources::start() {
    for (auto& input : inputs_) input->start();
    watchdog_id_ = g_timeout_add(watch_every_ms, &Sources::watchdog, this);
}

int Sources::add(const std::string& uri, const std::string& camera_id, const std::string& name) {
    auto input = make_input(uri, camera_id, name);
    inputs_.push_back(input);
    if (on_camera_change_) on_camera_change_(input->index(), input->camera_id(), true);
    if (stopping_) return input->index();
    input->start();
    if (playing_) input->pipeline_playing();
    return input->index();
}

bool Sources::remove(int index) {
    const auto it = std::find_if(inputs_.begin(), inputs_.end(), [index](const auto& input) { return input->index() == index; });
    if (it == inputs_.end()) return false;
    const std::shared_ptr<Input> input = *it;
    inputs_.erase(it);
    input->stop();
    if (on_camera_change_) on_camera_change_(index, input->camera_id(), false);
    return true;  // the last reference goes here: the mux pad is given back
}

int Sources::find(const std::string& camera_id) const {
    for (const auto& input : inputs_) {
        if (input->camera_id() == camera_id) return input->index();
    }
    return -1;
}

std::vector<InputStatus> Sources::statuses() const {
    std::vector<InputStatus> out;
    const gint64 now = g_get_monotonic_time();
    for (const auto& input : inputs_) out.push_back(input->status(now));
    return out;
}

void Sources::stop() {
    stopping_ = true;
    if (watchdog_id_) g_source_remove(watchdog_id_);
    watchdog_id_ = 0;
    for (auto& input : inputs_) input->stop();
}

bool Sources::handle_message(GstMessage* message) {
    if (GST_MESSAGE_SRC(message) == GST_OBJECT(host_.pipeline) && GST_MESSAGE_TYPE(message) == GST_MESSAGE_STATE_CHANGED) {
        GstState old_state, new_state, pending;
        gst_message_parse_state_changed(message, &old_state, &new_state, &pending);
        if (new_state == GST_STATE_PLAYING && !playing_ && !stopping_) {
            playing_ = true;
            for (auto& input : inputs_) input->pipeline_playing();
        }
        return false;
    }
    for (const auto& input : inputs_) {
        if (input->handle_message(message)) return true;
    }
    return false;
}

gboolean Sources::watchdog(gpointer data) {
    auto* self = static_cast<Sources*>(data);
    const gint64 now = g_get_monotonic_time();
    for (const auto& input : self->inputs_) input->watch(now);
    if (self->host_.stats) self->host_.stats->sample(now);
    return G_SOURCE_CONTINUE;
}

}  // namespace slipstream
