#define _GNU_SOURCE
#include "thread_name.h"

#include <sys/prctl.h>

int journeyd_set_thread_name(const char *name) {
#if defined(__linux__)
    // The kernel keeps the first 15 bytes of a longer name.
    return prctl(PR_SET_NAME, name, 0, 0, 0);
#else
    (void)name;
    return 0;
#endif
}
