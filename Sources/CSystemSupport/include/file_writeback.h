#ifndef JOURNEYD_FILE_WRITEBACK_H
#define JOURNEYD_FILE_WRITEBACK_H

#include <stdint.h>

/// Asks the kernel to start writing `length` bytes of `fd` from `offset` to disk now, without
/// waiting (Linux `sync_file_range(SYNC_FILE_RANGE_WRITE)`; elsewhere nothing). Big files written
/// this way never build up gigabytes of dirty pages, so their final fsync is short and does not
/// hold up other files' syncs. Returns 0, or -1 with errno set.
int journeyd_start_writeback(int fd, int64_t offset, int64_t length);

/// Creates or truncates `path` for writing that bypasses the page cache (Linux `O_DIRECT`, mode
/// `mode`): writes must then come from buffers aligned to, and be multiples of, the device's
/// block size. Returns the descriptor, or -1 with errno set (EINVAL where the file system or the
/// platform cannot do it).
int journeyd_open_direct_for_writing(const char *path, int mode);

#endif
