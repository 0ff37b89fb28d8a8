#define _GNU_SOURCE
#include "thread_priority.h"

#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

int journeyd_set_thread_background(void) {
#if defined(__linux__)
    struct sched_param param = {0};
    // SCHED_IDLE: the thread runs only on CPU time no normal thread wants, and a waking normal
    // thread preempts it at once (a nice value only shrinks its share, and wakeups still wait).
    if (sched_setscheduler(0, SCHED_IDLE, &param) == 0) return 0;
    return setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19);
#else
    return 0;
#endif
}

int journeyd_thread_is_background(void) {
#if defined(__linux__)
    if (sched_getscheduler(0) == SCHED_IDLE) return 1;
    return getpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid)) >= 19;
#else
    return 0;
#endif
}
