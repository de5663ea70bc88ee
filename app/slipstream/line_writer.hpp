#pragma once
// Writes text to a FILE* on its own thread, so no caller ever waits for the
// reader of stdout or for the disk. Bulk text (per-frame lines, metadata) is
// bounded: when the reader cannot keep up it is dropped, with one warning,
// instead of stalling the video. Messages (the console's lines) are few and
// never dropped. Credentials in URIs are masked in all of it. Shutting down
// waits at most a second for a reader that never reads.
#include <cstdio>
#include <memory>
#include <cstdint>
#include <map>
#include <string>

namespace slipstream {

class LineWriter {
public:
    // name: what the drop warning calls this output ("stdout").
    LineWriter(FILE* out, std::string name, std::size_t max_pending_bytes = 8 << 20);
    ~LineWriter();  // finish()
    LineWriter(const LineWriter&) = delete;
    LineWriter& operator=(const LineWriter&) = delete;

    // Bulk text: dropped (and warned about once) when more than max_pending_bytes wait.
    void write(std::string text);
    // A message: always queued.
    void write_message(std::string text);
    // Writes out what is queued (waiting at most a second) and stops the thread;
    // text written afterwards goes straight to the FILE.
    void finish();

    // True once a writer gave up draining on shutdown: its reader stopped reading,
    // and the process must leave without flushing stdio (exit() would hang).
    static bool any_stuck();
    // Lines dropped so far by every writer, by output name ("stdout", "the metadata output"), for /metrics.
    static std::map<std::string, std::uint64_t> dropped_lines();

private:
    struct Shared;
    std::shared_ptr<Shared> shared_;  // also owned by the writing thread, which may outlive us
};

}  // namespace slipstream
