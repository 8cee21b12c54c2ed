#include "base/heap_trim.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace lfm {

void ReturnFreedHeapToOs() {
#if defined(__GLIBC__)
  (void)malloc_trim(0);
#endif
}

}  // namespace lfm
