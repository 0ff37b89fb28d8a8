#ifndef JOURNEYD_THREAD_PRIORITY_H
#define JOURNEYD_THREAD_PRIORITY_H

/// Makes the calling thread (only) a background thread: Linux scheduling policy SCHED_IDLE, or
/// nice 19 where that is refused. Returns 0, or -1 with errno set.
int journeyd_set_thread_background(void);

/// 1 if the calling thread is a background thread as `journeyd_set_thread_background` makes it.
int journeyd_thread_is_background(void);

#endif
