#pragma once
// What the MQTT client did, in one place, for the status line and /metrics.
// Counters only grow; read them any time from any thread.
#include <atomic>
#include <cstdint>

namespace slipstream::mqtt {

struct MqttStats {
    std::atomic<bool> enabled{false};          // --mqtt was given
    std::atomic<bool> connected{false};
    std::atomic<std::uint64_t> connects{0};    // successful connections, the first included
    std::atomic<std::uint64_t> published{0};   // messages the broker took (QoS 1: acknowledged; QoS 0: sent)
    std::atomic<std::uint64_t> dropped{0};     // messages given up: the queue was full (broker slow or gone)
    std::atomic<std::uint64_t> queued{0};      // waiting in the bounded queue now
};

// The process's one instance (written by the client, read by anyone).
MqttStats& mqtt_stats();

}  // namespace slipstream::mqtt
