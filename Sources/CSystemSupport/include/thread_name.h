#ifndef JOURNEYD_THREAD_NAME_H
#define JOURNEYD_THREAD_NAME_H

/// Names the calling thread for the kernel (what `top -H`, `ps -L` and `perf` show), cut to the
/// kernel's 15 bytes. Returns 0, or -1 with errno set.
int journeyd_set_thread_name(const char *name);

#endif
