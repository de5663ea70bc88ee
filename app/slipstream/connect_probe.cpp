#include "connect_probe.hpp"

#include <memory>

namespace slipstream {

namespace {

struct Attempt {
    ConnectProbe::Answer answer;
    GCancellable* cancellable;  // a reference of our own: tells a cancelled attempt even once the probe is gone
    GCancellable** slot;        // the probe's pointer, cleared when the attempt answers
    ~Attempt() { g_object_unref(cancellable); }
};

}  // namespace

void ConnectProbe::start(const std::string& host, guint16 port, guint timeout_s, Answer answer) {
    cancel();
    GSocketClient* client = g_socket_client_new();
    g_socket_client_set_timeout(client, timeout_s);
    cancellable_ = g_cancellable_new();
    auto* attempt = new Attempt{std::move(answer), G_CANCELLABLE(g_object_ref(cancellable_)), &cancellable_};
    g_socket_client_connect_to_host_async(client, host.c_str(), port, cancellable_,
        +[](GObject* client, GAsyncResult* result, gpointer data) {
            std::unique_ptr<Attempt> attempt(static_cast<Attempt*>(data));
            GError* error = nullptr;
            GSocketConnection* connection = g_socket_client_connect_to_host_finish(G_SOCKET_CLIENT(client), result, &error);
            if (connection) {
                g_io_stream_close(G_IO_STREAM(connection), nullptr, nullptr);
                g_object_unref(connection);
            }
            // Cancelled: stopped, or a newer attempt began; the probe may be gone.
            if (!g_cancellable_is_cancelled(attempt->cancellable)) {
                g_clear_object(attempt->slot);
                attempt->answer(error);
            }
            g_clear_error(&error);
        }, attempt);
    g_object_unref(client);
}

void ConnectProbe::cancel() {
    if (!cancellable_) return;
    g_cancellable_cancel(cancellable_);
    g_clear_object(&cancellable_);
}

}  // namespace slipstream
