#pragma once
// The bounded queue between the video's threads and the MQTT client's sender:
// when the broker is slow or gone it fills up and then drops, never blocks.
// Retained messages are state (a count, availability): a newer one for the
// same topic replaces the queued one (and queues at the back, in publishing
// order), and state is kept before events, so that the broker gets the
// latest state when it comes back.
// Not thread-safe: its owner locks.
#include <cstddef>
#include <cstdint>
#include <deque>

#include "topics.hpp"

namespace slipstream::mqtt {

class MessageQueue {
public:
    MessageQueue(std::size_t max_messages, std::size_t max_bytes);

    // Queues `message`; returns how many messages were dropped for it (it
    // itself, or an older event that made room for a state message).
    std::size_t push(Message message);
    // The oldest message; the queue must not be empty.
    Message pop();
    // Puts a message that could not be sent back in front (it was popped last).
    void push_front(Message message);

    bool empty() const { return queue_.empty(); }
    std::size_t size() const { return queue_.size(); }
    std::size_t bytes() const { return bytes_; }

private:
    bool full_for(const Message& message) const;
    static std::size_t size_of(const Message& m) { return m.topic.size() + m.payload.size(); }

    std::size_t max_messages_, max_bytes_;
    std::deque<Message> queue_;
    std::size_t bytes_ = 0;
};

}  // namespace slipstream::mqtt
