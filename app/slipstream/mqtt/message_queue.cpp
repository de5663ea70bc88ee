#include "message_queue.hpp"

#include <algorithm>

namespace slipstream::mqtt {

MessageQueue::MessageQueue(std::size_t max_messages, std::size_t max_bytes)
    : max_messages_(std::max<std::size_t>(1, max_messages)), max_bytes_(max_bytes) {}

bool MessageQueue::full_for(const Message& message) const {
    return queue_.size() + 1 > max_messages_ || bytes_ + size_of(message) > max_bytes_;
}

std::size_t MessageQueue::push(Message message) {
    if (message.retain) {
        // The older state goes; the newer one queues at the back, so it never
        // overtakes what was published before it (a count just before its frame's line).
        const auto same = std::find_if(queue_.begin(), queue_.end(),
                                       [&](const Message& q) { return q.retain && q.topic == message.topic; });
        if (same != queue_.end()) {
            bytes_ -= size_of(*same);
            queue_.erase(same);
        }
    }
    std::size_t dropped = 0;
    if (message.retain) {
        // State outranks events: the oldest events make room.
        while (full_for(message)) {
            const auto event = std::find_if(queue_.begin(), queue_.end(), [](const Message& q) { return !q.retain; });
            if (event == queue_.end()) break;
            bytes_ -= size_of(*event);
            queue_.erase(event);
            ++dropped;
        }
    }
    if (full_for(message)) return dropped + 1;
    bytes_ += size_of(message);
    queue_.push_back(std::move(message));
    return dropped;
}

Message MessageQueue::pop() {
    Message front = std::move(queue_.front());
    queue_.pop_front();
    bytes_ -= size_of(front);
    return front;
}

void MessageQueue::push_front(Message message) {
    bytes_ += size_of(message);
    queue_.push_front(std::move(message));
}

}  // namespace slipstream::mqtt
