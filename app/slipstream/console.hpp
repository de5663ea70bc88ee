#pragma once
// The slipstream command's one console: every line it prints goes through here.
//
//   say(line)     stdout           "Input 0: rtsp://***@cam/stream", "Output: rtsp://..."
//   note(line)    stderr, as is    "input 1 (...): back after 2.0s", status lines
//   warn(text)    stderr           "warning: " + text
//   error(text)   stderr           "error: " + text
//   frame_lines(text)  stdout      the per-frame lines, many at once (bulk)
//
// Credentials in any URI are masked ("rtsp://user:pass@cam" -> "rtsp://***@cam")
// in everything printed, whoever wrote the text (LineWriter does it, for the
// metadata file too). No caller ever waits for a reader: each stream has a
// writer thread (LineWriter),
// so streaming threads may print. Bulk text is bounded (dropped with one warning
// when stdout's reader cannot keep up); lines are never dropped.
#include <string>
#include <string_view>

namespace slipstream {

class LineWriter;

namespace console {

void say(std::string_view line);
void note(std::string_view line);
void warn(std::string_view message);
void error(std::string_view message);
void frame_lines(std::string text);

// Where other bulk text bound for stdout goes (the metadata with --metadata -),
// so that it keeps its order with the lines.
LineWriter& stdout_writer();

// Writes out what is queued (at most a second per stream) before the process
// leaves; LineWriter::any_stuck() then says whether a reader stopped reading.
void finish();

}  // namespace console
}  // namespace slipstream
