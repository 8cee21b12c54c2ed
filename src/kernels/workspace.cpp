#include "kernels/workspace.h"

#include <atomic>

namespace lfm {

namespace {
std::atomic<int64_t> g_workspace_bytes{0};
}  // namespace

int64_t KernelWorkspaceBytes() { return g_workspace_bytes.load(std::memory_order_relaxed); }

void NoteKernelWorkspace(size_t before, size_t after) {
  if (after != before)
    g_workspace_bytes.fetch_add(static_cast<int64_t>(after) - static_cast<int64_t>(before), std::memory_order_relaxed);
}

}  // namespace lfm
