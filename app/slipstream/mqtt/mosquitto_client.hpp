#pragma once
// The MQTT connection, through libmosquitto, on a thread of its own: the
// video's threads only put messages into a bounded queue (MessageQueue) and
// never wait for the network. The thread sends them while the broker is
// connected (at most max_in_flight unacknowledged at a time), reconnects with
// backoff when it is gone, and counts and tells (once per outage) what it
// had to drop. "<prefix>/available" says online when connected and offline on
// a clean stop; the broker says offline itself (the last will) when we die.
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <set>
#include <mutex>
#include <string>
#include <thread>

#include "message_queue.hpp"
#include "slipstream/reconnect_backoff.hpp"
#include "mqtt_url.hpp"
#include "topics.hpp"

struct mosquitto;

namespace slipstream::mqtt {

struct ClientSettings {
    BrokerAddress broker;
    std::string prefix = default_prefix;
    std::size_t queue_messages = 1000;
    std::size_t queue_bytes = 8 << 20;
    int max_in_flight = 20;
    int keepalive_seconds = 15;
    double reconnect_initial = 1, reconnect_max = 10;  // seconds
};

class MosquittoClient {
public:
    explicit MosquittoClient(ClientSettings settings);
    ~MosquittoClient();  // stop()
    MosquittoClient(const MosquittoClient&) = delete;
    MosquittoClient& operator=(const MosquittoClient&) = delete;

    // Called on the client's thread after every successful connection, before
    // queued messages go out: the place to queue the current state again (a
    // broker that restarted has lost what was retained). Set before start().
    void on_connected(std::function<void()> callback) { on_connected_ = std::move(callback); }

    // Starts connecting; a broker that is not there yet is no error (it is
    // retried). Returns an error only when libmosquitto cannot be set up.
    std::string start();
    // Never blocks on the network; drops (counted) when the queue is full.
    void publish(Message message);
    // Sends what is queued and "offline" while the broker takes them, for at
    // most about a second, then disconnects. Safe to call twice.
    void stop();

private:
    void run();
    void send_queued();
    void connection_lost(int rc);
    void on_connect(int rc);
    void on_disconnect(int rc);
    void on_publish(int mid);

    ClientSettings settings_;
    Topics topics_;
    std::string broker_name_;  // masked, for every log line
    mosquitto* mosq_ = nullptr;
    std::function<void()> on_connected_;
    std::thread thread_;

    std::mutex lock_;
    std::condition_variable wake_;
    MessageQueue queue_;
    std::set<int> in_flight_;       // ids of QoS 1 messages handed to libmosquitto and not yet acknowledged
    bool connected_ = false;        // CONNACK accepted and not lost since
    bool stopping_ = false;
    bool drop_told_ = false;        // the drop warning was given since the queue was last empty while connected
    std::uint64_t dropped_at_loss_ = 0;  // the drop count when the connection was lost
    bool trouble_told_ = false;     // "cannot connect" / "lost" told for this outage
    int refusal_told_ = 0;          // the broker's last refusal told (bad login...), so retries do not repeat it

    // Only on the client's thread (libmosquitto calls back on it too):
    ss::ReconnectBackoff backoff_;
    bool socket_open_ = false;      // connected or connecting
};

}  // namespace slipstream::mqtt
