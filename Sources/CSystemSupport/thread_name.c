#define _GNU_SOURCE
#include "thread_name.h"

#include <string.h>
#include <sys/prctl.h>

int journeyd_set_thread_name(const char *name) {
#if defined(__linux__)
    char cut[16];
    strncpy(cut, name, sizeof cut - 1);
    cut[sizeof cut - 1] = '\0';
    return prctl(PR_SET_NAME, cut, 0, 0, 0);
#else
    (void)name;
    return 0;
#endif
}
