// Hands the allocator's free heap pages back to the OS.
#pragma once

namespace lfm {

// Parsing tokenizer.json builds a JSON tree of tens of MB that is freed right after; glibc keeps
// those pages resident for reuse, and the weights loaded next (mapped, or large allocations of their
// own) never reuse them, so without this they stay in the peak RSS for good (about 35 MB on the
// 65k-token LFM2 tokenizer). glibc's malloc_trim(0) releases free pages in the middle of the heap
// too; elsewhere this does nothing.
void ReturnFreedHeapToOs();

}  // namespace lfm
