#include "line_writer.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace slipstream {

namespace {
std::atomic<bool> stuck{false};
}  // namespace

bool LineWriter::any_stuck() { return stuck; }

struct LineWriter::Shared {
    FILE* out;
    std::string name;
    std::size_t max_pending;
    std::mutex mutex;
    std::condition_variable wake, finished_changed;
    std::deque<std::string> queue;
    std::size_t pending = 0;
    bool stop = false, warned = false, finished = false;

    void run() {
        std::unique_lock lock(mutex);
        for (;;) {
            wake.wait(lock, [this] { return stop || !queue.empty(); });
            if (queue.empty() && stop) break;
            std::deque<std::string> batch;
            batch.swap(queue);
            lock.unlock();
            std::size_t written = 0;
            for (const auto& text : batch) {
                std::fwrite(text.data(), 1, text.size(), out);
                written += text.size();
            }
            std::fflush(out);
            lock.lock();
            pending -= written;
        }
        finished = true;
        finished_changed.notify_all();
    }
};

LineWriter::LineWriter(FILE* out, std::string name, std::size_t max_pending_bytes) : shared_(std::make_shared<Shared>()) {
    shared_->out = out;
    shared_->name = std::move(name);
    shared_->max_pending = max_pending_bytes;
    std::thread([shared = shared_] { shared->run(); }).detach();
}

LineWriter::~LineWriter() {
    std::unique_lock lock(shared_->mutex);
    shared_->stop = true;
    shared_->wake.notify_all();
    // Drain what is queued, but never hang on a reader that stopped reading.
    if (!shared_->finished_changed.wait_for(lock, std::chrono::seconds(1), [this] { return shared_->finished; })) {
        stuck = true;
    }
}

void LineWriter::write(std::string text) {
    if (text.empty()) return;
    {
        std::lock_guard lock(shared_->mutex);
        if (shared_->pending + text.size() > shared_->max_pending) {
            if (!shared_->warned) {
                std::fprintf(stderr, "warning: %s is not keeping up; dropping output lines rather than stalling the video\n",
                             shared_->name.c_str());
                shared_->warned = true;
            }
            return;
        }
        shared_->pending += text.size();
        shared_->queue.push_back(std::move(text));
    }
    shared_->wake.notify_one();
}

}  // namespace slipstream
