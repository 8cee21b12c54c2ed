#include "kernels/workspace.h"

#include <array>
#include <atomic>
#include <vector>

namespace lfm {

namespace {
std::atomic<int64_t> g_workspace_bytes{0};
}  // namespace

int64_t KernelWorkspaceBytes() { return g_workspace_bytes.load(std::memory_order_relaxed); }

void NoteKernelWorkspace(size_t before, size_t after) {
  if (after != before)
    g_workspace_bytes.fetch_add(static_cast<int64_t>(after) - static_cast<int64_t>(before), std::memory_order_relaxed);
}

void* ThreadScratchBytes(ScratchSlot slot, size_t bytes) {
  // Held as floats (operator new's 16-byte alignment); callers of other types only ever access their
  // slot through that type.
  thread_local std::array<std::vector<float>, static_cast<size_t>(ScratchSlot::kCount)> buffers;
  std::vector<float>& b = buffers[static_cast<size_t>(slot)];
  const size_t n = (bytes + sizeof(float) - 1) / sizeof(float);
  if (b.size() < n) {
    const size_t before = b.capacity() * sizeof(float);
    b.resize(n);
    NoteKernelWorkspace(before, b.capacity() * sizeof(float));
  }
  return b.data();
}

}  // namespace lfm
