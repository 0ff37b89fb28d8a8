#ifndef JOURNEYD_FILE_WRITEBACK_H
#define JOURNEYD_FILE_WRITEBACK_H

#include <stdint.h>

/// Asks the kernel to start writing `length` bytes of `fd` from `offset` to disk now, without
/// waiting (Linux `sync_file_range(SYNC_FILE_RANGE_WRITE)`; elsewhere nothing). Big files written
/// this way never build up gigabytes of dirty pages, so their final fsync is short and does not
/// hold up other files' syncs. Returns 0, or -1 with errno set.
int journeyd_start_writeback(int fd, int64_t offset, int64_t length);

#endif
