#include "mosquitto_client.hpp"

#include <mosquitto.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "console.hpp"
#include "mqtt_stats.hpp"

namespace slipstream::mqtt {
namespace {

using Clock = std::chrono::steady_clock;

// libmosquitto's words for rc, with errno's where rc only points to it.
std::string reason(int rc) {
    std::string text = rc == MOSQ_ERR_ERRNO ? std::strerror(errno) : mosquitto_strerror(rc);
    if (!text.empty() && text.back() == '.') text.pop_back();  // it goes inside our own sentence
    return text;
}

void init_library_once() {
    static const int initialised = mosquitto_lib_init();
    (void)initialised;
}

}  // namespace

MosquittoClient::MosquittoClient(ClientSettings settings)
    : settings_(std::move(settings)),
      topics_{settings_.prefix},
      broker_name_(settings_.broker.masked()),
      queue_(settings_.queue_messages, settings_.queue_bytes),
      backoff_(settings_.reconnect_initial, settings_.reconnect_max) {}

MosquittoClient::~MosquittoClient() {
    stop();
    if (mosq_) mosquitto_destroy(mosq_);
}

std::string MosquittoClient::start() {
    init_library_once();
    // A client id of our own (host and process), so that two slipstreams on one broker never push each other off.
    char host[64] = "host";
    gethostname(host, sizeof host - 1);
    const std::string client_id = "slipstream-" + std::string(host) + "-" + std::to_string(getpid());
    mosq_ = mosquitto_new(client_id.c_str(), true, this);
    if (!mosq_) return std::string("MQTT: could not create the client (") + std::strerror(errno) + ")";
    const BrokerAddress& b = settings_.broker;
    // Our own max_in_flight paces QoS 1. libmosquitto's limit (20) must never bite: it would hold a count back
    // while the QoS 0 frame lines after it go out, and after a reconnect it still counts what it resends.
    mosquitto_int_option(mosq_, MOSQ_OPT_SEND_MAXIMUM, 65535);
    if (!b.user.empty()) mosquitto_username_pw_set(mosq_, b.user.c_str(), b.password.empty() ? nullptr : b.password.c_str());
    const std::string offline = "offline";
    if (const int rc = mosquitto_will_set(mosq_, topics_.available().c_str(), static_cast<int>(offline.size()), offline.data(), 1, true);
        rc != MOSQ_ERR_SUCCESS) {
        return "MQTT: could not set the last will on " + topics_.available() + " (" + reason(rc) + ")";
    }
    mosquitto_connect_callback_set(mosq_, +[](mosquitto*, void* self, int rc) { static_cast<MosquittoClient*>(self)->on_connect(rc); });
    mosquitto_disconnect_callback_set(mosq_, +[](mosquitto*, void* self, int rc) { static_cast<MosquittoClient*>(self)->on_disconnect(rc); });
    mosquitto_publish_callback_set(mosq_, +[](mosquitto*, void* self, int mid) { static_cast<MosquittoClient*>(self)->on_publish(mid); });
    mqtt_stats().enabled = true;
    console::note("MQTT: publishing to " + broker_name_ + " under " + settings_.prefix + "/");
    thread_ = std::thread([this] { run(); });
    return {};
}

void MosquittoClient::publish(Message message) {
    std::size_t dropped = 0;
    bool tell = false, connected = false;
    {
        std::lock_guard lock(lock_);
        dropped = queue_.push(std::move(message));
        mqtt_stats().queued = queue_.size();
        if (dropped) {
            mqtt_stats().dropped += dropped;
            tell = !drop_told_;
            drop_told_ = true;
            connected = connected_;
        }
    }
    if (!tell) return;
    if (connected) {
        console::warn("MQTT: " + broker_name_ + " does not take messages as fast as they come; dropping messages "
                      "rather than stalling the video (counted in the summary)");
    } else {
        console::warn("MQTT: " + broker_name_ + " is unreachable and the queue of " + std::to_string(settings_.queue_messages) +
                      " messages is full; dropping messages rather than stalling the video until it is back "
                      "(counted in the summary)");
    }
}

void MosquittoClient::stop() {
    {
        std::lock_guard lock(lock_);
        if (stopping_) return;
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
    mqtt_stats().connected = false;
}

// On the client's thread: hands queued messages to libmosquitto while there
// is room: nothing of ours left unwritten in its own (unbounded) queue, and
// fewer than max_in_flight QoS 1 messages unacknowledged.
void MosquittoClient::send_queued() {
    for (;;) {
        Message m;
        {
            std::lock_guard lock(lock_);
            // Connected with nothing held back: an outage, or a slow spell, is over; the next drop is told again.
            if (connected_ && queue_.empty()) drop_told_ = false;
            if (!connected_ || queue_.empty() || static_cast<int>(in_flight_.size()) >= settings_.max_in_flight) return;
            if (mosquitto_want_write(mosq_)) return;
            m = queue_.pop();
            mqtt_stats().queued = queue_.size();
        }
        // Without the lock: libmosquitto writes at once here and calls on_publish for QoS 0 from inside.
        int mid = 0;
        const int rc = mosquitto_publish(mosq_, &mid, m.topic.c_str(), static_cast<int>(m.payload.size()), m.payload.data(), m.qos,
                                         m.retain);
        std::lock_guard lock(lock_);
        if (rc == MOSQ_ERR_SUCCESS) {
            if (m.qos > 0) in_flight_.insert(mid);
        } else if (rc == MOSQ_ERR_NO_CONN || rc == MOSQ_ERR_CONN_LOST || rc == MOSQ_ERR_ERRNO) {
            queue_.push_front(std::move(m));  // sent again once connected
            mqtt_stats().queued = queue_.size();
            return;
        } else {
            ++mqtt_stats().dropped;  // the broker would never take it (too big, bad topic)
        }
    }
}

void MosquittoClient::on_connect(int rc) {
    if (rc != 0) {
        // Refused (bad login, not authorised...): retried with backoff, told once per reason.
        bool tell = false;
        {
            std::lock_guard lock(lock_);
            tell = refusal_told_ != rc;
            refusal_told_ = rc;
            trouble_told_ = true;
        }
        if (tell) console::warn("MQTT: " + broker_name_ + " refused the connection (" + mosquitto_connack_string(rc) + "); retrying with backoff");
        return;
    }
    backoff_.reset();
    int mid = 0;
    const std::string online = "online";
    mosquitto_publish(mosq_, &mid, topics_.available().c_str(), static_cast<int>(online.size()), online.data(), 1, true);
    std::uint64_t dropped_while_away = 0;
    bool again = false;
    {
        std::lock_guard lock(lock_);
        connected_ = true;
        // What libmosquitto still holds is resent by it or lost: never wait for it.
        in_flight_.clear();
        in_flight_.insert(mid);
        trouble_told_ = false;
        refusal_told_ = 0;
        again = mqtt_stats().connects > 0;
        dropped_while_away = mqtt_stats().dropped - dropped_at_loss_;
    }
    ++mqtt_stats().connects;
    mqtt_stats().connected = true;
    if (on_connected_) on_connected_();
    if (again) {
        console::note("MQTT: connected to " + broker_name_ + " again; " + std::to_string(dropped_while_away) +
                      " messages dropped while it was away");
    } else {
        console::note("MQTT: connected to " + broker_name_);
    }
}

void MosquittoClient::on_disconnect(int rc) {
    (void)rc;  // connection_lost() tells why, from what the loop returned
    std::lock_guard lock(lock_);
    if (connected_) dropped_at_loss_ = mqtt_stats().dropped;
    connected_ = false;
    mqtt_stats().connected = false;
}

// QoS 1: acknowledged by the broker; QoS 0: written to the socket.
void MosquittoClient::on_publish(int mid) {
    std::lock_guard lock(lock_);
    in_flight_.erase(mid);
    ++mqtt_stats().published;
}

// On the client's thread, when the loop or a connection attempt failed.
void MosquittoClient::connection_lost(int rc) {
    const int saved_errno = errno;
    bool was_connected = false, tell = false;
    {
        std::lock_guard lock(lock_);
        was_connected = connected_;
        if (connected_) dropped_at_loss_ = mqtt_stats().dropped;
        connected_ = false;
        mqtt_stats().connected = false;
        tell = !trouble_told_;
        trouble_told_ = true;
    }
    if (!tell || rc == MOSQ_ERR_CONN_REFUSED) return;  // a refusal was told by on_connect
    errno = saved_errno;
    const std::string why = reason(rc);
    if (was_connected || mqtt_stats().connects > 0) {
        console::warn("MQTT: lost the connection to " + broker_name_ + " (" + why +
                      "); reconnecting with backoff, the video goes on");
    } else {
        console::warn("MQTT: cannot connect to " + broker_name_ + " (" + why + "); retrying with backoff, the video goes on");
    }
}

void MosquittoClient::run() {
    using namespace std::chrono;
    Clock::time_point next_attempt = Clock::now();
    Clock::time_point stop_deadline{};
    bool first_attempt = true;
    for (;;) {
        {
            std::unique_lock lock(lock_);
            if (stopping_) {
                if (stop_deadline == Clock::time_point{}) stop_deadline = Clock::now() + milliseconds(1000);
                // Sends what is queued while the broker takes it, within the deadline.
                if (!connected_ || (queue_.empty() && in_flight_.empty()) || Clock::now() >= stop_deadline) break;
            } else if (!socket_open_) {
                wake_.wait_until(lock, next_attempt, [this] { return stopping_; });
                if (stopping_) break;
            }
        }
        if (!socket_open_) {
            const BrokerAddress& b = settings_.broker;
            const int rc = first_attempt ? mosquitto_connect_async(mosq_, b.host.c_str(), b.port, settings_.keepalive_seconds)
                                         : mosquitto_reconnect_async(mosq_);
            first_attempt = false;
            if (rc != MOSQ_ERR_SUCCESS) {
                connection_lost(rc);
                next_attempt = Clock::now() + duration_cast<Clock::duration>(duration<double>(backoff_.next_wait()));
                continue;
            }
            socket_open_ = true;
        }
        send_queued();
        // Short waits: new messages are picked up within them (the queue does not wake libmosquitto).
        const int rc = mosquitto_loop(mosq_, 50, 1);
        if (rc != MOSQ_ERR_SUCCESS) {
            socket_open_ = false;
            connection_lost(rc);
            next_attempt = Clock::now() + duration_cast<Clock::duration>(duration<double>(backoff_.next_wait()));
        }
    }
    // Stopping: "offline" (retained) and a clean disconnect, which keeps the broker from sending the will.
    bool connected = false;
    {
        std::lock_guard lock(lock_);
        connected = connected_;
    }
    if (!connected) return;
    int mid = 0;
    const std::string offline = "offline";
    if (mosquitto_publish(mosq_, &mid, topics_.available().c_str(), static_cast<int>(offline.size()), offline.data(), 1, true) ==
        MOSQ_ERR_SUCCESS) {
        {
            std::lock_guard lock(lock_);
            in_flight_.insert(mid);
        }
        const Clock::time_point deadline = Clock::now() + milliseconds(500);
        for (;;) {
            {
                std::lock_guard lock(lock_);
                if (!in_flight_.count(mid) || !connected_) break;
            }
            if (Clock::now() >= deadline || mosquitto_loop(mosq_, 50, 1) != MOSQ_ERR_SUCCESS) break;
        }
    }
    mosquitto_disconnect(mosq_);
    const Clock::time_point deadline = Clock::now() + milliseconds(300);
    while (Clock::now() < deadline && mosquitto_loop(mosq_, 50, 1) == MOSQ_ERR_SUCCESS) {
    }
}

}  // namespace slipstream::mqtt
