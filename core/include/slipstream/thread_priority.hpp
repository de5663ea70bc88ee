#pragma once
// Detection is best effort beside the picture: its threads run at the lowest
// priority the OS grants without privileges, so receiving, decoding, muxing,
// drawing, encoding and serving always get a core first.
#include <string>

namespace ss {

// Lowers the calling thread to background priority and says how: "SCHED_IDLE",
// "nice 19", or "unchanged" where the OS offers neither (or refused both).
std::string lower_current_thread_priority();

}  // namespace ss
