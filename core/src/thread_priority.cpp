#include "slipstream/thread_priority.hpp"

#ifdef __linux__
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace ss {

std::string lower_current_thread_priority() {
#ifdef __linux__
    // SCHED_IDLE first: any unprivileged thread may take it, and the scheduler
    // then runs it only on CPU time no normal thread wants (weight 3 against a
    // nice-0 thread's 1024, and a waking normal thread preempts it at once).
    // Nice 19 (weight 15) is the fallback where a seccomp filter or an old
    // kernel refuses the policy. Both are per thread on Linux, and threads this
    // one creates (OpenCV's pool, when created here) inherit them.
    sched_param param{};
    param.sched_priority = 0;
    if (sched_setscheduler(0, SCHED_IDLE, &param) == 0) return "SCHED_IDLE";
    if (setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 19) == 0) return "nice 19";
#endif
    // Elsewhere the threads keep normal priority: macOS would take
    // QOS_CLASS_BACKGROUND and Windows THREAD_PRIORITY_IDLE, neither built here.
    return "unchanged";
}

bool restore_normal_priority(std::thread& thread) {
#ifdef __linux__
    sched_param param{};
    param.sched_priority = 0;
    return pthread_setschedparam(thread.native_handle(), SCHED_OTHER, &param) == 0;
#else
    (void)thread;
    return false;
#endif
}

}  // namespace ss
