// jemalloc (Debian's libjemalloc-dev), linked into journeyd as the process's malloc. Only what
// journeyd calls is declared here: malloc and free keep glibc's declarations, and the dynamic
// linker binds every library's calls to jemalloc's definitions.
#include <stddef.h>

int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen);
size_t malloc_usable_size(void *ptr);
