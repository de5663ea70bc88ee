#pragma once
// One TCP connection attempt, answered on the main loop. An input uses it to
// learn whether its camera is reachable again, and to say why GStreamer could
// not connect (refused, timed out, unknown host).
#include <gio/gio.h>

#include <functional>
#include <string>

namespace slipstream {

class ConnectProbe {
public:
    // error: nullptr when the connection opened (it is closed at once).
    using Answer = std::function<void(const GError* error)>;

    ConnectProbe() = default;
    ~ConnectProbe() { cancel(); }
    ConnectProbe(const ConnectProbe&) = delete;
    ConnectProbe& operator=(const ConnectProbe&) = delete;

    // Starts an attempt (cancelling one in flight) that gives up after timeout_s.
    void start(const std::string& host, guint16 port, guint timeout_s, Answer answer);
    // The attempt in flight, if any, never answers.
    void cancel();
    bool in_flight() const { return cancellable_ != nullptr; }

private:
    GCancellable* cancellable_ = nullptr;
};

}  // namespace slipstream
