// CPU cache hints for JourneyCore's hash tables; header-only (static inline, so Swift inlines
// them). A hint never faults and changes no result, only when memory is loaded.
#ifndef JOURNEYD_MEMORY_HINTS_H
#define JOURNEYD_MEMORY_HINTS_H

/// Starts loading the cache line holding `address`, to be read or written soon.
static inline void journeyd_prefetch(const void *address) {
    __builtin_prefetch(address, 1, 3);
}

#endif
