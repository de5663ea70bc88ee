#pragma once
// Writes text to a FILE* on its own thread. The streaming thread only queues
// (bounded); when the reader of stdout or the disk cannot keep up, text is
// dropped with one warning instead of stalling the video, and shutting down
// waits at most a second for a reader that never reads.
#include <cstdio>
#include <memory>
#include <string>

namespace slipstream {

class LineWriter {
public:
    LineWriter(FILE* out, std::string name, std::size_t max_pending_bytes = 8 << 20);
    ~LineWriter();
    LineWriter(const LineWriter&) = delete;
    LineWriter& operator=(const LineWriter&) = delete;

    void write(std::string text);

    // True once a writer gave up draining on shutdown: its reader stopped reading,
    // and the process must leave without flushing stdio (exit() would hang).
    static bool any_stuck();

private:
    struct Shared;
    std::shared_ptr<Shared> shared_;  // also owned by the writing thread, which may outlive us
};

}  // namespace slipstream
