#pragma once
// Detection is best effort beside the picture: its threads run at the lowest
// priority the OS grants without privileges, so receiving, decoding, muxing,
// drawing, encoding and serving always get a core first.
#include <string>
#include <thread>

namespace ss {

// Lowers the calling thread to background priority and says how: "SCHED_IDLE",
// "nice 19", or "unchanged" where the OS offers neither (or refused both).
std::string lower_current_thread_priority();

// Gives a thread lowered by lower_current_thread_priority() normal priority
// again, so that stopping need not wait for a forward that gets no CPU time on
// a saturated machine. Linux lets only privileged threads (root, CAP_SYS_NICE,
// or an RLIMIT_NICE of 20) leave SCHED_IDLE: returns whether it worked.
bool restore_normal_priority(std::thread& thread);

}  // namespace ss
