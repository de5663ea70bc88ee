#include "slipstream/detection_scheduler.hpp"

#include <algorithm>
#include <tuple>

namespace ss {

void DetectionScheduler::set_interval(int interval) { interval_ = static_cast<std::uint64_t>(std::max(interval, 0)); }

bool DetectionScheduler::arrived(int source, std::uint64_t number) {
    auto it = sources_.find(source);
    if (it == sources_.end() || number >= it->second.handed_frame) return false;
    const std::uint64_t stale = it->second.handed_job + 1;
    it->second = {};
    it->second.stale_before = stale;
    return true;
}

bool DetectionScheduler::due(int source, std::uint64_t number) const {
    auto it = sources_.find(source);
    if (it == sources_.end() || it->second.served_turn == 0) return true;
    return number > it->second.handed_frame + interval_;
}

std::vector<QueuedFrame> DetectionScheduler::pick(const std::vector<QueuedFrame>& queued, std::size_t count) const {
    std::map<int, QueuedFrame> newest;  // a later frame of a source replaces an earlier one
    for (const auto& f : queued) {
        if (due(f.source, f.number)) newest[f.source] = f;
    }
    auto turn = [this](int source) {
        auto it = sources_.find(source);
        return it == sources_.end() ? std::uint64_t{0} : it->second.served_turn;
    };
    std::vector<QueuedFrame> frames;
    for (const auto& [source, f] : newest) frames.push_back(f);
    std::sort(frames.begin(), frames.end(), [&](const QueuedFrame& a, const QueuedFrame& b) {
        return std::make_tuple(turn(a.source), a.source) < std::make_tuple(turn(b.source), b.source);
    });
    if (frames.size() > count) frames.resize(count);
    return frames;
}

void DetectionScheduler::handed_over(const std::vector<QueuedFrame>& frames, std::uint64_t job) {
    for (const auto& f : frames) {
        Source& s = sources_[f.source];
        s.handed_frame = f.number;
        s.handed_job = job;
        s.served_turn = ++turns_;
    }
}

bool DetectionScheduler::accept(int source, std::uint64_t job) {
    Source& s = sources_[source];
    if (job < s.stale_before) return false;
    s.stale_before = job + 1;
    return true;
}

}  // namespace ss
