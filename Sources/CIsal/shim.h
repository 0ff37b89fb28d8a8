#include <isa-l/igzip_lib.h>

/// Bytes of working memory ISA-L's level 1 wants (`ISAL_DEF_LVL1_DEFAULT`, a macro expression
/// Swift cannot import).
static inline unsigned int journeyd_isal_level1_buffer_size(void) { return ISAL_DEF_LVL1_DEFAULT; }
