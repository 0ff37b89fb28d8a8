#ifndef JOURNEYD_THREAD_PRIORITY_H
#define JOURNEYD_THREAD_PRIORITY_H

/// Lowers the CPU priority of the calling thread only (Linux: per-thread nice value).
/// Returns 0, or -1 with errno set.
int journeyd_set_thread_niceness(int niceness);

#endif
