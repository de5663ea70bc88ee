#include "line_writer.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <algorithm>
#include <mutex>
#include <thread>

#include "console.hpp"
#include "slipstream/uri.hpp"

namespace slipstream {

namespace {

std::atomic<bool> stuck{false};

// Per output name, for the life of the process: a writer may be gone by the time of a scrape.
std::mutex dropped_mutex;
std::map<std::string, std::uint64_t>& dropped_by_output() {
    static std::map<std::string, std::uint64_t> dropped;
    return dropped;
}

// Credentials never reach the screen or a file, whoever wrote the text
// (GStreamer's errors quote URIs). Most text carries no URI: then no copy.
void mask(std::string& text) {
    if (text.find("://") != std::string::npos) text = ss::mask_credentials_in_text(text);
}

}  // namespace

bool LineWriter::any_stuck() { return stuck; }

std::map<std::string, std::uint64_t> LineWriter::dropped_lines() {
    std::lock_guard lock(dropped_mutex);
    return dropped_by_output();
}

struct LineWriter::Shared {
    FILE* out;
    std::string name;
    std::size_t max_pending;
    std::mutex mutex;
    std::condition_variable wake, finished_changed;
    std::deque<std::string> queue;
    std::size_t pending = 0;  // bytes of bulk text queued
    std::deque<bool> is_bulk;  // per queued text: counts in pending
    bool stop = false, warned = false, finished = false, gave_up = false;

    void run() {
        std::unique_lock lock(mutex);
        for (;;) {
            wake.wait(lock, [this] { return stop || !queue.empty(); });
            if (queue.empty() && stop) break;
            std::deque<std::string> batch;
            std::deque<bool> bulk;
            batch.swap(queue);
            bulk.swap(is_bulk);
            lock.unlock();
            std::size_t written = 0;
            for (std::size_t i = 0; i < batch.size(); ++i) {
                std::fwrite(batch[i].data(), 1, batch[i].size(), out);
                if (bulk[i]) written += batch[i].size();
            }
            std::fflush(out);
            lock.lock();
            pending -= written;
        }
        finished = true;
        finished_changed.notify_all();
    }

    // False: finished, the caller writes itself (or not at all, when the reader is stuck).
    bool enqueue(std::string& text, bool bulk) {
        mask(text);
        std::lock_guard lock(mutex);
        if (stop) return false;
        if (bulk) pending += text.size();
        queue.push_back(std::move(text));
        is_bulk.push_back(bulk);
        return true;
    }
};

LineWriter::LineWriter(FILE* out, std::string name, std::size_t max_pending_bytes) : shared_(std::make_shared<Shared>()) {
    shared_->out = out;
    shared_->name = std::move(name);
    shared_->max_pending = max_pending_bytes;
    {
        std::lock_guard lock(dropped_mutex);
        dropped_by_output().emplace(shared_->name, 0);  // a series from the start, not from the first drop
    }
    std::thread([shared = shared_] { shared->run(); }).detach();
}

LineWriter::~LineWriter() { finish(); }

void LineWriter::finish() {
    std::unique_lock lock(shared_->mutex);
    if (shared_->stop) return;
    shared_->stop = true;
    shared_->wake.notify_all();
    // Drain what is queued, but never hang on a reader that stopped reading.
    if (!shared_->finished_changed.wait_for(lock, std::chrono::seconds(1), [this] { return shared_->finished; })) {
        shared_->gave_up = true;
        stuck = true;
    }
}

void LineWriter::write(std::string text) {
    if (text.empty()) return;
    bool warn_now = false;
    {
        std::lock_guard lock(shared_->mutex);
        if (!shared_->stop && shared_->pending + text.size() > shared_->max_pending) {
            warn_now = !shared_->warned;
            shared_->warned = true;
            const auto lines = static_cast<std::uint64_t>(std::count(text.begin(), text.end(), '\n'));
            text.clear();
            std::lock_guard dropped_lock(dropped_mutex);
            dropped_by_output()[shared_->name] += std::max<std::uint64_t>(lines, 1);
        }
    }
    if (warn_now) {
        console::warn(shared_->name + " is not keeping up; dropping output lines rather than stalling the video");
    }
    if (text.empty()) return;
    // After finish() bulk text is no longer written: the pipeline is down by then.
    if (shared_->enqueue(text, true)) shared_->wake.notify_one();
}

void LineWriter::write_message(std::string text) {
    if (text.empty()) return;
    if (shared_->enqueue(text, false)) {
        shared_->wake.notify_one();
        return;
    }
    // After finish(): straight to the FILE, unless its reader is known to be stuck.
    bool gave_up;
    {
        std::lock_guard lock(shared_->mutex);
        gave_up = shared_->gave_up;
    }
    if (!gave_up) {
        std::fwrite(text.data(), 1, text.size(), shared_->out);
        std::fflush(shared_->out);
    }
}

}  // namespace slipstream
