#define _GNU_SOURCE
#include "file_writeback.h"

#include <errno.h>
#include <fcntl.h>

int journeyd_start_writeback(int fd, int64_t offset, int64_t length) {
#if defined(__linux__)
    return sync_file_range(fd, offset, length, SYNC_FILE_RANGE_WRITE);
#else
    (void)fd;
    (void)offset;
    (void)length;
    return 0;
#endif
}

int journeyd_open_direct_for_writing(const char *path, int mode) {
#if defined(__linux__)
    return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_DIRECT, mode);
#else
    (void)path;
    (void)mode;
    errno = EINVAL;
    return -1;
#endif
}
